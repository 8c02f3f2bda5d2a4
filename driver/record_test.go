package driver

import (
	"errors"
	"io"
	"slices"
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

// batchSink holds records until its Outcomes say the queue is idle or it
// has max of them, then "delivers" the batch (fail says whether that
// works) and reports it.
type batchSink struct {
	o    *Outcomes
	max  int
	fail bool

	mu        sync.Mutex
	held      []*Record
	sizes     int
	delivered []*Record
	batches   int
}

func (s *batchSink) Deliver(r *Record, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *r
	c.Fields = slices.Clone(r.Fields) // r is the writer's until Deliver returns
	s.held = append(s.held, &c)
	s.sizes += size
	if len(s.held) >= s.max || s.o.Idle() {
		s.flush()
	}
}

func (s *batchSink) flush() {
	if len(s.held) == 0 {
		return
	}
	s.batches++
	if s.fail {
		s.o.Report(errors.New("no peer"))
		s.o.Drop(len(s.held))
	} else {
		s.delivered = append(s.delivered, s.held...)
		s.o.Pass(len(s.held), s.sizes)
	}
	s.held, s.sizes = nil, 0
}

func (s *batchSink) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Drop(len(s.held))
	s.held = nil
}

func (s *batchSink) Close() {}

// NewRecordCore hands each record to the sink decoded, keys in g3's order
// with g3's types, and keeps the counters balanced.
func TestRecordCore(t *testing.T) {
	noLeak(t)
	var sink *batchSink
	core := NewRecordCore("test", Options{}, func(o *Outcomes) RecordSink {
		sink = &batchSink{o: o, max: 64}
		return sink
	})
	logger := zap.New(core, zap.WithClock(fixedClock{})).With(logFields()...)
	rec := record()
	for range 1000 {
		tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
	}
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	st := core.Stats()
	if st.Total != 1000 || st.Passed != 1000 || st.Dropped() != 0 || st.Bytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(sink.delivered) != 1000 || sink.batches >= 1000 {
		t.Errorf("%d delivered in %d batches", len(sink.delivered), sink.batches)
	}
	r := sink.delivered[0]
	if !r.Time.Equal(testTime) || r.Level != zap.InfoLevel || r.Message != "closed by client" {
		t.Errorf("record %v %v %q", r.Time, r.Level, r.Message)
	}
	// g3's order (the fluentd driver's): the logger's keys last to first,
	// then the record's last to first; unset ones as FieldNone.
	var keys []string
	got := map[string]RecordField{}
	for _, f := range r.Fields {
		keys = append(keys, f.Key)
		got[f.Key] = f
	}
	if !strings.HasPrefix(strings.Join(keys, " "), "pid log_type daemon_name server_name server_type") &&
		!strings.HasPrefix(strings.Join(keys, " "), "server_name server_type pid log_type daemon_name") {
		t.Errorf("keys not in g3's order: %v", keys)
	}
	for _, c := range []struct {
		key  string
		kind FieldKind
		want string
	}{
		{"pid", FieldUint, "4242"}, {"c_rd_bytes", FieldUint, "517"}, {"user", FieldString, `al"ice`},
		{"total_time", FieldString, "2.346s"}, {"wait_time", FieldNone, ""}, {"task_id", FieldString, "5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"},
	} {
		f, ok := got[c.key]
		var v string
		switch f.Kind {
		case FieldUint:
			v = strconv.FormatUint(f.Uint(), 10)
		case FieldString:
			v = f.Str
		}
		if !ok || f.Kind != c.kind || v != c.want {
			t.Errorf("%s: %+v, want kind %d value %q", c.key, f, c.kind, c.want)
		}
	}
	if f := got["pid"]; f.Width != 32 {
		t.Errorf("pid width %d, want g3's u32", f.Width)
	}
}

// A sink whose deliveries fail counts every record as dropped; one that
// still holds records at Close drops them in Drain; a sink stuck past
// CloseTimeout leaves them counted as DropClosed.
func TestRecordCoreDropsAndCounts(t *testing.T) {
	noLeak(t)
	core := NewRecordCore("test", Options{ErrorOutput: zapcore.AddSync(io.Discard)}, func(o *Outcomes) RecordSink {
		return &batchSink{o: o, max: 8, fail: true}
	})
	logger := zap.New(core).With(logFields()...)
	for range 100 {
		tasklog.Log(logger, zap.InfoLevel, "m", record())
	}
	core.Close()
	if st := core.Stats(); st.Total != 100 || st.DropPeerUnreachable != 100 || st.Passed != 0 {
		t.Errorf("failing sink: %+v", st)
	}

	stuck := make(chan struct{})
	core = NewRecordCore("test", Options{CloseTimeout: 200 * time.Millisecond}, func(o *Outcomes) RecordSink {
		return &stuckSink{o: o, release: stuck}
	})
	logger = zap.New(core).With(logFields()...)
	for range 10 {
		tasklog.Log(logger, zap.InfoLevel, "m", record())
	}
	start := time.Now()
	if err := core.Close(); !errors.Is(err, ErrTimeout) {
		t.Errorf("Close: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond+closeGrace+100*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	close(stuck)
	if st := core.Stats(); st.Total != 10 || st.DropClosed != 10 || st.Total != st.Passed+st.Dropped() {
		t.Errorf("stuck sink: %+v", st)
	}
}

type stuckSink struct {
	o       *Outcomes
	release chan struct{}
}

func (s *stuckSink) Deliver(r *Record, size int) {
	<-s.release
	s.o.Pass(1, size) // too late: counted as closed already
}
func (s *stuckSink) Drain() {}
func (s *stuckSink) Close() {}

// The caller's side costs no allocation once warm. The writer, which
// decodes (and allocates), is held during the measurement, as
// AllocsPerRun counts every goroutine's allocations.
func TestRecordCoreAllocatesNothingOnceWarm(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	hold := make(chan struct{})
	const size = 16
	gate := &gateSink{hold: hold}
	core := NewRecordCore("test", Options{QueueSize: size}, func(o *Outcomes) RecordSink {
		gate.o = o
		return gate
	})
	logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
	rec := record()
	for range 4 * size { // warm the pools, delivered
		tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
	}
	if err := core.Sync(); err != nil {
		t.Fatal(err)
	}
	gate.held.Store(true)
	tasklog.Log(logger, zap.InfoLevel, "closed by client", rec) // the writer takes it and waits
	for range size + 8 {                                        // and the queue fills
		tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
	}
	allocs := testing.AllocsPerRun(200, func() { tasklog.Log(logger, zap.InfoLevel, "closed by client", rec) })
	close(hold)
	core.Close()
	if allocs != 0 {
		t.Errorf("%v allocations per record on the caller once warm, want 0", allocs)
	}
	if st := core.Stats(); st.DropQueueFull == 0 || st.Total != st.Passed+st.Dropped() {
		t.Errorf("stats %+v", st)
	}
}

type gateSink struct {
	o    *Outcomes
	held atomic.Bool
	hold chan struct{}
}

func (s *gateSink) Deliver(r *Record, size int) {
	if s.held.Load() {
		<-s.hold
	}
	s.o.Pass(1, size)
}
func (s *gateSink) Drain() {}
func (s *gateSink) Close() {}
