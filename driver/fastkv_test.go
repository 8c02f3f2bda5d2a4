package driver

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// randomText draws text the formats treat differently: plain ASCII, the
// characters the escapes are about, control bytes, invalid UTF-8, and
// characters Rust's escape_debug escapes or keeps.
func randomText(rng *rand.Rand) string {
	parts := []string{"", "plain", "a b", `"`, `\`, "'", "]", "=", ",", "\x00", "\x01", "\b", "\f", "\t", "\n", "\r",
		"\x1b", "\x7f", "é", "\u00a0", "e\u0301", "\ufe0f", "\ue000", "\u2060", "\u3000",
		"日本", "😀", "\ufffd", `\u0041`, "abcdefghijklmnop"}
	var b strings.Builder
	if rng.Intn(20) == 0 {
		b.WriteString([]string{"\xff", "\xe2\x82"}[rng.Intn(2)]) // not valid UTF-8
	}
	for n := rng.Intn(5); n > 0; n-- {
		b.WriteString(parts[rng.Intn(len(parts))])
	}
	return b.String()
}

// randomField draws a zap field: the types the fast path takes and some it
// leaves to the kvEncoder.
func randomField(rng *rand.Rand) zapcore.Field {
	key := []string{"k", "key_" + randomText(rng), "pid", "server_name", "a.b", "n"}[rng.Intn(6)]
	k := rng.Intn(11) // the types the fast path takes
	if rng.Intn(8) == 0 {
		k = 11 + rng.Intn(5) // and now and then one it does not, or a record
	}
	if rng.Intn(3) == 0 {
		k = 15
	}
	switch k {
	case 0:
		return zap.String(key, randomText(rng))
	case 1:
		return zap.ByteString(key, []byte(randomText(rng)))
	case 2:
		return zap.Int64(key, rng.Int63()-rng.Int63())
	case 3:
		return zap.Uint64(key, rng.Uint64())
	case 4:
		return zap.Uint16(key, uint16(rng.Intn(65536)))
	case 5:
		return zap.Bool(key, rng.Intn(2) == 0)
	case 6:
		return zap.Duration(key, time.Duration(rng.Int63n(int64(time.Hour))))
	case 7:
		return zap.Time(key, time.Unix(rng.Int63n(1<<32), 0))
	case 8:
		return zap.Binary(key, []byte(randomText(rng)))
	case 9:
		return zap.Error(errors.New(randomText(rng)))
	case 10:
		return zap.Stringer(key, stringer(randomText(rng)))
	case 11:
		return zap.Float64(key, []float64{1.5, math.NaN(), math.Inf(1), 3}[rng.Intn(4)])
	case 12:
		return zap.Namespace(key)
	case 13:
		return zap.Dict(key, zap.String("x", randomText(rng)))
	case 14:
		return zap.Skip()
	default:
		return tasklog.Field(randomRecord(rng))
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// randomRecord draws a task record, good or bad (a nil detail among the
// bad), with hostile strings.
func randomRecord(rng *rand.Rand) *tasklog.TaskLog {
	rec := g3Records()[rng.Intn(7)].field.Interface.(*tasklog.TaskLog)
	c := *rec
	c.ServerName, c.User, c.Escaper = randomText(rng), randomText(rng), randomText(rng)
	if rng.Intn(4) == 0 {
		c.TaskID = uuid.Nil // a bad record: tasklogError
	}
	if rng.Intn(10) == 0 { // a detail that is a typed nil: a bad record too
		c.Detail = []tasklog.Detail{(*tasklog.TCPConnect)(nil), (*tasklog.HTTPForward)(nil), (*tasklog.FTPOverHTTP)(nil),
			(*tasklog.UDPAssociate)(nil), (*tasklog.UDPConnect)(nil)}[rng.Intn(5)]
	}
	return &c
}

// The fast path (NewEncoder's JSON line read back) writes, byte for byte,
// what the kvEncoder's path writes, for every syslog text format and
// random context and fields, or leaves the entry to it.
func TestFastLinesMatchCollect(t *testing.T) {
	defer func() { fastLinesOff = false }()
	formats := map[string]formatter{
		"rfc3164":        testSyslogFormatter(t, SyslogConfig{AppendReportTS: true}),
		"rfc5424":        testSyslogFormatter(t, SyslogConfig{RFC5424: true, AppendReportTS: true}),
		"rfc5424-strict": testSyslogFormatter(t, SyslogConfig{RFC5424: true, RFC5424Strict: true}),
	}
	rng := rand.New(rand.NewSource(7))
	fast := 0
	for i := 0; i < 3000; i++ {
		var ctx, fields []zapcore.Field
		for n := rng.Intn(3); n > 0; n-- {
			ctx = append(ctx, randomField(rng))
		}
		for n := rng.Intn(4); n > 0; n-- {
			fields = append(fields, randomField(rng))
		}
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: randomText(rng)}
		fastLinesOff = false
		if e := (fastLines{}).with(ctx).line(fields); e != nil {
			if _, ok := appendLineKVs(nil, e.arena, &e.scratch, false, false); ok {
				fast++
			}
			putKV(e)
		}
		for name, f := range formats {
			fastLinesOff = false
			got, err := f.with(ctx).format(nil, ent, fields)
			if err != nil {
				t.Fatal(err)
			}
			fastLinesOff = true
			want, err := f.with(ctx).format(nil, ent, fields)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s, entry %d (context %v, fields %v): the fast path wrote\n%q\nthe kvEncoder's\n%q", name, i, ctx, fields, got, want)
			}
		}
	}
	if fast < 300 {
		t.Errorf("only %d of 3000 entries took the fast path: the test does not exercise it", fast)
	}
	t.Logf("%d of 3000 entries took the fast path", fast)
}

// The stdout format's reuse of the last sort writes what sorting every
// record writes, for random entries one after another (repeated keys,
// namespaces and records of every kind included).
func TestStdoutSortReuseMatchesSort(t *testing.T) {
	defer func() { sortCacheOff = false }()
	withCtx := (newStdoutFormatter()).with([]zapcore.Field{zap.String("daemon_name", "g3proxy")})
	rng := rand.New(rand.NewSource(11))
	recs := g3Records()
	for i := 0; i < 2000; i++ {
		var fields []zapcore.Field
		if rng.Intn(2) == 0 {
			r := recs[rng.Intn(len(recs))]
			fields = append(fields, r.ctx...)
			fields = append(fields, r.field)
		}
		for n := rng.Intn(3); n > 0; n-- {
			fields = append(fields, randomField(rng))
		}
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime.Add(time.Duration(rng.Int63n(int64(time.Hour)))), Message: "m"}
		f := withCtx
		if rng.Intn(2) == 0 {
			f = newStdoutFormatter() // no context: some records have no keys
		}
		sortCacheOff = false
		got, _ := f.format(nil, ent, fields)
		sortCacheOff = true
		want, _ := f.format(nil, ent, fields)
		if string(got) != string(want) {
			t.Fatalf("entry %d: with the last sort reused\n%q\nsorted\n%q", i, got, want)
		}
		if wantTime := ent.Time.Local().Format("Jan 02 15:04:05.000"); !strings.HasPrefix(string(got), wantTime+" ") {
			t.Fatalf("entry %d: %q does not start with %q", i, got, wantTime)
		}
	}
}

// A record with no keys after one with a repeated key (which the sort
// cache does not keep) and one with a key (which it does) prints no keys;
// the cache used to hand it the older record's order, and it panicked.
func TestStdoutNoKeysAfterRepeatedKeys(t *testing.T) {
	f := newStdoutFormatter()
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: "m"}
	for _, fields := range [][]zapcore.Field{
		{zap.String("b", "1")},
		{zap.String("a", "1"), zap.String("a", "2")},
		nil,
	} {
		b, err := f.format(nil, ent, fields)
		if err != nil {
			t.Fatal(err)
		}
		if len(fields) == 0 && !strings.HasSuffix(string(b), " INFO m\n") {
			t.Errorf("a record with no keys: %q", b)
		}
	}
}

// The deferred path (see lineFormatter): what a writer renders from the
// line the logging goroutine wrote is, byte for byte, what format writes
// on the kvEncoder's path, for random contexts and fields; and every
// entry whose line was taken renders.
func TestRenderMatchesFormat(t *testing.T) {
	defer func() { fastLinesOff = false }()
	formats := deferringFormats(t)
	rng := rand.New(rand.NewSource(13))
	deferred := map[string]int{}
	var scratch []byte
	const n = 4000
	for i := 0; i < n; i++ {
		var ctx, fields []zapcore.Field
		for n := rng.Intn(3); n > 0; n-- {
			ctx = append(ctx, randomField(rng))
		}
		for n := rng.Intn(4); n > 0; n-- {
			fields = append(fields, randomField(rng))
		}
		ent := zapcore.Entry{Level: zapcore.Level(rng.Intn(6) - 1), Time: g3bytesTime.Add(time.Duration(rng.Int63n(int64(time.Hour)))), Message: randomText(rng)}
		for name, f := range formats {
			fastLinesOff = false
			lf := deferring(f.with(ctx))
			if lf == nil {
				continue
			}
			line, ok := lf.line(nil, fields)
			if !ok {
				continue
			}
			deferred[name]++
			got, ok := lf.render([]byte("before"), &ent, line, &scratch)
			if !ok {
				t.Fatalf("%s, entry %d (context %v, fields %v): the line was taken but does not render:\n%s", name, i, ctx, fields, line)
			}
			fastLinesOff = true
			want, err := f.with(ctx).format([]byte("before"), ent, fields)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s, entry %d (context %v, fields %v): rendered from the line\n%q\nformatted\n%q", name, i, ctx, fields, got, want)
			}
		}
	}
	for name := range formats {
		if deferred[name] < n/10 {
			t.Errorf("%s: only %d of %d entries were deferred: the test does not exercise the path", name, deferred[name], n)
		}
	}
	t.Logf("deferred of %d: %v", n, deferred)
}

// testSyslogFormatter is a syslog formatter of cfg, as g3proxy's ident.
func testSyslogFormatter(t testing.TB, cfg SyslogConfig) formatter {
	cfg.Ident, cfg.UnixPath = "g3proxy", "/dev/null"
	f, err := newSyslogFormatter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// deferringFormats are the formatters that take the deferred path, in the
// configurations whose rendering differs.
func deferringFormats(t *testing.T) map[string]formatter {
	syslog := func(cfg SyslogConfig) formatter { return testSyslogFormatter(t, cfg) }
	return map[string]formatter{
		"rfc3164":        syslog(SyslogConfig{AppendReportTS: true}),
		"rfc3164-host":   syslog(SyslogConfig{EmitHostname: true}),
		"rfc5424":        syslog(SyslogConfig{RFC5424: true, AppendReportTS: true, MessageID: "m"}),
		"rfc5424-strict": syslog(SyslogConfig{RFC5424: true, RFC5424Strict: true}),
		"journal":        &journalFormatter{ident: "g3proxy"},
		"stdout":         newStdoutFormatter(),
	}
}

// The journal's field names and stdout's sort are kept for the next record
// with copies of the keys: a rendered record's keys view its line, whose
// buffer the next records reuse, and a cache of views compared the next
// record's keys with whatever that buffer held by then.
func TestKeyCachesOwnTheirKeys(t *testing.T) {
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: "m"}
	for name, f := range map[string]lineFormatter{"journal": newJournalFormatter("i"), "stdout": newStdoutFormatter()} {
		reused := []byte(`{"aa":"1","cc":"2"}`)
		if _, ok := f.render(nil, &ent, reused, nil); !ok {
			t.Fatal("render failed")
		}
		copy(reused, `{"bb":"1","dd":"2"}`) // the buffer, reused for another record
		got, ok := f.render(nil, &ent, []byte(`{"bb":"1","dd":"2"}`), nil)
		if !ok {
			t.Fatal("render failed")
		}
		want, _ := f.format(nil, ent, []zapcore.Field{zap.String("bb", "1"), zap.String("dd", "2")})
		if name == "journal" {
			want, _ = f.format(nil, ent, []zapcore.Field{zap.String("dd", "2"), zap.String("bb", "1")}) // g3's order: last to first
		}
		if string(got) != string(want) {
			t.Errorf("%s: rendered %q, want %q", name, got, want)
		}
	}
}
