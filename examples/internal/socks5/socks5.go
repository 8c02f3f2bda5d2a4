// Package socks5 is the SOCKS5 server of tasklog's examples (RFC 1928,
// with RFC 1929 username/password): CONNECT requests are TcpConnect tasks
// and UDP ASSOCIATE sessions are UdpAssociate tasks, each ending in one g3
// task record.
//
// A failed negotiation (no acceptable method, a wrong password, a request
// that does not parse) writes no task record, in g3 as here: it happens
// before a task exists.
package socks5

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/serving"
)

// Config configures a Server.
type Config struct {
	Name        string            // g3 server_name; "socks" when empty
	Logger      *zap.Logger       // where task records go
	Periodic    time.Duration     // Periodic records while a task runs; 0 for none
	Idle        time.Duration     // end idle tasks after this long; 0 for never
	DialTimeout time.Duration     // 5s when zero
	Users       map[string]string // username/password users; nil allows no authentication
	// Resolver looks up the names of CONNECT targets and UDP destinations
	// (a *net.Resolver, or tasklog's resolver package, which writes
	// Resolve records); nil is the system's. Tests point one at a DNS
	// server of their own.
	Resolver tasklog.Resolver
	// EscapeLogger receives the Escape record of every failed connect of
	// a CONNECT task; nil writes none.
	EscapeLogger *zap.Logger
}

// Server is a SOCKS5 server whose tasks write g3 task records.
type Server struct {
	cfg   Config
	srv   *tasklog.Server
	group *serving.Group
	ctx   context.Context // canceled at Shutdown
}

// New returns a Server; call Serve to run it.
func New(cfg Config) *Server {
	if cfg.Name == "" {
		cfg.Name = "socks"
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	srv := tasklog.NewServer(tasklog.ServerTypeSOCKSProxy, cfg.Name, cfg.Logger, tasklog.WithPeriodic(cfg.Periodic),
		tasklog.WithDialer(&tasklog.Dialer{Resolver: cfg.Resolver, ConnectTimeout: cfg.DialTimeout, EscapeLogger: cfg.EscapeLogger}))
	group := serving.New(srv)
	return &Server{cfg: cfg, srv: srv, group: group, ctx: group.Context()}
}

// Server returns the tasklog server.
func (s *Server) Server() *tasklog.Server { return s.srv }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.group.Serve(ln, s.serveConn) }

// Shutdown stops accepting, finishes every open task with
// CanceledAsServerQuit, closes every connection and waits.
func (s *Server) Shutdown() { s.group.Shutdown() }

// SOCKS5 constants (RFC 1928, RFC 1929).
const (
	version5      = 5
	methodNone    = 0x00
	methodUserPwd = 0x02
	methodNoneOK  = 0xff
	cmdConnect    = 0x01
	cmdUDP        = 0x03
	atypIPv4      = 0x01
	atypDomain    = 0x03
	atypIPv6      = 0x04

	repSucceeded       = 0x00
	repFailure         = 0x01
	repNetUnreachable  = 0x03
	repHostUnreachable = 0x04
	repRefused         = 0x05
	repCmdUnsupported  = 0x07
)

var errProtocol = errors.New("socks5: protocol error")

func (s *Server) serveConn(c net.Conn, accepted time.Time) {
	c.SetDeadline(time.Now().Add(10 * time.Second)) // the handshake
	user, err := s.handshake(c)
	if err != nil {
		return // not a SOCKS5 client, or authentication failed: no task
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[0] != version5 {
		return
	}
	target, err := readAddr(c, head[3])
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	switch head[1] {
	case cmdConnect:
		s.connect(c, accepted, user, target)
	case cmdUDP:
		s.associate(c, accepted, user)
	default:
		writeReply(c, repCmdUnsupported, netip.AddrPort{})
	}
}

func (s *Server) handshake(c net.Conn) (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != version5 {
		return "", errProtocol
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return "", err
	}
	want := byte(methodNone)
	if s.cfg.Users != nil {
		want = methodUserPwd
	}
	for _, m := range methods {
		if m == want {
			if _, err := c.Write([]byte{version5, want}); err != nil {
				return "", err
			}
			if want == methodNone {
				return "", nil
			}
			return s.userPassword(c)
		}
	}
	c.Write([]byte{version5, methodNoneOK})
	return "", errProtocol
}

func (s *Server) userPassword(c net.Conn) (string, error) {
	var ver [1]byte
	if _, err := io.ReadFull(c, ver[:]); err != nil || ver[0] != 1 {
		return "", errProtocol
	}
	user, err := readShortString(c)
	if err != nil {
		return "", err
	}
	pass, err := readShortString(c)
	if err != nil {
		return "", err
	}
	if want, ok := s.cfg.Users[user]; !ok || want != pass {
		c.Write([]byte{1, 1})
		return "", errProtocol
	}
	_, err = c.Write([]byte{1, 0})
	return user, err
}

func readShortString(r io.Reader) (string, error) {
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	b := make([]byte, n[0])
	_, err := io.ReadFull(r, b)
	return string(b), err
}

// readAddr reads DST.ADDR and DST.PORT and returns them as host:port.
func readAddr(r io.Reader, atyp byte) (string, error) {
	var host string
	switch atyp {
	case atypIPv4, atypIPv6:
		b := make([]byte, 4)
		if atyp == atypIPv6 {
			b = make([]byte, 16)
		}
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.String()
	case atypDomain:
		name, err := readShortString(r)
		if err != nil {
			return "", err
		}
		if name == "" {
			// An empty domain would dial this host itself.
			return "", errProtocol
		}
		host = name
	default:
		return "", errProtocol
	}
	var port [2]byte
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))), nil
}

// appendAddr appends a SOCKS address (ATYP, ADDR, PORT) for ap.
func appendAddr(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap()
	if a.Is4() {
		b = append(b, atypIPv4)
		v := a.As4()
		b = append(b, v[:]...)
	} else {
		b = append(b, atypIPv6)
		v := a.As16()
		b = append(b, v[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

func writeReply(w io.Writer, rep byte, bound netip.AddrPort) error {
	if !bound.IsValid() {
		bound = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	_, err := w.Write(appendAddr([]byte{version5, rep, 0}, bound))
	return err
}

// connect serves a CONNECT request as a TcpConnect task.
func (s *Server) connect(c net.Conn, accepted time.Time, user, target string) {
	detail := &tasklog.TCPConnect{ServerAddr: addrPort(c.LocalAddr()), ClientAddr: addrPort(c.RemoteAddr()), Upstream: target}
	task := s.srv.NewTask(accepted, user, detail)
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()
	task.SetStage(tasklog.StageConnecting)
	remote, dialErr := task.Dial(s.ctx, target)
	if dialErr != nil {
		writeReply(c, dialReply(dialErr), netip.AddrPort{})
		reason, err = tasklog.ReasonFor(dialErr, tasklog.SideUpstream), dialErr
		return
	}
	defer remote.Close()
	task.Connected()
	task.SetStage(tasklog.StageReplying)
	if werr := writeReply(c, repSucceeded, addrPort(remote.LocalAddr())); werr != nil {
		reason, err = tasklog.ReasonFor(werr, tasklog.SideClient), werr
		return
	}
	reason, err = task.Relay(c, remote, s.cfg.Idle)
}

func dialReply(err error) byte {
	switch tasklog.ReasonFor(err, tasklog.SideUpstream) {
	case tasklog.ReasonUpstreamNotResolved:
		return repHostUnreachable
	case tasklog.ReasonUpstreamNotConnected:
		return repRefused
	}
	return repFailure
}

// associate serves UDP ASSOCIATE as a UdpAssociate task: a UDP socket for
// the client, another for the remote peers, relayed until the TCP control
// connection closes.
func (s *Server) associate(c net.Conn, accepted time.Time, user string) {
	serverAddr := addrPort(c.LocalAddr())
	detail := &tasklog.UDPAssociate{TCPServerAddr: serverAddr, TCPClientAddr: addrPort(c.RemoteAddr())}
	task := s.srv.NewTask(accepted, user, detail)
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()
	task.SetStage(tasklog.StagePreparing)

	clientUDP, lerr := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(serverAddr.Addr(), 0)))
	if lerr != nil {
		writeReply(c, repFailure, netip.AddrPort{})
		reason, err = tasklog.ReasonInternalServerError, lerr
		return
	}
	defer clientUDP.Close()
	remoteUDP, lerr := net.ListenUDP("udp", &net.UDPAddr{})
	if lerr != nil {
		writeReply(c, repFailure, netip.AddrPort{})
		reason, err = tasklog.ReasonInternalServerError, lerr
		return
	}
	defer remoteUDP.Close()
	udpServer := clientUDP.LocalAddr().(*net.UDPAddr).AddrPort()
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.UDPAssociate).UDPListenAddr = udpServer })
	task.SetEscaper("direct")
	if werr := writeReply(c, repSucceeded, udpServer); werr != nil {
		reason, err = tasklog.ReasonFor(werr, tasklog.SideClient), werr
		return
	}
	task.Relaying()

	cli, rem := task.WrapClientPacket(clientUDP), task.WrapRemotePacket(remoteUDP)
	var clientAddr netip.AddrPort // learned from the first datagram
	var addrMu sync.Mutex
	errs := make(chan error, 3)
	// client -> remote
	go func() {
		buf := make([]byte, 64<<10)
		first := true
		for {
			n, from, rerr := cli.ReadFromUDPAddrPort(buf)
			if rerr != nil {
				errs <- rerr
				return
			}
			dst, payload, perr := parseUDPHeader(buf[:n])
			if perr != nil {
				continue // not a SOCKS UDP datagram: dropped, as RFC 1928 says
			}
			addrMu.Lock()
			clientAddr = from
			addrMu.Unlock()
			if first {
				first = false
				task.Update(func(r *tasklog.TaskLog) {
					d := r.Detail.(*tasklog.UDPAssociate)
					d.UDPClientAddr, d.InitialPeer = netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), dst
				})
			}
			to, rerr := s.resolveUDP(dst)
			if rerr != nil {
				continue // an unresolvable destination: the datagram is dropped
			}
			rem.WriteToUDPAddrPort(payload, to)
		}
	}()
	// remote -> client
	go func() {
		buf := make([]byte, 64<<10)
		out := make([]byte, 0, 64<<10+22)
		for {
			n, from, rerr := rem.ReadFromUDPAddrPort(buf)
			if rerr != nil {
				errs <- rerr
				return
			}
			addrMu.Lock()
			to := clientAddr
			addrMu.Unlock()
			if !to.IsValid() {
				continue
			}
			out = appendAddr(append(out[:0], 0, 0, 0), netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
			out = append(out, buf[:n]...)
			cli.WriteToUDPAddrPort(out, to)
		}
	}()
	// The association lives as long as the TCP control connection.
	go func() {
		_, cerr := io.Copy(io.Discard, c)
		if cerr == nil {
			cerr = io.EOF
		}
		errs <- cerr
	}()
	first := <-errs
	clientUDP.Close()
	remoteUDP.Close()
	c.Close()
	<-errs
	<-errs
	// The control connection's EOF is the normal end: closed by client.
	reason = tasklog.ReasonFor(first, tasklog.SideClient)
	if !errors.Is(first, io.EOF) {
		err = first
	}
}

// parseUDPHeader splits a SOCKS5 UDP datagram into its destination and
// payload. Fragments are not supported.
func parseUDPHeader(b []byte) (string, []byte, error) {
	if len(b) < 4 || b[2] != 0 {
		return "", nil, errProtocol
	}
	r := &sliceReader{b: b[4:]}
	dst, err := readAddr(r, b[3])
	if err != nil {
		return "", nil, errProtocol
	}
	return dst, r.b, nil
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// resolveUDP turns a UDP destination host:port into an address, through
// the configured resolver for a name.
func (s *Server) resolveUDP(dst string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(dst)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(ip, uint16(port)), nil
	}
	var r tasklog.Resolver = net.DefaultResolver
	if s.cfg.Resolver != nil {
		r = s.cfg.Resolver
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DialTimeout)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(port)), nil
}
