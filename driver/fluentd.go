package driver

import (
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// FluentdConfig configures [NewFluentd], with g3's fluentd driver options
// and defaults (its configuration page, log-drivers/fluentd).
type FluentdConfig struct {
	// Address is the forward server's host:port; default 127.0.0.1:24224.
	Address string
	// Tag of every event; default Ident+".Task" ("g3proxy.Task" for
	// g3proxy's task log). Ident defaults to the name of this program.
	Tag, Ident string
	// SharedKey turns on the forward protocol's HELO/PING/PONG
	// authentication over plain TCP (g3 does not run it over TLS);
	// Username and Password go in every PING, as g3 sends them.
	SharedKey, Username, Password string
	// Hostname is sent in PING; default this host's name.
	Hostname string
	// BindIP is the source address of the connection (g3's bind_ip);
	// unset lets the kernel choose.
	BindIP netip.Addr
	// KeepAlive configures TCP keepalive (g3's tcp_keepalive); nil is
	// g3's default, on with 60s idle.
	KeepAlive *net.KeepAliveConfig
	// TLS connects over TLS with this configuration; nil is plain TCP.
	// Its ServerName is the name the certificate must have (g3's
	// tls_name); empty means the server's IP address, as in g3.
	TLS *tls.Config
	// TLSHandshakeTimeout bounds the TLS handshake (g3's tls_client
	// handshake_timeout); default 10s.
	TLSHandshakeTimeout time.Duration
	// TLSDisableSNI sends no server name in the TLS handshake, while
	// still checking the certificate against it (g3's disable_sni).
	TLSDisableSNI bool
	// ConnectTimeout bounds a connect and its handshake (default 10s);
	// after a failed connect the driver waits ConnectDelay (default 10s)
	// before the next, keeping records in the retry queue meanwhile.
	ConnectTimeout, ConnectDelay time.Duration
	// WriteTimeout bounds one write (default 1s); a record whose write
	// times out is dropped, as g3 does.
	WriteTimeout time.Duration
	// FlushInterval is g3's flush_interval: how long g3 may hold records
	// before it writes them (default 100ms). tasklog writes each record
	// as it comes, which meets any interval; it is kept so that a
	// configuration reads back as written.
	FlushInterval time.Duration
	// RetryQueueLen is how many records wait for a connection (default
	// 10); when it is full the oldest is dropped.
	RetryQueueLen int
}

// NewFluentd returns a Core that sends each entry to a fluentd forward
// server in message mode, as g3proxy's fluentd driver does
// (lib/g3-fluentd): a MessagePack array [tag, EventTime, record], where
// EventTime has nanoseconds and the record holds the context and fields
// in g3's order (see the package doc), every key the event carries with
// nil for unset values (g3's "none"), and "msg" last. Integers are
// written in the fixed MessagePack form of g3's Rust type: pid as uint 32,
// rsp_status and origin_status as uint 16, counters as uint 64.
//
// With a SharedKey and plain TCP it authenticates with the server's HELO,
// answering with PING (shared key digest, and the user name and password
// digest whenever the server sends a nonce) and checking the server's PONG
// digest. Over TLS, as in g3, there is no such handshake: records follow
// the TLS handshake, and SharedKey is not used. A failed connect or
// handshake is reported on Options.ErrorOutput, sampled, and retried after
// ConnectDelay.
func NewFluentd(cfg FluentdConfig, opts Options) (*Core, error) {
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:24224"
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("tasklog/driver: fluentd: address %q: %w", cfg.Address, err)
	}
	if cfg.Ident == "" {
		cfg.Ident = programName()
	}
	if cfg.Tag == "" {
		cfg.Tag = cfg.Ident + ".Task"
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.ConnectDelay <= 0 {
		cfg.ConnectDelay = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Second
	}
	if cfg.RetryQueueLen <= 0 {
		cfg.RetryQueueLen = 10
	}
	if cfg.TLSHandshakeTimeout <= 0 {
		cfg.TLSHandshakeTimeout = 10 * time.Second
	}
	if cfg.KeepAlive == nil {
		cfg.KeepAlive = &net.KeepAliveConfig{Enable: true, Idle: 60 * time.Second, Interval: -1, Count: -1}
	}
	f := &fluentdFormatter{tag: cfg.Tag}
	return newCore("fluentd", f, opts, func(q *queue) sink { return newFluentdSink(cfg, q) }), nil
}

type fluentdFormatter struct {
	tag string
	kv  kvFormatter
}

func (f *fluentdFormatter) with(fields []zapcore.Field) formatter {
	return &fluentdFormatter{tag: f.tag, kv: f.kv.withCtx(fields)}
}

// snapshots lets the writer format an entry from a copy of its fields
// (see snapshotter) when its time fits EventTime; an entry without a time
// takes the clock's now, as format would.
func (f *fluentdFormatter) snapshots(ent zapcore.Entry) (zapcore.Entry, bool) {
	if ent.Time.IsZero() {
		ent.Time = time.Now()
	}
	return ent, ent.Time.Unix() >= 0 && ent.Time.Unix() <= 1<<32-1
}

func (f *fluentdFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	e := f.kv.collectG3(fields)
	defer putKV(e)
	t := ent.Time
	if t.IsZero() {
		t = time.Now()
	}
	if t.Unix() < 0 || t.Unix() > 1<<32-1 {
		return b, errors.New("entry time out of EventTime's range")
	}
	b = mpArray(b, 3)
	b = mpStr(b, f.tag)
	b = mpEventTime(b, t)
	b = mpMap(b, len(e.pairs)+1)
	for i := range e.pairs {
		p := &e.pairs[i]
		b = mpStr(b, p.key)
		switch p.kind {
		case kindNone:
			b = mpNil(b)
		case kindInt:
			b = mpInt(b, int64(p.n), p.width)
		case kindUint:
			b = mpUint(b, p.n, p.width)
		case kindBool:
			b = mpBool(b, p.n == 1)
		case kindFloat:
			b = mpFloat(b, p.float())
		default:
			b = mpStr(b, p.s)
		}
	}
	b = mpStr(b, "msg")
	return mpStr(b, ent.Message), nil
}

// fluentdSink keeps one connection to the server. Only its writer
// goroutine delivers; close may come from another goroutine to unblock it:
// it cancels a dial, TLS handshake or HELO/PING/PONG in progress and
// closes the connection.
type fluentdSink struct {
	cfg FluentdConfig
	q   *queue

	conn  net.Conn      // writer goroutine only
	gone  chan struct{} // closed when the server has closed conn
	next  time.Time
	retry [][]byte
	wbuf  []byte    // a batch's records, back to back
	one   [1][]byte // deliver's batch of one

	ctx    context.Context // canceled by close
	cancel context.CancelFunc

	mu   sync.Mutex // guards live, for close
	live net.Conn
}

func newFluentdSink(cfg FluentdConfig, q *queue) *fluentdSink {
	ctx, cancel := context.WithCancel(context.Background())
	return &fluentdSink{cfg: cfg, q: q, ctx: ctx, cancel: cancel}
}

func (s *fluentdSink) setLive(c net.Conn) {
	s.mu.Lock()
	s.live = c
	s.mu.Unlock()
}

func (s *fluentdSink) close() {
	s.cancel()
	s.mu.Lock()
	if s.live != nil {
		s.live.Close()
	}
	s.mu.Unlock()
}

// drain counts what never reached the server once the writers stopped.
func (s *fluentdSink) drain() {
	s.q.drop(dropPeerUnreachable, len(s.retry))
	s.retry = nil
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *fluentdSink) stream() {}

func (s *fluentdSink) deliver(rec []byte) {
	s.one[0] = rec
	s.deliverBatch(s.one[:])
	s.one[0] = nil
}

// deliverBatch writes the records that waited together with one write,
// after any kept for a new connection; when the connection fails they
// are kept in turn (see keep).
func (s *fluentdSink) deliverBatch(recs [][]byte) {
	if s.ctx.Err() != nil {
		s.q.drop(dropPeerUnreachable, len(recs))
		return
	}
	if s.conn != nil && s.peerGone() {
		s.drop(errors.New("the server closed the connection"))
	}
	if s.conn == nil && !s.connect() {
		s.keep(recs)
		return
	}
	for len(s.retry) > 0 {
		if s.conn == nil || !s.write(s.retry[0], 1) {
			s.keep(recs)
			return
		}
		s.retry = s.retry[1:]
	}
	b := recs[0]
	if len(recs) > 1 {
		b, s.wbuf = joinBatch(s.wbuf, recs)
	}
	if s.conn == nil || !s.write(b, len(recs)) {
		s.keep(recs)
	}
}

// keep puts copies of recs in the retry queue, dropping the oldest when
// full.
func (s *fluentdSink) keep(recs [][]byte) {
	for _, rec := range recs {
		if len(s.retry) >= s.cfg.RetryQueueLen {
			s.retry = s.retry[1:]
			s.q.drop(dropPeerUnreachable, 1)
		}
		s.retry = append(s.retry, append([]byte(nil), rec...))
	}
}

// write sends n records, b. It returns false when the connection failed
// (the records are to be kept for the next one); records whose write
// timed out are dropped, as g3 does, and true is returned with the
// connection closed (a half-written record breaks the stream). Once Close
// has given up on the writer, nothing is written and true is returned:
// Close has counted the records.
func (s *fluentdSink) write(b []byte, n int) bool {
	if s.q.abandoned.Load() {
		return true
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_, err := s.conn.Write(b)
	if err == nil {
		s.q.passN(n, len(b))
		return true
	}
	s.drop(err)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.q.drop(dropPeerUnreachable, n)
		return true
	}
	return false
}

func (s *fluentdSink) drop(err error) {
	s.conn.Close()
	s.conn = nil
	s.setLive(nil)
	if s.ctx.Err() == nil {
		s.q.report(fmt.Errorf("write to %s: %w", s.cfg.Address, err))
	}
}

// connect dials, handshakes and makes the connection current, unless the
// last failure was less than ConnectDelay ago.
func (s *fluentdSink) connect() bool {
	if time.Now().Before(s.next) {
		return false
	}
	c, err := s.dial()
	if err != nil {
		s.next = time.Now().Add(s.cfg.ConnectDelay)
		if s.ctx.Err() == nil {
			s.q.report(fmt.Errorf("connect to %s: %w", s.cfg.Address, err))
		}
		return false
	}
	s.conn = c
	s.setLive(c)
	if s.ctx.Err() != nil { // close ran while we dialed
		c.Close()
		s.conn = nil
		s.setLive(nil)
		return false
	}
	// In message mode the server never writes: a read that returns means
	// it closed the connection, and the next record must not go into a
	// socket whose peer is gone (the kernel would take it, and the record
	// would be lost without a word).
	gone := make(chan struct{})
	s.gone = gone
	go func() {
		var b [64]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				close(gone)
				return
			}
		}
	}()
	return true
}

// peerGone reports whether the server has closed the current connection.
func (s *fluentdSink) peerGone() bool {
	select {
	case <-s.gone:
		return true
	default:
		return false
	}
}

// dial connects, runs the TLS handshake and the forward protocol's
// handshake, all within ConnectTimeout and all canceled by close.
func (s *fluentdSink) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{KeepAliveConfig: *s.cfg.KeepAlive}
	if !s.cfg.KeepAlive.Enable {
		d.KeepAlive = -1
	}
	if s.cfg.BindIP.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.cfg.BindIP, 0))
	}
	c, err := d.DialContext(ctx, "tcp", s.cfg.Address)
	if err != nil {
		return nil, err
	}
	s.setLive(c)
	if s.ctx.Err() != nil { // close ran before setLive: it could not close c
		c.Close()
		return nil, s.ctx.Err()
	}
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	if s.cfg.TLS != nil {
		tc := tls.Client(c, s.tlsConfig())
		hctx, hcancel := context.WithTimeout(s.ctx, s.cfg.TLSHandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		hcancel()
		if err != nil {
			c.Close()
			return nil, err
		}
		// g3 runs the forward protocol's handshake on plain TCP only: over
		// TLS it sends records right after the TLS handshake, whatever
		// its shared_key says (lib/g3-fluentd config/mod.rs connect).
		_ = tc.SetDeadline(time.Time{})
		return tc, nil
	}
	if s.cfg.SharedKey != "" {
		if err := s.handshake(c); err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// tlsConfig is the TLS configuration of one connection: the server name
// to check is TLS.ServerName, else the server's IP; with TLSDisableSNI it
// is checked by hand, since crypto/tls sends what it checks.
func (s *fluentdSink) tlsConfig() *tls.Config {
	cfg := s.cfg.TLS.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(s.cfg.Address)
	}
	if !s.cfg.TLSDisableSNI || cfg.InsecureSkipVerify {
		return cfg
	}
	name, roots := cfg.ServerName, cfg.RootCAs
	cfg.ServerName, cfg.InsecureSkipVerify = "", true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
		return err
	}
	return cfg
}

// handshake runs the forward protocol's shared key authentication.
func (s *fluentdSink) handshake(c net.Conn) error {
	var buf []byte
	var nonce, authSalt []byte
	if err := readMsg(c, &buf, func(r *mpReader) error {
		var err error
		nonce, authSalt, err = parseHelo(r)
		return err
	}); err != nil {
		return fmt.Errorf("reading HELO: %w", err)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	ping := mpArray(nil, 6)
	ping = mpStr(ping, "PING")
	ping = mpStr(ping, s.cfg.Hostname)
	ping = mpBin(ping, salt)
	ping = mpStr(ping, digest(salt, []byte(s.cfg.Hostname), nonce, []byte(s.cfg.SharedKey)))
	// As g3 (lib/g3-fluentd config/mod.rs build_ping): the user name and
	// password digest go with every PING that answers a nonce, whether or
	// not the server asked for user authentication.
	if len(nonce) == 0 {
		ping = mpStr(mpStr(ping, ""), "")
	} else {
		ping = mpStr(ping, s.cfg.Username)
		ping = mpStr(ping, digest(authSalt, []byte(s.cfg.Username), []byte(s.cfg.Password)))
	}
	if _, err := c.Write(ping); err != nil {
		return fmt.Errorf("writing PING: %w", err)
	}
	buf = buf[:0]
	var ok bool
	var reason, serverHost, serverDigest string
	if err := readMsg(c, &buf, func(r *mpReader) error {
		var err error
		ok, reason, serverHost, serverDigest, err = parsePong(r)
		return err
	}); err != nil {
		return fmt.Errorf("reading PONG: %w", err)
	}
	if !ok {
		return fmt.Errorf("the server refused authentication: %s", reason)
	}
	want := digest(salt, []byte(serverHost), nonce, []byte(s.cfg.SharedKey))
	if subtle.ConstantTimeCompare([]byte(want), []byte(serverDigest)) != 1 {
		return errors.New("the server's PONG digest does not match the shared key")
	}
	return nil
}

// digest is the hex SHA-512 of the parts, the forward protocol's digests.
func digest(parts ...[]byte) string {
	h := sha512.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readMsg reads from c until parse accepts one whole message in buf.
func readMsg(c net.Conn, buf *[]byte, parse func(*mpReader) error) error {
	tmp := make([]byte, 1024)
	for {
		n, err := c.Read(tmp)
		*buf = append(*buf, tmp[:n]...)
		if n > 0 {
			perr := parse(&mpReader{b: *buf})
			if perr == nil || !errors.Is(perr, errShort) {
				return perr
			}
		}
		if err != nil {
			return err
		}
		if len(*buf) > 64<<10 {
			return errors.New("message too long")
		}
	}
}

// parseHelo reads ["HELO", {nonce, auth, keepalive}].
func parseHelo(r *mpReader) (nonce, authSalt []byte, err error) {
	if n, err := r.arrayLen(); err != nil || n != 2 {
		return nil, nil, orErr(err, "HELO is not a 2-element array")
	}
	if t, err := r.bytes(); err != nil || string(t) != "HELO" {
		return nil, nil, orErr(err, "not a HELO message")
	}
	n, err := r.mapLen()
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < n; i++ {
		k, err := r.bytes()
		if err != nil {
			return nil, nil, err
		}
		switch string(k) {
		case "nonce":
			nonce, err = r.bytes()
		case "auth":
			authSalt, err = r.bytes()
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return nonce, authSalt, nil
}

// parsePong reads ["PONG", auth_result, reason, server_hostname, digest].
func parsePong(r *mpReader) (ok bool, reason, host, dig string, err error) {
	if n, err := r.arrayLen(); err != nil || n != 5 {
		return false, "", "", "", orErr(err, "PONG is not a 5-element array")
	}
	if t, err := r.bytes(); err != nil || string(t) != "PONG" {
		return false, "", "", "", orErr(err, "not a PONG message")
	}
	if ok, err = r.boolean(); err != nil {
		return
	}
	var b []byte
	if b, err = r.bytes(); err != nil {
		return
	}
	reason = string(b)
	if b, err = r.bytes(); err != nil {
		return
	}
	host = string(b)
	if b, err = r.bytes(); err != nil {
		return
	}
	return ok, reason, host, string(b), nil
}

func orErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}
