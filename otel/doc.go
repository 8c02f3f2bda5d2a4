// Package otel is where tasklog meets OpenTelemetry. It is a module of its
// own, so that the library's dependency set stays what it is.
//
// [New] returns an OTLP log driver: a driver.Core like package driver's
// (the keys collected on the logging goroutine in g3's order and types,
// a bounded queue that never blocks, the same Stats and Close
// guarantees) that exports each record as an OpenTelemetry log record
// over OTLP/HTTP or OTLP/gRPC through the OpenTelemetry Go SDK.
// [ParseYAMLLog] reads g3proxy's log: block with one driver key more,
// otlp (tasklog's extension), and builds either driver.
//
// The module's tests are an interop suite: they run the OpenTelemetry
// Collector's own receivers in-process (otlpreceiver v0.165.0,
// collector-contrib's syslogreceiver and fluentforwardreceiver v0.165.1),
// send ordinary and hostile task, Escape and Resolve records through
// tasklog's drivers to them, and assert what the Collector produced, key
// by key; and they run the Collector recipe of docs/recipes/otelcol in a
// Collector built in-process. README.md has the mapping, what each
// receiver does with g3's bytes and what an operator configures, and the
// speed figures of cmd/otlpbench.
package otel
