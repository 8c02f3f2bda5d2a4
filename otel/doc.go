// Package otel is where tasklog meets OpenTelemetry. It is a module of its
// own, so that the library's dependency set stays what it is.
//
// Today it holds the interop suite (interop_test.go): it runs the
// OpenTelemetry Collector's own receivers in-process (collector-contrib's
// syslogreceiver and fluentforwardreceiver, v0.165.1, with the collector
// core at v0.165.0), sends ordinary and hostile task, Escape and Resolve
// records through tasklog's drivers to them, and asserts what the
// Collector produced, key by key. What a receiver parses differently from
// what g3's format intends is asserted too, and README.md says what an
// operator must configure.
package otel
