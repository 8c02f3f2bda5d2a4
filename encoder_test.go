package tasklog

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func needsEscape(c byte) bool { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80 }

// plainWord agrees with a byte-by-byte check for every byte value at every
// position, and for random words.
func TestPlainWord(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			if got, want := plainWord(load64(string(b), 0)), !needsEscape(byte(c)); got != want {
				t.Fatalf("plainWord(%q) = %v, want %v", b, got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		w := r.Uint64()
		if i%2 == 0 {
			w &= 0x7f7f7f7f7f7f7f7f // mostly ASCII
		}
		want := true
		for k := 0; k < 8; k++ {
			if needsEscape(byte(w >> (8 * k))) {
				want = false
			}
		}
		if got := plainWord(w); got != want {
			t.Fatalf("plainWord(%#x) = %v, want %v", w, got, want)
		}
	}
}

// plainWordUTF8 is exact too: a word is plain when none of its bytes is a
// control byte, '"' or '\\' (bytes of 0x80 and up are fine in a valid
// UTF-8 string).
func TestPlainWordUTF8(t *testing.T) {
	special := func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', 0xc3, 0xff, 0x80} {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				if got, want := plainWordUTF8(load64(string(b), 0)), !special(byte(c)); got != want {
					t.Fatalf("plainWordUTF8(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		w := r.Uint64()
		want := true
		for k := 0; k < 8; k++ {
			if special(byte(w >> (8 * k))) {
				want = false
			}
		}
		if got := plainWordUTF8(w); got != want {
			t.Fatalf("plainWordUTF8(%#x) = %v, want %v", w, got, want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii text longer than eight", "plain ascii text longer than eight"},
		{`quote " and \ slash`, `quote \" and \\ slash`},
		{"tab\tnl\ncr\rbell\x07del\x7f", `tab\tnl\ncr\rbell\u0007del` + "\x7f"},
		{"日本語 é", "日本語 é"},
		{"bad \xff utf8 \xe2\x82", `bad \ufffd utf8 \ufffd\ufffd`},
		{"12345678\"", `12345678\"`},
	}
	for _, tt := range tests {
		if got := string(appendEscaped(nil, tt.in)); got != tt.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Values that netip or the URI sanitizer print with characters JSON must
// escape (an IPv6 zone holds any text; a URI may hold '"' and '\\') come out
// of the fast path escaped, as zap's encoder writes them.
func TestFastPathEscapesOddValues(t *testing.T) {
	rec := httpForwardRecord()
	d := rec.Detail.(*HTTPForward)
	d.URI = `http://h/a"b\c?q="x"`
	d.NextBindIP = netip.MustParseAddr("fe80::1").WithZone(`eth"0\`)
	d.NextBoundAddr = netip.AddrPortFrom(netip.MustParseAddr("fe80::2").WithZone("zone\x01é"), 80)
	zapLine := logLineWith(t, newG3OrderEncoder(EncoderConfig()), "m", Field(rec))
	ourLine := logLineWith(t, NewEncoder(EncoderConfig()), "m", Field(rec))
	if zapLine != ourLine {
		t.Errorf("lines differ\n zap %s\nours %s", zapLine, ourLine)
	}
	m := decode(t, ourLine)
	if m["uri"] != `http://h/a"b\c?q="x"` || m["next_bind_ip"] != `fe80::1%eth"0\` {
		t.Errorf("uri %v, next_bind_ip %v", m["uri"], m["next_bind_ip"])
	}
}

// A namespace is one key holding everything after it: the context's open
// namespace comes after the context's other keys and holds the fields, and
// the entry's keys stay outside.
func TestEncoderWithContextAndNamespaces(t *testing.T) {
	for _, enc := range testEncoders() {
		logger, buf := newTestLogger(enc.new())
		logger = logger.With(zap.String("ctx", "a\"b")).With(zap.Namespace("ns"), zap.Int("n", 1))
		logger.Info("m", Field(minimalRecord()), zap.Namespace("inner"), zap.Bool("b", true))
		line := buf.String()
		if !strings.HasPrefix(line, `{"ctx":"a\"b","ns":{"n":1,"server_type":"TcpStream","server_name":"s",`) ||
			!strings.HasSuffix(line, `"inner":{"b":true}},"report_ts":1795516204,"msg":"m"}`+"\n") {
			t.Errorf("%s: %s", enc.name, line)
		}
	}
}

// g3's order, written out by hand: the logger keys of the fields and the
// context last to first, then the other keys last to first, a namespace
// of the fields holding the keys after it, then report_ts and msg.
func TestEncoderG3Order(t *testing.T) {
	rec := minimalRecord()
	rec.Detail.(*TCPConnect).ClientReadBytes = 7
	for _, enc := range testEncoders() {
		logger, buf := newTestLogger(enc.new())
		logger = logger.With(zap.String("daemon_name", "d"), zap.String("log_type", "Task")).With(zap.Int("x", 1))
		logger.Info("m\b\f", zap.String("a", "1"), zap.Uint32("pid", 9), Field(rec),
			zap.Namespace("ns"), zap.String("b", "2"), zap.String("server_name", "inner"))
		want := `{"server_name":"s","server_type":"TcpStream","pid":9,"x":1,"log_type":"Task","daemon_name":"d",` +
			`"ns":{"b":"2","server_name":"inner"},` +
			`"r_wr_bytes":0,"r_rd_bytes":0,"c_wr_bytes":0,"c_rd_bytes":7,"tcp_connect_tries":0,"upstream":"10.9.9.9:22",` +
			`"client_addr":"127.0.0.1:2","server_addr":"127.0.0.1:1","total_time":"1.000ns","reason":"UpstreamNotConnected",` +
			`"escaper":"","start_at":"2026-11-24T10:30:01.123456Z","stage":"Connecting","task_event":"Finished",` +
			`"task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_type":"TcpConnect","a":"1","report_ts":1795516204,"msg":"m\b\f"}` + "\n"
		if got := buf.String(); got != want {
			t.Errorf("%s:\n got %s\nwant %s", enc.name, got, want)
		}
	}
}

func TestConcurrentEncodingBothEncoders(t *testing.T) {
	rec := httpForwardRecord()
	for _, enc := range testEncoders() {
		want := logLineWith(t, enc.new(), "m", Field(rec)) + "\n"
		logger, buf := newTestLogger(enc.new())
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					logger.Info("m", Field(rec))
				}
			}()
		}
		wg.Wait()
		for i, l := range strings.SplitAfter(buf.String(), "\n") {
			if l != "" && l != want {
				t.Fatalf("%s: line %d differs:\n got %s\nwant %s", enc.name, i, l, want)
			}
		}
		if n := strings.Count(buf.String(), "\n"); n != 1000 {
			t.Errorf("%s: %d lines, want 1000", enc.name, n)
		}
	}
}

// AppendEntry writes EncodeEntry's line after what dst holds; with a nil
// dst the line is the caller's own, which the next call leaves as it is,
// whether the entry takes the direct path (one task record) or not.
func TestAppendEntry(t *testing.T) {
	enc := NewEncoder(EncoderConfig())
	zap.String("daemon_name", "d").AddTo(enc)
	app := enc.(interface {
		AppendEntry([]byte, zapcore.Entry, []zapcore.Field) ([]byte, error)
	})
	for _, fields := range [][]zapcore.Field{{Field(tcpConnectRecord())}, {zap.String("k", "v")}} {
		ent := zapcore.Entry{Message: "first", Time: testStart}
		buf, err := enc.EncodeEntry(ent, fields)
		if err != nil {
			t.Fatal(err)
		}
		want := buf.String()
		buf.Free()
		got, err := app.AppendEntry([]byte("prefix"), ent, fields)
		if err != nil || string(got) != "prefix"+want {
			t.Errorf("AppendEntry after a prefix = %q, %v; want the prefix and %q", got, err, want)
		}
		line, _ := app.AppendEntry(nil, ent, fields)
		held := string(line)
		next := ent
		next.Message = "second, a longer message than the first"
		_, _ = app.AppendEntry(nil, next, fields)
		if held != want || string(line) != want {
			t.Errorf("AppendEntry(nil) = %q, and after the next call %q; want %q both times", held, line, want)
		}
	}
}
