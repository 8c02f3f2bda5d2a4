package tasklog

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// The key lists of g3proxy's Escape records, transcribed from its
// slog::info! calls (g3proxy/src/log/escape/{tcp_connect,tls_handshake,
// udp_sendto}.rs at commit 7d237e22), after the logger's escaper_type and
// escaper_name.
var g3EscapeKeys = map[EscapeType][]string{
	EscapeTypeTCPConnect: {"escape_type", "task_id", "upstream", "override_peer", "next_bind_ip", "next_bound_addr",
		"next_peer_addr", "next_expire", "tcp_connect_tries", "tcp_connect_spend", "reason"},
	EscapeTypeTLSHandshake: {"escape_type", "task_id", "upstream", "next_bind_ip", "next_bound_addr", "next_peer_addr",
		"next_expire", "tls_name", "tls_peer", "tls_application"},
	EscapeTypeUDPSendto: {"escape_type", "task_id", "upstream", "next_bound_addr", "next_peer_addr", "next_expire", "reason"},
}

func fullEscapeRecords() []*EscapeLog {
	expire := testStart.Add(time.Hour)
	return []*EscapeLog{
		{EscaperType: "DirectFixed", EscaperName: "direct", TaskID: testID, Detail: &EscapeTCPConnect{
			Upstream: "example.com:443", OverridePeer: "[2001:db8::1]:8443", NextBindIP: netip.MustParseAddr("192.0.2.10"),
			NextBoundAddr: ap("192.0.2.10:40000"), NextPeerAddr: ap("93.184.216.34:443"), NextExpire: expire,
			ConnectTries: 2, ConnectSpend: 1234567, Reason: TCPConnectErrorConnectFailed}},
		{EscaperType: "DirectFixed", EscaperName: "direct", TaskID: testID, Detail: &EscapeTLSHandshake{
			Upstream: "example.com:443", NextBindIP: netip.MustParseAddr("::1"), NextBoundAddr: ap("[::1]:40000"),
			NextPeerAddr: ap("[::1]:443"), NextExpire: expire, TLSName: "example.com", TLSPeer: "example.com:443",
			TLSApplication: TLSApplicationHTTPForward}},
		{EscaperType: "DirectFixed", EscaperName: "direct", TaskID: testID, Detail: &EscapeUDPSendto{
			Upstream: "dns.example:53", NextBoundAddr: ap("0.0.0.0:40001"), NextPeerAddr: ap("127.0.0.53:53"),
			NextExpire: expire, Reason: UDPSendtoErrorSendFailed}},
	}
}

func TestEscapeLogGolden(t *testing.T) {
	recs := fullEscapeRecords()
	want := []string{
		goldenHead + `"connect failed: connection refused","escaper_type":"DirectFixed","escaper_name":"direct","escape_type":"TcpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","upstream":"example.com:443","override_peer":"[2001:db8::1]:8443","next_bind_ip":"192.0.2.10","next_bound_addr":"192.0.2.10:40000","next_peer_addr":"93.184.216.34:443","next_expire":"2026-11-24T11:30:01.123456Z","tcp_connect_tries":2,"tcp_connect_spend":"1.235ms","reason":"ConnectFailed"}`,
		goldenHead + `"connect failed: connection refused","escaper_type":"DirectFixed","escaper_name":"direct","escape_type":"TlsHandshake","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","upstream":"example.com:443","next_bind_ip":"::1","next_bound_addr":"[::1]:40000","next_peer_addr":"[::1]:443","next_expire":"2026-11-24T11:30:01.123456Z","tls_name":"example.com","tls_peer":"example.com:443","tls_application":"HttpForward"}`,
		goldenHead + `"connect failed: connection refused","escaper_type":"DirectFixed","escaper_name":"direct","escape_type":"UdpSendto","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","upstream":"dns.example:53","next_bound_addr":"0.0.0.0:40001","next_peer_addr":"127.0.0.53:53","next_expire":"2026-11-24T11:30:01.123456Z","reason":"SendFailed"}`,
	}
	for i, rec := range recs {
		got := logLine(t, "connect failed: connection refused", EscapeField(rec))
		if got != want[i] {
			t.Errorf("%s:\n got %s\nwant %s", rec.Detail.EscapeType(), got, want[i])
		}
		// g3's keys, in g3's order.
		m := zapcore.NewMapObjectEncoder()
		w := &orderedKeys{MapObjectEncoder: m}
		if err := rec.MarshalLogObject(w); err != nil {
			t.Fatal(err)
		}
		wantKeys := append([]string{"escaper_type", "escaper_name"}, g3EscapeKeys[rec.Detail.EscapeType()]...)
		if !reflect.DeepEqual(w.keys, wantKeys) {
			t.Errorf("%s keys %v, want g3's %v", rec.Detail.EscapeType(), w.keys, wantKeys)
		}
	}
}

// orderedKeys records the order keys arrive in.
type orderedKeys struct {
	*zapcore.MapObjectEncoder
	keys []string
}

func (o *orderedKeys) AddString(k, v string) {
	o.keys = append(o.keys, k)
	o.MapObjectEncoder.AddString(k, v)
}
func (o *orderedKeys) AddByteString(k string, v []byte) {
	o.keys = append(o.keys, k)
	o.MapObjectEncoder.AddByteString(k, v)
}
func (o *orderedKeys) AddUint64(k string, v uint64) {
	o.keys = append(o.keys, k)
	o.MapObjectEncoder.AddUint64(k, v)
}
func (o *orderedKeys) AddNone(k string) { o.keys = append(o.keys, k) }
func (o *orderedKeys) AddUint16(k string, v uint16) {
	o.keys = append(o.keys, k)
	o.MapObjectEncoder.AddUint16(k, v)
}

// Unset optional keys are g3's none: left out of JSON, nil to fluentd; a
// zero tcp_connect_spend is still written, as g3's LtDuration is.
func TestEscapeLogOptionalKeys(t *testing.T) {
	rec := &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID,
		Detail: &EscapeTCPConnect{Upstream: "10.0.0.1:22", Reason: TCPConnectErrorTimeoutByRule}}
	got := logLine(t, "timeout by rule", EscapeField(rec))
	want := goldenHead + `"timeout by rule","escaper_type":"DirectFixed","escaper_name":"d","escape_type":"TcpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","upstream":"10.0.0.1:22","tcp_connect_tries":0,"tcp_connect_spend":"0.000ns","reason":"TimeoutByRule"}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	udp := &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID, Detail: &EscapeUDPSendto{Reason: UDPSendtoErrorNoListenSocket}}
	if err := udp.Validate(); err != nil {
		t.Errorf("a UdpSendto record with only its reason: %v", err)
	}
}

// A bad record names each bad key with its value, and is still written
// with every valid key plus the error key.
func TestEscapeLogValidate(t *testing.T) {
	tests := []struct {
		name string
		rec  *EscapeLog
		want []string
	}{
		{"empty", &EscapeLog{}, []string{"escaper_type: missing", "escaper_name: missing", "escape_type: missing", "task_id: missing"}},
		{"no reason", &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID, Detail: &EscapeTCPConnect{Upstream: "h:1"}}, []string{"reason: missing"}},
		{"bad reason", &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID, Detail: &EscapeTCPConnect{Upstream: "h:1", Reason: 200}}, []string{"reason: invalid value TCPConnectError(200)"}},
		{"negative spend", &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID, Detail: &EscapeTCPConnect{Upstream: "h:1", ConnectSpend: -1, ConnectTries: -1, Reason: 1}},
			[]string{"tcp_connect_tries: negative count -1", "tcp_connect_spend: negative duration"}},
		{"tls without name", &EscapeLog{EscaperType: "DirectFixed", EscaperName: "d", TaskID: testID, Detail: &EscapeTLSHandshake{Upstream: "h:1"}},
			[]string{"tls_name: missing", "tls_peer: missing", "tls_application: missing"}},
		{"nil", nil, []string{"nil *EscapeLog"}},
	}
	for _, tt := range tests {
		err := tt.rec.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Validate() = %q, want %q in it", tt.name, err, w)
			}
		}
		if tt.rec == nil {
			continue
		}
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%s: %v is not a *KeyError", tt.name, err)
		}
		line := logLine(t, "m", EscapeField(tt.rec))
		if !strings.Contains(line, `"tasklogError":`) {
			t.Errorf("%s: the line has no error key: %s", tt.name, line)
		}
	}
	good := fullEscapeRecords()[0]
	if n := testing.AllocsPerRun(100, func() { _ = good.Validate() }); n != 0 {
		t.Errorf("Validate of a good record allocates %v times", n)
	}
}

// LogValue gives the keys and values MarshalLogObject writes.
func TestEscapeLogValueMatchesZap(t *testing.T) {
	for _, rec := range append(fullEscapeRecords(), &EscapeLog{EscaperName: "x", Detail: &EscapeUDPSendto{Reason: 99}}) {
		m := zapcore.NewMapObjectEncoder()
		zerr := rec.MarshalLogObject(m)
		got := map[string]any{}
		for _, a := range rec.LogValue().Group() {
			got[a.Key] = a.Value.Any()
		}
		if zerr != nil {
			if got[ErrorKey] != zerr.Error() {
				t.Errorf("slog error key %v, zap error %v", got[ErrorKey], zerr)
			}
			delete(got, ErrorKey)
		}
		for k, v := range m.Fields {
			if s, ok := v.(string); ok && got[k] == s {
				continue
			}
			if got[k] != v && !(isUint(got[k]) && isUint(v)) {
				t.Errorf("%s: slog %v (%T), zap %v (%T)", k, got[k], got[k], v, v)
			}
		}
		if len(got) != len(m.Fields) {
			t.Errorf("slog has %d keys, zap %d", len(got), len(m.Fields))
		}
	}
}

func isUint(v any) bool {
	switch v.(type) {
	case uint64, uint16, uint32:
		return true
	}
	return false
}

// Counters at their limits and hostile strings keep their keys.
func TestEscapeLogHostile(t *testing.T) {
	rec := &EscapeLog{EscaperType: "Direct\"Fixed\x00", EscaperName: "d]\n", TaskID: testID, Detail: &EscapeTCPConnect{
		Upstream: "xn--bcher-kva.example:443", OverridePeer: "not a host:port", ConnectTries: math.MaxInt32,
		ConnectSpend: math.MaxInt64, Reason: TCPConnectErrorUpstreamTLSHandshakeFailed}}
	m := decode(t, logLine(t, "m\x01", EscapeField(rec)))
	if m["escaper_type"] != "Direct\"Fixed\x00" || m["override_peer"] != "not a host:port" || fmt.Sprint(m["tcp_connect_tries"]) != "2147483647" {
		t.Errorf("%v", m)
	}
	if _, bad := m[ErrorKey]; bad {
		t.Errorf("a hostile but valid record has an error: %v", m[ErrorKey])
	}
}
