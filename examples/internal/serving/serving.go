// Package serving is the connection lifecycle the example servers share:
// accept, track, and shut down by finishing every open task.
package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/resolver"
)

// Group serves connections for one tasklog.Server and shuts them down
// together. Its zero value is not usable; make one with New.
type Group struct {
	srv  *tasklog.Server
	ctx  context.Context // canceled at Shutdown
	quit context.CancelFunc
	// closing is set when Shutdown begins, before the context is canceled.
	closing atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[io.Closer]struct{}
	wg    sync.WaitGroup
}

// New returns a Group for srv.
func New(srv *tasklog.Server) *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{srv: srv, ctx: ctx, quit: cancel, conns: make(map[io.Closer]struct{})}
}

// Context is canceled when Shutdown starts; dial with it.
func (g *Group) Context() context.Context { return g.ctx }

// Serve accepts connections on ln until Shutdown and runs handle for each
// in its own goroutine, with the time it was accepted; the connection is
// closed when handle returns. Serve returns nil after Shutdown and the
// accept error otherwise.
func (g *Group) Serve(ln net.Listener, handle func(c net.Conn, accepted time.Time)) error {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if g.closing.Load() {
				return nil
			}
			return err
		}
		accepted := time.Now()
		if !g.Track(c) {
			c.Close()
			return nil
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer g.Untrack(c)
			defer c.Close()
			handle(c, accepted)
		}()
	}
}

// Shutdown stops accepting, finishes every open task with
// CanceledAsServerQuit, closes every tracked connection and waits for the
// handlers to return.
func (g *Group) Shutdown() {
	g.closing.Store(true)
	g.mu.Lock()
	if g.ln != nil {
		g.ln.Close()
	}
	g.mu.Unlock()
	// Finish the open tasks before canceling their dials and reads, so each
	// record says the server quit, not what the cancellation broke.
	g.srv.FinishAll(tasklog.ReasonCanceledAsServerQuit, nil)
	g.quit()
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// Track adds c to what Shutdown closes; false means Shutdown has begun.
func (g *Group) Track(c io.Closer) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing.Load() {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

// Untrack removes c.
func (g *Group) Untrack(c io.Closer) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// RunUntil runs serve until ctx is done or serve fails, then calls
// shutdown and returns serve's error; it ends an example's run function.
func RunUntil(ctx context.Context, serve func() error, shutdown func()) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	select {
	case <-ctx.Done():
		shutdown()
		return <-served
	case err := <-served:
		shutdown()
		return err
	}
}

// LogFlags are the example programs' log flags: which g3 log driver the
// task records go through, and the options that matter to operators.
type LogFlags struct {
	Target       string
	Ident        string
	CEE, RFC5424 bool
	SharedKey    string
	TLS          bool
	CAFile       string
	Stats        bool
}

// AddLogFlags registers the log flags on fs.
func AddLogFlags(fs *flag.FlagSet) *LogFlags {
	f := &LogFlags{}
	fs.StringVar(&f.Target, "log", "json", "where task records go: json (JSON lines on stdout), cee (g3's CEE body as JSON lines on stdout, in g3's key order), stdout (g3's text format), "+
		"syslog (/dev/log), syslog:unix:///PATH, syslog:udp://HOST:PORT, fluentd:HOST:PORT, journal, discard")
	fs.StringVar(&f.Ident, "log-ident", "g3proxy", "program name in syslog headers, the fluentd tag (IDENT.Task) and SYSLOG_IDENTIFIER")
	fs.BoolVar(&f.CEE, "log-cee", false, "syslog: send the record as @cee: JSON (g3's use_cee_log_syntax)")
	fs.BoolVar(&f.RFC5424, "log-rfc5424", false, "syslog: RFC 5424 header and structured data (g3's format_rfc5424)")
	fs.StringVar(&f.SharedKey, "fluentd-shared-key", "", "fluentd: shared key for the forward protocol's authentication")
	fs.BoolVar(&f.TLS, "fluentd-tls", false, "fluentd: connect over TLS")
	fs.StringVar(&f.CAFile, "fluentd-ca", "", "fluentd: PEM file of the CA that signs the server's certificate (implies -fluentd-tls)")
	fs.BoolVar(&f.Stats, "log-stats", false, "print the log driver's counters to stderr at exit")
	return f
}

// NewLogger returns the task logger the flags ask for, with g3's logger
// keys, and a function that flushes and closes its driver (printing its
// counters to stderr with -log-stats).
func (f *LogFlags) NewLogger(stdout, stderr io.Writer, daemonName string) (*zap.Logger, func(), error) {
	l, closeFn, err := f.NewLoggers(stdout, stderr, daemonName)
	return l.Task, closeFn, err
}

// Loggers are a program's three g3 logs, on one log driver.
type Loggers struct {
	Task, Escape, Resolve *zap.Logger
}

// NewLoggers is NewLogger with the Escape and Resolve loggers beside the
// task logger, each with its g3 logger keys, all through the one driver.
func (f *LogFlags) NewLoggers(stdout, stderr io.Writer, daemonName string) (Loggers, func(), error) {
	cfg, err := driver.ParseTarget(f.Target)
	if err != nil {
		return Loggers{}, nil, err
	}
	cfg.Ident, cfg.Output = f.Ident, stdout
	cfg.Options.ErrorOutput = zapcore.AddSync(stderr)
	cfg.Syslog.CEE, cfg.Syslog.RFC5424 = f.CEE, f.RFC5424
	cfg.Fluentd.SharedKey = f.SharedKey
	if f.TLS || f.CAFile != "" {
		cfg.Fluentd.TLS = &tls.Config{}
		if f.CAFile != "" {
			pem, err := os.ReadFile(f.CAFile)
			if err != nil {
				return Loggers{}, nil, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return Loggers{}, nil, fmt.Errorf("-fluentd-ca %s: no PEM certificate", f.CAFile)
			}
			cfg.Fluentd.TLS.RootCAs = pool
		}
	}
	core, err := cfg.Build()
	if err != nil {
		return Loggers{}, nil, err
	}
	closeFn := func() {
		core.Close()
		if f.Stats {
			s := core.Stats()
			fmt.Fprintf(stderr, "log driver %s: total %d, passed %d, bytes %d, dropped %d (queue full %d, format failed %d, peer unreachable %d, too large %d, closed %d)\n",
				cfg.Driver, s.Total, s.Passed, s.Bytes, s.Dropped(), s.DropQueueFull, s.DropFormatFailed, s.DropPeerUnreachable, s.DropTooLarge, s.DropClosed)
		}
	}
	base := zap.New(core)
	return Loggers{
		Task:    base.With(tasklog.LoggerFields(daemonName)...),
		Escape:  base.With(tasklog.EscapeLoggerFields(daemonName)...),
		Resolve: base.With(tasklog.ResolveLoggerFields(daemonName)...),
	}, closeFn, nil
}

// NewLogger returns a synchronous task logger writing tasklog's JSON
// lines on w, with g3's logger keys: what the tests use.
func NewLogger(w io.Writer, daemonName string) *zap.Logger {
	core := zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.Lock(zapcore.AddSync(w)), zap.InfoLevel)
	return zap.New(core).With(tasklog.LoggerFields(daemonName)...)
}

// ParseFlags parses args with fs and rejects what fs alone lets through:
// arguments after the flags, and negative durations among nonNegative.
// -h returns flag.ErrHelp, which Main turns into exit status 0.
func ParseFlags(fs *flag.FlagSet, args []string, nonNegative ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (all options are flags; see -h)", fs.Args())
	}
	for _, name := range nonNegative {
		if f := fs.Lookup(name); f != nil {
			if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && d < 0 {
				return fmt.Errorf("-%s must not be negative, got %v", name, d)
			}
		}
	}
	return nil
}

// Main runs an example program's run function with the process's
// arguments and standard streams until SIGINT or SIGTERM, and exits with
// status 1 and the error on failure.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A log reader that went away (| head) must not kill the proxy: with
	// SIGPIPE ignored, a write to the closed pipe fails with EPIPE, which
	// the log driver counts as a drop.
	signal.Ignore(syscall.SIGPIPE)
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stop()
			os.Exit(0) // -h: the usage went to stderr
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}

// DNSFlag is the example programs' -dns flag: a DNS server that resolves
// upstream names with tasklog's resolver, writing Resolve records.
type DNSFlag struct{ addr string }

// AddDNSFlag registers -dns on fs.
func AddDNSFlag(fs *flag.FlagSet) *DNSFlag {
	f := &DNSFlag{}
	fs.StringVar(&f.addr, "dns", "", "IP:PORT of a DNS server to resolve upstream names with (UDP, TCP on truncation), writing g3's Resolve records (default: the system's resolver)")
	return f
}

// Resolver returns the resolver -dns asks for, writing its Resolve
// records to logger, or nil (the system's) when -dns is unset.
func (f *DNSFlag) Resolver(logger *zap.Logger) (tasklog.Resolver, error) {
	if f.addr == "" {
		return nil, nil
	}
	ap, err := netip.ParseAddrPort(f.addr)
	if err != nil {
		return nil, fmt.Errorf("-dns %q: want IP:PORT: %w", f.addr, err)
	}
	return &resolver.Resolver{Name: "default", Servers: []netip.AddrPort{ap}, Logger: logger}, nil
}
