package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

// driverRecords logs one record of each log type (and a task at each of
// its events) to logger, and one invalid task record.
func driverRecords(core zapcore.Core) {
	start := time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC)
	id := uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a")
	tcp := &tasklog.TCPConnect{
		ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"), ClientAddr: netip.MustParseAddrPort("[2001:db8::7]:53211"),
		Upstream: "example.com:443", NextBoundAddr: netip.MustParseAddrPort("192.0.2.10:40000"),
		ConnectTries: 1, ConnectSpend: 1234567, ClientReadBytes: 517, ClientWriteBytes: 4810,
	}
	task := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
	for _, ev := range []tasklog.Event{tasklog.EventCreated, tasklog.EventConnected, tasklog.EventPeriodic, tasklog.EventClientShutdown, 0} {
		rec := &tasklog.TaskLog{
			ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: id, Event: ev,
			Stage: tasklog.StageRelaying, StartAt: start, User: `b\o"b ] 'x'`, Escaper: "direct",
			WaitTime: 23456, ReadyTime: 13456789, TotalTime: 2345678901, Detail: tcp,
		}
		msg := ""
		if ev == 0 {
			rec.Reason = tasklog.ReasonClosedByClient
			msg = rec.Reason.Text()
		}
		tasklog.Log(task, zap.InfoLevel, msg, rec)
	}
	bad := &tasklog.TaskLog{ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: id, Stage: tasklog.StageRelaying,
		StartAt: start, Reason: tasklog.ReasonFinished, TotalTime: -1, Detail: tcp}
	tasklog.Log(task, zap.InfoLevel, "finished", bad)
	esc := zap.New(core).With(tasklog.EscapeLoggerFields("g3proxy")...)
	tasklog.LogEscape(esc, zap.InfoLevel, "connect failed: connection refused", &tasklog.EscapeLog{
		EscaperType: "DirectFixed", EscaperName: "direct", TaskID: id,
		Detail: &tasklog.EscapeTCPConnect{Upstream: "example.com:443", ConnectTries: 2, ConnectSpend: 1234567, Reason: tasklog.TCPConnectErrorConnectFailed},
	})
	res := zap.New(core).With(tasklog.ResolveLoggerFields("g3proxy")...)
	res.Info("server error: server claims domain name not found", tasklog.ResolveField(&tasklog.ResolveLog{
		ResolverType: "hickory", ResolverName: "main", Servers: []netip.Addr{netip.MustParseAddr("127.0.0.53")},
		QueryType: tasklog.QueryTypeA, Duration: 1500000, RRSource: tasklog.RRSourceQuery,
		ErrorType: tasklog.ResolveErrorServer, ErrorSubtype: tasklog.ResolveErrorNotFound, Domain: "nx.example",
	}))
}

// TestValidateAcceptsTasklogDrivers: what tasklog's own writers write
// (the JSON encoder, and the stdout, JSON and CEE drivers) passes, and
// the record its writer found invalid is reported, on its line.
func TestValidateAcceptsTasklogDrivers(t *testing.T) {
	writers := map[string]func(*bytes.Buffer) (zapcore.Core, func()){
		"NewEncoder": func(b *bytes.Buffer) (zapcore.Core, func()) {
			return zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(b), zap.InfoLevel), func() {}
		},
		"driver.NewJSON": func(b *bytes.Buffer) (zapcore.Core, func()) {
			c := driver.NewJSON(b, driver.Options{})
			return c, func() { c.Close() }
		},
		"driver.NewStdout": func(b *bytes.Buffer) (zapcore.Core, func()) {
			c := driver.NewStdout(b, driver.Options{})
			return c, func() { c.Close() }
		},
		"driver.NewCEE": func(b *bytes.Buffer) (zapcore.Core, func()) {
			c := driver.NewCEE(b, driver.CEEConfig{}, driver.Options{})
			return c, func() { c.Close() }
		},
	}
	for name, mk := range writers {
		var buf bytes.Buffer
		core, closeCore := mk(&buf)
		driverRecords(core)
		closeCore()
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 8 {
			t.Fatalf("%s wrote %d lines, want 8:\n%s", name, len(lines), buf.String())
		}
		code, out, e := runCmd(t, buf.String(), "validate")
		if code != 1 || !strings.HasPrefix(out, "-:6: ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: exit %d, want 1 and only line 6 (the invalid record) reported:\n%s%s", name, code, out, e)
		}
		if !strings.Contains(e, "8 records, 7 valid, 1 invalid") {
			t.Errorf("%s: %s", name, e)
		}
	}
}
