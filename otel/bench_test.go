package otel

import (
	"io"
	"testing"

	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// BenchmarkOTLPCaller is what a record costs the goroutine that logs it
// through the OTLP driver into an in-process otlpreceiver (wall time of
// the caller; the writer and the receiver run beside it). The interleaved
// ratio to the floor is otlpbench's.
func BenchmarkOTLPCaller(b *testing.B) {
	port := nettest.FreePort(b, "tcp")
	startReceiver(b, otlpreceiver.NewFactory(), map[string]any{
		"protocols": map[string]any{"http": map[string]any{"endpoint": addr(port)}},
	})
	core, err := New(Config{Endpoint: addr(port), Insecure: true}, driver.Options{ErrorOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		b.Fatal(err)
	}
	defer core.Close()
	r := records()[1]
	l := zap.New(core).With(loggerFields(r.logType)...)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.Info(r.msg, r.field)
	}
}
