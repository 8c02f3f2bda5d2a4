package otel

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// TestFluentForwardReceiver sends the records through tasklog's fluentd
// driver (g3's forward protocol and MessagePack widths) over TCP to the
// Collector's fluentforwardreceiver, and checks what it produced: every
// key a typed attribute with tasklog's value, the tag, the timestamp. The
// receiver takes the body only from a "message" or "log" key, so g3's
// "msg" arrives as an attribute and the body is empty; keys the record's
// event carries unset (g3's none, MessagePack nil) arrive as empty
// attributes. A Collector recipe maps msg to the body (README).
func TestFluentForwardReceiver(t *testing.T) {
	port := nettest.FreePort(t, "tcp")
	sink := startReceiver(t, fluentforwardreceiver.NewFactory(), map[string]any{"endpoint": addr(port)})
	core, err := driver.NewFluentd(driver.FluentdConfig{Address: addr(port), Tag: "g3proxy.Task"}, driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Microsecond)
	logAllAt(t, core, now)
	wants := want(t)
	recs := records()
	lrs := logRecords(t, sink, len(recs))
	keys := 0
	for i, lr := range lrs {
		name, w := recs[i].name, wants[i]
		attrs := lr.Attributes()
		if lr.Body().Type() != pcommon.ValueTypeEmpty && lr.Body().AsString() != "" {
			t.Errorf("%s: body %q; the receiver was expected to leave it empty", name, lr.Body().AsString())
		}
		if tag, _ := attrs.Get("fluent.tag"); tag.Str() != "g3proxy.Task" {
			t.Errorf("%s: fluent.tag %q", name, tag.Str())
		}
		if ts := lr.Timestamp().AsTime(); !ts.Equal(now) {
			t.Errorf("%s: timestamp %v, want %v", name, ts, now)
		}
		for k, v := range w {
			a, ok := attrs.Get(k)
			if !ok {
				t.Errorf("%s: %s missing", name, k)
				continue
			}
			if got, want := attrText(a), text(v); got != want {
				t.Errorf("%s: %s = %s (%s), want %s", name, k, got, a.Type(), want)
				continue
			}
			if wt := wantType(v); a.Type() != wt {
				t.Errorf("%s: %s arrived as %s, want %s", name, k, a.Type(), wt)
				continue
			}
			keys++
		}
		attrs.Range(func(k string, a pcommon.Value) bool {
			if _, ok := w[k]; !ok && k != "fluent.tag" && a.Type() != pcommon.ValueTypeEmpty {
				t.Errorf("%s: attribute %s = %s is not in tasklog's record", name, k, a.AsString())
			}
			return true
		})
	}
	t.Logf("%d records, %d keys equal to tasklog's, typed", len(lrs), keys)
}

// wantType is the attribute type a JSON value of tasklog's record arrives
// as: strings as Str, bools as Bool, integers as Int, except a u64
// counter above 2^63-1, which the receiver turns into a Str of its digits
// (pdata's integers are int64).
func wantType(v any) pcommon.ValueType {
	switch v := v.(type) {
	case json.Number:
		if _, err := strconv.ParseInt(v.String(), 10, 64); err != nil {
			return pcommon.ValueTypeStr
		}
		return pcommon.ValueTypeInt
	case bool:
		return pcommon.ValueTypeBool
	}
	return pcommon.ValueTypeStr
}

// attrText is an attribute's value as JSON would write it.
func attrText(a pcommon.Value) string {
	switch a.Type() {
	case pcommon.ValueTypeInt:
		return strconv.FormatInt(a.Int(), 10)
	case pcommon.ValueTypeBool:
		return strconv.FormatBool(a.Bool())
	case pcommon.ValueTypeDouble:
		return strconv.FormatFloat(a.Double(), 'f', -1, 64)
	case pcommon.ValueTypeStr:
		return a.Str()
	}
	return fmt.Sprintf("<%s>", a.Type())
}

// TestFluentForwardReceiverHasNoAuthOrTLS: the receiver speaks neither
// fluentd's shared-key handshake nor TLS (v0.165.1 has no such settings),
// so a driver configured with either delivers nothing to it; the driver
// counts every record as dropped, and the README says to use plain TCP
// to a Collector (or a fluentd/fluent-bit in between).
func TestFluentForwardReceiverHasNoAuthOrTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  driver.FluentdConfig
	}{
		{"shared key", driver.FluentdConfig{SharedKey: "s3cret", Username: "u", Password: "p"}},
		{"TLS", driver.FluentdConfig{TLS: &tls.Config{ServerName: "localhost"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := nettest.FreePort(t, "tcp")
			sink := startReceiver(t, fluentforwardreceiver.NewFactory(), map[string]any{"endpoint": addr(port)})
			cfg := tc.cfg
			cfg.Address, cfg.Tag = addr(port), "g3proxy.Task"
			cfg.ConnectTimeout, cfg.WriteTimeout, cfg.TLSHandshakeTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
			core, err := driver.NewFluentd(cfg, driver.Options{CloseTimeout: 500 * time.Millisecond, ErrorOutput: zapcore.AddSync(io.Discard)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records() {
				zap.New(core).With(loggerFields(r.logType)...).Info(r.msg, r.field)
			}
			time.Sleep(500 * time.Millisecond)
			core.Close()
			s := core.Stats()
			if s.Passed != 0 || s.Dropped() != uint64(len(records())) || sink.LogRecordCount() != 0 {
				t.Errorf("passed %d, dropped %d, the receiver got %d; want 0, %d, 0 (%+v)", s.Passed, s.Dropped(), sink.LogRecordCount(), len(records()), s)
			}
		})
	}
}
