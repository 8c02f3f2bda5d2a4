package driver

import (
	"bytes"
	"errors"
	"expvar"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

// countingObject counts how often it is marshalled.
type countingObject struct{ n *atomic.Int64 }

func (o countingObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	o.n.Add(1)
	enc.AddString("k", "v")
	return nil
}

// A record that finds the queue full is dropped before it is formatted
// (its fields are never read), and counted as queue full; once the Core
// is closed, as closed.
func TestFullQueueDropsBeforeFormatting(t *testing.T) {
	w := &heldWriter{gate: make(chan struct{}), entered: make(chan struct{})}
	core := NewJSON(w, Options{QueueSize: 4, CloseTimeout: 100 * time.Millisecond, ErrorOutput: discardErrors})
	logger := zap.New(core)
	var n atomic.Int64
	obj := zap.Object("o", countingObject{&n})
	logger.Info("first", obj)
	<-w.entered // the writer holds the first record
	for len(core.q.ch) < cap(core.q.ch) {
		logger.Info("fill", obj)
	}
	formatted := n.Load()
	for i := 0; i < 10; i++ {
		logger.Info("dropped", obj)
	}
	if got := n.Load(); got != formatted {
		t.Errorf("the full queue's records were marshalled %d times", got-formatted)
	}
	st := core.Stats()
	if st.DropQueueFull != 10 || st.Total != uint64(formatted)+10 {
		t.Errorf("stats %+v: want 10 dropped as queue full of %d", st, formatted+10)
	}
	close(w.gate)
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	logger.Info("after close", obj)
	st = core.Stats()
	if st.DropClosed != 1 || st.Total != st.Passed+st.Dropped() || st.Passed != uint64(formatted) {
		t.Errorf("stats after close %+v", st)
	}
}

// A stuck sink never blocks the logger: the queue fills, the newest
// records are dropped and counted, and after the sink frees up every
// queued record is delivered.
func TestStuckSinkDropsAndCounts(t *testing.T) {
	noLeak(t)
	w := &blockingWriter{release: make(chan struct{})}
	core := NewJSON(w, Options{QueueSize: 8})
	logger := zap.New(core)
	start := time.Now()
	for i := 0; i < 100; i++ {
		logger.Info("m", tasklog.Field(record()))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 records against a stuck sink took %v", d)
	}
	s := core.Stats()
	// 8 records wait in the queue, and a batch may be in the writer's
	// hands (the first record it took and those that waited then); the
	// rest are dropped.
	if s.Total != 100 || s.DropQueueFull == 0 || s.DropQueueFull > 100-8 {
		t.Errorf("stats %+v, want the queue full and the rest dropped as queue full", s)
	}
	close(w.release)
	if err := core.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	s = core.Stats()
	if s.Passed+s.Dropped() != s.Total || s.Passed != 100-s.DropQueueFull {
		t.Errorf("stats %+v: passed + dropped != total", s)
	}
	if lines := strings.Count(w.buf.String(), "\n"); uint64(lines) != s.Passed {
		t.Errorf("%d lines written, %d counted as passed", lines, s.Passed)
	}
}

// Sync waits for what was queued before it, for at most SyncTimeout.
// Close with a stuck sink returns within CloseTimeout (not twice it),
// counts everything it could not deliver as DropClosed, so the counters
// balance when it returns, and nothing is written afterwards but the one
// write that was already blocked (a batch: the records that waited when the
// writer took the first).
func TestSyncAndCloseAreBounded(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	const closeTimeout = 300 * time.Millisecond
	core := NewJSON(w, Options{SyncTimeout: 100 * time.Millisecond, CloseTimeout: closeTimeout})
	logger := zap.New(core)
	for i := 0; i < 10; i++ {
		logger.Info("queued")
	}
	start := time.Now()
	if err := core.Sync(); !errors.Is(err, ErrTimeout) {
		t.Errorf("Sync with a stuck sink = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("Sync took %v, want about 100ms", d)
	}
	start = time.Now()
	err := core.Close()
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("Close with a stuck sink = %v, want ErrTimeout", err)
	}
	if took < closeTimeout || took > closeTimeout+time.Second {
		t.Errorf("Close took %v, want CloseTimeout (%v) plus slack", took, closeTimeout)
	}
	s := core.Stats()
	if s.Total != 10 || s.Passed != 0 || s.DropClosed != 10 || s.Passed+s.Dropped() != s.Total {
		t.Errorf("stats when Close returned %+v, want all 10 counted as closed", s)
	}
	logger.Info("after close")
	close(w.release) // the blocked write completes; nothing else may follow
	time.Sleep(100 * time.Millisecond)
	s = core.Stats()
	if s.Total != 11 || s.DropClosed != 11 || s.Passed != 0 {
		t.Errorf("stats after the writer was released %+v: a late outcome was counted", s)
	}
	w.mu.Lock()
	writes, lines := w.writes, strings.Count(w.buf.String(), "\n")
	w.mu.Unlock()
	if writes > 1 || lines > 10 {
		t.Errorf("%d writes (%d records) after Close returned, want at most the one already blocked", writes, lines)
	}
}

// The counters are published through expvar.
func TestPublish(t *testing.T) {
	core := NewDiscard(Options{})
	defer core.Close()
	core.Publish("tasklog_driver_test")
	zap.New(core).Info("x")
	core.Sync()
	v := expvar.Get("tasklog_driver_test").String()
	if !strings.Contains(v, `"total":1`) || !strings.Contains(v, `"passed":1`) {
		t.Errorf("expvar = %s", v)
	}
}

// IO errors are reported the 1st time and then every 2^n-th time, never
// once per record.
func TestErrorSampling(t *testing.T) {
	var out bytes.Buffer
	core, err := NewSyslog(SyslogConfig{UnixPath: "/nonexistent/tasklog.sock", ReconnectInterval: time.Nanosecond},
		Options{ErrorOutput: zapcore.AddSync(&out), ErrorSampling: 2})
	if err != nil {
		t.Fatal(err)
	}
	logger := zap.New(core)
	for i := 0; i < 9; i++ {
		logger.Info("x")
		core.Sync()
	}
	core.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// Errors 1, 4 and 8 of 9 are reported.
	if len(lines) != 3 || !strings.Contains(lines[0], "(1 IO errors so far)") || !strings.Contains(lines[2], "(8 IO errors so far)") {
		t.Errorf("reported:\n%s", out.String())
	}
	if s := core.Stats(); s.DropPeerUnreachable != 9 {
		t.Errorf("stats %+v", s)
	}
}

func TestWithAddsContext(t *testing.T) {
	var buf bytes.Buffer
	core := NewJSON(&buf, Options{})
	zap.New(core, zap.WithClock(fixedClock{})).With(zap.String("daemon_name", "d")).Info("m", zap.Int("n", 1))
	core.Close()
	if got := buf.String(); got != `{"daemon_name":"d","n":1,"report_ts":1795516204,"msg":"m"}`+"\n" {
		t.Errorf("line %s", got)
	}
}

// One Core stuck in its io.Writer never delays another Core: each has
// its own writers and its own lock.
func TestWriterDriversAreIndependent(t *testing.T) {
	stuck := &blockingWriter{release: make(chan struct{})}
	stuckCore := NewJSON(stuck, Options{CloseTimeout: 100 * time.Millisecond})
	defer stuckCore.Close()
	defer close(stuck.release)
	zap.New(stuckCore).Info("stuck")
	time.Sleep(10 * time.Millisecond) // its writer is now blocked in Write

	var healthy lockedBuf
	core := NewStdout(&healthy, Options{SyncTimeout: 2 * time.Second})
	logger := zap.New(core)
	for i := 0; i < 100; i++ {
		logger.Info("m", tasklog.Field(record()))
	}
	if err := core.Sync(); err != nil {
		t.Fatalf("Sync of the healthy driver: %v", err)
	}
	core.Close()
	if s := core.Stats(); s.Passed != 100 {
		t.Errorf("the healthy driver passed %d of 100 while another was stuck: %+v", s.Passed, s)
	}
	if n := strings.Count(healthy.String(), "\n"); n != 100 {
		t.Errorf("the healthy writer got %d lines, want 100", n)
	}
}

// A record must not change once Write has returned, whatever the caller
// then does to a byte slice it reuses; context fields are taken when With
// is called (as zap's encoders do). Records wait in the queue behind a
// stuck sink while the caller overwrites them.
func TestQueuedRecordsKeepTheCallersValues(t *testing.T) {
	noLeak(t)
	w := &blockingWriter{release: make(chan struct{})}
	core := NewStdout(w, Options{})
	ctx := []byte("ctx-before")
	logger := zap.New(core).With(zap.ByteString("ctx", ctx))
	copy(ctx, "ctx-AFTER!")
	buf := []byte("first-value")
	logger.Info("one", zap.ByteString("v", buf)) // the writer takes it and blocks
	for i := 0; i < 3; i++ {
		copy(buf, []byte(strings.Repeat(string(rune('a'+i)), len(buf))))
		logger.Info("next", zap.ByteString("v", buf))
	}
	copy(buf, "OVERWRITTEN")
	close(w.release)
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	got := w.buf.String()
	for _, want := range []string{"v: first-value,", "v: aaaaaaaaaaa,", "v: bbbbbbbbbbb,", "v: ccccccccccc,"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "OVERWRITTEN") || strings.Contains(got, "AFTER") || strings.Count(got, "ctx: ctx-before,") != 4 {
		t.Errorf("a record shows a value changed after Write returned, or lacks the context taken at With:\n%s", got)
	}
}

// gateWriter blocks every Write until open is closed, then discards.
type gateWriter struct{ open chan struct{} }

func (w gateWriter) Write(p []byte) (int, error) { <-w.open; return len(p), nil }

// Once its queue has been full, a driver has as many records as can ever
// be in flight, and logging allocates nothing, on the logging goroutine or
// the writer.
func TestWriteAllocatesNothingOnceWarm(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	for _, tc := range []struct {
		name string
		new  func(io.Writer, Options) *Core
	}{
		{"stdout", NewStdout},
		{"json", NewJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeak(t)
			w := gateWriter{open: make(chan struct{})}
			const size = 16
			core := tc.new(w, Options{QueueSize: size})
			defer core.Close()
			logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
			rec := record()
			for i := 0; i < size+8; i++ { // fills the queue behind the blocked writer
				tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
			}
			close(w.open)
			if err := core.Sync(); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(200, func() {
				tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
			})
			if err := core.Sync(); err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("%v allocations per record once warm, want 0", allocs)
			}
			if st := core.Stats(); st.DropQueueFull == 0 || st.Passed == 0 {
				t.Errorf("stats %+v: want the warm-up to have filled the queue and records delivered", st)
			}
		})
	}
}

// heldWriter blocks every write until gate is closed, and tells when
// the first is waiting.
type heldWriter struct {
	gate    chan struct{}
	entered chan struct{} // a write is waiting at the gate
	once    sync.Once
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.gate
	return len(p), nil
}

// heldSink is a sink of one record a delivery (as the datagram drivers'
// one-record path) whose first delivery waits at gate.
type heldSink struct {
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	q       *queue
}

func (s *heldSink) deliver(rec []byte) {
	s.once.Do(func() { close(s.entered) })
	<-s.gate
	s.q.pass(len(rec))
}

func (s *heldSink) close() {}

// While the writers keep up, Write hands records over unformatted (a
// snapshot, or the line), and once more than behindAt wait it formats
// them itself, for a sink that sends a record at a time; either way the
// bytes sent are format's.
func TestWriteFormatsWhenWritersAreBehind(t *testing.T) {
	s := &heldSink{gate: make(chan struct{}), entered: make(chan struct{})}
	core := newCore("held", newStdoutFormatter(), Options{QueueSize: 256, CloseTimeout: 100 * time.Millisecond, ErrorOutput: discardErrors},
		func(q *queue) sink { s.q = q; return s })
	defer close(s.gate)
	defer core.Close()
	logger := zap.New(core)
	logger.Info("first", tasklog.Field(record()))
	<-s.entered // the writer holds the first record, blocked
	q := core.q
	const n = 150
	for i := 0; i < n; i++ {
		logger.Info("m", tasklog.Field(record()), zap.Int("i", i))
	}
	f := core.fmt
	deferred, formatted := 0, 0
	for i := 0; i < n; i++ {
		r := <-q.ch // taken from under the blocked writer
		var got []byte
		if r.deferred() {
			deferred++
			var w renderBuf
			bufs := w.all(q, []*queued{r}, nil)
			if len(bufs) != 1 {
				t.Fatalf("record %d did not render", i)
			}
			got = bufs[0]
		} else {
			formatted++
			got = r.buf
		}
		if !strings.Contains(string(got), "i: "+strconv.Itoa(i)+",") {
			t.Fatalf("record %d: %q", i, got)
		}
		want, _ := f.format(nil, zapcore.Entry{Level: zapcore.InfoLevel, Time: timeOf(t, got), Message: "m"},
			[]zapcore.Field{tasklog.Field(record()), zap.Int("i", i)})
		if string(got) != string(want) {
			t.Fatalf("record %d: sent %q, format wrote %q", i, got, want)
		}
	}
	if want := q.behindAt + 1; deferred != want || formatted != n-want {
		t.Errorf("%d deferred, %d formatted by Write: want %d and %d", deferred, formatted, want, n-want)
	}
}

// A sink that writes many records a call (stdout here, fluentd alike)
// is never helped: Write hands every record over unformatted however
// many wait, and the bytes are still format's.
func TestStreamSinksAreNeverHelped(t *testing.T) {
	w := &heldWriter{gate: make(chan struct{}), entered: make(chan struct{})}
	var out strings.Builder
	core := NewStdout(io.MultiWriter(w, &out), Options{QueueSize: 256, ErrorOutput: discardErrors})
	logger := zap.New(core)
	logger.Info("first", tasklog.Field(record()))
	<-w.entered
	const n = 200 // far past a quarter of the queue
	for i := 0; i < n; i++ {
		logger.Info("m", tasklog.Field(record()), zap.Int("i", i))
	}
	formatted := 0
	for _, r := range queuedRecords(core.q) {
		if !r.deferred() {
			formatted++
		}
	}
	if formatted != 0 {
		t.Errorf("Write formatted %d of %d waiting records for a stream sink", formatted, n)
	}
	close(w.gate)
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines written, want %d", len(lines), n+1)
	}
	for i, line := range lines[1:] {
		want, _ := core.fmt.format(nil, zapcore.Entry{Level: zapcore.InfoLevel, Time: timeOf(t, []byte(line)), Message: "m"},
			[]zapcore.Field{tasklog.Field(record()), zap.Int("i", i)})
		if line+"\n" != string(want) {
			t.Fatalf("record %d: wrote %q, format writes %q", i, line, want)
		}
	}
}

// queuedRecords lists the records waiting in q without taking them.
func queuedRecords(q *queue) []*queued {
	var rs []*queued
	for n := len(q.ch); n > 0; n-- {
		r := <-q.ch
		rs = append(rs, r)
		q.ch <- r
	}
	return rs
}

// timeOf reads back a stdout line's timestamp (this year, local time).
func timeOf(t *testing.T, line []byte) time.Time {
	loc := zone
	if loc == nil {
		loc = time.Local
	}
	ts, err := time.ParseInLocation("Jan 02 15:04:05.000", string(line[:19]), loc)
	if err != nil {
		t.Fatal(err)
	}
	return ts.AddDate(time.Now().In(loc).Year(), 0, 0)
}
