package otel_test

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/otel"
)

// A task logger whose records go to an OpenTelemetry Collector over
// OTLP/gRPC. (Compiled, not run: it needs a Collector.)
func ExampleNew() {
	core, err := otel.New(otel.Config{Endpoint: "collector:4317", Protocol: otel.ProtocolGRPC, Insecure: true}, driver.Options{})
	if err != nil {
		panic(err)
	}
	defer core.Close() // delivers what is queued, within Options.CloseTimeout
	logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
	_ = logger // log each finished task with tasklog.Log(logger, zap.InfoLevel, msg, rec)
}

// g3proxy's log: block, with the task log sent over OTLP and the others
// to g3's drivers.
func ExampleParseYAMLLog() {
	block := []byte(`
log:
  default: syslog
  task:
    otlp:
      endpoint: collector:4318
      headers: {x-api-key: s3cret}
      batch_size: 256
`)
	for _, logType := range []string{"task", "escape"} {
		c, err := otel.ParseYAMLLog(block, logType, "")
		if err != nil {
			panic(err)
		}
		if c.OTLP != nil {
			fmt.Printf("%s: otlp to %s, batches of %d\n", logType, c.OTLP.Endpoint, c.OTLP.BatchSize)
		} else {
			fmt.Printf("%s: %s\n", logType, c.Driver.Driver)
		}
	}
	// Output:
	// task: otlp to collector:4318, batches of 256
	// escape: syslog
}
