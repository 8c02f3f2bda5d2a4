package otel

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/syslogreceiver"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
	"github.com/proxylog/tasklog/internal/nettest"
)

// fieldsText returns parsed fields as key → text.
func fieldsText(fields []g3schema.Field) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		out[f.Key] = f.Val
	}
	return out
}

// ceeFields reads a "@cee:" JSON body into key → text (numbers exact).
func ceeFields(t *testing.T, body string) map[string]string {
	t.Helper()
	i := strings.Index(body, "{")
	if !strings.HasPrefix(body, "@cee:") || i < 0 {
		t.Fatalf("not a CEE body: %q", body)
	}
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(body[i:]))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("CEE body: %v\n%s", err, body)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = text(v)
	}
	return out
}

// sameKeys reports every key of want that got lacks or has with another
// value, and every key got has that want has not.
func sameKeys(t *testing.T, what string, got map[string]string, want map[string]any) int {
	t.Helper()
	n := 0
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", what, k)
		case g != text(v):
			t.Errorf("%s: %s = %q, want %q", what, k, g, text(v))
		default:
			n++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s = %q is not in tasklog's record", what, k, got[k])
		}
	}
	return n
}

// TestSyslogReceiver sends the records through tasklog's syslog driver
// over UDP to the Collector's syslogreceiver (RFC 3164 and RFC 5424
// parsing), in g3's formats and in tasklog's rfc5424_strict, and checks
// what it produced key by key.
func TestSyslogReceiver(t *testing.T) {
	// RFC 3164 carries local time without a year or fraction: the
	// receiver is told this machine's zone, and the records are logged
	// at a whole second of this year.
	zone := time.Local.String()
	if zone == "Local" { // no zone name to give the receiver
		zone = ""
	}
	now := time.Now().Truncate(time.Second)
	wants := want(t)

	type check func(t *testing.T, name string, w map[string]any, lr plog.LogRecord, attrs map[string]any) int
	// text3164 checks g3's RFC 3164 text body, which the receiver hands
	// over unparsed as message: every key is in it.
	text3164 := func(t *testing.T, name string, w map[string]any, lr plog.LogRecord, attrs map[string]any) int {
		msg, _ := attrs["message"].(string)
		_, fields, err := g3line.ParseSyslogBody(msg, nil)
		if err != nil {
			t.Errorf("%s: message %q: %v", name, msg, err)
			return 0
		}
		return sameKeys(t, name, fieldsText(fields), w)
	}
	cee := func(t *testing.T, name string, w map[string]any, lr plog.LogRecord, attrs map[string]any) int {
		msg, _ := attrs["message"].(string)
		return sameKeys(t, name, ceeFields(t, msg), w)
	}
	// sd checks the structured data the receiver parsed, and the message.
	sd := func(t *testing.T, name string, w map[string]any, lr plog.LogRecord, attrs map[string]any) int {
		sdata, _ := attrs["structured_data"].(map[string]any)
		params, _ := sdata["g3proxy@0"].(map[string]any)
		got := map[string]string{}
		for k, v := range params {
			got[k] = text(v)
		}
		got["msg"], _ = attrs["message"].(string)
		return sameKeys(t, name, got, w)
	}
	cases := []struct {
		name     string
		cfg      driver.SyslogConfig
		protocol string
		check    check
		refused  func(rec string) bool // records the receiver cannot parse
	}{
		{"RFC 3164 text", driver.SyslogConfig{}, "rfc3164", text3164, nil},
		// The RFC 3164 parser refuses a message holding a raw DEL (0x7f),
		// which JSON leaves unescaped and g3's CEE body writes as it is.
		{"RFC 3164 CEE", driver.SyslogConfig{CEE: true}, "rfc3164", cee,
			func(rec string) bool { return rec == "http-hostile" }},
		// g3's RFC 5424: escapes RFC 5424 does not have (\', \n, \u{1})
		// make a PARAM-VALUE invalid, and a CEE body where the structured
		// data goes makes every message invalid.
		{"RFC 5424 structured data (g3's)", driver.SyslogConfig{RFC5424: true}, "rfc5424", sd,
			func(rec string) bool { return rec == "http-hostile" }},
		{"RFC 5424 CEE (g3's)", driver.SyslogConfig{RFC5424: true, CEE: true}, "rfc5424", cee,
			func(string) bool { return true }},
		{"RFC 5424 structured data, rfc5424_strict", driver.SyslogConfig{RFC5424: true, RFC5424Strict: true}, "rfc5424", sd, nil},
		{"RFC 5424 CEE, rfc5424_strict", driver.SyslogConfig{RFC5424: true, RFC5424Strict: true, CEE: true}, "rfc5424", cee, nil},
	}
	recs := records()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := nettest.FreePort(t, "udp")
			raw := map[string]any{"protocol": tc.protocol, "udp": map[string]any{"listen_address": addr(port)}}
			if zone != "" {
				raw["location"] = zone
			}
			sink := startReceiver(t, syslogreceiver.NewFactory(), raw)
			cfg := tc.cfg
			cfg.Ident, cfg.UDPAddr = "g3proxy", addr(port)
			core, err := driver.NewSyslog(cfg, driver.Options{})
			if err != nil {
				t.Fatal(err)
			}
			logAllAt(t, core, now)
			lrs := logRecords(t, sink, len(recs))
			keys, refused := 0, 0
			for i, lr := range lrs {
				attrs := lr.Attributes().AsRaw()
				name := recs[i].name
				if tc.refused != nil && tc.refused(name) {
					// Refused: the raw datagram, unparsed, no time, no severity.
					refused++
					if _, ok := attrs["appname"]; ok || lr.Timestamp() != 0 || lr.SeverityNumber() != plog.SeverityNumberUnspecified {
						t.Errorf("%s: expected the receiver to refuse it, got %v", name, attrs)
					}
					if !strings.HasPrefix(lr.Body().AsString(), "<29>") {
						t.Errorf("%s: refused record's body %q", name, lr.Body().AsString())
					}
					continue
				}
				if attrs["appname"] != "g3proxy" || lr.SeverityNumber() != plog.SeverityNumberInfo2 || lr.SeverityText() != "notice" {
					t.Errorf("%s: appname %v, severity %v %q; want g3proxy, INFO2 notice (g3 sends info as syslog's notice, 5)",
						name, attrs["appname"], lr.SeverityNumber(), lr.SeverityText())
				}
				if ts := lr.Timestamp().AsTime(); !ts.Equal(now) && (zone != "" || tc.protocol == "rfc5424") {
					t.Errorf("%s: timestamp %v, want %v", name, ts, now)
				}
				keys += tc.check(t, name, wants[i], lr, attrs)
			}
			t.Logf("%d records: %d parsed, %d keys equal to tasklog's; %d refused by the receiver", len(lrs), len(lrs)-refused, keys, refused)
		})
	}
}

// logAllAt logs every record at time at and closes the core.
func logAllAt(t *testing.T, core *driver.Core, at time.Time) {
	t.Helper()
	for _, r := range records() {
		zap.New(core, zap.WithClock(fixedClock{at})).With(loggerFields(r.logType)...).Info(r.msg, r.field)
	}
	if err := core.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if s := core.Stats(); s.Passed != uint64(len(records())) {
		t.Fatalf("the driver passed %d of %d records: %+v", s.Passed, len(records()), s)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                       { return c.t }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
