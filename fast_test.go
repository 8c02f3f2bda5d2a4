package tasklog

import (
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// randomRecord makes a finished-ish record whose every value is, by
// chance, typical, zero, odd or invalid: what the fast path must either
// write exactly as the generic walk does or leave to it.
func randomRecord(rng *rand.Rand) *TaskLog {
	// Most values are typical (the first of each list), so that many
	// records take the fast path; the rest are zero, odd or invalid.
	pick := func(n int) int {
		if rng.Intn(100) < 85 {
			return 1 % n
		}
		return rng.Intn(n)
	}
	strs := []string{"", "alice", "direct", `q"uote`, "back\\slash", "é日本", "bad\xffutf8", "ctl\x01x", "a b"}
	str := func() string { return strs[pick(len(strs))] }
	dur := func() time.Duration {
		return []time.Duration{0, 1000500, 1, 999, 2345678901, -5, time.Hour}[pick(7)]
	}
	addrs := []netip.AddrPort{{}, netip.MustParseAddrPort("10.0.0.1:3128"), netip.MustParseAddrPort("[2001:db8::7]:53211"),
		netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone("eth0"), 80), netip.MustParseAddrPort("[::ffff:1.2.3.4]:5")}
	addr := func() netip.AddrPort { return addrs[pick(len(addrs))] }
	ups := []string{"", "example.com:443", "example.com:0443", "example.com:0", "10.0.0.1:80", "[2001:db8::1]:53", "[::]:1",
		"0.0.0.0:9", "host", "host:", "host:99999", "ex\xffample.com:1", `q"h:1`, "my-host_1.example:65535", "123.45:80", ":80"}
	t := []time.Time{{}, time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC), time.Date(2026, 11, 24, 10, 30, 1, 0, time.FixedZone("x", 3600))}
	tcp := TCPConnect{
		ServerAddr: addr(), ClientAddr: addr(), Upstream: ups[pick(len(ups))],
		NextBindIP:    []netip.Addr{{}, netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("fe80::1").WithZone("z")}[pick(3)],
		NextBoundAddr: addr(), NextPeerAddr: addr(), NextExpire: t[pick(3)],
		ConnectTries: []int{0, 1, 7, -1}[pick(4)], ConnectSpend: dur(),
		ClientReadBytes: uint64(pick(5000)), ClientWriteBytes: uint64(pick(5)), RemoteReadBytes: 1 << 40, RemoteWriteBytes: 0,
	}
	rec := &TaskLog{
		ServerType: []ServerType{0, ServerTypeHTTPProxy, 200}[pick(3)], ServerName: str(), TaskID: []uuid.UUID{uuid.Nil, testID}[pick(2)],
		Event: []Event{0, EventFinished, EventPeriodic, EventConnected, 99}[pick(5)], Stage: []Stage{0, StageRelaying, 200}[pick(3)],
		StartAt: t[pick(3)], User: str(), Escaper: str(), Reason: []Reason{0, ReasonClosedByClient, 200}[pick(3)],
		WaitTime: dur(), ReadyTime: dur(), TotalTime: dur(),
	}
	if pick(2) == 0 {
		rec.Detail = &tcp
		return rec
	}
	uris := []string{"", "/", "http://bob:s3cret@h.example/p?q=1", "HTTP://h?x#frag", "http://h/\"q\\", "ftp://x/y", "/a\x01b"}
	rec.Detail = &HTTPForward{
		TCPConnect: tcp, PipelineWait: dur(), ReuseConnection: pick(2) == 0, Method: []string{"", "GET", "PO\"ST"}[pick(3)],
		URI: uris[pick(len(uris))], URIMaxChars: []int{0, 5, 1024}[pick(3)], UserAgent: str(),
		RspStatus: []int{0, 200, 99, 1000}[pick(4)], OriginStatus: []int{0, 502, -1}[pick(3)],
		ReqSendHdr: dur(), ReqSendAll: dur(), RspRecvHdr: dur(), RspRecvAll: dur(),
	}
	return rec
}

func lineThrough(rec *TaskLog) string {
	var buf lockedBuffer
	l := zap.New(NewCore(EncoderConfig(), zapcore.AddSync(&buf), zap.InfoLevel), zap.WithClock(fixedClock{}))
	Log(l.With(LoggerFields("g3proxy")...), zap.InfoLevel, "m", rec)
	l.Info("m", zap.String("a", "b"), Field(rec), zap.String("c", "d"))
	l.Info("m", Object("task", rec), zap.Namespace("ns"), Field(rec))
	return buf.String()
}

// The straight-line writer writes exactly what the generic walk writes, or
// leaves the record to it.
func TestFastPathMatchesGenericWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	fast := 0
	for i := 0; i < 30000; i++ {
		rec := randomRecord(rng)
		fastDisabled = false
		got := lineThrough(rec)
		if fastFinished(&jsonEncoder{}, rec) {
			fast++
		}
		fastDisabled = true
		want := lineThrough(rec)
		fastDisabled = false
		if got != want {
			t.Fatalf("record %d: the fast path wrote\n%s\nthe generic walk\n%s", i, got, want)
		}
	}
	if fast < 300 {
		t.Errorf("only %d of 30000 random records took the fast path: the test does not exercise it", fast)
	}
	t.Logf("%d of 30000 records took the fast path", fast)
	for _, rec := range []*TaskLog{tcpConnectRecord(), httpForwardRecord(), minimalRecord()} {
		if !fastFinished(&jsonEncoder{}, rec) {
			t.Errorf("a fixture of the golden lines does not take the fast path")
		}
	}
}
