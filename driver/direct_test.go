package driver

import (
	"math/rand"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// randomFinished draws a TcpConnect or HttpForward record for the
// straight-line writer: two in three of its kind (finished, every value
// one it writes as it is, hostile strings, every address and upstream
// form it takes), the rest off by one value it must leave to the line
// path (an event, an enum, a zoned or missing address, an upstream of
// another form, a status, a negative duration, another detail).
func randomFinished(rng *rand.Rand) *tasklog.TaskLog {
	pick := func(n int) int { return rng.Intn(n) }
	addrs := []string{"10.0.0.1:3128", "[2001:db8::7]:53211", "[::ffff:1.2.3.4]:80", "0.0.0.0:1", "[::]:65535", "255.255.255.255:0"}
	addr := func() netip.AddrPort { return netip.MustParseAddrPort(addrs[pick(len(addrs))]) }
	optAddr := func() netip.AddrPort {
		if pick(3) == 0 {
			return netip.AddrPort{}
		}
		return addr()
	}
	dur := func() time.Duration {
		switch pick(4) {
		case 0:
			return 0
		case 1:
			return time.Duration(rng.Int63())
		}
		return time.Duration(rng.Int63n(int64(time.Minute)))
	}
	upstreams := []string{"", "example.com:443", "a-b_c.d:1", "1.2.3.4:80", "[2001:db8::1]:443", "0.0.0.0:80", "[::]:80", "9.9.9.9:65535"}
	statuses := []int{0, 100, 200, 502, 999}
	tcp := tasklog.TCPConnect{
		ServerAddr: addr(), ClientAddr: addr(), NextPeerAddr: optAddr(), NextBoundAddr: optAddr(),
		Upstream: upstreams[pick(len(upstreams))], ConnectSpend: dur(), ConnectTries: []int{0, 1, 2, 1<<31 - 1}[pick(4)],
		RemoteWriteBytes: rng.Uint64(), RemoteReadBytes: uint64(pick(3)), ClientWriteBytes: ^uint64(0), ClientReadBytes: rng.Uint64() >> pick(64),
	}
	if pick(2) == 0 {
		tcp.NextBindIP = []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::1")}[pick(2)]
	}
	if pick(2) == 0 {
		tcp.NextExpire = time.Date(2026, 11, 24, 10, 30, 1, rng.Intn(1e9), time.UTC)
	}
	r := &tasklog.TaskLog{
		ServerType: tasklog.ServerType(1 + pick(3)), ServerName: randomText(rng) + "n", TaskID: uuid.New(),
		Event: []tasklog.Event{0, tasklog.EventFinished}[pick(2)], Stage: tasklog.StageRelaying,
		StartAt: time.Date(2026, 11, 24, 10, 30, 1, rng.Intn(1e9), time.UTC), Reason: tasklog.ReasonClosedByClient,
		TotalTime: dur() + 1, ReadyTime: dur(), WaitTime: dur(), User: randomText(rng), Escaper: randomText(rng),
	}
	var http *tasklog.HTTPForward
	if pick(4) == 0 {
		r.Detail = &tcp
	} else {
		uri := "http://u:p@h.example/a\"b]c?q=" + randomText(rng) + "#frag"
		if pick(4) == 0 {
			uri = "/" + strings.Repeat("x\u00e9]", 600)
		}
		http = &tasklog.HTTPForward{
			TCPConnect: tcp, Method: []string{"GET", "M\"E]"}[pick(2)], URI: uri, URIMaxChars: []int{0, 10, 5000}[pick(3)],
			UserAgent: randomText(rng), RspStatus: statuses[pick(len(statuses))], OriginStatus: statuses[pick(len(statuses))],
			ReuseConnection: pick(2) == 0, PipelineWait: dur(), ReqSendHdr: dur(), ReqSendAll: dur(), RspRecvHdr: dur(), RspRecvAll: dur(),
		}
		r.Detail = http
	}
	if pick(3) != 0 {
		return r
	}
	// One value the straight-line writer leaves to the line path.
	d := &tcp
	if http != nil {
		d = &http.TCPConnect
	}
	zoned := netip.MustParseAddrPort("[fe80::1%eth0]:80")
	switch pick(16) {
	case 0:
		r.Event = tasklog.Event(2 + pick(4))
	case 1:
		r.ServerType = tasklog.ServerType(200)
	case 2:
		r.Stage = tasklog.Stage(200)
	case 3:
		r.Reason = tasklog.Reason(250)
	case 4:
		r.TaskID = uuid.Nil
	case 5:
		r.StartAt = time.Time{}
	case 6:
		r.ServerName = ""
	case 7:
		r.TotalTime = []time.Duration{0, -1}[pick(2)]
	case 8:
		r.WaitTime = -time.Millisecond
	case 9:
		d.ServerAddr = []netip.AddrPort{{}, zoned}[pick(2)]
	case 10:
		d.NextPeerAddr, d.NextBindIP = zoned, netip.MustParseAddr("fe80::1%eth0")
	case 11:
		d.Upstream = []string{"example.com:0", "example.com:65536", "example.com:080", "exa mple.com:80", "日本.jp:80",
			"[1.2.3.4]:80", "1.2.3:80", "[fe80::1%eth0]:80", "h:1:2", ":80", "example.com", "x!y:1", "1.2.3.4:123456"}[pick(13)]
	case 12:
		d.ConnectTries, d.ConnectSpend = -1, -1
	case 13:
		r.Detail = []tasklog.Detail{&tasklog.UDPAssociate{TCPClientAddr: tcp.ClientAddr}, (*tasklog.HTTPForward)(nil), (*tasklog.TCPConnect)(nil)}[pick(3)]
	default:
		if http != nil {
			switch pick(4) {
			case 0:
				http.Method = ""
			case 1:
				http.RspStatus = []int{99, 1000, -1}[pick(3)]
			case 2:
				http.PipelineWait = -1
			default:
				http.RspRecvAll = -1
			}
		}
	}
	return r
}

// The straight-line writer writes, byte for byte, what the line path
// (for the journal and stdout, the collected pairs) writes, for every
// syslog text format, the journal and stdout, random contexts and random
// finished records, or leaves the record to it.
func TestTaskTextMatchesLine(t *testing.T) {
	defer func() { directOff = false }()
	formats := map[string]formatter{
		"rfc3164":        testSyslogFormatter(t, SyslogConfig{AppendReportTS: true}),
		"rfc5424":        testSyslogFormatter(t, SyslogConfig{RFC5424: true, AppendReportTS: true}),
		"rfc5424-strict": testSyslogFormatter(t, SyslogConfig{RFC5424: true, RFC5424Strict: true}),
		"journal":        newJournalFormatter("g3proxy"),
		"stdout":         newStdoutFormatter(),
	}
	contexts := [][]zapcore.Field{nil, tasklog.LoggerFields("g3proxy"),
		{zap.String("k", "v\"]'\u00a0"), zap.Int64("n", -3), zap.Bool("b", true), zap.Duration("d", time.Second)},
		{zap.String("bad", "a\xffb\xe2\x82"), zap.String("nl", "x\ny"), zap.Uint64("u", 1<<63)},
		{zap.Dict("obj", zap.String("x", "y"))}, // the line path's context the writer cannot take
	}
	rng := rand.New(rand.NewSource(11))
	const n = 4000
	direct := 0
	for i := 0; i < n; i++ {
		rec := randomFinished(rng)
		ctx := contexts[rng.Intn(len(contexts))]
		fields := []zapcore.Field{tasklog.Field(rec)}
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: randomText(rng)}
		for _, name := range []string{"rfc3164", "rfc5424", "rfc5424-strict", "journal", "stdout"} {
			f := formats[name].with(ctx)
			if name == "rfc3164" {
				if _, ok := f.(*syslogFormatter).text.entry(fields); ok {
					direct++
				}
			}
			if got, want := bothPaths(t, f, ent, fields); got != want {
				t.Fatalf("%s, record %d (%+v, detail %+v, context %v): the straight-line writer wrote\n%q\nthe line path\n%q",
					name, i, rec, rec.Detail, ctx, got, want)
			}
		}
	}
	if direct < n/2 {
		t.Errorf("only %d of %d records took the straight-line writer: the test does not exercise it", direct, n)
	}
	t.Logf("%d of %d records took the straight-line writer", direct, n)
}

// The straight-line writer allocates nothing.
func TestTaskTextAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what it holds")
	}
	f := testSyslogFormatter(t, SyslogConfig{RFC5424: true}).with(tasklog.LoggerFields("g3proxy"))
	var rec *tasklog.TaskLog
	for _, r := range g3Records() {
		if r.name == "http-hostile" {
			rec = r.field.Interface.(*tasklog.TaskLog)
		}
	}
	fields := []zapcore.Field{tasklog.Field(rec)}
	if _, ok := f.(*syslogFormatter).text.entry(fields); !ok {
		t.Fatal("the straight-line writer does not take the hostile HttpForward record")
	}
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: "m"}
	buf := make([]byte, 0, 16<<10)
	if a := testing.AllocsPerRun(100, func() { buf, _ = f.format(buf[:0], ent, fields) }); a != 0 {
		t.Errorf("%.1f allocations a record", a)
	}
}

// The straight-line writer matches the line path (the journal's and
// stdout's collected pairs) for any strings and counters the fuzzer finds
// (invalid UTF-8, newlines, every escape), in the three syslog text
// configurations, the journal and stdout, or leaves the record to the
// other path.
func FuzzTaskTextMatchesLine(f *testing.F) {
	f.Add("http", "alice", "direct", "curl/8", "http://h/a?b", "GET", "example.com:443", uint64(517), int64(2), int64(1234567), "m")
	f.Add("q\"b\\s]e='\x00\u00a0", "\xff\n\xfe", "é\u0301", "\u2066x\u2069", "/a]\"b#f", "M]", "[2001:db8::1]:80", ^uint64(0), int64(999), int64(1), "\n")
	formats := []formatter{
		testSyslogFormatter(f, SyslogConfig{AppendReportTS: true}),
		testSyslogFormatter(f, SyslogConfig{RFC5424: true}),
		testSyslogFormatter(f, SyslogConfig{RFC5424: true, RFC5424Strict: true}),
		newJournalFormatter("g3proxy").with(tasklog.LoggerFields("g3proxy")),
		newStdoutFormatter().with(tasklog.LoggerFields("g3proxy")),
	}
	f.Fuzz(func(t *testing.T, name, user, escaper, agent, uri, method, upstream string, bytes uint64, tries, nanos int64, msg string) {
		rec := &tasklog.TaskLog{
			ServerType: tasklog.ServerTypeHTTPProxy, ServerName: name, TaskID: uuid.UUID{1}, Stage: tasklog.StageRelaying,
			StartAt: time.Unix(0, nanos).UTC(), Reason: tasklog.ReasonClosedByClient, TotalTime: time.Duration(nanos),
			ReadyTime: time.Duration(nanos / 3), User: user, Escaper: escaper,
			Detail: &tasklog.HTTPForward{
				TCPConnect: tasklog.TCPConnect{ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"),
					ClientAddr: netip.MustParseAddrPort("[2001:db8::7]:53211"), Upstream: upstream,
					ConnectTries: int(tries), RemoteWriteBytes: bytes, ClientReadBytes: bytes / 7},
				Method: method, URI: uri, UserAgent: agent, RspStatus: int(tries), PipelineWait: time.Duration(nanos / 5),
			},
		}
		fields := []zapcore.Field{tasklog.Field(rec)}
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: msg}
		for _, fm := range formats {
			if got, want := bothPaths(t, fm, ent, fields); got != want {
				t.Fatalf("the straight-line writer wrote\n%q\nthe line path\n%q", got, want)
			}
		}
	})
}

// bothPaths formats the entry with the straight-line writer on (as far as
// it takes the entry) and off.
func bothPaths(t *testing.T, f formatter, ent zapcore.Entry, fields []zapcore.Field) (direct, line string) {
	t.Helper()
	defer func() { directOff = false }()
	for _, off := range []bool{false, true} {
		directOff = off
		b, err := f.format(nil, ent, fields)
		if err != nil {
			t.Fatal(err)
		}
		if off {
			line = string(b)
		} else {
			direct = string(b)
		}
	}
	return direct, line
}
