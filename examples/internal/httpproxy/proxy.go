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
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync/atomic"
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
	opts := []tasklog.ServerOption{tasklog.WithPeriodic(cfg.Periodic)}
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

// clientConn counts the bytes of one client connection; the proxy points
// it at the current task's counters, one task at a time.
type clientConn struct {
	net.Conn
	read    atomic.Uint64 // every byte read from the connection
	current atomic.Pointer[tasklog.Counters]
}

func (c *clientConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(uint64(n))
	return n, err
}

func (c *clientConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if ctr := c.current.Load(); ctr != nil {
		ctr.ClientWriteBytes.Add(uint64(n))
	}
	return n, err
}

// consumed is how many bytes of the connection the proxy has used: what
// was read, less what still waits in br.
func (c *clientConn) consumed(br *bufio.Reader) uint64 { return c.read.Load() - uint64(br.Buffered()) }

func (p *Proxy) serveConn(raw net.Conn, accepted time.Time) {
	cc := &clientConn{Conn: raw}
	br := bufio.NewReader(cc)
	serverAddr, clientAddr := addrPort(raw.LocalAddr()), addrPort(raw.RemoteAddr())
	// One Transport per client connection: remote connections are reused
	// by the requests of this client only, as g3 does.
	up := &upstream{}
	tr := p.transport(up)
	defer tr.CloseIdleConnections()
	waitStart := accepted
	for {
		start := cc.consumed(br)
		req, err := http.ReadRequest(br)
		if err != nil {
			return // EOF between requests, or not HTTP: no task
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
			p.tunnel(cc, br, req, waitStart, user, serverAddr, clientAddr)
			return
		}
		keep := p.forward(cc, br, req, tr, up, forwardInfo{waitStart, hdrDone, start, user, serverAddr, clientAddr})
		if !keep {
			return
		}
		waitStart = time.Now() // the next request on a kept-alive connection
	}
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

// tunnel serves a CONNECT request as a TcpConnect task.
func (p *Proxy) tunnel(cc *clientConn, br *bufio.Reader, req *http.Request, waitStart time.Time, user string, serverAddr, clientAddr netip.AddrPort) {
	detail := &tasklog.TCPConnect{ServerAddr: serverAddr, ClientAddr: clientAddr, Upstream: hostPort(req.Host, "443")}
	task := p.srv.NewTask(waitStart, user, detail)
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()
	// The counters are the tunnel's payload: the proxy's own 200 or 502
	// reply is not counted.

	task.SetStage(tasklog.StageConnecting)
	dialStart := time.Now()
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	remote, dialErr := d.DialContext(p.ctx, "tcp", detail.Upstream)
	spend := time.Since(dialStart)
	task.Update(func(r *tasklog.TaskLog) {
		d := r.Detail.(*tasklog.TCPConnect)
		d.ConnectTries, d.ConnectSpend = 1, spend
		if remote != nil {
			d.NextBoundAddr, d.NextPeerAddr = addrPort(remote.LocalAddr()), addrPort(remote.RemoteAddr())
		}
	})
	if dialErr != nil {
		io.WriteString(cc, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		reason, err = tasklog.ReasonFor(dialErr, tasklog.SideUpstream), dialErr
		return
	}
	defer remote.Close()
	task.SetEscaper("direct")
	task.Connected()
	task.SetStage(tasklog.StageReplying)
	if _, werr := io.WriteString(cc, "HTTP/1.1 200 Connection established\r\n\r\n"); werr != nil {
		reason, err = tasklog.ReasonFor(werr, tasklog.SideClient), werr
		return
	}
	// Bytes the client sent behind its CONNECT request belong to the tunnel.
	var client net.Conn = cc.Conn
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		task.Counters.ClientReadBytes.Add(uint64(n))
		if _, werr := task.WrapRemote(remote).Write(early); werr != nil {
			reason, err = tasklog.ReasonFor(werr, tasklog.SideUpstream), werr
			return
		}
	}
	reason, err = task.Relay(client, remote, p.cfg.Idle)
}

type forwardInfo struct {
	waitStart, hdrDone     time.Time
	consumedBefore         uint64
	user                   string
	serverAddr, clientAddr netip.AddrPort
}

// upstream points the Transport's connections at the current task.
type upstream struct {
	current atomic.Pointer[tasklog.Counters]
}

// remoteConn counts one remote connection into the current task.
type remoteConn struct {
	net.Conn
	up *upstream
}

func (c *remoteConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if ctr := c.up.current.Load(); ctr != nil {
		ctr.RemoteReadBytes.Add(uint64(n))
	}
	return n, err
}

func (c *remoteConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if ctr := c.up.current.Load(); ctr != nil {
		ctr.RemoteWriteBytes.Add(uint64(n))
	}
	return n, err
}

func (p *Proxy) transport(up *upstream) *http.Transport {
	d := &net.Dialer{Timeout: p.cfg.DialTimeout}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &remoteConn{Conn: c, up: up}, nil
		},
		TLSClientConfig:       p.cfg.UpstreamTLS,
		DisableCompression:    true, // relay bodies as they are
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
}

// forward serves one absolute-URI request as an HttpForward task and
// reports whether the client connection may serve another request.
func (p *Proxy) forward(cc *clientConn, br *bufio.Reader, req *http.Request, tr *http.Transport, up *upstream, fi forwardInfo) bool {
	rawURI := req.RequestURI
	detail := &tasklog.HTTPForward{
		TCPConnect: tasklog.TCPConnect{ServerAddr: fi.serverAddr, ClientAddr: fi.clientAddr},
		Method:     req.Method,
		URI:        rawURI,
		UserAgent:  req.UserAgent(),
	}
	if req.URL.IsAbs() {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		detail.Upstream = hostPort(req.URL.Host, port)
	}
	task := p.srv.NewTask(fi.waitStart, fi.user, detail)
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).PipelineWait = time.Since(fi.hdrDone) })
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()
	cc.current.Store(&task.Counters)
	up.current.Store(&task.Counters)
	defer func() {
		// The request's bytes: all the client connection gave this task.
		task.Counters.ClientReadBytes.Add(cc.consumed(br) - fi.consumedBefore)
		cc.current.Store(nil)
		up.current.Store(nil)
	}()

	if !req.URL.IsAbs() || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		reply(cc, http.StatusBadRequest, task)
		reason = tasklog.ReasonInvalidClientProtocol
		return false
	}
	task.SetStage(tasklog.StageConnecting)
	task.SetEscaper("direct")
	var connectStart time.Time
	trace := &httptrace.ClientTrace{
		ConnectStart: func(string, string) { connectStart = time.Now() },
		ConnectDone: func(_, _ string, cerr error) {
			spend := time.Since(connectStart)
			task.Update(func(r *tasklog.TaskLog) {
				d := r.Detail.(*tasklog.HTTPForward)
				d.ConnectTries++
				d.ConnectSpend += spend
			})
		},
		GotConn: func(info httptrace.GotConnInfo) {
			task.Update(func(r *tasklog.TaskLog) {
				d := r.Detail.(*tasklog.HTTPForward)
				d.ReuseConnection = info.Reused
				d.NextBoundAddr, d.NextPeerAddr = addrPort(info.Conn.LocalAddr()), addrPort(info.Conn.RemoteAddr())
			})
			task.Connected()
		},
		WroteHeaders: func() { p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.ReqSendHdr = e }) },
		WroteRequest: func(httptrace.WroteRequestInfo) {
			p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.ReqSendAll = e })
		},
		GotFirstResponseByte: func() {
			p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.RspRecvHdr = e })
		},
	}
	out := req.Clone(httptrace.WithClientTrace(p.ctx, trace))
	out.RequestURI = ""
	out.URL.User = nil // credentials in the URL are not sent upstream as userinfo
	removeHopHeaders(out.Header)
	resp, rterr := tr.RoundTrip(out)
	if rterr != nil {
		status := http.StatusBadGateway
		if errors.Is(rterr, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		reply(cc, status, task)
		reason, err = tasklog.ReasonFor(rterr, tasklog.SideUpstream), rterr
		return false
	}
	defer resp.Body.Close()
	task.Relaying()
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).OriginStatus = resp.StatusCode })
	removeHopHeaders(resp.Header)
	keep := !req.Close && !resp.Close
	if !keep {
		resp.Header.Set("Connection", "close")
	}
	resp.Close = !keep
	werr := resp.Write(cc)
	p.mark(task, func(d *tasklog.HTTPForward, e time.Duration) { d.RspRecvAll = e })
	task.Update(func(r *tasklog.TaskLog) { r.Detail.(*tasklog.HTTPForward).RspStatus = resp.StatusCode })
	if werr != nil {
		reason, err = ioReason(werr), werr
		return false
	}
	task.SetStage(tasklog.StageFinished)
	reason = tasklog.ReasonFinished
	return keep
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
