package driver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/nettest"
)

// The fault suite: every driver against receivers on loopback that are
// absent, pause, vanish, reset, never read or never answer, and against
// oversized records. Each row logs records, heals the fault where it can,
// measures how long delivery takes to recover, closes the driver and
// checks the promise of package driver: when Close returns, within
// CloseTimeout plus slack, Total == Passed + every Dropped cause, the
// receiver got what was counted as passed (where the transport can tell),
// and no goroutine is left behind. go test -run TestFaults -v prints the
// table the README shows.

// faultRow is one scenario's figures.
type faultRow struct {
	name      string
	logged    uint64
	st        Stats
	received  int64
	recovered time.Duration // from the fault's end to the first record through; 0: no recovery to measure
	closeTook time.Duration
	gBefore   int
	gAfter    int
}

// closeTimeout is the CloseTimeout of every row: Close must return within
// it plus closeSlack.
const (
	faultCloseTimeout = 500 * time.Millisecond
	closeSlack        = time.Second
)

// faultRecord is a finished TcpConnect of about 600 bytes in every format.
func faultRecord() *tasklog.TaskLog { return record() }

// bigRecord is a 1 MiB record: larger than any datagram.
func bigRecord() *tasklog.TaskLog {
	rec := hostileRecord()
	rec.Detail.(*tasklog.HTTPForward).UserAgent = strings.Repeat("A", 1<<20)
	return rec
}

// faultLogger logs through core with g3's logger keys.
type faultLogger struct {
	core   *Core
	zl     *zap.Logger
	logged uint64
}

func newFaultLogger(core *Core) *faultLogger {
	return &faultLogger{core: core, zl: zap.New(core).With(logFields()...)}
}

func (l *faultLogger) log(n int) {
	for i := 0; i < n; i++ {
		l.zl.Info("closed by client", tasklog.Field(faultRecord()))
		l.logged++
	}
}

// logPaced logs n records in steps of 50, waiting after each step until
// the receiver has them all: a UDP receiver on loopback drops what
// overflows its socket buffer, and the sender cannot tell.
func (l *faultLogger) logPaced(t *testing.T, n int, received func() int64) {
	t.Helper()
	for n > 0 {
		step := min(n, 50)
		want := received() + int64(step)
		l.log(step)
		l.core.Sync()
		waitCount(t, received, want)
		n -= step
	}
}

func (l *faultLogger) logRecord(rec *tasklog.TaskLog) {
	l.zl.Info("closed by client", tasklog.Field(rec))
	l.logged++
}

// probe logs a record every 5 ms until the receiver's count grows, and
// returns how long that took (at most limit).
func (l *faultLogger) probe(t *testing.T, received func() int64, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	base := received()
	for received() == base {
		if time.Since(start) > limit {
			t.Errorf("no record got through within %v of the fault's end", limit)
			return time.Since(start)
		}
		l.log(1)
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// waitCount waits until received() reaches n, for at most 5s.
func waitCount(t *testing.T, received func() int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for received() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := received(); got < n {
		t.Errorf("the receiver got %d records, want %d", got, n)
	}
}

// recoverRow is the end of a row whose fault has ended: it probes until
// the receiver takes records again, logs 200 more, waits for every passed
// record to arrive, closes the driver into row and notes what the
// receiver got.
func (l *faultLogger) recoverRow(t *testing.T, row *faultRow, received func() int64) {
	t.Helper()
	row.recovered = l.probe(t, received, 5*time.Second)
	l.log(200)
	l.core.Sync()
	waitCount(t, received, int64(l.core.Stats().Passed))
	l.closeRow(t, row)
	row.received = received()
}

// closeRow closes the driver and fills in the row's figures.
func (l *faultLogger) closeRow(t *testing.T, row *faultRow) {
	t.Helper()
	start := time.Now()
	_ = l.core.Close()
	row.closeTook = time.Since(start)
	row.st = l.core.Stats()
	row.logged = l.logged
}

// goroutines waits up to 5s for the count to fall to at most want.
func goroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// checkRow checks what every row must satisfy.
func checkRow(t *testing.T, row faultRow) {
	t.Helper()
	s := row.st
	if s.Total != row.logged {
		t.Errorf("Total %d, logged %d", s.Total, row.logged)
	}
	if s.Passed+s.Dropped() != s.Total {
		t.Errorf("when Close returned: passed %d + dropped %d != total %d (%+v)", s.Passed, s.Dropped(), s.Total, s)
	}
	if row.closeTook > faultCloseTimeout+closeSlack {
		t.Errorf("Close took %v, want at most CloseTimeout %v plus %v", row.closeTook, faultCloseTimeout, closeSlack)
	}
	if row.gAfter > row.gBefore {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", row.gBefore, row.gAfter, buf[:runtime.Stack(buf, true)])
	}
}

// dgramReceiver counts the datagrams of a unix or UDP socket; it can stop
// reading for a while.
type dgramReceiver struct {
	c      net.PacketConn
	n      atomic.Int64
	paused atomic.Bool
	done   chan struct{}
}

func newDgramReceiver(c net.PacketConn) *dgramReceiver {
	r := &dgramReceiver{c: c, done: make(chan struct{})}
	if u, ok := c.(interface{ SetReadBuffer(int) error }); ok {
		_ = u.SetReadBuffer(4 << 20) // the kernel caps it at net.core.rmem_max
	}
	go func() {
		defer close(r.done)
		buf := make([]byte, 1<<16)
		for {
			for r.paused.Load() {
				time.Sleep(5 * time.Millisecond)
			}
			if _, _, err := r.c.ReadFrom(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			r.n.Add(1)
		}
	}()
	return r
}

func (r *dgramReceiver) count() int64 { return r.n.Load() }

func (r *dgramReceiver) stop() {
	r.c.Close()
	<-r.done
}

func listenUnixgram(t *testing.T, path string) *dgramReceiver {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	return newDgramReceiver(c)
}

func listenUDP(t *testing.T, addr string) *dgramReceiver {
	t.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newDgramReceiver(c)
}

// forwardReceiver is a fluentd forward server in message mode on
// loopback that counts the entries it decodes. It can stop reading, reset
// its first connection after resetAfter entries, or accept and never read
// nor write (silent: a server that never sends HELO, too).
type forwardReceiver struct {
	l          net.Listener
	n          atomic.Int64
	paused     atomic.Bool
	silent     bool
	resetAfter int64
	resets     atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startForwardReceiver(t *testing.T, addr string, configure func(*forwardReceiver)) *forwardReceiver {
	t.Helper()
	r := &forwardReceiver{conns: map[net.Conn]bool{}}
	if configure != nil {
		configure(r)
	}
	var lc net.ListenConfig
	if r.silent {
		// A small receive window, inherited by accepted connections, so
		// that what the sender's buffers can take is bounded.
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}
	}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.acceptOn(l)
	return r
}

// acceptOn accepts connections on l until stop.
func (r *forwardReceiver) acceptOn(l net.Listener) {
	r.l = l
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			if r.silent {
				continue // held open until stop, never read
			}
			r.wg.Add(1)
			go r.serve(c)
		}
	}()
}

func (r *forwardReceiver) serve(c net.Conn) {
	defer r.wg.Done()
	defer c.Close()
	var buf []byte
	tmp := make([]byte, 64<<10)
	for {
		if r.paused.Load() {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			rd := mpReader{b: buf}
			if rd.skip() != nil {
				break // a partial entry: wait for the rest
			}
			buf = buf[len(buf)-len(rd.b):]
			if got := r.n.Add(1); r.resetAfter > 0 && got == r.resetAfter && r.resets.Add(1) == 1 {
				c.(*net.TCPConn).SetLinger(0)
				return // the deferred Close sends RST
			}
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}

func (r *forwardReceiver) count() int64 { return r.n.Load() }

func (r *forwardReceiver) stop() {
	r.l.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

var faultOpts = Options{CloseTimeout: faultCloseTimeout, ErrorOutput: discardErrors}

func TestFaults(t *testing.T) {
	var mu sync.Mutex
	var rows []faultRow
	run := func(name string, f func(t *testing.T, row *faultRow)) {
		t.Run(name, func(t *testing.T) {
			row := faultRow{name: name, gBefore: runtime.NumGoroutine()}
			f(t, &row)
			row.gAfter = goroutines(row.gBefore)
			checkRow(t, row)
			mu.Lock()
			rows = append(rows, row)
			mu.Unlock()
		})
	}
	const reconnect = 200 * time.Millisecond

	run("syslog unix: receiver absent, then present", func(t *testing.T, row *faultRow) {
		path := filepath.Join(t.TempDir(), "log.sock")
		core, _ := NewSyslog(SyslogConfig{UnixPath: path, ReconnectInterval: reconnect}, faultOpts)
		l := newFaultLogger(core)
		l.log(20)
		core.Sync()
		r := listenUnixgram(t, path)
		l.recoverRow(t, row, r.count)
		r.stop()
		if row.st.DropPeerUnreachable < 20 || row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want the 20 logged while absent dropped, the rest received", row.st, row.received)
		}
	})

	run("syslog udp: receiver absent, then present", func(t *testing.T, row *faultRow) {
		addr := fmt.Sprint("127.0.0.1:", nettest.FreePort(t, "udp"))
		core, _ := NewSyslog(SyslogConfig{UDPAddr: addr, ReconnectInterval: reconnect}, faultOpts)
		l := newFaultLogger(core)
		l.log(20)
		core.Sync()
		lost := core.Stats().Passed // UDP cannot tell: some were sent into the void
		r := listenUDP(t, addr)
		row.recovered = l.probe(t, r.count, 5*time.Second)
		l.logPaced(t, 200, r.count)
		l.closeRow(t, row)
		waitCount(t, r.count, int64(row.st.Passed-lost))
		row.received = r.count()
		r.stop()
		if row.received != int64(row.st.Passed-lost) {
			t.Errorf("stats %+v, received %d: want everything passed after the receiver came up", row.st, row.received)
		}
	})

	run("fluentd: receiver absent, then present", func(t *testing.T, row *faultRow) {
		addr := fmt.Sprint("127.0.0.1:", nettest.FreePort(t, "tcp"))
		core, _ := NewFluentd(FluentdConfig{Address: addr, ConnectDelay: reconnect, RetryQueueLen: 10}, faultOpts)
		l := newFaultLogger(core)
		l.log(20)
		core.Sync()
		r := startForwardReceiver(t, addr, nil)
		l.recoverRow(t, row, r.count)
		r.stop()
		// The retry queue keeps the last 10 records logged while no
		// connection could be had (the probes included) and sends them
		// first; the older ones are dropped.
		if row.st.DropPeerUnreachable < 10 || row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want the records beyond the retry queue dropped, the rest received", row.st, row.received)
		}
	})

	run("syslog unix: receiver paused, then resumed", func(t *testing.T, row *faultRow) {
		path := filepath.Join(t.TempDir(), "log.sock")
		r := listenUnixgram(t, path)
		r.paused.Store(true)
		core, _ := NewSyslog(SyslogConfig{UnixPath: path, ReconnectInterval: reconnect, WriteTimeout: 50 * time.Millisecond}, faultOpts)
		l := newFaultLogger(core)
		l.log(3000)
		time.Sleep(300 * time.Millisecond)
		r.paused.Store(false)
		l.recoverRow(t, row, r.count)
		r.stop()
		if row.st.DropPeerUnreachable == 0 || row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want drops while paused, every passed record received", row.st, row.received)
		}
	})

	run("syslog udp: receiver paused, then resumed", func(t *testing.T, row *faultRow) {
		r := listenUDP(t, "127.0.0.1:0")
		r.paused.Store(true)
		core, _ := NewSyslog(SyslogConfig{UDPAddr: r.c.LocalAddr().String(), ReconnectInterval: reconnect}, faultOpts)
		l := newFaultLogger(core)
		l.log(3000)
		core.Sync()
		time.Sleep(100 * time.Millisecond)
		r.paused.Store(false)
		waitCount(t, r.count, 1) // what the socket buffer held
		time.Sleep(50 * time.Millisecond)
		before, passedBefore := r.count(), core.Stats().Passed
		row.recovered = l.probe(t, r.count, 5*time.Second)
		l.logPaced(t, 200, r.count)
		l.closeRow(t, row)
		waitCount(t, r.count, before+int64(row.st.Passed-passedBefore))
		row.received = r.count()
		r.stop()
		// The kernel drops what a paused UDP receiver's buffer cannot
		// hold, and the sender cannot see it: received < passed.
		if row.received-before != int64(row.st.Passed-passedBefore) {
			t.Errorf("stats %+v, received %d: want every record after the pause received", row.st, row.received)
		}
	})

	run("fluentd: receiver paused, then resumed", func(t *testing.T, row *faultRow) {
		r := startForwardReceiver(t, "127.0.0.1:0", nil)
		r.paused.Store(true)
		core, _ := NewFluentd(FluentdConfig{Address: r.l.Addr().String(), ConnectDelay: reconnect, WriteTimeout: 50 * time.Millisecond}, faultOpts)
		l := newFaultLogger(core)
		l.log(4000)
		time.Sleep(500 * time.Millisecond)
		r.paused.Store(false)
		l.recoverRow(t, row, r.count)
		r.stop()
		if row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want every passed record received", row.st, row.received)
		}
	})

	run("syslog unix: socket file deleted and recreated", func(t *testing.T, row *faultRow) {
		path := filepath.Join(t.TempDir(), "log.sock")
		r1 := listenUnixgram(t, path)
		core, _ := NewSyslog(SyslogConfig{UnixPath: path, ReconnectInterval: reconnect}, faultOpts)
		l := newFaultLogger(core)
		l.log(50)
		core.Sync()
		waitCount(t, r1.count, 50)
		os.Remove(path)
		r1.stop()
		l.log(10)
		core.Sync()
		r2 := listenUnixgram(t, path)
		row.recovered = l.probe(t, r2.count, 5*time.Second)
		l.log(200)
		core.Sync()
		waitCount(t, func() int64 { return r1.count() + r2.count() }, int64(core.Stats().Passed))
		l.closeRow(t, row)
		row.received = r1.count() + r2.count()
		r2.stop()
		if row.received != int64(row.st.Passed) || row.st.DropPeerUnreachable < 10 {
			t.Errorf("stats %+v, received %d", row.st, row.received)
		}
	})

	run("fluentd: TCP reset mid-stream", func(t *testing.T, row *faultRow) {
		r := startForwardReceiver(t, "127.0.0.1:0", func(r *forwardReceiver) { r.resetAfter = 50 })
		core, _ := NewFluentd(FluentdConfig{Address: r.l.Addr().String(), ConnectDelay: reconnect}, faultOpts)
		l := newFaultLogger(core)
		l.log(50)
		core.Sync()
		waitCount(t, r.count, 50)
		time.Sleep(50 * time.Millisecond) // the reset arrives
		start := time.Now()
		l.log(200)
		core.Sync()
		waitCount(t, r.count, int64(core.Stats().Passed))
		row.recovered = time.Since(start)
		l.closeRow(t, row)
		row.received = r.count()
		r.stop()
		if r.resets.Load() != 1 || row.received != int64(row.st.Passed) || row.st.Dropped() != 0 {
			t.Errorf("stats %+v, received %d, resets %d: want every record through a new connection", row.st, row.received, r.resets.Load())
		}
	})

	run("fluentd: receiver accepts and never reads", func(t *testing.T, row *faultRow) {
		r := startForwardReceiver(t, "127.0.0.1:0", func(r *forwardReceiver) { r.silent = true })
		core, _ := NewFluentd(FluentdConfig{Address: r.l.Addr().String(), ConnectDelay: reconnect, WriteTimeout: 100 * time.Millisecond}, faultOpts)
		l := newFaultLogger(core)
		l.log(40000) // 25 MB: more than the sender's socket buffer takes
		time.Sleep(300 * time.Millisecond)
		l.closeRow(t, row)
		r.stop()
		if row.st.Passed == 0 || row.st.Passed == row.logged || row.st.DropQueueFull+row.st.DropPeerUnreachable == 0 {
			t.Errorf("stats %+v: want the socket buffers filled, then writes timed out and the queue full", row.st)
		}
	})

	run("fluentd: connect that hangs", func(t *testing.T, row *faultRow) {
		addr, stop := nettest.HangingListener(t)
		core, _ := NewFluentd(FluentdConfig{Address: addr, ConnectTimeout: time.Minute}, faultOpts)
		l := newFaultLogger(core)
		l.log(300)
		time.Sleep(100 * time.Millisecond)
		l.closeRow(t, row)
		stop()
		if row.st.DropClosed != 300 {
			t.Errorf("stats %+v: want all 300 counted as closed", row.st)
		}
	})

	run("fluentd: TLS server that never answers the handshake", func(t *testing.T, row *faultRow) {
		r := startForwardReceiver(t, "127.0.0.1:0", func(r *forwardReceiver) { r.silent = true })
		core, _ := NewFluentd(FluentdConfig{Address: r.l.Addr().String(), TLS: &tls.Config{ServerName: "localhost"}, ConnectTimeout: time.Minute}, faultOpts)
		l := newFaultLogger(core)
		l.log(300)
		time.Sleep(100 * time.Millisecond)
		l.closeRow(t, row)
		r.stop()
		if row.st.DropClosed != 300 {
			t.Errorf("stats %+v: want all 300 counted as closed", row.st)
		}
	})

	run("fluentd: server that never sends HELO", func(t *testing.T, row *faultRow) {
		r := startForwardReceiver(t, "127.0.0.1:0", func(r *forwardReceiver) { r.silent = true })
		core, _ := NewFluentd(FluentdConfig{Address: r.l.Addr().String(), SharedKey: "k", ConnectTimeout: time.Minute}, faultOpts)
		l := newFaultLogger(core)
		l.log(300)
		time.Sleep(100 * time.Millisecond)
		l.closeRow(t, row)
		r.stop()
		if row.st.DropClosed != 300 {
			t.Errorf("stats %+v: want all 300 counted as closed", row.st)
		}
	})

	for _, transport := range []string{"unix", "udp"} {
		run("syslog "+transport+": one 1 MiB record, then 200", func(t *testing.T, row *faultRow) {
			var r *dgramReceiver
			cfg := SyslogConfig{ReconnectInterval: 4 * time.Second}
			if transport == "unix" {
				cfg.UnixPath = filepath.Join(t.TempDir(), "log.sock")
				r = listenUnixgram(t, cfg.UnixPath)
			} else {
				r = listenUDP(t, "127.0.0.1:0")
				cfg.UDPAddr = r.c.LocalAddr().String()
			}
			core, _ := NewSyslog(cfg, faultOpts)
			l := newFaultLogger(core)
			l.logRecord(bigRecord())
			l.logPaced(t, 200, r.count)
			l.closeRow(t, row)
			row.received = r.count()
			r.stop()
			if row.received != 200 || row.st.DropTooLarge != 1 || row.st.Passed != 200 {
				t.Errorf("stats %+v, received %d: want the big record dropped as too large and all 200 received", row.st, row.received)
			}
		})
	}

	run("journal: socket absent, then present", func(t *testing.T, row *faultRow) {
		path := filepath.Join(t.TempDir(), "journal.sock")
		core := NewJournal(JournalConfig{Path: path}, faultOpts)
		l := newFaultLogger(core)
		l.log(20)
		core.Sync()
		r := listenUnixgram(t, path)
		l.recoverRow(t, row, r.count)
		r.stop()
		if row.st.DropPeerUnreachable < 20 || row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want the 20 logged while absent dropped, the rest received", row.st, row.received)
		}
	})

	run("journal: reader stopped", func(t *testing.T, row *faultRow) {
		path := filepath.Join(t.TempDir(), "journal.sock")
		r := listenUnixgram(t, path)
		r.paused.Store(true)
		core := NewJournal(JournalConfig{Path: path, WriteTimeout: 50 * time.Millisecond}, faultOpts)
		l := newFaultLogger(core)
		l.log(3000)
		time.Sleep(300 * time.Millisecond)
		r.paused.Store(false)
		l.recoverRow(t, row, r.count)
		r.stop()
		if row.st.DropPeerUnreachable == 0 || row.received != int64(row.st.Passed) {
			t.Errorf("stats %+v, received %d: want drops while stopped, every passed record received", row.st, row.received)
		}
	})

	run("stdout: pipe nobody reads, at Close", func(t *testing.T, row *faultRow) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		defer pw.Close()
		core := NewStdout(pw, faultOpts)
		l := newFaultLogger(core)
		l.log(3000)
		time.Sleep(100 * time.Millisecond)
		l.closeRow(t, row)
		// Now read the pipe: at most the one write blocked in the kernel
		// when Close gave up (a batch of at most maxBatch records) reaches
		// it beyond what was counted.
		pw.Close()
		data, _ := io.ReadAll(pr)
		row.received = int64(strings.Count(string(data), "\n"))
		if row.st.DropClosed == 0 || row.received < int64(row.st.Passed) || row.received > int64(row.st.Passed)+maxBatch {
			t.Errorf("stats %+v, the reader got %d lines: want passed, and at most one batch more", row.st, row.received)
		}
	})

	t.Logf("\n%s", faultTable(rows))
}

// faultTable renders the rows as the README's Markdown table.
func faultTable(rows []faultRow) string {
	var b strings.Builder
	b.WriteString("| scenario | logged | passed | dropped (cause) | received | recovered in | Close | goroutines before/after |\n")
	b.WriteString("|---|---:|---:|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		var causes []string
		for _, c := range []struct {
			n    uint64
			name string
		}{{r.st.DropQueueFull, "queue full"}, {r.st.DropPeerUnreachable, "peer unreachable"},
			{r.st.DropTooLarge, "too large"}, {r.st.DropClosed, "closed"}, {r.st.DropFormatFailed, "format"}} {
			if c.n > 0 {
				causes = append(causes, fmt.Sprintf("%d %s", c.n, c.name))
			}
		}
		if len(causes) == 0 {
			causes = []string{"0"}
		}
		rec := "-"
		if r.recovered > 0 {
			rec = ms(r.recovered)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %d | %s | %s | %d/%d |\n", r.name, r.logged, r.st.Passed,
			strings.Join(causes, ", "), r.received, rec, ms(r.closeTook), r.gBefore, r.gAfter)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
