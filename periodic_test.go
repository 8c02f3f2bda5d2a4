package tasklog

import (
	"testing"
	"time"
)

// A burst of tasks started at once spreads over a quarter of the buckets,
// and every task is in exactly one bucket until it finishes.
func TestPeriodicSpreadsABurst(t *testing.T) {
	srv := NewServer(ServerTypeHTTPProxy, "h", nil, WithPeriodic(640*time.Millisecond))
	p := srv.sched
	var tasks []*Task
	for i := 0; i < 1600; i++ {
		tasks = append(tasks, srv.NewTask(time.Time{}, "", tcpDetail()))
	}
	p.mu.Lock()
	used, most, total := 0, 0, 0
	for _, b := range p.slots {
		if len(b) > 0 {
			used++
		}
		most = max(most, len(b))
		total += len(b)
	}
	p.mu.Unlock()
	if total != 1600 || used < len(p.slots)/4 || most > 2*1600/(len(p.slots)/4) {
		t.Errorf("%d tasks in %d of %d buckets, at most %d in one: want 1600 spread over a quarter", total, used, len(p.slots), most)
	}
	for _, task := range tasks {
		task.Finish(ReasonFinished, nil)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n != 0 || p.stop != nil {
		t.Errorf("%d tasks still scheduled, goroutine running %v", p.n, p.stop != nil)
	}
	for _, b := range p.slots {
		if len(b) != 0 {
			t.Errorf("a bucket still holds %d tasks", len(b))
		}
	}
}

// Each task gets its Periodic records about one period apart, the first
// between three quarters of a period and a period after it started.
func TestPeriodicRecordTiming(t *testing.T) {
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "h", logger, WithPeriodic(MinPeriodic))
	start := time.Now()
	task := srv.NewTask(time.Time{}, "", tcpDetail())
	time.Sleep(MinPeriodic*3 + MinPeriodic/2)
	task.Finish(ReasonFinished, nil)
	var times []time.Time
	for _, e := range logs.All() {
		if e.ContextMap()["task_event"] == "Periodic" {
			times = append(times, e.Time)
		}
	}
	if len(times) < 2 || len(times) > 4 {
		t.Fatalf("%d Periodic records in 3.5 periods", len(times))
	}
	if first := times[0].Sub(start); first < MinPeriodic*3/4-5*time.Millisecond {
		t.Errorf("first Periodic record after %v, want at least 3/4 of %v", first, MinPeriodic)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < MinPeriodic/2 {
			t.Errorf("Periodic records %v apart, want about %v", gap, MinPeriodic)
		}
	}
}
