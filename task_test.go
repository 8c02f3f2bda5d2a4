package tasklog

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// observed returns a logger that keeps every entry, and the entries.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.InfoLevel)
	return zap.New(core), logs
}

// recordOf returns the keys an observed entry carries, as the map encoder
// sees them (so the record's own MarshalLogObject produced them).
func recordOf(t *testing.T, e observer.LoggedEntry) map[string]any {
	t.Helper()
	m := e.ContextMap()
	if errText, bad := m[ErrorKey]; bad {
		t.Fatalf("record has an error: %v", errText)
	}
	return m
}

func tcpDetail() *TCPConnect {
	return &TCPConnect{ServerAddr: ap("127.0.0.1:3128"), ClientAddr: ap("127.0.0.1:50000"), Upstream: "example.com:443"}
}

func TestTaskLifecycle(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithCreatedRecords(), WithConnectedRecords())
	task := srv.NewTask(time.Now().Add(-5*time.Millisecond), "alice", tcpDetail())
	task.SetEscaper("direct")
	task.SetStage(StageConnecting)
	task.Update(func(r *TaskLog) { r.Detail.(*TCPConnect).ConnectTries = 1 })
	task.Connected()
	time.Sleep(2 * time.Millisecond)
	task.Relaying()
	task.Counters.ClientReadBytes.Add(10)
	task.Counters.ClientWriteBytes.Add(20)
	task.Counters.RemoteReadBytes.Add(20)
	task.Counters.RemoteWriteBytes.Add(10)
	if !task.Finish(ReasonClosedByClient, nil) {
		t.Fatal("first Finish returned false")
	}
	if task.Finish(ReasonIdle, nil) {
		t.Fatal("second Finish returned true")
	}

	entries := logs.All()
	if len(entries) != 3 {
		t.Fatalf("%d records, want Created, Connected, Finished", len(entries))
	}
	created, connected, finished := recordOf(t, entries[0]), recordOf(t, entries[1]), recordOf(t, entries[2])
	for i, want := range []string{"Created", "Connected", "Finished"} {
		if m := recordOf(t, entries[i]); m["task_event"] != want {
			t.Errorf("record %d task_event = %v, want %s", i, m["task_event"], want)
		}
	}
	if created["stage"] != "Created" || created["user"] != "alice" || created["server_type"] != "HttpProxy" {
		t.Errorf("Created record = %v", created)
	}
	wait, err := ParseDuration(created["wait_time"].(string))
	if err != nil || wait < 5*time.Millisecond || wait > time.Minute {
		t.Errorf("wait_time = %v (%v), want at least 5ms", created["wait_time"], err)
	}
	if _, ok := created["c_rd_bytes"]; ok {
		t.Errorf("Created record carries counters: %v", created)
	}
	if connected["stage"] != "Connected" || connected["escaper"] != "direct" || connected["tcp_connect_tries"] != uint64(1) {
		t.Errorf("Connected record = %v", connected)
	}
	if entries[0].Message != "" || entries[1].Message != "" || entries[2].Message != "closed by client" {
		t.Errorf("messages = %q, %q, %q", entries[0].Message, entries[1].Message, entries[2].Message)
	}
	if finished["reason"] != "ClosedByClient" || finished["stage"] != "Relaying" {
		t.Errorf("Finished record = %v", finished)
	}
	for key, want := range map[string]uint64{"c_rd_bytes": 10, "c_wr_bytes": 20, "r_rd_bytes": 20, "r_wr_bytes": 10} {
		if finished[key] != want {
			t.Errorf("%s = %v, want %d", key, finished[key], want)
		}
	}
	ready, _ := ParseDuration(finished["ready_time"].(string))
	total, _ := ParseDuration(finished["total_time"].(string))
	if ready < 2*time.Millisecond || total < ready {
		t.Errorf("ready_time %v, total_time %v: want 2ms <= ready <= total", ready, total)
	}
	if created["task_id"] != finished["task_id"] || len(finished["task_id"].(string)) != 32 {
		t.Errorf("task ids differ or malformed: %v, %v", created["task_id"], finished["task_id"])
	}
	if srv.OpenTasks() != 0 {
		t.Errorf("OpenTasks() = %d after Finish", srv.OpenTasks())
	}
}

func TestTaskIDsAreTimeOrderedV7(t *testing.T) {
	srv := NewServer(ServerTypeHTTPProxy, "http", nil)
	prev := srv.NewTask(time.Time{}, "", tcpDetail())
	for i := 0; i < 100; i++ {
		next := srv.NewTask(time.Time{}, "", tcpDetail())
		if next.ID().Version() != 7 {
			t.Fatalf("task id version %d, want 7", next.ID().Version())
		}
		if FormatTaskID(next.ID()) <= FormatTaskID(prev.ID()) {
			t.Fatalf("task ids not increasing: %v then %v", prev.ID(), next.ID())
		}
		prev.Finish(ReasonFinished, nil)
		prev = next
	}
	prev.Finish(ReasonFinished, nil)
}

func TestTaskFinishMessageWithError(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger)
	task := srv.NewTask(time.Time{}, "", tcpDetail())
	task.Finish(ReasonUpstreamNotConnected, errors.New("dial tcp 10.9.9.9:22: connect: connection refused"))
	long := srv.NewTask(time.Time{}, "", tcpDetail())
	long.Finish(ReasonUnclassifiedError, errors.New(strings.Repeat("x", 300)))
	entries := logs.All()
	if got, want := entries[0].Message, "upstream not connected: dial tcp 10.9.9.9:22: connect: connection refused"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got, want := entries[1].Message, "unclassified error: "+strings.Repeat("x", 300); got != want {
		t.Errorf("long message = %q", got)
	}
	if m := recordOf(t, entries[0]); m["wait_time"] != nil {
		t.Errorf("zero waitStart wrote wait_time %v", m["wait_time"])
	}
}

func TestTaskFinishExactlyOnce(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeSOCKSProxy, "socks", logger, withRawPeriodic(time.Millisecond))
	for round := 0; round < 20; round++ {
		task := srv.NewTask(time.Time{}, "", tcpDetail())
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				task.Counters.ClientReadBytes.Add(1)
				if task.Finish(ReasonClosedByClient, nil) {
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d calls won Finish, want 1", round, wins.Load())
		}
	}
	finished := logs.FilterField(zap.String("task_event", "Finished"))
	n := 0
	for _, e := range logs.All() {
		if e.Message == "closed by client" {
			n++
		}
	}
	if n != 20 || finished.Len() > 20 {
		t.Errorf("%d finished records for 20 tasks", n)
	}
}

func TestTaskPeriodic(t *testing.T) {
	before := runtime.NumGoroutine()
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithPeriodic(20*time.Millisecond))
	task := srv.NewTask(time.Time{}, "", tcpDetail())
	task.Relaying()
	deadline := time.Now().Add(5 * time.Second)
	for logs.Len() < 3 && time.Now().Before(deadline) {
		task.Counters.RemoteReadBytes.Add(100)
		time.Sleep(5 * time.Millisecond)
	}
	task.Finish(ReasonClosedByUpstream, nil)
	n := logs.Len()
	if n < 4 {
		t.Fatalf("%d records after waiting, want at least 3 Periodic and a Finished", n)
	}
	entries := logs.All()
	var lastTotal time.Duration
	for i, e := range entries[:n-1] {
		m := recordOf(t, e)
		if m["task_event"] != "Periodic" || e.Message != "" {
			t.Fatalf("record %d: task_event %v, message %q", i, m["task_event"], e.Message)
		}
		if _, ok := m["reason"]; ok {
			t.Errorf("Periodic record carries a reason")
		}
		total, err := ParseDuration(m["total_time"].(string))
		if err != nil || total <= lastTotal {
			t.Errorf("Periodic total_time %v not increasing (%v)", m["total_time"], err)
		}
		lastTotal = total
		if m["r_rd_bytes"].(uint64) == 0 {
			t.Errorf("Periodic record %d has no live counter", i)
		}
	}
	if m := recordOf(t, entries[n-1]); m["task_event"] != "Finished" {
		t.Errorf("last record is %v", m["task_event"])
	}
	time.Sleep(60 * time.Millisecond)
	if logs.Len() != n {
		t.Errorf("%d records written after Finish", logs.Len()-n)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails if the goroutine count does not come back to want.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > want {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left, want %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
	}
}

func TestTaskLogFilter(t *testing.T) {
	logger, logs := observed()
	var asked atomic.Int32
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithCreatedRecords(), WithConnectedRecords(),
		withRawPeriodic(5*time.Millisecond),
		WithLogFilter(func(rec *TaskLog) bool { asked.Add(1); return rec.User != "quiet" }))
	for _, user := range []string{"quiet", "loud"} {
		task := srv.NewTask(time.Time{}, user, tcpDetail())
		task.Connected()
		task.ClientShutdown()
		time.Sleep(20 * time.Millisecond)
		task.Finish(ReasonClosedByClient, nil)
	}
	if asked.Load() != 2 {
		t.Errorf("filter asked %d times, want once per task", asked.Load())
	}
	for _, e := range logs.All() {
		if e.ContextMap()["user"] == "quiet" {
			t.Fatalf("a filtered task wrote %v", e.ContextMap()["task_event"])
		}
	}
	events := map[any]int{}
	for _, e := range logs.All() {
		events[e.ContextMap()["task_event"]]++
	}
	if events["Created"] != 1 || events["Connected"] != 1 || events["ClientShutdown"] != 1 || events["Finished"] != 1 || events["Periodic"] == 0 {
		t.Errorf("the logged task wrote %v", events)
	}
}

func TestServerFinishAll(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger)
	tasks := []*Task{srv.NewTask(time.Time{}, "", tcpDetail()), srv.NewTask(time.Time{}, "", tcpDetail()), srv.NewTask(time.Time{}, "", tcpDetail())}
	tasks[0].Finish(ReasonClosedByClient, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := srv.FinishAll(ReasonCanceledAsServerQuit, ctx.Err()); n != 2 {
		t.Errorf("FinishAll finished %d tasks, want 2", n)
	}
	for _, task := range tasks {
		if task.Finish(ReasonClosedByClient, nil) {
			t.Error("Finish after FinishAll wrote again")
		}
	}
	if logs.Len() != 3 {
		t.Fatalf("%d records, want 3", logs.Len())
	}
	for _, e := range logs.All()[1:] {
		if e.Message != "canceled as server quit: context canceled" || e.ContextMap()["reason"] != "CanceledAsServerQuit" {
			t.Errorf("record %q %v", e.Message, e.ContextMap()["reason"])
		}
	}
	if srv.OpenTasks() != 0 {
		t.Errorf("OpenTasks() = %d", srv.OpenTasks())
	}
}

func TestTaskCountersIntoEveryDetail(t *testing.T) {
	for _, d := range []Detail{tcpDetail(), &HTTPForward{TCPConnect: *tcpDetail(), Method: "GET", URI: "/"},
		&FTPOverHTTP{ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2"), Upstream: "f:21", Method: "GET", URI: "ftp://f/"},
		&UDPAssociate{TCPServerAddr: ap("127.0.0.1:1"), TCPClientAddr: ap("127.0.0.1:2")},
		&UDPConnect{TCPServerAddr: ap("127.0.0.1:1"), TCPClientAddr: ap("127.0.0.1:2"), Upstream: "u:53"},
		(*TCPConnect)(nil), (*HTTPForward)(nil), (*UDPAssociate)(nil), nil} {
		logger, logs := observed()
		task := NewServer(ServerTypeSOCKSProxy, "s", logger).NewTask(time.Time{}, "", d)
		c := &task.Counters
		for i, ctr := range []*atomic.Uint64{&c.ClientReadBytes, &c.ClientWriteBytes, &c.RemoteReadBytes, &c.RemoteWriteBytes,
			&c.ClientReadPackets, &c.ClientWritePackets, &c.RemoteReadPackets, &c.RemoteWritePackets} {
			ctr.Add(uint64(i + 1))
		}
		task.Finish(ReasonClosedByClient, nil) // must not panic on a nil Detail
		m := logs.All()[0].ContextMap()
		if d == nil || strings.HasPrefix(describe(d), "nil") {
			if m[ErrorKey] == nil {
				t.Errorf("%T: no error key for a nil Detail", d)
			}
			continue
		}
		want := map[string]uint64{"c_rd_bytes": 1, "c_wr_bytes": 2}
		if d.TaskType() != TaskTypeFTPOverHTTP {
			want["r_rd_bytes"], want["r_wr_bytes"] = 3, 4
		}
		if tt := d.TaskType(); tt == TaskTypeUDPAssociate || tt == TaskTypeUDPConnect {
			want["c_rd_packets"], want["c_wr_packets"], want["r_rd_packets"], want["r_wr_packets"] = 5, 6, 7, 8
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%v: %s = %v, want %d", d.TaskType(), k, m[k], v)
			}
		}
	}
}

func describe(d Detail) string {
	switch d := d.(type) {
	case *TCPConnect:
		if d == nil {
			return "nil"
		}
	case *HTTPForward:
		if d == nil {
			return "nil"
		}
	case *UDPAssociate:
		if d == nil {
			return "nil"
		}
	}
	return "set"
}

func TestNewServerRejects(t *testing.T) {
	for _, tc := range []struct {
		typ  ServerType
		name string
	}{{0, "x"}, {99, "x"}, {ServerTypeHTTPProxy, ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer(%v, %q) did not panic", tc.typ, tc.name)
				}
			}()
			NewServer(tc.typ, tc.name, nil)
		}()
	}
}

func TestFinishAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, enc := range costEncoders() {
		logger := zap.New(zapcore.NewCore(enc.new(), zapcore.AddSync(discard{}), zap.InfoLevel))
		finishAllocs(t, enc.name, NewServer(ServerTypeHTTPProxy, "http", logger))
	}
}

func finishAllocs(t *testing.T, name string, srv *Server) {
	const runs = 200
	errRefused := errors.New("connect: connection refused")
	for _, err := range []error{nil, errRefused} {
		tasks := make([]*Task, runs+1)
		for i := range tasks {
			tasks[i] = srv.NewTask(time.Now(), "alice", &TCPConnect{ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2"),
				Upstream: "example.com:443", NextPeerAddr: netip.MustParseAddrPort("127.0.0.3:443")})
			tasks[i].Relaying()
			tasks[i].Counters.ClientReadBytes.Add(100)
		}
		i := 0
		n := testing.AllocsPerRun(runs, func() {
			tasks[i].Finish(ReasonUpstreamNotConnected, err)
			i++
		})
		if n != 0 {
			t.Errorf("%s: Task.Finish(err=%v) allocates %v times, want 0", name, err, n)
		}
	}
}

// A UDP task's Connected record carries the first packet's counters, as
// g3's log_connected does.
func TestUDPConnectedRecordCarriesFirstPacket(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeSOCKSProxy, "socks", logger, WithConnectedRecords())
	task := srv.NewTask(time.Time{}, "", &UDPAssociate{TCPServerAddr: ap("127.0.0.1:1080"), TCPClientAddr: ap("127.0.0.1:5000")})
	task.Counters.ClientReadBytes.Add(42)
	task.Counters.ClientReadPackets.Add(1)
	task.Connected()
	task.Finish(ReasonClosedByClient, nil)
	m := recordOf(t, logs.All()[0])
	if m["task_event"] != "Connected" || m["c_rd_bytes"] != uint64(42) || m["c_rd_packets"] != uint64(1) {
		t.Errorf("Connected record %v, want c_rd_bytes 42 and c_rd_packets 1", m)
	}
	if _, ok := m["c_wr_bytes"]; ok {
		t.Errorf("Connected record has c_wr_bytes: %v", m)
	}
}
