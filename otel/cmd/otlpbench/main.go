// Command otlpbench measures the OTLP driver: what a record costs the
// goroutine that logs it, interleaved with tasklog.NewCore writing JSON to
// io.Discard (the floor every driver is measured against, as benchtable
// does), and how many records a second it delivers into the
// OpenTelemetry Collector's own otlpreceiver running in this process.
//
//	cd otel && go run ./cmd/otlpbench             # 40 rounds and 100,000 records
//	cd otel && go run ./cmd/otlpbench -short      # one quick pass (CI)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/benchmarks"
	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/otel"
)

func main() {
	rounds := flag.Int("rounds", 40, "rounds of the interleaved measurement")
	window := flag.Duration("window", 4*time.Millisecond, "CPU time of one approach in one round")
	n := flag.Int("n", 100000, "records of the throughput run")
	short := flag.Bool("short", false, "one quick pass: 3 rounds, 5,000 records")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "otlpbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "otlpbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *short {
		*rounds, *n = 3, 5000
	}
	if err := run(os.Stdout, *rounds, *window, *n); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "otlpbench:", err)
		os.Exit(1)
	}
}

// receiver is an in-process otlpreceiver on loopback, HTTP and gRPC.
type receiver struct {
	http, grpc string
	sink       *consumertest.LogsSink
	shutdown   func()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startReceiver() (*receiver, error) {
	r := &receiver{sink: new(consumertest.LogsSink)}
	var err error
	if r.http, err = freeAddr(); err != nil {
		return nil, err
	}
	if r.grpc, err = freeAddr(); err != nil {
		return nil, err
	}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig()
	raw := map[string]any{"protocols": map[string]any{
		"http": map[string]any{"endpoint": r.http}, "grpc": map[string]any{"endpoint": r.grpc}}}
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, r.sink)
	if err != nil {
		return nil, err
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return nil, err
	}
	r.shutdown = func() { _ = rcv.Shutdown(context.Background()) }
	return r, nil
}

func logger(core zapcore.Core, clock zapcore.Clock) *zap.Logger {
	return zap.New(core, zap.WithClock(clock)).With(tasklog.LoggerFields("g3proxy")...)
}

func run(w io.Writer, rounds int, window time.Duration, n int) error {
	rcv, err := startReceiver()
	if err != nil {
		return err
	}
	defer func() { rcv.shutdown() }()
	quiet := driver.Options{ErrorOutput: zapcore.AddSync(io.Discard)}
	var cores []*driver.Core
	defer func() {
		for _, c := range cores {
			c.Close()
		}
	}()
	otlp := func(proto, addr string) func(*tasklog.TaskLog, io.Writer, zapcore.Clock) (func(int), func(int)) {
		return func(rec *tasklog.TaskLog, _ io.Writer, clock zapcore.Clock) (func(int), func(int)) {
			c, err := otel.New(otel.Config{Endpoint: addr, Protocol: proto, Insecure: true}, quiet)
			if err != nil {
				panic(err) // the receiver above exists: only a bug gets here
			}
			cores = append(cores, c)
			l, msg := logger(c, clock), rec.Reason.Text()
			return func(int) {}, func(n int) {
				for range n {
					tasklog.Log(l, zap.InfoLevel, msg, rec)
				}
			}
		}
	}
	approaches := []benchmarks.Approach{
		{Name: "floor: tasklog.NewCore, JSON to io.Discard", Make: func(rec *tasklog.TaskLog, _ io.Writer, clock zapcore.Clock) (func(int), func(int)) {
			l, msg := logger(tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(io.Discard), zap.InfoLevel), clock), rec.Reason.Text()
			return func(int) {}, func(n int) {
				for range n {
					tasklog.Log(l, zap.InfoLevel, msg, rec)
				}
			}
		}},
		{Name: "OTLP/HTTP driver", Make: otlp(otel.ProtocolHTTP, rcv.http)},
		{Name: "OTLP/gRPC driver", Make: otlp(otel.ProtocolGRPC, rcv.grpc)},
	}
	fam := benchmarks.Families()[0]
	res := benchmarks.InterleaveThread(fam, approaches, rounds, window)
	fmt.Fprintf(w, "Cost on the logging goroutine, %s record, %d interleaved rounds (thread CPU time):\n\n", fam.Name, rounds)
	fmt.Fprintln(w, "| approach | ns/record | x floor (median, min-max) |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, r := range res {
		fmt.Fprintf(w, "| %s | %.0f | %.2f (%.2f-%.2f) |\n", r.Name, r.NsPerOp, r.Ratio, r.RatioMin, r.RatioMax)
	}

	for _, c := range cores { // their queued records must not reach the throughput run
		c.Close()
	}
	cores = nil
	rcv.shutdown()
	if rcv, err = startReceiver(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThroughput into the in-process otlpreceiver, %d records from one goroutine, queue large enough to hold them:\n\n", n)
	fmt.Fprintln(w, "| protocol | records/s | dropped |")
	fmt.Fprintln(w, "|---|---|---|")
	rec := fam.Record()
	for _, p := range []struct{ proto, addr string }{{otel.ProtocolHTTP, rcv.http}, {otel.ProtocolGRPC, rcv.grpc}} {
		rcv.sink.Reset()
		opts := quiet
		opts.QueueSize = n + 1
		c, err := otel.New(otel.Config{Endpoint: p.addr, Protocol: p.proto, Insecure: true}, opts)
		if err != nil {
			return err
		}
		l, msg := logger(c, zapcore.DefaultClock), rec.Reason.Text()
		start := time.Now()
		for range n {
			tasklog.Log(l, zap.InfoLevel, msg, rec)
		}
		deadline := start.Add(time.Minute)
		for rcv.sink.LogRecordCount() < n && time.Now().Before(deadline) {
			st := c.Stats()
			if st.Passed+st.Dropped() == uint64(n) && rcv.sink.LogRecordCount() >= int(st.Passed) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		got := rcv.sink.LogRecordCount()
		c.Close()
		st := c.Stats()
		fmt.Fprintf(w, "| %s | %.0f | %d |\n", p.proto, float64(got)/elapsed.Seconds(), st.Dropped())
		if got != n || st.Dropped() != 0 {
			return fmt.Errorf("%s: the receiver got %d of %d records (%+v)", p.proto, got, n, st)
		}
	}
	fmt.Fprintln(w, "\n"+strings.Repeat("-", 3)+" the caller's allocations: driver.TestRecordCoreAllocatesNothingOnceWarm")
	return nil
}
