package main

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

// driverRecords logs one record of each log type (and a task at each of
// its events) to logger, and one invalid task record (the sixth); with
// hostile, last, an HttpForward whose strings need every escape.
func driverRecords(core zapcore.Core, hostile bool) {
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
	if hostile {
		nasty := "q\"b\\s]e=a'p\x01\t\n\r\x1b\x7f nb\u00a0e\u0301vs\ufe0fpu\ue000wj\u2060 日本語 😀 ok"
		tasklog.Log(task, zap.InfoLevel, "upstream read failed: "+nasty, &tasklog.TaskLog{
			ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: id, Stage: tasklog.StageRelaying,
			StartAt: start, User: nasty, Escaper: `d"ir]`, Reason: tasklog.ReasonUpstreamReadFailed, TotalTime: 1,
			Detail: &tasklog.HTTPForward{TCPConnect: *tcp, Method: "GET", URI: "http://h.example/a\"b]c", UserAgent: nasty,
				RspStatus: 200, OriginStatus: 502},
		})
	}
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
		driverRecords(core, false)
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

// TestValidateReadsStrictRFC5424: what the syslog driver sends with
// RFC5424Strict (structured data with only RFC 5424's escapes, "- " before
// CEE) reads back key for key, hostile values included; only the invalid
// record is reported.
func TestValidateReadsStrictRFC5424(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var want bytes.Buffer
	driverRecords(zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(&want), zap.InfoLevel), true)
	n := strings.Count(want.String(), "\n")
	for _, cee := range []bool{false, true} {
		core, err := driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UDPAddr: pc.LocalAddr().String(),
			RFC5424: true, RFC5424Strict: true, CEE: cee}, driver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		driverRecords(core, true)
		core.Close()
		buf := make([]byte, 64<<10)
		for i := range n {
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("CEE %v: datagram %d: %v", cee, i, err)
			}
			form, fields, err := g3line.Parse(string(buf[:m]), nil)
			if err != nil {
				t.Errorf("CEE %v: datagram %d (%s): %v\n%q", cee, i, form, err, buf[:m])
				continue
			}
			var probs []string
			g3schema.Check(fields, func(p g3schema.Problem) { probs = append(probs, problemText(p)) })
			if (len(probs) > 0) != (i == 5) {
				t.Errorf("CEE %v: datagram %d: problems %v", cee, i, probs)
			}
			if i == n-1 {
				for _, f := range fields {
					if (f.Key == "user" || f.Key == "user_agent") && !strings.Contains(f.Val, "'p\x01\t\n\r\x1b\x7f nb\u00a0e\u0301") {
						t.Errorf("CEE %v: %s read back as %q", cee, f.Key, f.Val)
					}
				}
			}
		}
	}
}
