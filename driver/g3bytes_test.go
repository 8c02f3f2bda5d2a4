package driver

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The drivers' bytes against g3's. testdata/g3bytes is a Rust program that
// writes what g3proxy's syslog, fluentd and journal formatters put on the
// wire for each record of testdata/g3bytes/records.tsv, through a real
// slog Logger (slog decides the order of the keys), Rust's escape_debug
// and rmp's integer forms (see its main.rs); its output is committed as
// testdata/g3bytes/g3bytes.tsv. The test formats the same records with
// the same header values through each driver and compares byte for byte.
//
// Regenerate after changing the records (needs cargo and Debian's
// librust-slog-dev, librust-rmp-dev and librust-itoa-dev):
//
//	go test ./driver -run TestDriversWriteG3Bytes -args -update-g3bytes

var updateG3Bytes = flag.Bool("update-g3bytes", false, "rewrite testdata/g3bytes/records.tsv and g3bytes.tsv")

// The header values of every record, as in g3bytes' main.rs (the pid in
// the logger's keys is logFields' 4242 too).
const (
	g3bytesPID      = 4242
	g3bytesHostname = "host.example"
)

var g3bytesTime = time.Date(2026, 11, 24, 10, 30, 4, 987654321, time.UTC)

// g3Types are the Rust types of g3's integer keys (g3proxy/src/log/task,
// module/*/task.rs): they decide fluentd's MessagePack forms.
var g3Types = map[string]string{
	"pid": "u32", "rsp_status": "u16", "origin_status": "u16", "server_port": "u16",
	"tcp_connect_tries": "usize", "ftp_c_connect_tries": "usize", "ftp_d_connect_tries": "usize",
	"c_rd_bytes": "u64", "c_wr_bytes": "u64", "r_rd_bytes": "u64", "r_wr_bytes": "u64",
	"c_rd_packets": "u64", "c_wr_packets": "u64", "r_rd_packets": "u64", "r_wr_packets": "u64",
	"ftp_c_rd_bytes": "u64", "ftp_c_wr_bytes": "u64", "ftp_d_rd_bytes": "u64", "ftp_d_wr_bytes": "u64",
}

// hostileText holds every kind of character the formats escape or must
// carry raw: quotes, backslashes, ], =, ', control characters, and the
// Unicode classes Rust's escape_debug escapes (U+00A0, a combining mark,
// U+FE0F, private use, U+2060, U+2003, U+3000, a bidi isolate, Thai,
// Devanagari and Arabic marks, U+00AD, U+FEFF) beside CJK and emoji it
// does not.
const hostileText = "q\"b\\s]e=a'p\x00\x01\t\n\r\x1b\x7f nb\u00a0e\u0301vs\ufe0fpu\ue000wj\u2060em\u2003id\u3000bi\u2066x\u2069" +
	"th\u0e31dv\u093far\u0610sh\u00adbom\ufeff 日本語 😀👍🏽 ok"

type g3Record struct {
	name, msg string
	ctx       []zapcore.Field // the logger's keys
	field     zapcore.Field   // the record
}

// escapeCtx and resolveCtx are g3's escape and resolve logger keys with
// the pid fixed to 4242.
func escapeCtx() []zapcore.Field {
	return []zapcore.Field{zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Escape"), zap.Uint32("pid", 4242)}
}

func resolveCtx() []zapcore.Field {
	return []zapcore.Field{zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Resolve"), zap.Uint32("pid", 4242)}
}

func g3Records() []g3Record {
	id := uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a")
	start := time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC)
	base := func(ev tasklog.Event, d tasklog.Detail) *tasklog.TaskLog {
		return &tasklog.TaskLog{ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: id, Event: ev,
			Stage: tasklog.StageRelaying, StartAt: start, Detail: d}
	}
	tcp := func() *tasklog.TCPConnect {
		return &tasklog.TCPConnect{ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"),
			ClientAddr: netip.MustParseAddrPort("[2001:db8::7]:53211"), Upstream: "example.com:443"}
	}
	finished := base(0, tcp())
	finished.User, finished.Escaper, finished.Reason = "alice", "direct", tasklog.ReasonClosedByClient
	finished.WaitTime, finished.ReadyTime, finished.TotalTime = 23456, 13456789, 2345678901
	fd := finished.Detail.(*tasklog.TCPConnect)
	fd.NextBindIP, fd.NextBoundAddr = netip.MustParseAddr("192.0.2.10"), netip.MustParseAddrPort("192.0.2.10:40000")
	fd.NextPeerAddr, fd.ConnectTries, fd.ConnectSpend = netip.MustParseAddrPort("93.184.216.34:443"), 2, 1234567
	fd.ClientReadBytes, fd.ClientWriteBytes, fd.RemoteReadBytes, fd.RemoteWriteBytes = 517, 4810, 4810, 517

	created := base(tasklog.EventCreated, tcp()) // most keys unset: none

	hostile := base(0, &tasklog.HTTPForward{TCPConnect: *tcp(), Method: "GET",
		URI:       "http://h.example/" + strings.Repeat("a%22b]c", 200) + "?q=\"x\"&r=]",
		UserAgent: hostileText, RspStatus: 200, OriginStatus: 502, ReuseConnection: true})
	hostile.User, hostile.Escaper, hostile.Reason, hostile.TotalTime = hostileText, "d\"ir]", tasklog.ReasonUpstreamReadFailed, 1
	hd := hostile.Detail.(*tasklog.HTTPForward)
	hd.ClientReadBytes, hd.ClientWriteBytes, hd.RemoteReadBytes, hd.RemoteWriteBytes = math.MaxUint64, math.MaxUint64, 0, 1
	hd.ConnectTries = math.MaxInt32

	udp := base(tasklog.EventPeriodic, &tasklog.UDPAssociate{
		TCPServerAddr: netip.MustParseAddrPort("127.0.0.1:1080"), TCPClientAddr: netip.MustParseAddrPort("127.0.0.1:50000"),
		UDPListenAddr: netip.MustParseAddrPort("[::1]:40000"), UDPClientAddr: netip.MustParseAddrPort("[::1]:50001"),
		InitialPeer: "[2001:db8::1]:53",
		UDPCounters: tasklog.UDPCounters{ClientReadBytes: 1, ClientReadPackets: 2, ClientWriteBytes: 3, ClientWritePackets: 4,
			RemoteReadBytes: 5, RemoteReadPackets: 6, RemoteWriteBytes: 7, RemoteWritePackets: math.MaxUint64}})
	udp.TotalTime = time.Hour

	ftp := base(0, &tasklog.FTPOverHTTP{ServerAddr: netip.MustParseAddrPort("127.0.0.1:8080"),
		ClientAddr: netip.MustParseAddrPort("127.0.0.1:50001"), Upstream: "ftp.example:21",
		NextBindIP: netip.MustParseAddr("::1"), NextExpire: start,
		Control: tasklog.FTPConn{BoundAddr: netip.MustParseAddrPort("[::1]:40001"), PeerAddr: netip.MustParseAddrPort("[::1]:21"),
			ConnectTries: 1, ConnectSpend: 2000, ReadBytes: 300, WriteBytes: 80},
		Data:   tasklog.FTPConn{ConnectTries: 0, ReadBytes: 10000},
		Method: "GET", URI: "ftp://anon:secret@ftp.example/pub/file", UserAgent: "curl", RspStatus: 200,
		ClientReadBytes: 90, ClientWriteBytes: 10200})
	ftp.Escaper, ftp.Reason, ftp.TotalTime = "", tasklog.ReasonFinished, 1500*time.Millisecond

	udpConnect := base(tasklog.EventConnected, &tasklog.UDPConnect{
		TCPServerAddr: netip.MustParseAddrPort("127.0.0.1:1080"), TCPClientAddr: netip.MustParseAddrPort("127.0.0.1:50000"),
		UDPListenAddr: netip.MustParseAddrPort("127.0.0.1:40000"), UDPClientAddr: netip.MustParseAddrPort("127.0.0.1:50001"),
		Upstream: "dns.example:53", NextBoundAddr: netip.MustParseAddrPort("127.0.0.1:40001"),
		NextPeerAddr: netip.MustParseAddrPort("127.0.0.53:53")})
	udpConnect.User, udpConnect.Escaper, udpConnect.ReadyTime = "u", "direct", time.Millisecond

	shutdown := base(tasklog.EventClientShutdown, tcp())
	shutdown.TotalTime = time.Second

	escapeTCP := &tasklog.EscapeLog{EscaperType: "DirectFixed", EscaperName: "direct", TaskID: id, Detail: &tasklog.EscapeTCPConnect{
		Upstream: "example.com:443", NextBindIP: netip.MustParseAddr("192.0.2.10"), NextBoundAddr: netip.MustParseAddrPort("192.0.2.10:40000"),
		NextPeerAddr: netip.MustParseAddrPort("93.184.216.34:443"), ConnectTries: 3, ConnectSpend: 3 * time.Second,
		Reason: tasklog.TCPConnectErrorConnectFailed}}
	escapeTLS := &tasklog.EscapeLog{EscaperType: "DirectFixed", EscaperName: hostileText, TaskID: id, Detail: &tasklog.EscapeTLSHandshake{
		Upstream: "[2001:db8::1]:443", TLSName: "2001:db8::1", TLSPeer: "[2001:db8::1]:443", TLSApplication: tasklog.TLSApplicationTCPStream}}

	resolveNX := &tasklog.ResolveLog{ResolverType: "hickory", ResolverName: "main", BindIP: netip.MustParseAddr("127.0.0.1"),
		Servers: []netip.Addr{netip.MustParseAddr("127.0.0.53"), netip.MustParseAddr("::1")}, ServerPort: 53,
		QueryType: tasklog.QueryTypeA, Duration: 1500 * time.Microsecond, RRSource: tasklog.RRSourceQuery,
		ErrorType: tasklog.ResolveErrorServer, ErrorSubtype: tasklog.ResolveErrorNotFound, Domain: "nx.example"}
	resolveEmpty := &tasklog.ResolveLog{ResolverType: "hickory", ResolverName: hostileText, BindInterface: "eth0",
		Encryption: "DnsOverHttps(dns.example)", QueryType: tasklog.QueryTypeAAAA, RRSource: tasklog.RRSourceCache,
		ErrorType: tasklog.ResolveErrorEmptyDomain}

	task := func(name, msg string, rec *tasklog.TaskLog) g3Record {
		return g3Record{name, msg, logFields(), tasklog.Field(rec)}
	}
	return []g3Record{
		task("tcp-finished", "closed by client", finished),
		task("tcp-client-shutdown", "", shutdown),
		task("ftp-finished", "finished", ftp),
		task("udp-connect-connected", "", udpConnect),
		task("tcp-created", "", created),
		task("http-hostile", "upstream read failed: "+hostileText, hostile),
		task("udp-periodic", "", udp),
		{"escape-tcp-connect", "connect failed: connection refused", escapeCtx(), tasklog.EscapeField(escapeTCP)},
		{"escape-tls-hostile", "upstream tls handshake failed: " + hostileText, escapeCtx(), tasklog.EscapeField(escapeTLS)},
		{"resolve-notfound", "server error: server claims domain name not found", resolveCtx(), tasklog.ResolveField(resolveNX)},
		{"resolve-empty-hostile", "empty domain", resolveCtx(), tasklog.ResolveField(resolveEmpty)},
	}
}

// writeRecordsTSV writes the records as g3bytes reads them: the logger's
// keys (g3's task logger carries server_type and server_name) and the
// record's, each in g3's source order, with g3's Rust types.
func writeRecordsTSV(t *testing.T, path string) {
	t.Helper()
	var b strings.Builder
	hx := func(s string) string { return hex.EncodeToString([]byte(s)) }
	for _, r := range g3Records() {
		fmt.Fprintf(&b, "record\t%s\t%s\n", r.name, hx(r.msg))
		e := getKV()
		e.encode(r.ctx)
		ctxEnd := len(e.pairs)
		e.encode([]zapcore.Field{r.field})
		e.seal()
		for pass := 0; pass < 2; pass++ {
			for i, p := range e.pairs {
				logger := i < ctxEnd || isLoggerKey(p.key)
				if logger != (pass == 0) {
					continue
				}
				typ, val := "str", p.s
				switch p.kind {
				case kindNone:
					typ, val = "none", ""
				case kindBool:
					typ, val = "bool", strconv.FormatBool(p.n == 1)
				case kindInt, kindUint:
					typ = g3Types[p.key]
					if typ == "" {
						t.Fatalf("no g3 type for integer key %s", p.key)
					}
					v, _ := p.text(nil)
					val = string(v)
				}
				fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", map[bool]string{true: "logger", false: "kv"}[logger], p.key, typ, hx(val))
			}
		}
		putKV(e)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// g3Formats are the driver configurations of g3bytes' FORMATS.
func g3Formats(t *testing.T) map[string]formatter {
	t.Helper()
	syslog := func(cfg SyslogConfig) formatter {
		cfg.Ident, cfg.UnixPath = "g3proxy", "/dev/null"
		f, err := newSyslogFormatter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.pid = g3bytesPID
		if cfg.EmitHostname {
			f.hostname = g3bytesHostname
		}
		return f
	}
	return map[string]formatter{
		"rfc3164":                            syslog(SyslogConfig{}),
		"rfc3164-user-hostname-report_ts":    syslog(SyslogConfig{Facility: ptrTo(FacilityUser), EmitHostname: true, AppendReportTS: true}),
		"rfc3164-cee":                        syslog(SyslogConfig{CEE: true}),
		"rfc3164-cee-flag-report_ts":         syslog(SyslogConfig{CEE: true, CEEEventFlag: "@json:", AppendReportTS: true}),
		"rfc5424":                            syslog(SyslogConfig{RFC5424: true}),
		"rfc5424-eid-mid-hostname-report_ts": syslog(SyslogConfig{RFC5424: true, EnterpriseID: 32473, MessageID: "TASK", EmitHostname: true, AppendReportTS: true}),
		"rfc5424-cee":                        syslog(SyslogConfig{RFC5424: true, CEE: true}),
		"rfc5424-cee-mid-flag-report_ts":     syslog(SyslogConfig{RFC5424: true, CEE: true, MessageID: "TASK", CEEEventFlag: "@json:", AppendReportTS: true}),
		"fluentd":                            &fluentdFormatter{tag: "g3proxy.Task"},
		"journal":                            &journalFormatter{ident: "g3proxy"},
		"stdout":                             newStdoutFormatter(),
	}
}

func TestDriversWriteG3Bytes(t *testing.T) {
	dir := filepath.Join("testdata", "g3bytes")
	if *updateG3Bytes {
		writeRecordsTSV(t, filepath.Join(dir, "records.tsv"))
		cmd := exec.Command("cargo", "run", "-q", "--", "records.tsv")
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cargo run in %s: %v", dir, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "g3bytes.tsv"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The records the golden bytes were made from are the records here.
	tmp := filepath.Join(t.TempDir(), "records.tsv")
	writeRecordsTSV(t, tmp)
	want, _ := os.ReadFile(filepath.Join(dir, "records.tsv"))
	if got, _ := os.ReadFile(tmp); string(got) != string(want) {
		t.Fatal("testdata/g3bytes/records.tsv is not what the records here write: regenerate with -update-g3bytes")
	}

	// RFC 3164 headers are in local time, as g3's: make it UTC here.
	defer func() { zone = nil }()
	zone = time.UTC

	formats := g3Formats(t)
	recs := map[string]g3Record{}
	for _, r := range g3Records() {
		recs[r.name] = r
	}
	f, err := os.Open(filepath.Join(dir, "g3bytes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := map[string]bool{}
	n := 0
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			t.Fatalf("g3bytes.tsv: bad line %q", sc.Text())
		}
		r, ok := recs[parts[0]]
		fm, fok := formats[parts[1]]
		if !ok || !fok {
			t.Fatalf("g3bytes.tsv: unknown record or format in %q", parts[:2])
		}
		seen[parts[1]] = true
		g3, _ := hex.DecodeString(parts[2])
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: r.msg}
		got, err := fm.with(r.ctx).format(nil, ent, []zapcore.Field{r.field})
		if err != nil {
			t.Errorf("%s/%s: %v", parts[0], parts[1], err)
			continue
		}
		if string(got) != string(g3) {
			t.Errorf("%s/%s differs from g3's bytes at byte %d:\n got %q\nwant %q", parts[0], parts[1], firstDiff(got, g3), got, g3)
		}
		n++
	}
	if n != len(recs)*len(formats) || len(seen) != len(formats) {
		var names []string
		for k := range formats {
			names = append(names, k)
		}
		sort.Strings(names)
		t.Errorf("compared %d records, want %d (%d records × formats %v)", n, len(recs)*len(formats), len(recs), names)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// NewCEECore and NewCEE write, as a line, exactly the body g3's syslog
// driver sends after its CEE flag, for every record of the golden set:
// the CEE configurations' bytes with their syslog header cut off. So do
// tasklog.NewCore and tasklog.NewEncoder, with tasklog.EncoderConfig.
func TestCEELinesAreG3Bodies(t *testing.T) {
	recs := map[string]g3Record{}
	for _, r := range g3Records() {
		recs[r.name] = r
	}
	f, err := os.Open(filepath.Join("testdata", "g3bytes", "g3bytes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	configs := map[string]struct {
		flag string
		cfg  CEEConfig
	}{
		"rfc3164-cee":                {"@cee:", CEEConfig{}},
		"rfc3164-cee-flag-report_ts": {"@json:", CEEConfig{AppendReportTS: true}},
	}
	n := 0
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		c, ok := configs[parts[1]]
		if !ok {
			continue
		}
		r := recs[parts[0]]
		g3, _ := hex.DecodeString(parts[2])
		i := strings.Index(string(g3), c.flag)
		if i < 0 {
			t.Fatalf("%s/%s: no %s in g3's bytes", parts[0], parts[1], c.flag)
		}
		want := string(g3[i+len(c.flag):]) + "\n"

		var sync bytes.Buffer
		logger := zap.New(NewCEECore(zapcore.AddSync(&sync), c.cfg, zapcore.InfoLevel), zap.WithClock(g3bytesClock{}))
		logger.With(r.ctx...).Info(r.msg, r.field)

		var async bytes.Buffer
		core := NewCEE(&async, c.cfg, Options{})
		zap.New(core, zap.WithClock(g3bytesClock{})).With(r.ctx...).Info(r.msg, r.field)
		if err := core.Close(); err != nil {
			t.Fatal(err)
		}
		// tasklog's own encoder, through its core and through zap's, writes
		// the same line: with report_ts as its time key when g3 appends it.
		cfg := tasklog.EncoderConfig()
		if !c.cfg.AppendReportTS {
			cfg.TimeKey = ""
		}
		var direct, viaZap bytes.Buffer
		zap.New(tasklog.NewCore(cfg, zapcore.AddSync(&direct), zapcore.InfoLevel), zap.WithClock(g3bytesClock{})).
			With(r.ctx...).Info(r.msg, r.field)
		zap.New(zapcore.NewCore(tasklog.NewEncoder(cfg), zapcore.AddSync(&viaZap), zapcore.InfoLevel), zap.WithClock(g3bytesClock{})).
			With(r.ctx...).Info(r.msg, r.field)

		for name, got := range map[string]string{"NewCEECore": sync.String(), "NewCEE": async.String(),
			"tasklog.NewCore": direct.String(), "tasklog.NewEncoder": viaZap.String()} {
			if got != want {
				t.Errorf("%s/%s: %s differs from g3's body at byte %d:\n got %q\nwant %q", parts[0], parts[1], name, firstDiff([]byte(got), []byte(want)), got, want)
			}
		}
		n++
	}
	if want := 2 * len(recs); n != want {
		t.Errorf("compared %d lines, want %d", n, want)
	}
}

type g3bytesClock struct{}

func (g3bytesClock) Now() time.Time                         { return g3bytesTime }
func (g3bytesClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
