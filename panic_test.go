package tasklog

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// panicCore panics on Write while armed; otherwise it passes entries on.
type panicCore struct {
	zapcore.Core
	armed *atomic.Bool
}

func (c panicCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c panicCore) With(f []zapcore.Field) zapcore.Core { return panicCore{c.Core.With(f), c.armed} }
func (c panicCore) Write(e zapcore.Entry, f []zapcore.Field) error {
	if c.armed.Load() {
		panic("sink exploded")
	}
	return c.Core.Write(e, f)
}

// mustPanic runs fn and returns what it panicked with, failing if it did not.
func mustPanic(t *testing.T, what string, fn func()) (v any) {
	t.Helper()
	defer func() {
		v = recover()
		if v == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	fn()
	return nil
}

// finishesWithin fails unless fn returns within a few seconds: a lock left
// held by a panic would make it hang.
func finishesWithin(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hung: a lock was left held", what)
	}
}

// A panic in a user callback reaches the caller unchanged, leaves no lock
// held, and the task still finishes exactly once.
func TestPanicInUpdateLeavesTaskUsable(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithPeriodic(MinPeriodic))
	task := srv.NewTask(time.Time{}, "", tcpDetail())
	v := mustPanic(t, "Update", func() {
		task.Update(func(r *TaskLog) { _ = r.Detail.(*HTTPForward) }) // the wrong type
	})
	if _, ok := v.(*runtime.TypeAssertionError); !ok {
		t.Errorf("panic value %T %v, want the type assertion's own", v, v)
	}
	finishesWithin(t, "the setters after a panic", func() {
		task.SetStage(StageRelaying)
		task.SetEscaper("direct")
		task.Connected()
		task.Relaying()
		task.ClientShutdown()
	})
	var won bool
	finishesWithin(t, "Finish after a panic", func() { won = task.Finish(ReasonFinished, nil) })
	if !won || task.Finish(ReasonFinished, nil) {
		t.Errorf("Finish did not finish exactly once")
	}
	finishesWithin(t, "FinishAll", func() { srv.FinishAll(ReasonCanceledAsServerQuit, nil) })
	n := 0
	for _, e := range logs.All() {
		if e.ContextMap()["task_event"] == "Finished" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d finished records, want 1", n)
	}
	if srv.OpenTasks() != 0 {
		t.Errorf("%d open tasks after Finish", srv.OpenTasks())
	}
}

// A panic in the logger (a user's core) during any record reaches the
// caller, and the task and server stay usable: the finished task leaves the
// open set, others still finish, shutdown does not hang.
func TestPanicInLoggerLeavesTaskUsable(t *testing.T) {
	inner, logs := observer.New(zapcore.InfoLevel)
	var armed atomic.Bool
	logger := zap.New(panicCore{inner, &armed})
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithConnectedRecords(), WithCreatedRecords())

	for _, step := range []struct {
		name string
		run  func(*Task)
	}{
		{"Connected", func(t *Task) { t.Connected() }},
		{"ClientShutdown", func(t *Task) { t.ClientShutdown() }},
		{"UpstreamShutdown", func(t *Task) { t.UpstreamShutdown() }},
		{"Finish", func(t *Task) { t.Finish(ReasonFinished, nil) }},
	} {
		task := srv.NewTask(time.Time{}, "", tcpDetail())
		armed.Store(true)
		v := mustPanic(t, step.name, func() { step.run(task) })
		armed.Store(false)
		if v != "sink exploded" {
			t.Errorf("%s: panic value %v, want the core's own", step.name, v)
		}
		finishesWithin(t, step.name+" then Finish", func() { task.Finish(ReasonFinished, nil) })
	}
	armed.Store(true)
	mustPanic(t, "NewTask with a Created record", func() { srv.NewTask(time.Time{}, "", tcpDetail()) })
	armed.Store(false)
	finishesWithin(t, "FinishAll", func() { srv.FinishAll(ReasonCanceledAsServerQuit, nil) })
	if srv.OpenTasks() != 0 {
		t.Errorf("%d open tasks after FinishAll", srv.OpenTasks())
	}
	if logs.Len() == 0 {
		t.Errorf("nothing was logged once the core was disarmed")
	}
}

// A panicking log filter panics NewTask before the task exists: nothing is
// left open.
func TestPanicInLogFilter(t *testing.T) {
	srv := NewServer(ServerTypeHTTPProxy, "http", nil, WithLogFilter(func(*TaskLog) bool { panic("filter") }))
	if v := mustPanic(t, "NewTask", func() { srv.NewTask(time.Time{}, "", tcpDetail()) }); v != "filter" {
		t.Errorf("panic value %v", v)
	}
	if srv.OpenTasks() != 0 {
		t.Errorf("%d open tasks", srv.OpenTasks())
	}
}

func TestRelayOnFinishedTask(t *testing.T) {
	a, b := tcpPair(t)
	task := NewServer(ServerTypeHTTPProxy, "h", nil).NewTask(time.Time{}, "", tcpDetail())
	task.Finish(ReasonFinished, nil)
	if _, err := task.Relay(a, b, 0); !errors.Is(err, ErrTaskFinished) {
		t.Errorf("Relay on a finished task = %v, want ErrTaskFinished", err)
	}
}

// Counters set in the Detail given to NewTask are starting values.
func TestNewTaskSeedsCounters(t *testing.T) {
	logger, logs := observed()
	d := tcpDetail()
	d.ClientReadBytes, d.RemoteWriteBytes = 100, 7
	task := NewServer(ServerTypeHTTPProxy, "h", logger).NewTask(time.Time{}, "", d)
	task.Counters.ClientReadBytes.Add(5)
	task.Finish(ReasonFinished, nil)
	m := recordOf(t, logs.All()[0])
	if m["c_rd_bytes"] != uint64(105) || m["r_wr_bytes"] != uint64(7) {
		t.Errorf("c_rd_bytes %v r_wr_bytes %v, want 105 and 7", m["c_rd_bytes"], m["r_wr_bytes"])
	}
}

// A FinishAll racing with NewTask never writes a task's Finished record
// before its Created record.
func TestFinishAllNeverBeforeCreated(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithCreatedRecords())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					srv.FinishAll(ReasonCanceledAsServerQuit, nil)
				}
			}
		}()
	}
	const n = 20000
	var made sync.WaitGroup
	for g := 0; g < 2; g++ {
		made.Add(1)
		go func() {
			defer made.Done()
			for i := 0; i < n/2; i++ {
				srv.NewTask(time.Time{}, "", tcpDetail())
				runtime.Gosched()
			}
		}()
	}
	made.Wait()
	close(stop)
	wg.Wait()
	srv.FinishAll(ReasonCanceledAsServerQuit, nil)
	seen := map[any]string{}
	for _, e := range logs.All() {
		m := e.ContextMap()
		id, ev := m["task_id"], m["task_event"].(string)
		if prev, ok := seen[id]; ev == "Finished" && !ok {
			t.Fatalf("task %v: Finished written before Created", id)
		} else if ev == "Finished" && prev == "Finished" {
			t.Fatalf("task %v: two Finished records", id)
		}
		seen[id] = ev
	}
	if len(seen) != n {
		t.Errorf("%d tasks logged, want %d", len(seen), n)
	}
}
