package driver

import (
	"go.uber.org/zap/zapcore"
	"math/rand"

	"github.com/proxylog/tasklog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Each record goes out as one datagram holding exactly what the formatter
// writes (TestDriversWriteG3Bytes checks those bytes against g3's), with
// the header's time and pid, and is counted with its size.
func TestSyslogSendsOneDatagramPerRecord(t *testing.T) {
	local := testTime.Local().Format("Jan _2 15:04:05")
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name   string
		cfg    SyslogConfig
		prefix string
	}{
		{"rfc3164 text", SyslogConfig{}, "<29>" + local + " g3proxy[" + pid + "]: closed by client, server_name=\"http\", "},
		{"rfc3164 local0", SyslogConfig{Facility: ptrTo(FacilityLocal0)}, "<133>" + local + " g3proxy[" + pid + "]: closed by client, "},
		{"rfc3164 cee", SyslogConfig{CEE: true}, "<29>" + local + " g3proxy[" + pid + `]: @cee:{"server_name":"http",`},
		{"rfc5424 sd", SyslogConfig{RFC5424: true, EnterpriseID: 32473, MessageID: "TASK"},
			"<29>1 2026-11-24T10:30:04.987654Z - g3proxy " + pid + ` TASK [g3proxy@32473 server_name="http" `},
		{"rfc5424 cee", SyslogConfig{RFC5424: true, CEE: true}, "<29>1 2026-11-24T10:30:04.987654Z - g3proxy " + pid + ` - @cee:{"server_name":"http",`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, path := unixgramListener(t)
			tt.cfg.Ident, tt.cfg.UnixPath = "g3proxy", path
			core, err := NewSyslog(tt.cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer core.Close()
			logRecord(t, core, "closed by client", record())
			got := readDatagram(t, l)
			want, err := core.With(logFields()).(*Core).fmt.format(nil, zapcore.Entry{Level: zapcore.InfoLevel, Time: testTime, Message: "closed by client"},
				[]zapcore.Field{tasklog.Field(record())})
			if err != nil || got != string(want) || !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("datagram\n got %s\nwant %s (%v), starting %s", got, want, err, tt.prefix)
			}
			if s := core.Stats(); s.Total != 1 || s.Passed != 1 || s.Bytes != uint64(len(got)) || s.Dropped() != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// Rust's char::escape_debug, as g3 writes strings in its text formats.
func TestEscapeDebug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`a"d"` + "\ta", `a\"d\"\ta`},    // g3's own test
		{"时间\t\"Time\"", `时间\t\"Time\"`}, // g3's own test
		{"it's\\", `it\'s\\`},
		{"\x00\x01\n\r\x7f", `\0\u{1}\n\r\u{7f}`},
		{"bad\xffbyte", "bad\ufffdbyte"},
		{"a]b", "a]b"},
	} {
		if got := string(appendEscapeDebug(nil, tt.in, false)); got != tt.want {
			t.Errorf("escape_debug(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := string(appendEscapeDebug(nil, "[::1]:2", true)); got != `[::1\]:2` {
		t.Errorf("structured data value: %s", got)
	}
}

// A dead syslog daemon costs drops, counted, and a reconnect is tried no
// sooner than ReconnectInterval; after it the records arrive again.
func TestSyslogReconnects(t *testing.T) {
	noLeak(t)
	l, path := unixgramListener(t)
	core, err := NewSyslog(SyslogConfig{UnixPath: path, ReconnectInterval: 200 * time.Millisecond}, Options{ErrorOutput: discardErrors})
	if err != nil {
		t.Fatal(err)
	}
	logRecord(t, core, "one", record())
	readDatagram(t, l)
	l.Close()
	os.Remove(path)
	logRecord(t, core, "lost", record()) // the daemon is gone
	logRecord(t, core, "lost too", record())
	l2, err := listenAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	time.Sleep(250 * time.Millisecond)
	logRecord(t, core, "back", record())
	if got := readDatagram(t, l2); !strings.Contains(got, "]: back,") {
		t.Errorf("after the restart: %s", got)
	}
	core.Close()
	s := core.Stats()
	if s.Total != 4 || s.Passed != 2 || s.DropPeerUnreachable != 2 || s.Passed+s.Dropped() != s.Total {
		t.Errorf("stats %+v, want 4 total, 2 passed, 2 dropped as peer unreachable", s)
	}
}

// RFC5424Strict (tasklog's extension): "-" before a CEE body, and in the
// structured data only RFC 5424's escapes, every other character as it
// is; the message unescaped. Without RFC5424 it is an error.
func TestSyslogRFC5424Strict(t *testing.T) {
	nasty := "q\"b\\s]e=a'p\x01\t\n\u00a0e\u0301 日本 \xff"
	rec := record()
	rec.User = nasty
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: testTime, Message: "read failed: " + nasty}
	format := func(cfg SyslogConfig) string {
		t.Helper()
		cfg.Ident, cfg.UnixPath = "g3proxy", "/dev/null"
		f, err := newSyslogFormatter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.pid = 4242
		b, err := f.with(logFields()).format(nil, ent, []zapcore.Field{tasklog.Field(rec)})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sd := format(SyslogConfig{RFC5424: true, RFC5424Strict: true})
	for _, want := range []string{
		"<29>1 2026-11-24T10:30:04.987654Z - g3proxy 4242 - [g3proxy@0 server_name=\"http\" ",
		` user="q\"b\\s\]e=a'p` + "\x01\t\n\u00a0e\u0301 日本 \uFFFD\"",
		"] read failed: q\"b\\s]e=a'p\x01\t\n\u00a0e\u0301 日本 \uFFFD",
	} {
		if !strings.Contains(sd, want) {
			t.Errorf("strict structured data lacks %q:\n%q", want, sd)
		}
	}
	if g3 := format(SyslogConfig{RFC5424: true}); !strings.Contains(g3, `user="q\"b\\s\]e=a\'p\u{1}\t\n\u{a0}e\u{301}`) {
		t.Errorf("g3's own form changed: %q", g3)
	}
	cee := format(SyslogConfig{RFC5424: true, RFC5424Strict: true, CEE: true})
	if !strings.HasPrefix(cee, "<29>1 2026-11-24T10:30:04.987654Z - g3proxy 4242 - - @cee:{\"server_name\":\"http\"") {
		t.Errorf("strict CEE: %q", cee)
	}
	if _, err := newSyslogFormatter(SyslogConfig{RFC5424Strict: true}); err == nil || !strings.Contains(err.Error(), "RFC5424Strict") {
		t.Errorf("RFC5424Strict without RFC5424: %v", err)
	}
}

// The RFC 5424 timestamp is the layout's, in UTC, truncated to the
// microsecond, for every year time.Time holds.
func TestRFC5424TimeIsTheLayouts(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	times := []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, east), time.Date(10000, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2026, 11, 24, 10, 30, 4, 987654321, east), {}}
	rng := rand.New(rand.NewSource(3))
	for range 1000 {
		times = append(times, time.Unix(rng.Int63n(1<<40)-1<<39, rng.Int63n(1e9)).In(east))
	}
	for _, tm := range times {
		if got, want := string(appendRFC5424Time(nil, tm)), tm.UTC().Format("2006-01-02T15:04:05.000000Z"); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}
