package tasklog

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

// The keys of g3's hickory resolver's Resolve record, transcribed from
// g3proxy/src/resolve/hickory/handle.rs (commit 7d237e22), after the
// logger's resolver_type and resolver_name.
var g3ResolveKeys = []string{"resolver_type", "resolver_name", "bind_addr", "server", "server_port", "encryption",
	"query_type", "duration", "rr_source", "error_type", "error_subtype", "domain"}

func fullResolveRecord() *ResolveLog {
	return &ResolveLog{ResolverType: "hickory", ResolverName: "main", BindIP: netip.MustParseAddr("127.0.0.1"),
		Servers: []netip.Addr{netip.MustParseAddr("127.0.0.53"), netip.MustParseAddr("::1")}, ServerPort: 5353,
		Encryption: "DnsOverTls(dns.example)", QueryType: QueryTypeAAAA, Duration: 1500000, RRSource: RRSourceQuery,
		ErrorType: ResolveErrorServer, ErrorSubtype: ResolveErrorNotFound, Domain: "nx.example"}
}

func TestResolveLogGolden(t *testing.T) {
	rec := fullResolveRecord()
	got := logLine(t, ResolveErrorText(rec.ErrorType, rec.ErrorSubtype, ""), ResolveField(rec))
	want := goldenHead + `"server error: server claims domain name not found","resolver_type":"hickory","resolver_name":"main","bind_addr":"127.0.0.1","server":"127.0.0.53 ::1","server_port":5353,"encryption":"DnsOverTls(dns.example)","query_type":"AAAA","duration":"1.500ms","rr_source":"query","error_type":"ServerError","error_subtype":"NOTFOUND","domain":"nx.example"}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	w := &orderedKeys{MapObjectEncoder: zapcore.NewMapObjectEncoder()}
	if err := rec.MarshalLogObject(w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.keys, g3ResolveKeys) {
		t.Errorf("keys %v, want g3's %v", w.keys, g3ResolveKeys)
	}
	// The fewest keys: a timeout with nothing configured but the server.
	min := &ResolveLog{ResolverType: "hickory", ResolverName: "r", Servers: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		QueryType: QueryTypeA, RRSource: RRSourceQuery, ErrorType: ResolveErrorDriver, ErrorSubtype: ResolveErrorTimeout, Domain: "slow.example"}
	got = logLine(t, "m", ResolveField(min))
	want = goldenHead + `"m","resolver_type":"hickory","resolver_name":"r","server":"127.0.0.1","query_type":"A","duration":"0.000ns","rr_source":"query","error_type":"DriverError","error_subtype":"Timeout","domain":"slow.example"}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	empty := &ResolveLog{ResolverType: "hickory", ResolverName: "r", QueryType: QueryTypeA, RRSource: RRSourceCache, ErrorType: ResolveErrorEmptyDomain}
	got = logLine(t, "empty domain", ResolveField(empty))
	want = goldenHead + `"empty domain","resolver_type":"hickory","resolver_name":"r","server":"","query_type":"A","duration":"0.000ns","rr_source":"cache","error_type":"EmptyDomain","error_subtype":"","domain":""}`
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestResolveErrorText(t *testing.T) {
	for _, tt := range []struct {
		typ  ResolveErrorType
		sub  ResolveErrorSubtype
		want string
	}{
		{ResolveErrorServer, ResolveErrorNotFound, "server error: server claims domain name not found"},
		{ResolveErrorServer, ResolveErrorServFail, "server error: server returned general failure"},
		{ResolveErrorServer, ResolveErrorRefused, "server error: server refused query"},
		{ResolveErrorDriver, ResolveErrorTimeout, "driver error: timeout while contacting server"},
		{ResolveErrorDriver, ResolveErrorConnRefused, "driver error: connection refused by server"},
		{ResolveErrorDriver, ResolveErrorInternal, "driver error: internal error: x"},
		{ResolveErrorLocal, ResolveErrorNoResolverSet, "local error: no resolver set"},
		{ResolveErrorEmptyResult, 0, "empty result"},
		{ResolveErrorEmptyDomain, 0, "empty domain"},
		{ResolveErrorUnexpected, 0, "unexpected error: x"},
		{ResolveErrorServer, ResolveErrorTimeout, "resolve error"},
	} {
		if got := ResolveErrorText(tt.typ, tt.sub, "x"); got != tt.want {
			t.Errorf("ResolveErrorText(%v, %v) = %q, want %q", tt.typ, tt.sub, got, tt.want)
		}
	}
}

func TestResolveLogValidate(t *testing.T) {
	good := fullResolveRecord()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = good.Validate() }); n != 0 {
		t.Errorf("Validate of a good record allocates %v times", n)
	}
	for _, tt := range []struct {
		name string
		mod  func(r *ResolveLog)
		want string
	}{
		{"subtype of another type", func(r *ResolveLog) { r.ErrorSubtype = ResolveErrorTimeout }, "error_subtype: Timeout is a subtype of DriverError, not ServerError"},
		{"missing subtype", func(r *ResolveLog) { r.ErrorSubtype = 0 }, "error_subtype: missing"},
		{"bad query type", func(r *ResolveLog) { r.QueryType = 9 }, "query_type: invalid value QueryType(9)"},
		{"missing names", func(r *ResolveLog) { r.ResolverType, r.ResolverName = "", "" }, "resolver_type: missing"},
		{"both binds", func(r *ResolveLog) { r.BindInterface = "eth0" }, "bind_addr: both an IP 127.0.0.1 and an interface eth0"},
		{"bad server", func(r *ResolveLog) { r.Servers = append(r.Servers, netip.Addr{}) }, "server: an invalid server address"},
		{"negative duration", func(r *ResolveLog) { r.Duration = -1 }, "duration: negative duration"},
		{"no rr source", func(r *ResolveLog) { r.RRSource = 0 }, "rr_source: missing"},
	} {
		rec := fullResolveRecord()
		tt.mod(rec)
		err := rec.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
			continue
		}
		if line := logLine(t, "m", ResolveField(rec)); !strings.Contains(line, `"tasklogError":`) || !strings.Contains(line, `"domain":"nx.example"`) {
			t.Errorf("%s: the bad record's line: %s", tt.name, line)
		}
	}
	if (*ResolveLog)(nil).Validate() == nil {
		t.Error("a nil record validated")
	}
}

func TestResolveLogValueMatchesZap(t *testing.T) {
	rec := fullResolveRecord()
	m := zapcore.NewMapObjectEncoder()
	if err := rec.MarshalLogObject(m); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range rec.LogValue().Group() {
		got[a.Key] = a.Value.Any()
	}
	if len(got) != len(m.Fields) {
		t.Errorf("slog %v, zap %v", got, m.Fields)
	}
	for k, v := range m.Fields {
		if got[k] != v && !(isUint(got[k]) && isUint(v)) {
			t.Errorf("%s: slog %v (%T), zap %v (%T)", k, got[k], got[k], v, v)
		}
	}
}

// Domains from the wire keep their keys, whatever they hold; the nested
// forms carry the same keys.
func TestResolveLogHostileAndObject(t *testing.T) {
	rec := fullResolveRecord()
	rec.Domain = "a\"b]\\c\x00.é.example"
	rec.Servers = []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("::ffff:10.0.0.1")}
	m := decode(t, logLine(t, "m", ResolveField(rec)))
	if m["domain"] != rec.Domain || m["server"] != "2001:db8::53 ::ffff:10.0.0.1" {
		t.Errorf("%v", m)
	}
	if _, bad := m[ErrorKey]; bad {
		t.Errorf("error key on a valid record: %v", m[ErrorKey])
	}
	nested := decode(t, logLine(t, "m", ResolveObject("resolve", rec), EscapeObject("escape", fullEscapeRecords()[0])))
	if r, ok := nested["resolve"].(map[string]any); !ok || r["domain"] != rec.Domain {
		t.Errorf("nested resolve %v", nested["resolve"])
	}
	if e, ok := nested["escape"].(map[string]any); !ok || e["escape_type"] != "TcpConnect" {
		t.Errorf("nested escape %v", nested["escape"])
	}
}
