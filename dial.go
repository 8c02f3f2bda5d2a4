package tasklog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Resolver looks up the addresses of a host name; network is "ip4" or
// "ip6". *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// The defaults of a [Dialer], g3's (lib/g3-types net/tcp/connect.rs).
const (
	DefaultConnectTimeout         = 30 * time.Second       // each attempt (each_timeout)
	DefaultMaxTries               = 3                      // addresses tried per family (max_tries)
	DefaultResolutionDelay        = 50 * time.Millisecond  // waiting for AAAA after A (first_resolution_delay)
	DefaultConnectionAttemptDelay = 250 * time.Millisecond // between attempts (connection_attempt_delay)
)

// Dialer connects a task to its upstream the way g3proxy's DirectFixed
// escaper does (g3proxy/src/escape/direct_fixed/tcp_connect): an IP
// upstream is tried once; a host name is resolved for both address
// families, and its addresses are tried happy-eyeballs fashion (RFC 8305:
// IPv6 first when it answers within ResolutionDelay of IPv4, the families
// alternating, a new attempt every ConnectionAttemptDelay or as soon as one
// fails, at most MaxTries addresses per family, each attempt bounded by
// ConnectTimeout), and the first connection wins. Every failed attempt is
// written to EscapeLogger as an Escape record. The zero value is usable:
// the system resolver, g3's defaults, no Escape records. A Dialer is read
// only; it is safe for concurrent use.
type Dialer struct {
	// Name is the escaper key of the tasks it connects and the
	// escaper_name of its Escape records; default "direct".
	Name string
	// Resolver looks up host names; default net.DefaultResolver.
	Resolver Resolver
	// BindIP is the source address of the connections (next_bind_ip),
	// used for upstream addresses of its family; unset lets the kernel
	// choose.
	BindIP netip.Addr
	// ConnectTimeout bounds each attempt; default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxTries is how many addresses of each family are tried; default
	// DefaultMaxTries.
	MaxTries int
	// ResolutionDelay and ConnectionAttemptDelay are the happy eyeballs
	// delays; defaults DefaultResolutionDelay and
	// DefaultConnectionAttemptDelay.
	ResolutionDelay, ConnectionAttemptDelay time.Duration
	// EscapeLogger receives an Escape record (escaper_type
	// "DirectFixed") for every failed attempt; build it with
	// EscapeLoggerFields. Nil writes none.
	EscapeLogger *zap.Logger
}

// WithDialer sets the Dialer of the server's tasks ([Task.Dial]); the
// default is the zero Dialer.
func WithDialer(d *Dialer) ServerOption { return func(s *Server) { s.dialer = d } }

func (d *Dialer) name() string {
	if d.Name == "" {
		return "direct"
	}
	return d.Name
}

func orDefault[T int | time.Duration](v, dflt T) T {
	if v <= 0 {
		return dflt
	}
	return v
}

// DialError is the error of a [Task.Dial] that reached no upstream: Err
// is the last attempt's (a *net.OpError) or the resolution's (a
// *net.DNSError), so [ReasonFor] gives the reason g3 gives:
// UpstreamNotResolved or UpstreamNotConnected.
type DialError struct {
	Upstream string // the host:port asked for
	Tries    int    // the connect attempts made
	Err      error
}

// Error returns the failure in g3's words, so that a finished record's
// message reads as g3's ("upstream not connected: connection refused",
// "upstream not resolved: server error: server claims domain name not
// found"): a connect error's text, or the resolver's.
func (e *DialError) Error() string {
	var dnsErr *net.DNSError
	if errors.As(e.Err, &dnsErr) {
		return dnsErr.Err
	}
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() {
		return "timed out" // g3: TimeoutByRule is UpstreamNotConnected(TimedOut)
	}
	if errors.Is(e.Err, context.Canceled) {
		return e.Err.Error()
	}
	return connectErrorText(e.Err)
}

// Unwrap returns Err.
func (e *DialError) Unwrap() error { return e.Err }

// Dial connects the task to upstream (host:port) with its server's
// [Dialer], and records what g3 records: the escaper, tcp_connect_tries,
// tcp_connect_spend, next_bind_ip, next_bound_addr and next_peer_addr of
// a TcpConnect or HttpForward task (other tasks keep their keys, and the
// connection is made all the same). A failed attempt writes an Escape
// record with the task's id; a failed Dial returns a *DialError for
// [ReasonFor]. Canceling ctx cancels the attempts.
func (t *Task) Dial(ctx context.Context, upstream string) (net.Conn, error) {
	d := t.srv.dialer
	if d == nil {
		d = &Dialer{}
	}
	t.SetEscaper(d.name())
	host, portText, err := net.SplitHostPort(upstream)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil || host == "" {
		return nil, &DialError{Upstream: upstream, Err: &net.DNSError{Err: "invalid upstream address", Name: upstream, IsNotFound: true}}
	}
	a := attempt{t: t, d: d, upstream: upstream, port: uint16(port)}
	conn, err := a.run(ctx, host)
	if err != nil {
		t.recordDial(d, a.tries, a.spend(), nil, a.lastPeer)
		return nil, &DialError{Upstream: upstream, Tries: a.tries, Err: err}
	}
	t.recordDial(d, a.tries, a.spend(), conn, netip.AddrPort{})
	return conn, nil
}

// answer is one address family's lookup.
type answer struct {
	six   bool
	addrs []netip.Addr
	err   error
}

// lookup starts the lookups of both families; their answers come on the
// channel.
func (d *Dialer) lookup(ctx context.Context, host string) <-chan answer {
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ch := make(chan answer, 2)
	for _, six := range []bool{true, false} {
		go func() {
			network := "ip4"
			if six {
				network = "ip6"
			}
			addrs, err := r.LookupNetIP(ctx, network, host)
			var keep []netip.Addr
			for _, ip := range addrs {
				if ip = ip.Unmap(); ip.Is4() == !six {
					keep = append(keep, ip)
				}
			}
			ch <- answer{six, keep, err}
		}()
	}
	return ch
}

// secondResolutionTimeout is how long Dial waits for the second family
// when the first gave nothing to try (g3's second_resolution_timeout).
const secondResolutionTimeout = 2 * time.Second

// attempt is one Dial's resolution and connection attempts.
type attempt struct {
	t        *Task
	d        *Dialer
	upstream string
	port     uint16
	start    time.Time // of the first connect attempt: g3's spend leaves the resolution out
	tries    int
	lastPeer netip.AddrPort

	queue   []netip.Addr // addresses still to try, in order
	pending int          // lookups not answered yet
	dnsErr  error        // the first failed lookup's error (IPv4's if both failed)
}

// take adds a lookup's answer, at most MaxTries addresses of it: the
// first family's as they come; IPv6 ahead of IPv4 when it comes before any
// attempt (within the resolution delay); otherwise the later family
// alternating with the addresses not tried yet, its own first (RFC 8305;
// g3 merges a late family in as well, in an order of its own).
func (a *attempt) take(ans answer) {
	a.pending--
	if ans.err != nil || len(ans.addrs) == 0 {
		if a.dnsErr == nil || !ans.six {
			a.dnsErr = ans.err
		}
		return
	}
	addrs := ans.addrs[:min(len(ans.addrs), orDefault(a.d.MaxTries, DefaultMaxTries))]
	if len(a.queue) == 0 {
		a.queue = append(a.queue, addrs...)
		return
	}
	merged := make([]netip.Addr, 0, len(a.queue)+len(addrs))
	for i := 0; i < len(addrs) || i < len(a.queue); i++ {
		if i < len(addrs) {
			merged = append(merged, addrs[i])
		}
		if i < len(a.queue) {
			merged = append(merged, a.queue[i])
		}
	}
	a.queue = merged
}

// spend is tcp_connect_spend: the time since the first attempt began, 0
// when none did.
func (a *attempt) spend() time.Duration {
	if a.start.IsZero() {
		return 0
	}
	return time.Since(a.start)
}

type result struct {
	conn net.Conn
	peer netip.AddrPort
	err  error
}

// run resolves (a host name) and tries the addresses: a new attempt every
// ConnectionAttemptDelay or as soon as one fails, the first connection
// winning.
func (a *attempt) run(ctx context.Context, host string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var answers <-chan answer
	if ip, err := netip.ParseAddr(host); err == nil {
		a.queue = []netip.Addr{ip.Unmap()} // g3's fixed_try_connect: one try
	} else {
		answers = a.d.lookup(ctx, host)
		a.pending = 2
		a.take(<-answers)
		if a.pending > 0 && (len(a.queue) == 0 || a.queue[0].Is4()) {
			// IPv4 (or nothing) came first: give IPv6 the resolution delay.
			timer := time.NewTimer(orDefault(a.d.ResolutionDelay, DefaultResolutionDelay))
			select {
			case ans := <-answers:
				a.take(ans)
			case <-timer.C:
			}
			timer.Stop()
		}
	}
	results := make(chan result, 2*orDefault(a.d.MaxTries, DefaultMaxTries)+1)
	delay := orDefault(a.d.ConnectionAttemptDelay, DefaultConnectionAttemptDelay)
	tick := time.NewTimer(delay)
	defer tick.Stop()
	var secondWait <-chan time.Time
	running := 0
	var lastErr error
	done := ctx.Done()
	startNext := func() {
		if len(a.queue) == 0 || ctx.Err() != nil {
			return
		}
		if a.start.IsZero() {
			a.start = time.Now()
		}
		peer := netip.AddrPortFrom(a.queue[0], a.port)
		a.queue = a.queue[1:]
		a.tries++
		running++
		go func() {
			conn, err := a.connect(ctx, peer)
			results <- result{conn, peer, err}
		}()
		tick.Reset(delay)
	}
	startNext()
	for {
		if running == 0 && len(a.queue) == 0 {
			if a.pending == 0 || ctx.Err() != nil {
				break
			}
			if secondWait == nil {
				secondWait = time.After(secondResolutionTimeout)
			}
		}
		select {
		case r := <-results:
			running--
			if r.err == nil {
				// The first connection wins; later ones are closed.
				go func(n int) {
					for ; n > 0; n-- {
						if r := <-results; r.conn != nil {
							r.conn.Close()
						}
					}
				}(running)
				a.lastPeer = r.peer
				return r.conn, nil
			}
			lastErr, a.lastPeer = r.err, r.peer
			if ctx.Err() == nil {
				a.escape(r.peer, r.err)
			}
			startNext()
		case ans := <-answers:
			a.take(ans)
			if a.pending == 0 {
				answers = nil
			}
			if running == 0 {
				startNext()
			}
		case <-tick.C:
			startNext()
		case <-secondWait:
			a.pending = 0 // g3 gives up on the second family
		case <-done:
			done = nil // the attempts end with ctx; wait for them
		}
	}
	switch {
	case lastErr != nil:
		return nil, lastErr
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case a.dnsErr != nil:
		return nil, a.dnsErr
	}
	return nil, &net.DNSError{Err: "no address found", Name: host, IsNotFound: true}
}

// connect makes one attempt, bounded by ConnectTimeout.
func (a *attempt) connect(ctx context.Context, peer netip.AddrPort) (net.Conn, error) {
	nd := net.Dialer{Timeout: orDefault(a.d.ConnectTimeout, DefaultConnectTimeout)}
	if b := a.d.BindIP; b.IsValid() && b.Is4() == peer.Addr().Is4() {
		nd.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(b, 0))
	}
	return nd.DialContext(ctx, "tcp", peer.String())
}

// escape writes the Escape record of a failed attempt.
func (a *attempt) escape(peer netip.AddrPort, err error) {
	l := a.d.EscapeLogger
	if l == nil {
		return
	}
	reason, msg := TCPConnectErrorConnectFailed, "connect failed: "+connectErrorText(err)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		reason, msg = TCPConnectErrorTimeoutByRule, "timeout by rule"
	}
	rec := EscapeLog{EscaperType: "DirectFixed", EscaperName: a.d.name(), TaskID: a.t.ID(), Detail: &EscapeTCPConnect{
		Upstream: a.upstream, NextBindIP: a.d.bindFor(peer.Addr()), NextPeerAddr: peer,
		ConnectTries: a.tries, ConnectSpend: a.spend(), Reason: reason,
	}}
	LogEscape(l, zap.InfoLevel, msg, &rec)
}

func (d *Dialer) bindFor(peer netip.Addr) netip.Addr {
	if d.BindIP.IsValid() && d.BindIP.Is4() == peer.Is4() {
		return d.BindIP
	}
	return netip.Addr{}
}

// connectErrorText is g3's text of a failed connect (g3_types ConnectError).
func connectErrorText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ECONNREFUSED:
			return "connection refused"
		case syscall.ECONNRESET:
			return "connection reset"
		case syscall.ENETUNREACH:
			return "network unreachable"
		case syscall.EHOSTUNREACH:
			return "host unreachable"
		case syscall.ETIMEDOUT:
			return "timed out"
		}
	}
	return fmt.Sprintf("unspecified error: %v", err)
}

// recordDial sets the task's connect keys, as g3's TcpConnectTaskNotes
// hold them after the attempts.
func (t *Task) recordDial(d *Dialer, tries int, spend time.Duration, conn net.Conn, peer netip.AddrPort) {
	var bound netip.AddrPort
	if conn != nil {
		bound, peer = addrPortOf(conn.LocalAddr()), addrPortOf(conn.RemoteAddr())
	}
	t.Update(func(rec *TaskLog) {
		var tc *TCPConnect
		switch det := rec.Detail.(type) {
		case *TCPConnect:
			tc = det
		case *HTTPForward:
			tc = &det.TCPConnect
		default:
			return
		}
		tc.ConnectTries, tc.ConnectSpend = tries, spend
		if peer.IsValid() {
			tc.NextBindIP = d.bindFor(peer.Addr())
		}
		tc.NextBoundAddr, tc.NextPeerAddr = bound, peer
	})
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
