package otel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

// nasty needs every kind of escaping the formats have: quotes,
// backslashes, ']', '=', an apostrophe, control characters, a newline,
// DEL, Unicode marks and format characters, CJK and emoji.
const nasty = "q\"b\\s]e=a'p\x01\t\n\r\x1b\x7f nb\u00a0e\u0301vs\ufe0fpu\ue000wj\u2060 日本語 😀👍🏽 ok"

// record is one record to log: the message and the zap field.
type record struct {
	name    string
	logType string
	msg     string
	field   zap.Field
}

// records are ordinary and hostile task, Escape and Resolve records.
func records() []record {
	start := time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC)
	id := uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a")
	tcp := tasklog.TCPConnect{
		ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"), ClientAddr: netip.MustParseAddrPort("[2001:db8::7]:53211"),
		Upstream: "example.com:443", NextBoundAddr: netip.MustParseAddrPort("192.0.2.10:40000"),
		NextPeerAddr: netip.MustParseAddrPort("93.184.216.34:443"), ConnectTries: 1, ConnectSpend: 1234567,
		ClientReadBytes: 517, ClientWriteBytes: 4810, RemoteReadBytes: 4810, RemoteWriteBytes: 517,
	}
	task := func(ev tasklog.Event, reason tasklog.Reason, user string, d tasklog.Detail) *tasklog.TaskLog {
		return &tasklog.TaskLog{ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: id, Event: ev,
			Stage: tasklog.StageRelaying, StartAt: start, User: user, Escaper: "direct", Reason: reason,
			WaitTime: 23456, ReadyTime: 13456789, TotalTime: 2345678901, Detail: d}
	}
	huge := tcp
	huge.ClientReadBytes, huge.ClientWriteBytes = 1<<63-1, 1<<64-1
	hostile := &tasklog.HTTPForward{TCPConnect: tcp, Method: "GET", URI: "http://h.example/a\"b]c?" + strings.Repeat("x", 1100),
		UserAgent: nasty, RspStatus: 200, OriginStatus: 502, ReuseConnection: true}
	return []record{
		{"tcp-created", "Task", "", tasklog.Field(task(tasklog.EventCreated, 0, "alice", &tcp))},
		{"tcp-finished", "Task", "closed by client", tasklog.Field(task(0, tasklog.ReasonClosedByClient, "alice", &tcp))},
		{"tcp-u64-max", "Task", "finished", tasklog.Field(task(0, tasklog.ReasonFinished, "", &huge))},
		{"http-hostile", "Task", "upstream read failed: " + nasty, tasklog.Field(task(0, tasklog.ReasonUpstreamReadFailed, nasty, hostile))},
		{"udp-periodic", "Task", "", tasklog.Field(task(tasklog.EventPeriodic, 0, "", &tasklog.UDPAssociate{
			TCPServerAddr: netip.MustParseAddrPort("10.0.0.1:1080"), TCPClientAddr: netip.MustParseAddrPort("10.0.0.7:40000"),
			UDPListenAddr: netip.MustParseAddrPort("10.0.0.1:50000"), InitialPeer: "dns.example:53",
			UDPCounters: tasklog.UDPCounters{ClientReadBytes: 1, ClientReadPackets: 2}}))},
		{"escape", "Escape", "connect failed: connection refused", tasklog.EscapeField(&tasklog.EscapeLog{
			EscaperType: "DirectFixed", EscaperName: "direct", TaskID: id,
			Detail: &tasklog.EscapeTCPConnect{Upstream: "example.com:443", ConnectTries: 2, ConnectSpend: 1234567,
				Reason: tasklog.TCPConnectErrorConnectFailed}})},
		{"resolve", "Resolve", "server error: server claims domain name not found", tasklog.ResolveField(&tasklog.ResolveLog{
			ResolverType: "hickory", ResolverName: "main", Servers: []netip.Addr{netip.MustParseAddr("127.0.0.53"), netip.MustParseAddr("::1")},
			QueryType: tasklog.QueryTypeA, Duration: 1500000, RRSource: tasklog.RRSourceQuery,
			ErrorType: tasklog.ResolveErrorServer, ErrorSubtype: tasklog.ResolveErrorNotFound, Domain: "nx.example"})},
	}
}

// loggerFields are g3's logger keys of a log type.
func loggerFields(logType string) []zap.Field {
	switch logType {
	case "Escape":
		return tasklog.EscapeLoggerFields("g3proxy")
	case "Resolve":
		return tasklog.ResolveLoggerFields("g3proxy")
	}
	return tasklog.LoggerFields("g3proxy")
}

// logAll writes every record through core and closes it.
func logAll(t *testing.T, core zapcore.Core) {
	t.Helper()
	for _, r := range records() {
		zap.New(core).With(loggerFields(r.logType)...).Info(r.msg, r.field)
	}
	if c, ok := core.(*driver.Core); ok {
		if err := c.Close(); err != nil {
			t.Logf("close: %v", err)
		}
	}
}

// want returns each record's keys and values as tasklog's JSON line has
// them (numbers exact), with its message under msg.
func want(t *testing.T) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logAll(t, zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(&buf), zap.InfoLevel))
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		m := map[string]any{}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "report_ts")
		out = append(out, m)
	}
	return out
}

// text is a JSON value as a string: a string as it is, a number or bool
// as JSON writes it.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// startReceiver runs a Collector receiver from its factory, configured
// from raw (as a collector configuration's receivers: entry), until the
// test ends; what it produces goes to the returned sink.
func startReceiver(t testing.TB, f receiver.Factory, raw map[string]any) *consumertest.LogsSink {
	t.Helper()
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		t.Fatalf("%s config: %v", f.Type(), err)
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			t.Fatalf("%s config: %v", f.Type(), err)
		}
	}
	sink := new(consumertest.LogsSink)
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Shutdown(context.Background()) })
	return sink
}

// logRecords waits for n log records in sink and returns them in order.
func logRecords(t *testing.T, sink *consumertest.LogsSink, n int) []plog.LogRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for sink.LogRecordCount() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sl := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sl.Len(); j++ {
				lr := sl.At(j).LogRecords()
				for k := 0; k < lr.Len(); k++ {
					out = append(out, lr.At(k))
				}
			}
		}
	}
	if len(out) != n {
		t.Fatalf("the receiver produced %d log records, want %d", len(out), n)
	}
	return out
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
