// Package httpproxy is the HTTP proxy of tasklog's examples: CONNECT
// tunnels are TcpConnect tasks and absolute-URI requests are HttpForward
// tasks, each ending in one g3 task record.
package httpproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/serving"
)

// Config configures a Proxy.
type Config struct {
	Name        string            // g3 server_name; "http" when empty
	Logger      *zap.Logger       // where task records go
	Periodic    time.Duration     // Periodic records while a task runs; 0 for none
	Created     bool              // write Created records
	Connected   bool              // write Connected records
	Idle        time.Duration     // end idle tunnels after this long; 0 for never
	DialTimeout time.Duration     // 5s when zero
	Users       map[string]string // Proxy-Authorization Basic users; nil accepts anyone
	// UpstreamTLS is the client TLS configuration for https:// requests
	// forwarded as absolute URIs; nil uses the system roots.
	UpstreamTLS *tls.Config
	// MaxHeaderBytes bounds a request's line and headers (default 1 MiB,
	// as net/http); a longer one gets 431 and the connection is closed.
	MaxHeaderBytes int
	// HeaderTimeout bounds reading a request's line and headers once its
	// first byte came (default 10s; 408 when it runs out); IdleTimeout
	// bounds the wait for the next request on a kept-alive connection
	// (default 60s; the connection is closed).
	HeaderTimeout, IdleTimeout time.Duration
	// Resolver looks up upstream names (a *net.Resolver, or tasklog's
	// resolver package, which writes Resolve records); nil is the
	// system's. Tests point one at a DNS server of their own on loopback.
	Resolver tasklog.Resolver
	// EscapeLogger receives the Escape record of every failed connect of
	// a CONNECT tunnel (build it with tasklog.EscapeLoggerFields); nil
	// writes none.
	EscapeLogger *zap.Logger
	// ResponseTimeout bounds the wait for an origin's response header
	// (default 30s; 504 and UpstreamAppTimeout when it runs out).
	ResponseTimeout time.Duration
}

// Proxy is an HTTP proxy whose tasks write g3 task records.
type Proxy struct {
	cfg   Config
	srv   *tasklog.Server
	group *serving.Group
	ctx   context.Context // canceled at Shutdown
}

// New returns a Proxy; call Serve to run it.
func New(cfg Config) *Proxy {
	if cfg.Name == "" {
		cfg.Name = "http"
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 1 << 20
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = 30 * time.Second
	}
	opts := []tasklog.ServerOption{tasklog.WithPeriodic(cfg.Periodic),
		tasklog.WithDialer(&tasklog.Dialer{Resolver: cfg.Resolver, ConnectTimeout: cfg.DialTimeout, EscapeLogger: cfg.EscapeLogger})}
	if cfg.Created {
		opts = append(opts, tasklog.WithCreatedRecords())
	}
	if cfg.Connected {
		opts = append(opts, tasklog.WithConnectedRecords())
	}
	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, cfg.Name, cfg.Logger, opts...)
	group := serving.New(srv)
	return &Proxy{cfg: cfg, srv: srv, group: group, ctx: group.Context()}
}

// Server returns the tasklog server of the proxy.
func (p *Proxy) Server() *tasklog.Server { return p.srv }

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown and the accept error otherwise.
func (p *Proxy) Serve(ln net.Listener) error { return p.group.Serve(ln, p.serveConn) }

// Shutdown stops accepting, finishes every open task with
// CanceledAsServerQuit, closes every connection and waits for their
// goroutines to end.
func (p *Proxy) Shutdown() { p.group.Shutdown() }

func (p *Proxy) serveConn(raw net.Conn, accepted time.Time) {
	// One client connection serves a sequence of tasks: a SwitchConn counts
	// its bytes into the current one. The LimitedReader bounds what a
	// request's line and headers may take.
	cc := tasklog.NewClientSwitchConn(raw)
	lr := &io.LimitedReader{R: cc, N: math.MaxInt64}
	br := bufio.NewReader(lr)
	serverAddr, clientAddr := addrPort(raw.LocalAddr()), addrPort(raw.RemoteAddr())
	// The remote connection is kept for the next request of this client
	// only, as g3 does.
	up := &upstreamConn{}
	defer up.close()
	waitStart := accepted
	for {
		// Wait for the next request, then give its head a time and size
		// limit of its own.
		raw.SetReadDeadline(time.Now().Add(p.cfg.IdleTimeout))
		if _, err := br.Peek(1); err != nil {
			return // the client hung up or stayed idle between requests: no task
		}
		raw.SetReadDeadline(time.Now().Add(p.cfg.HeaderTimeout))
		lr.N = int64(p.cfg.MaxHeaderBytes)
		req, err := http.ReadRequest(br)
		tooLarge := lr.N <= 0
		lr.N = math.MaxInt64
		raw.SetReadDeadline(time.Time{})
		switch {
		case err != nil && tooLarge:
			replyClose(cc, http.StatusRequestHeaderFieldsTooLarge)
			return
		case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
			replyClose(cc, http.StatusRequestTimeout)
			return
		case err != nil:
			replyClose(cc, http.StatusBadRequest)
			return
		case req.ProtoMajor != 1:
			replyClose(cc, http.StatusHTTPVersionNotSupported)
			return
		}
		hdrDone := time.Now()
		user, ok := p.authenticate(req)
		if !ok {
			resp := &http.Response{StatusCode: http.StatusProxyAuthRequired, ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{"Proxy-Authenticate": {`Basic realm="tasklog"`}}, Close: true}
			resp.Write(cc)
			return
		}
		if req.Method == http.MethodConnect {
			if !validTarget(hostPort(req.Host, "443")) {
				replyClose(cc, http.StatusBadRequest) // CONNECT :9001 would dial this host
				return
			}
			p.tunnel(raw, br, req, waitStart, user, serverAddr, clientAddr)
			return
		}
		keep := p.forward(cc, br, req, up, forwardInfo{waitStart, hdrDone, user, serverAddr, clientAddr})
		if !keep {
			return
		}
		waitStart = time.Now() // the next request on a kept-alive connection
	}
}

// replyClose answers a request that makes no task and closes.
func replyClose(w io.Writer, status int) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status, http.StatusText(status))
}

// validTarget reports whether hostport names a host and a port from 1 to
// 65535: anything else would dial this host or fail in a way the client
// caused.
func validTarget(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n <= 65535
}

func (p *Proxy) authenticate(req *http.Request) (string, bool) {
	if p.cfg.Users == nil {
		return "", true
	}
	auth := req.Header.Get("Proxy-Authorization")
	enc, ok := strings.CutPrefix(auth, "Basic ")
	if !ok {
		return "", false
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	user, pass, _ := strings.Cut(string(dec), ":")
	want, known := p.cfg.Users[user]
	return user, known && want == pass
}

// tunnel serves a CONNECT request as a TcpConnect task. The counters are
// the tunnel's payload: the CONNECT request and the proxy's own 200 or 502
// reply are not counted, the bytes behind the request are.
func (p *Proxy) tunnel(cc net.Conn, br *bufio.Reader, req *http.Request, waitStart time.Time, user string, serverAddr, clientAddr netip.AddrPort) {
	detail := &tasklog.TCPConnect{ServerAddr: serverAddr, ClientAddr: clientAddr, Upstream: hostPort(req.Host, "443")}
	task := p.srv.NewTask(waitStart, user, detail)
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()

	task.SetStage(tasklog.StageConnecting)
	// Dial connects as g3's direct escaper does and records the escaper,
	// the tries and the addresses; a failed attempt is an Escape record.
	remote, dialErr := task.Dial(p.ctx, detail.Upstream)
	if dialErr != nil {
		io.WriteString(cc, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		reason, err = tasklog.ReasonFor(dialErr, tasklog.SideUpstream), dialErr
		return
	}
	defer remote.Close()
	task.Connected()
	task.SetStage(tasklog.StageReplying)
	if _, werr := io.WriteString(cc, "HTTP/1.1 200 Connection established\r\n\r\n"); werr != nil {
		reason, err = tasklog.ReasonFor(werr, tasklog.SideClient), werr
		return
	}
	// Bytes the client sent behind its CONNECT request belong to the tunnel.
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		task.Counters.ClientReadBytes.Add(uint64(n))
		if _, werr := task.WrapRemote(remote).Write(early); werr != nil {
			reason, err = tasklog.ReasonFor(werr, tasklog.SideUpstream), werr
			return
		}
	}
	reason, err = task.Relay(cc, remote, p.cfg.Idle)
}

type forwardInfo struct {
	waitStart, hdrDone     time.Time
	user                   string
	serverAddr, clientAddr netip.AddrPort
}

// upstreamConn is the remote connection a client's requests reuse: one at
// a time, to one host.
type upstreamConn struct {
	addr string // scheme://host:port it is connected to
	sc   *tasklog.SwitchConn
	conn net.Conn // sc, or a TLS client over it
	br   *bufio.Reader
}

func (u *upstreamConn) close() {
	if u.sc != nil {
		u.sc.Close()
	}
	*u = upstreamConn{}
}

// connect makes u a connection to scheme://hostport, reusing the one it
// has when it goes there, and reports whether it was reused.
func (p *Proxy) connect(task *tasklog.Task, u *upstreamConn, scheme, hostport string) (bool, error) {
	key := scheme + "://" + hostport
	if u.sc != nil && u.addr == key && u.idleAndOpen() {
		return true, nil
	}
	u.close()
	start := time.Now()
	raw, err := p.dialForward(hostport)
	spend := time.Since(start)
	task.Update(func(r *tasklog.TaskLog) {
		d := r.Detail.(*tasklog.HTTPForward)
		d.ConnectTries++
		d.ConnectSpend += spend
	})
	if err != nil {
		return false, err
	}
	sc := tasklog.NewRemoteSwitchConn(raw)
	sc.SetTask(task) // the TLS handshake is the task's traffic too
	var conn net.Conn = sc
	if scheme == "https" {
		cfg := p.cfg.UpstreamTLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(hostport)
		}
		tc := tls.Client(sc, cfg)
		hctx, cancel := context.WithTimeout(p.ctx, p.cfg.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			sc.Close()
			return false, err
		}
		conn = tc
	}
	*u = upstreamConn{addr: key, sc: sc, conn: conn, br: bufio.NewReader(conn)}
	return false, nil
}

// idleAndOpen reports whether the kept connection is still open and has
// nothing unasked to say, so it can carry the next request: a short read
// must time out. Anything read stays in u.br.
func (u *upstreamConn) idleAndOpen() bool {
	u.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := u.br.Peek(1)
	u.conn.SetReadDeadline(time.Time{})
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// forward serves one absolute-URI request as an HttpForward task and
// reports whether the client connection may serve another request. It
// talks to the origin itself, on the handler's goroutine, so every byte
// each way is counted into this task before it finishes.
func (p *Proxy) forward(cc *tasklog.SwitchConn, br *bufio.Reader, req *http.Request, up *upstreamConn, fi forwardInfo) bool {
	detail := &tasklog.HTTPForward{
		TCPConnect: tasklog.TCPConnect{ServerAddr: fi.serverAddr, ClientAddr: fi.clientAddr},
		Method:     req.Method,
		URI:        req.RequestURI,
		UserAgent:  req.UserAgent(),
	}
	scheme, hostport := req.URL.Scheme, ""
	if req.URL.IsAbs() {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		hostport = hostPort(req.URL.Host, port)
		detail.Upstream = hostport
	}
	task := p.srv.NewTask(fi.waitStart, fi.user, detail)
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).PipelineWait = time.Since(fi.hdrDone) })
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	cc.SetTask(task) // the request header, read before the task existed, is its
	defer func() {
		// What the client sent ahead belongs to its next request; what the
		// origin sent ahead (nothing, for a well-behaved origin) is dropped
		// with the connection.
		cc.Release(br.Buffered())
		if up.sc != nil {
			up.sc.Release(up.br.Buffered())
		}
		task.Finish(reason, err)
	}()

	if !req.URL.IsAbs() || (scheme != "http" && scheme != "https") || !validTarget(hostport) {
		reply(cc, http.StatusBadRequest, task)
		reason = tasklog.ReasonInvalidClientProtocol
		return false
	}
	task.SetStage(tasklog.StageConnecting)
	task.SetEscaper("direct")
	reused, cerr := p.connect(task, up, scheme, hostport)
	if cerr != nil {
		reply(cc, http.StatusBadGateway, task)
		reason, err = tasklog.ReasonFor(cerr, tasklog.SideUpstream), cerr
		return false
	}
	up.sc.SetTask(task)
	task.Update(func(r *tasklog.TaskLog) {
		d := r.Detail.(*tasklog.HTTPForward)
		d.ReuseConnection = reused
		d.NextBoundAddr, d.NextPeerAddr = addrPort(up.sc.LocalAddr()), addrPort(up.sc.RemoteAddr())
	})
	task.Connected()

	out := req.Clone(p.ctx)
	out.RequestURI = ""
	out.URL.User = nil // credentials in the URL are not sent upstream as userinfo
	removeHopHeaders(out.Header)
	if werr := p.sendRequest(task, up.conn, out); werr != nil {
		up.close()
		reply(cc, http.StatusBadGateway, task)
		reason, err = ioReasonSides(werr, tasklog.SideUpstream, tasklog.SideClient), werr
		return false
	}
	up.conn.SetReadDeadline(time.Now().Add(p.cfg.ResponseTimeout))
	resp, rerr := http.ReadResponse(up.br, out)
	up.conn.SetReadDeadline(time.Time{})
	if rerr != nil {
		up.close()
		status := http.StatusBadGateway
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		reply(cc, status, task)
		reason, err = tasklog.ReasonFor(rerr, tasklog.SideUpstream), rerr
		return false
	}
	p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.RspRecvHdr = e })
	defer resp.Body.Close()
	task.Relaying()
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).OriginStatus = resp.StatusCode })
	upKeep := !resp.Close
	removeHopHeaders(resp.Header)
	keep := !req.Close && !resp.Close
	if !keep {
		resp.Header.Set("Connection", "close")
	}
	resp.Close = !keep
	werr := resp.Write(cc)
	p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.RspRecvAll = e })
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).RspStatus = resp.StatusCode })
	if werr != nil || !upKeep {
		up.close()
	}
	if werr != nil {
		reason, err = ioReason(werr), werr
		return false
	}
	task.SetStage(tasklog.StageFinished)
	reason = tasklog.ReasonFinished
	return keep
}

// sendRequest writes out to the origin: the header, flushed on its own
// (dur_req_send_hdr), then the body (dur_req_send_all).
func (p *Proxy) sendRequest(task *tasklog.Task, w io.Writer, out *http.Request) error {
	body := out.Body
	out.Body = nil
	chunked := false
	switch {
	case body == nil || body == http.NoBody || out.ContentLength == 0:
		body = nil
	case out.ContentLength < 0:
		chunked = true
		out.Header.Set("Transfer-Encoding", "chunked")
	default:
		out.Header.Set("Content-Length", strconv.FormatInt(out.ContentLength, 10))
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s HTTP/1.1\r\nHost: %s\r\n", out.Method, out.URL.RequestURI(), out.URL.Host)
	out.Header.WriteSubset(bw, map[string]bool{"Host": true})
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.ReqSendHdr = e })
	if body != nil {
		var bodyW io.Writer = bw
		var cw io.WriteCloser
		if chunked {
			cw = httputil.NewChunkedWriter(bw)
			bodyW = cw
		}
		if _, err := io.Copy(bodyW, body); err != nil {
			return &clientBodyError{err}
		}
		if cw != nil {
			cw.Close()
			bw.WriteString("\r\n")
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.ReqSendAll = e })
	return nil
}

// clientBodyError is a failure to read the request body from the client
// (io.Copy cannot tell it from a write to the origin otherwise).
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

// ioReasonSides maps a failure to send the request: the client's body
// (clientBodyError) or the write to the origin.
func ioReasonSides(err error, origin, client tasklog.Side) tasklog.Reason {
	var ce *clientBodyError
	if errors.As(err, &ce) {
		return tasklog.ReasonFor(ce.err, client)
	}
	return tasklog.ReasonFor(err, origin)
}

// ioReason maps an error from copying the response: a failed read of the
// upstream's body, or a failed write to the client.
func ioReason(err error) tasklog.Reason {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "write" {
		return tasklog.ReasonFor(err, tasklog.SideClient)
	}
	return tasklog.ReasonFor(err, tasklog.SideUpstream)
}

// mark records the time since task creation in one HttpForward duration.
func (p *Proxy) mark(task *tasklog.Task, set func(*tasklog.HTTPForward, time.Duration)) {
	e := task.Elapsed()
	task.Update(func(r *tasklog.TaskLog) { set(r.Detail.(*tasklog.HTTPForward), e) })
}

func reply(w io.Writer, status int, task *tasklog.Task) {
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).RspStatus = status })
	resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Close: true, Header: http.Header{}}
	resp.Write(w)
}

var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, k := range strings.Split(h.Get("Connection"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			h.Del(k)
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// hostPort returns host:port, adding the default port when host has none.
func hostPort(host, defaultPort string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return host + ":" + defaultPort
	}
	return net.JoinHostPort(host, defaultPort)
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// dialForward connects a forwarded request's origin, through the
// configured resolver.
func (p *Proxy) dialForward(hostport string) (net.Conn, error) {
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	switch r := p.cfg.Resolver.(type) {
	case nil:
	case *net.Resolver:
		d.Resolver = r
	default:
		host, port, err := net.SplitHostPort(hostport)
		if err != nil {
			return nil, err
		}
		if _, perr := netip.ParseAddr(host); perr != nil {
			addrs, err := r.LookupNetIP(p.ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			if len(addrs) == 0 {
				return nil, &net.DNSError{Err: "no address found", Name: host, IsNotFound: true}
			}
			hostport = net.JoinHostPort(addrs[0].String(), port)
		}
	}
	return d.DialContext(p.ctx, "tcp", hostport)
}
