package main

import (
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// scheduling opens n library tasks with a Periodic record every second,
// and measures what they cost: memory per open task, and the share of one
// core their records take (written through NewCore to io.Discard).
func scheduling(c config, r *report) {
	n := c.periodicTasks
	logger := zap.New(tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(io.Discard), zap.InfoLevel))
	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "load", logger, tasklog.WithPeriodic(time.Second))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	tasks := make([]*tasklog.Task, n)
	for i := range tasks {
		tasks[i] = srv.NewTask(time.Now(), "user", &tasklog.TCPConnect{
			ServerAddr: netip.MustParseAddrPort("127.0.0.1:3128"), ClientAddr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(i)),
			Upstream: "example.test:443",
		})
		tasks[i].Relaying()
	}
	created := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	r.row("Scheduling", "open tasks with Periodic records every second",
		fmt.Sprintf("%d, created in %v (%.1f µs per NewTask)", n, created.Round(time.Millisecond), float64(created.Microseconds())/float64(n)))
	r.row("Scheduling", "memory per open task", fmt.Sprintf("%.0f bytes (heap in use)", float64(after.HeapInuse-before.HeapInuse)/float64(n)))
	time.Sleep(1500 * time.Millisecond) // every task has had its first record
	cpu0, wall0 := cpuTime(), time.Now()
	time.Sleep(3 * time.Second)
	share := float64(cpuTime()-cpu0) / float64(time.Since(wall0))
	r.row("Scheduling", "CPU for their Periodic records", fmt.Sprintf("%.1f%% of one core (%d records a second, each encoded and written)", 100*share, n))
	start = time.Now()
	for _, t := range tasks {
		t.Finish(tasklog.ReasonFinished, nil)
	}
	r.row("Scheduling", "finishing them all", time.Since(start).Round(time.Millisecond).String())
	r.check("Scheduling", "none left open", srv.OpenTasks() == 0, fmt.Sprintf("%d open", srv.OpenTasks()))
}
