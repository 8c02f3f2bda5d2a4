package tasklog

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// The straight-line writer: the finished records of the two common task
// types, TcpConnect and HttpForward, written with their keys as literals,
// in exactly the generic walk's bytes and, once encodeLine has put the
// line together, its order: server_name and server_type (the logger keys,
// which go first), then the record's other keys last to first, each group
// one marked key run. It bails out (returns false, having written nothing
// that counts) as soon as a value needs a judgement of the generic walk:
// an invalid enum, a missing or negative value, a zoned address, an
// upstream that is not a plain domain:port, a status out of range; and
// inside an object or a namespace, where the keys keep the generic walk's
// order. A differential test holds it to the generic path on random
// records, byte for byte.

// fastDisabled turns the fast path off, for the differential test.
var fastDisabled bool

// fastFinished writes rec's keys into e's line (after a separator as
// keyed does), or returns false having written nothing.
func fastFinished(e *jsonEncoder, r *TaskLog) bool {
	if e.nest|e.openNamespaces != 0 {
		return false
	}
	tcp, http, ok := fastCheck(r)
	if !ok {
		return false
	}
	bs := appendSep(e.bs)
	logger := len(bs)
	bs = fastHead(bs, r)
	body := len(bs) + 1 // after the comma each key below starts with
	if bs, ok = fastBody(bs, r, tcp, http); !ok {
		return false // e.bs is as it was: bs only grew past its length
	}
	e.bs = bs
	e.marks = append(e.marks, logger<<1|1, body<<1)
	return true
}

// fastCheck reports whether the straight-line writer takes r, and its
// TCP keys and HTTP ones (nil for a TcpConnect).
func fastCheck(r *TaskLog) (tcp *TCPConnect, http *HTTPForward, ok bool) {
	if fastDisabled || (r.Event != 0 && r.Event != EventFinished) {
		return nil, nil, false
	}
	switch d := r.Detail.(type) {
	case *TCPConnect:
		tcp = d
	case *HTTPForward:
		if d == nil {
			return nil, nil, false
		}
		http, tcp = d, &d.TCPConnect
	default:
		return nil, nil, false
	}
	if tcp == nil || !r.ServerType.IsValid() || r.ServerName == "" || r.TaskID == uuid.Nil ||
		!r.Stage.IsValid() || r.StartAt.IsZero() || !r.Reason.IsValid() || r.TotalTime <= 0 ||
		r.WaitTime < 0 || r.ReadyTime < 0 || !plainAddrPort(tcp.ServerAddr) || !plainAddrPort(tcp.ClientAddr) ||
		tcp.ConnectTries < 0 || tcp.ConnectSpend < 0 || tcp.NextBindIP.Zone() != "" ||
		tcp.NextBoundAddr.Addr().Zone() != "" || tcp.NextPeerAddr.Addr().Zone() != "" {
		return nil, nil, false
	}
	if http != nil && (http.Method == "" || http.URI == "" || http.PipelineWait < 0 || !fastStatus(http.RspStatus) ||
		!fastStatus(http.OriginStatus) || http.ReqSendHdr < 0 || http.ReqSendAll < 0 || http.RspRecvHdr < 0 || http.RspRecvAll < 0) {
		return nil, nil, false
	}
	return tcp, http, true
}

// fastHead writes the logger keys, server_name and server_type.
func fastHead(bs []byte, r *TaskLog) []byte {
	bs = append(bs, `"server_name":`...)
	bs = appendQuoted(bs, r.ServerName)
	bs = append(bs, `,"server_type":"`...)
	bs = append(bs, r.ServerType.String()...)
	return append(bs, '"')
}

// fastBody writes the other keys, last to first, each after a comma; it
// returns false (having written past len(bs) only) when the upstream
// needs the generic walk.
func fastBody(bs []byte, r *TaskLog, tcp *TCPConnect, http *HTTPForward) ([]byte, bool) {
	if http != nil {
		bs = fastDur(bs, `,"dur_rsp_recv_all":"`, http.RspRecvAll)
		bs = fastDur(bs, `,"dur_rsp_recv_hdr":"`, http.RspRecvHdr)
		bs = fastDur(bs, `,"dur_req_send_all":"`, http.ReqSendAll)
		bs = fastDur(bs, `,"dur_req_send_hdr":"`, http.ReqSendHdr)
		bs = append(bs, `,"origin_status":`...)
		bs = strconv.AppendInt(bs, int64(http.OriginStatus), 10)
		bs = append(bs, `,"rsp_status":`...)
		bs = strconv.AppendInt(bs, int64(http.RspStatus), 10)
		if http.UserAgent != "" {
			bs = append(bs, `,"user_agent":`...)
			bs = appendQuoted(bs, http.UserAgent)
		}
		bs = append(bs, `,"uri":"`...)
		start := len(bs)
		bs = escapeURIInPlace(AppendSanitizedURI(bs, http.URI, http.URIMaxChars), start)
		bs = append(bs, `","method":`...)
		bs = appendQuoted(bs, http.Method)
		if http.ReuseConnection {
			bs = append(bs, `,"reuse_connection":true`...)
		} else {
			bs = append(bs, `,"reuse_connection":false`...)
		}
		bs = fastDur(bs, `,"pipeline_wait":"`, http.PipelineWait)
	}
	bs = append(bs, `,"r_wr_bytes":`...)
	bs = strconv.AppendUint(bs, tcp.RemoteWriteBytes, 10)
	bs = append(bs, `,"r_rd_bytes":`...)
	bs = strconv.AppendUint(bs, tcp.RemoteReadBytes, 10)
	bs = append(bs, `,"c_wr_bytes":`...)
	bs = strconv.AppendUint(bs, tcp.ClientWriteBytes, 10)
	bs = append(bs, `,"c_rd_bytes":`...)
	bs = strconv.AppendUint(bs, tcp.ClientReadBytes, 10)
	bs = fastDur(bs, `,"tcp_connect_spend":"`, tcp.ConnectSpend)
	bs = append(bs, `,"tcp_connect_tries":`...)
	bs = strconv.AppendInt(bs, int64(tcp.ConnectTries), 10)
	if !tcp.NextExpire.IsZero() {
		bs = append(bs, `,"next_expire":"`...)
		bs = AppendTimestamp(bs, tcp.NextExpire)
		bs = append(bs, '"')
	}
	bs = fastAddrPort(bs, `,"next_peer_addr":"`, tcp.NextPeerAddr)
	bs = fastAddrPort(bs, `,"next_bound_addr":"`, tcp.NextBoundAddr)
	if tcp.NextBindIP.IsValid() {
		bs = append(bs, `,"next_bind_ip":"`...)
		bs = tcp.NextBindIP.AppendTo(bs)
		bs = append(bs, '"')
	}
	var ok bool
	if bs, ok = fastUpstream(bs, tcp.Upstream); !ok {
		return bs, false
	}
	bs = append(bs, `,"client_addr":"`...)
	bs = tcp.ClientAddr.AppendTo(bs)
	bs = append(bs, `","server_addr":"`...)
	bs = tcp.ServerAddr.AppendTo(bs)
	bs = append(bs, '"')
	bs = fastDur(bs, `,"total_time":"`, r.TotalTime)
	bs = fastDur(bs, `,"ready_time":"`, r.ReadyTime)
	bs = fastDur(bs, `,"wait_time":"`, r.WaitTime)
	bs = append(bs, `,"reason":"`...)
	bs = append(bs, r.Reason.String()...)
	bs = append(bs, `","escaper":`...)
	bs = appendQuoted(bs, r.Escaper)
	if r.User != "" {
		bs = append(bs, `,"user":`...)
		bs = appendQuoted(bs, r.User)
	}
	bs = append(bs, `,"start_at":"`...)
	bs = AppendTimestamp(bs, r.StartAt)
	bs = append(bs, `","stage":"`...)
	bs = append(bs, r.Stage.String()...)
	bs = append(bs, `","task_event":"Finished","task_id":"`...)
	bs = AppendTaskID(bs, r.TaskID)
	if http != nil {
		bs = append(bs, `","task_type":"HttpForward"`...)
	} else {
		bs = append(bs, `","task_type":"TcpConnect"`...)
	}
	return bs, true
}

func appendQuoted(bs []byte, s string) []byte {
	bs = append(bs, '"')
	bs = appendEscaped(bs, s)
	return append(bs, '"')
}

func fastDur(bs []byte, key string, d time.Duration) []byte {
	if d == 0 {
		return bs
	}
	bs = append(bs, key...)
	bs = AppendDuration(bs, d)
	return append(bs, '"')
}

func fastAddrPort(bs []byte, key string, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return bs
	}
	bs = append(bs, key...)
	bs = ap.AppendTo(bs)
	return append(bs, '"')
}

func plainAddrPort(ap netip.AddrPort) bool { return ap.IsValid() && ap.Addr().Zone() == "" }

func fastStatus(v int) bool { return v == 0 || (v >= 100 && v <= 999) }

// fastUpstream writes the upstream key as the generic walk does for the
// common forms: empty (left out), a domain of plain characters with a
// canonical non-zero port (written as it is), an IPv4 or bracketed IPv6
// address with such a port (canonical form; unspecified: left out). Any
// other form returns false, for the generic walk.
func fastUpstream(bs []byte, u string) ([]byte, bool) {
	if u == "" {
		return bs, true
	}
	i := len(u) - 1
	for i >= 0 && u[i] >= '0' && u[i] <= '9' {
		i--
	}
	if i <= 0 || u[i] != ':' || i == len(u)-1 || u[i+1] == '0' || len(u)-1-i > 5 {
		return bs, false
	}
	port := 0
	for _, c := range []byte(u[i+1:]) {
		port = port*10 + int(c-'0')
	}
	if port > 65535 {
		return bs, false
	}
	host := u[:i]
	if host[0] == '[' {
		if host[len(host)-1] != ']' {
			return bs, false
		}
		return fastIPUpstream(bs, host[1:len(host)-1], port, true)
	}
	ip := true
	for j := 0; j < len(host); j++ {
		c := host[j]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
			ip = false
		case c >= '0' && c <= '9', c == '.':
		default:
			return bs, false // ':', escapes, non-ASCII: the generic walk decides
		}
	}
	if ip {
		return fastIPUpstream(bs, host, port, false)
	}
	bs = append(bs, `,"upstream":"`...)
	bs = append(bs, u...)
	return append(bs, '"'), true
}

func fastIPUpstream(bs []byte, host string, port int, bracketed bool) ([]byte, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || (bracketed && !a.Is6()) {
		return bs, false
	}
	if a.IsUnspecified() {
		return bs, true
	}
	bs = append(bs, `,"upstream":"`...)
	bs = netip.AddrPortFrom(a, uint16(port)).AppendTo(bs)
	return append(bs, '"'), true
}
