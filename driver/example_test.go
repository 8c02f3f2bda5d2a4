package driver_test

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

type exampleClock struct{}

func (exampleClock) Now() time.Time                         { return time.Unix(1764067260, 0) }
func (exampleClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// A task logger whose lines are the body g3proxy's syslog driver sends
// after "@cee:", byte for byte: its logger keys first, the record's keys
// in g3's order, unset ones left out, msg last.
func ExampleNewCEECore() {
	core := driver.NewCEECore(zapcore.AddSync(os.Stdout), driver.CEEConfig{}, zap.InfoLevel)
	logger := zap.New(core, zap.WithClock(exampleClock{}))
	// A real proxy passes tasklog.LoggerFields("g3proxy"); the example
	// leaves out pid, which changes from run to run.
	logger = logger.With(zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"))

	rec := &tasklog.TaskLog{
		ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http",
		TaskID:  uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a"),
		Stage:   tasklog.StageFinished,
		StartAt: time.Date(2025, 11, 25, 10, 41, 0, 123456000, time.UTC),
		Reason:  tasklog.ReasonClosedByClient, TotalTime: 2345678901 * time.Nanosecond,
		Detail: &tasklog.TCPConnect{
			ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"), ClientAddr: netip.MustParseAddrPort("10.0.0.7:53211"),
			Upstream: "example.com:443", ClientReadBytes: 517, ClientWriteBytes: 4810,
		},
	}
	tasklog.Log(logger, zap.InfoLevel, rec.Reason.Text(), rec)
	// Output:
	// {"server_name":"http","server_type":"HttpProxy","log_type":"Task","daemon_name":"g3proxy","r_wr_bytes":0,"r_rd_bytes":0,"c_wr_bytes":4810,"c_rd_bytes":517,"tcp_connect_tries":0,"upstream":"example.com:443","client_addr":"10.0.0.7:53211","server_addr":"10.0.0.1:3128","total_time":"2.346s","reason":"ClosedByClient","escaper":"","start_at":"2025-11-25T10:41:00.123456Z","stage":"Finished","task_event":"Finished","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_type":"TcpConnect","msg":"closed by client"}
}

// printSink is a RecordSink that prints each record and reports it
// delivered.
type printSink struct{ o *driver.Outcomes }

func (s printSink) Deliver(r *driver.Record, size int) {
	fmt.Printf("%s %q:", r.Level.CapitalString(), r.Message)
	for _, f := range r.Fields[:4] {
		switch f.Kind {
		case driver.FieldString:
			fmt.Printf(" %s=%q", f.Key, f.Str)
		case driver.FieldUint:
			fmt.Printf(" %s=%d", f.Key, f.Uint())
		}
	}
	fmt.Println()
	s.o.Pass(1, size)
}
func (printSink) Drain() {}
func (printSink) Close() {}

// A driver for a transport of your own: NewRecordCore gives it the queue,
// the counters and Close of every driver here, and hands each record to
// the sink decoded, keys in g3's order.
func ExampleNewRecordCore() {
	core := driver.NewRecordCore("print", driver.Options{}, func(o *driver.Outcomes) driver.RecordSink { return printSink{o} })
	logger := zap.New(core).With(zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"))
	logger.Info("closed by client", zap.String("user", "alice"), zap.Uint64("c_rd_bytes", 517))
	core.Close()
	fmt.Printf("%+v\n", core.Stats().Passed)
	// Output:
	// INFO "closed by client": log_type="Task" daemon_name="g3proxy" c_rd_bytes=517 user="alice"
	// 1
}
