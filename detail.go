package tasklog

import (
	"net/netip"
	"time"

	"go.uber.org/zap/zapcore"
)

// Detail holds the keys of one task sub-type. It is implemented by
// [*TCPConnect], [*HTTPForward], [*FTPOverHTTP], [*UDPAssociate] and
// [*UDPConnect]; a [TaskLog] takes its task_type key from it. Each
// MarshalLogObject writes the sub-type's keys alone, as a finished record
// carries them, and returns an error naming any missing or invalid key.
//
// Another implementation may be used: zap outputs call its
// MarshalLogObject, and [TaskLog.LogValue] converts what it writes.
type Detail interface {
	TaskType() TaskType
	zapcore.ObjectMarshaler
}

var (
	_ Detail = (*TCPConnect)(nil)
	_ Detail = (*HTTPForward)(nil)
	_ Detail = (*FTPOverHTTP)(nil)
	_ Detail = (*UDPAssociate)(nil)
	_ Detail = (*UDPConnect)(nil)
)

// TCPConnect holds the keys of a TcpConnect task: a tunnel such as an HTTP
// CONNECT or a SOCKS CONNECT. Its zero value has every key unset; a record
// needs ServerAddr and ClientAddr. Counters are always written,
// 0 included. Like the rest of a record it is plain data: fill it, then log
// it from one goroutine at a time (the task helper copies its atomic
// counters into it before logging).
type TCPConnect struct {
	ServerAddr       netip.AddrPort // server_addr: the listening address
	ClientAddr       netip.AddrPort // client_addr: the client's address
	Upstream         string         // upstream: host:port the client asked for (see TaskLog)
	NextBindIP       netip.Addr     // next_bind_ip: bind IP chosen for the remote side
	NextBoundAddr    netip.AddrPort // next_bound_addr: local address of the remote connection
	NextPeerAddr     netip.AddrPort // next_peer_addr: peer address of the remote connection
	NextExpire       time.Time      // next_expire: expiry of a dynamic next peer
	ConnectTries     int            // tcp_connect_tries
	ConnectSpend     time.Duration  // tcp_connect_spend: all tries together
	ClientReadBytes  uint64         // c_rd_bytes: bytes received from the client
	ClientWriteBytes uint64         // c_wr_bytes: bytes sent to the client
	RemoteReadBytes  uint64         // r_rd_bytes: bytes received from the remote peer
	RemoteWriteBytes uint64         // r_wr_bytes: bytes sent to the remote peer
}

// TaskType returns [TaskTypeTCPConnect]; it is safe on a nil pointer.
func (*TCPConnect) TaskType() TaskType { return TaskTypeTCPConnect }

// MarshalLogObject implements [zapcore.ObjectMarshaler], writing the
// TcpConnect keys of a finished record in g3's wire formats.
func (d *TCPConnect) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return marshalDetail(enc, d)
}

func (d *TCPConnect) encode(e *recEnc) {
	e.reqAddrPort("server_addr", d.ServerAddr)
	e.reqAddrPort("client_addr", d.ClientAddr)
	e.upstream("upstream", d.Upstream)
	d.encodeNext(e)
	if e.has(keysRunning) {
		e.count("c_rd_bytes", d.ClientReadBytes)
		e.count("c_wr_bytes", d.ClientWriteBytes)
		e.count("r_rd_bytes", d.RemoteReadBytes)
		e.count("r_wr_bytes", d.RemoteWriteBytes)
	}
}

// encodeNext writes the keys about the remote side's connection.
func (d *TCPConnect) encodeNext(e *recEnc) {
	if e.has(keysConnect) {
		e.optAddr("next_bind_ip", d.NextBindIP)
	}
	if e.has(keysConnected) {
		e.optAddrPort("next_bound_addr", d.NextBoundAddr)
		e.optAddrPort("next_peer_addr", d.NextPeerAddr)
		e.optTime("next_expire", d.NextExpire)
	}
	if e.has(keysConnect) {
		e.tries("tcp_connect_tries", d.ConnectTries)
		e.optDur("tcp_connect_spend", d.ConnectSpend)
	}
}

// HTTPForward holds the keys of an HttpForward task: one forwarded HTTP
// request. It carries every TcpConnect key through the embedded
// [TCPConnect], plus the request's; a record needs Method and URI as well.
type HTTPForward struct {
	TCPConnect
	PipelineWait    time.Duration // pipeline_wait: request header received to task created
	ReuseConnection bool          // reuse_connection: the remote connection was reused
	Method          string        // method: the request method
	URI             string        // uri: the request URI, sanitized when written (see SanitizeURI)
	URIMaxChars     int           // how many characters of URI to write; 0 means DefaultURIMaxChars
	UserAgent       string        // user_agent: the first User-Agent header value
	RspStatus       int           // rsp_status: status sent to the client; 0 until known, written as 0
	OriginStatus    int           // origin_status: status received from the remote; 0 until known
	ReqSendHdr      time.Duration // dur_req_send_hdr: task created to request header sent
	ReqSendAll      time.Duration // dur_req_send_all: task created to whole request sent
	RspRecvHdr      time.Duration // dur_rsp_recv_hdr: task created to response header received
	RspRecvAll      time.Duration // dur_rsp_recv_all: task created to whole response received
}

// TaskType returns [TaskTypeHTTPForward]; it is safe on a nil pointer.
func (*HTTPForward) TaskType() TaskType { return TaskTypeHTTPForward }

// MarshalLogObject implements [zapcore.ObjectMarshaler], writing the
// HttpForward keys of a finished record in g3's wire formats.
func (d *HTTPForward) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return marshalDetail(enc, d)
}

func (d *HTTPForward) encode(e *recEnc) {
	d.TCPConnect.encode(e)
	e.optDur("pipeline_wait", d.PipelineWait)
	if e.has(keysConnected) {
		e.w.bool("reuse_connection", d.ReuseConnection)
	}
	e.reqStr("method", d.Method)
	e.uri(d.URI, d.URIMaxChars)
	e.optStr("user_agent", d.UserAgent)
	if e.has(keysStats) {
		e.status("rsp_status", d.RspStatus)
		e.status("origin_status", d.OriginStatus)
		e.optDur("dur_req_send_hdr", d.ReqSendHdr)
		e.optDur("dur_req_send_all", d.ReqSendAll)
		e.optDur("dur_rsp_recv_hdr", d.RspRecvHdr)
		e.optDur("dur_rsp_recv_all", d.RspRecvAll)
	}
}

// FTPConn is one remote connection of an FTP over HTTP task: the control
// connection (keys ftp_c_*) or the data connection (ftp_d_*).
type FTPConn struct {
	BoundAddr    netip.AddrPort // ftp_?_bound_addr: local address
	PeerAddr     netip.AddrPort // ftp_?_peer_addr: peer address
	ConnectTries int            // ftp_?_connect_tries
	ConnectSpend time.Duration  // ftp_?_connect_spend
	ReadBytes    uint64         // ftp_?_rd_bytes: bytes received from the remote
	WriteBytes   uint64         // ftp_?_wr_bytes: bytes sent to the remote
}

// ftpKeys names the keys of one FTPConn.
type ftpKeys struct{ bound, peer, tries, spend, rd, wr string }

var (
	ftpControlKeys = ftpKeys{"ftp_c_bound_addr", "ftp_c_peer_addr", "ftp_c_connect_tries", "ftp_c_connect_spend", "ftp_c_rd_bytes", "ftp_c_wr_bytes"}
	ftpDataKeys    = ftpKeys{"ftp_d_bound_addr", "ftp_d_peer_addr", "ftp_d_connect_tries", "ftp_d_connect_spend", "ftp_d_rd_bytes", "ftp_d_wr_bytes"}
)

// encodeConn writes the connection's addresses, tries and spend.
func (c *FTPConn) encodeConn(e *recEnc, k *ftpKeys) {
	e.optAddrPort(k.bound, c.BoundAddr)
	e.optAddrPort(k.peer, c.PeerAddr)
	e.tries(k.tries, c.ConnectTries)
	e.optDur(k.spend, c.ConnectSpend)
}

// encodeCounts writes the connection's byte counters.
func (c *FTPConn) encodeCounts(e *recEnc, k *ftpKeys) {
	e.count(k.rd, c.ReadBytes)
	e.count(k.wr, c.WriteBytes)
}

// FTPOverHTTP holds the keys of an FtpOverHttp task: an ftp:// URL fetched
// through an HTTP proxy. A record needs ServerAddr, ClientAddr, Method and
// URI. As in g3, the Connected record carries the control connection's
// keys, its counters and rsp_status; the data connection's keys come with
// Periodic and Finished.
type FTPOverHTTP struct {
	ServerAddr       netip.AddrPort // server_addr
	ClientAddr       netip.AddrPort // client_addr
	Upstream         string         // upstream: host:port of the FTP server
	NextBindIP       netip.Addr     // next_bind_ip
	NextExpire       time.Time      // next_expire
	Control          FTPConn        // the ftp_c_* keys
	Data             FTPConn        // the ftp_d_* keys
	Method           string         // method
	URI              string         // uri, sanitized when written
	URIMaxChars      int            // 0 means DefaultURIMaxChars
	UserAgent        string         // user_agent
	RspStatus        int            // rsp_status; 0 until known, written as 0
	ClientReadBytes  uint64         // c_rd_bytes
	ClientWriteBytes uint64         // c_wr_bytes
}

// TaskType returns [TaskTypeFTPOverHTTP]; it is safe on a nil pointer.
func (*FTPOverHTTP) TaskType() TaskType { return TaskTypeFTPOverHTTP }

// MarshalLogObject implements [zapcore.ObjectMarshaler], writing the
// FtpOverHttp keys of a finished record in g3's wire formats.
func (d *FTPOverHTTP) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return marshalDetail(enc, d)
}

func (d *FTPOverHTTP) encode(e *recEnc) {
	e.reqAddrPort("server_addr", d.ServerAddr)
	e.reqAddrPort("client_addr", d.ClientAddr)
	e.upstream("upstream", d.Upstream)
	if e.has(keysConnected) {
		e.optAddr("next_bind_ip", d.NextBindIP)
		e.optTime("next_expire", d.NextExpire)
		d.Control.encodeConn(e, &ftpControlKeys)
	}
	if e.has(keysStats) {
		d.Data.encodeConn(e, &ftpDataKeys)
	}
	e.reqStr("method", d.Method)
	e.uri(d.URI, d.URIMaxChars)
	e.optStr("user_agent", d.UserAgent)
	if e.has(keysConnected) {
		e.status("rsp_status", d.RspStatus)
	}
	if e.has(keysRunning) {
		e.count("c_rd_bytes", d.ClientReadBytes)
		e.count("c_wr_bytes", d.ClientWriteBytes)
	}
	if e.has(keysConnected) {
		d.Control.encodeCounts(e, &ftpControlKeys)
	}
	if e.has(keysStats) {
		d.Data.encodeCounts(e, &ftpDataKeys)
	}
}

// UDPCounters are the eight byte and packet counters of the UDP task types.
type UDPCounters struct {
	ClientReadBytes    uint64 // c_rd_bytes
	ClientReadPackets  uint64 // c_rd_packets
	ClientWriteBytes   uint64 // c_wr_bytes
	ClientWritePackets uint64 // c_wr_packets
	RemoteReadBytes    uint64 // r_rd_bytes
	RemoteReadPackets  uint64 // r_rd_packets
	RemoteWriteBytes   uint64 // r_wr_bytes
	RemoteWritePackets uint64 // r_wr_packets
}

// encode writes the counters: from Connected on the client's first
// packet (c_rd_bytes, c_rd_packets), from Periodic on all eight.
func (c *UDPCounters) encode(e *recEnc) {
	if e.has(keysConnected) {
		e.count("c_rd_bytes", c.ClientReadBytes)
		e.count("c_rd_packets", c.ClientReadPackets)
	}
	if e.has(keysRunning) {
		e.count("c_wr_bytes", c.ClientWriteBytes)
		e.count("c_wr_packets", c.ClientWritePackets)
		e.count("r_rd_bytes", c.RemoteReadBytes)
		e.count("r_rd_packets", c.RemoteReadPackets)
		e.count("r_wr_bytes", c.RemoteWriteBytes)
		e.count("r_wr_packets", c.RemoteWritePackets)
	}
}

// UDPAssociate holds the keys of a UdpAssociate task: a SOCKS5 UDP
// ASSOCIATE session. A record needs TCPServerAddr and TCPClientAddr.
//
// g3's documentation names the proxy's UDP socket udp_server_addr, while
// g3proxy's code prints it as udp_listen_addr; tasklog writes
// udp_listen_addr, as every g3 pipeline sees it.
type UDPAssociate struct {
	TCPServerAddr netip.AddrPort // tcp_server_addr: server side of the control connection
	TCPClientAddr netip.AddrPort // tcp_client_addr: client side of the control connection
	UDPListenAddr netip.AddrPort // udp_listen_addr: the proxy's UDP socket (udp_server_addr in g3's pages)
	UDPClientAddr netip.AddrPort // udp_client_addr: the client's UDP address
	InitialPeer   string         // initial_peer: host:port in the first packet
	UDPCounters
}

// TaskType returns [TaskTypeUDPAssociate]; it is safe on a nil pointer.
func (*UDPAssociate) TaskType() TaskType { return TaskTypeUDPAssociate }

// MarshalLogObject implements [zapcore.ObjectMarshaler], writing the
// UdpAssociate keys of a finished record in g3's wire formats.
func (d *UDPAssociate) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return marshalDetail(enc, d)
}

func (d *UDPAssociate) encode(e *recEnc) {
	encodeUDPAddrs(e, d.TCPServerAddr, d.TCPClientAddr, d.UDPListenAddr, d.UDPClientAddr)
	if e.has(keysConnected) {
		e.upstream("initial_peer", d.InitialPeer)
	}
	d.UDPCounters.encode(e)
}

// encodeUDPAddrs writes the control connection's addresses, and from
// Connected on the UDP socket's.
func encodeUDPAddrs(e *recEnc, tcpServer, tcpClient, udpListen, udpClient netip.AddrPort) {
	e.reqAddrPort("tcp_server_addr", tcpServer)
	e.reqAddrPort("tcp_client_addr", tcpClient)
	if e.has(keysConnected) {
		e.optAddrPort("udp_listen_addr", udpListen)
		e.optAddrPort("udp_client_addr", udpClient)
	}
}

// UDPConnect holds the keys of a UdpConnect task: a UDP session to one
// upstream. A record needs TCPServerAddr and TCPClientAddr.
type UDPConnect struct {
	TCPServerAddr netip.AddrPort // tcp_server_addr
	TCPClientAddr netip.AddrPort // tcp_client_addr
	UDPListenAddr netip.AddrPort // udp_listen_addr: the proxy's UDP socket (udp_server_addr in g3's pages)
	UDPClientAddr netip.AddrPort // udp_client_addr
	Upstream      string         // upstream: host:port
	NextBindIP    netip.Addr     // next_bind_ip
	NextBoundAddr netip.AddrPort // next_bound_addr
	NextPeerAddr  netip.AddrPort // next_peer_addr
	NextExpire    time.Time      // next_expire
	UDPCounters
}

// TaskType returns [TaskTypeUDPConnect]; it is safe on a nil pointer.
func (*UDPConnect) TaskType() TaskType { return TaskTypeUDPConnect }

// MarshalLogObject implements [zapcore.ObjectMarshaler], writing the
// UdpConnect keys of a finished record in g3's wire formats.
func (d *UDPConnect) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return marshalDetail(enc, d)
}

func (d *UDPConnect) encode(e *recEnc) {
	encodeUDPAddrs(e, d.TCPServerAddr, d.TCPClientAddr, d.UDPListenAddr, d.UDPClientAddr)
	if e.has(keysConnected) {
		e.upstream("upstream", d.Upstream)
		e.optAddr("next_bind_ip", d.NextBindIP)
		e.optAddrPort("next_bound_addr", d.NextBoundAddr)
		e.optAddrPort("next_peer_addr", d.NextPeerAddr)
		e.optTime("next_expire", d.NextExpire)
	}
	d.UDPCounters.encode(e)
}

// encodeDetail writes the keys of d. A nil or typed-nil Detail of a known
// type is reported as missing; an unknown implementation writes itself.
func encodeDetail(e *recEnc, d Detail) {
	switch d := d.(type) {
	case nil:
		e.fail("task_type", "missing: the record has no Detail")
	case *TCPConnect:
		if d == nil {
			e.fail("detail", "nil *TCPConnect")
			return
		}
		d.encode(e)
	case *HTTPForward:
		if d == nil {
			e.fail("detail", "nil *HTTPForward")
			return
		}
		d.encode(e)
	case *FTPOverHTTP:
		if d == nil {
			e.fail("detail", "nil *FTPOverHTTP")
			return
		}
		d.encode(e)
	case *UDPAssociate:
		if d == nil {
			e.fail("detail", "nil *UDPAssociate")
			return
		}
		d.encode(e)
	case *UDPConnect:
		if d == nil {
			e.fail("detail", "nil *UDPConnect")
			return
		}
		d.encode(e)
	default:
		if err := e.w.inline(d); err != nil {
			e.fail("detail", err.Error())
		}
	}
}
