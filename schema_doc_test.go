package tasklog

import (
	"flag"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated sections of docs/SCHEMA.md")

// keyRecorder is a keyWriter that notes the keys in the order they come.
type keyRecorder struct{ keys []string }

func (k *keyRecorder) add(key string)                        { k.keys = append(k.keys, key) }
func (k *keyRecorder) str(key, _ string)                     { k.add(key) }
func (k *keyRecorder) word(key, _ string)                    { k.add(key) }
func (k *keyRecorder) dur(key string, _ time.Duration)       { k.add(key) }
func (k *keyRecorder) ts(key string, _ time.Time)            { k.add(key) }
func (k *keyRecorder) id(key string, _ uuid.UUID)            { k.add(key) }
func (k *keyRecorder) addrPort(key string, _ netip.AddrPort) { k.add(key) }
func (k *keyRecorder) addr(key string, _ netip.Addr)         { k.add(key) }
func (k *keyRecorder) hostPort(key, _ string, _ uint16)      { k.add(key) }
func (k *keyRecorder) uint(key string, _ uint64)             { k.add(key) }
func (k *keyRecorder) u16(key string, _ uint16)              { k.add(key) }
func (k *keyRecorder) bool(key string, _ bool)               { k.add(key) }
func (k *keyRecorder) uri(key, _ string, _ int)              { k.add(key) }
func (k *keyRecorder) none(string)                           {}
func (k *keyRecorder) logger(bool)                           {}
func (k *keyRecorder) inline(zapcore.ObjectMarshaler) error  { return nil }

// codeKeys returns the keys the code writes for a record of typ with every
// value set, for event ev, in the order it writes them.
func codeKeys(typ TaskType, ev Event) []string {
	rec := goldenCases[typ].full()
	rec.Event = ev
	var k keyRecorder
	e := recEnc{w: &k}
	rec.encode(&e)
	return k.keys
}

var taskTypes = []TaskType{TaskTypeTCPConnect, TaskTypeHTTPForward, TaskTypeFTPOverHTTP, TaskTypeUDPAssociate, TaskTypeUDPConnect}

func genKeyTable() string {
	var b strings.Builder
	b.WriteString("| task type | event | keys, in the order of g3's source |\n|---|---|---|\n")
	for _, typ := range taskTypes {
		for _, ev := range allEvents {
			if _, ok := g3Keys[typ][ev]; !ok {
				continue
			}
			b.WriteString("| " + typ.String() + " | " + ev.String() + " | " + strings.Join(codeKeys(typ, ev), " ") + " |\n")
		}
	}
	return b.String()
}

// escapeKeys returns the keys the code writes for a full Escape record of
// typ, in order.
func escapeKeys(typ EscapeType) []string {
	for _, rec := range fullEscapeRecords() {
		if rec.Detail.EscapeType() == typ {
			var k keyRecorder
			e := recEnc{w: &k}
			rec.encode(&e)
			return k.keys
		}
	}
	return nil
}

func genEscape() string {
	var b strings.Builder
	b.WriteString("| escape_type | keys, in the order of g3's source |\n|---|---|\n")
	for t := EscapeType(1); t < escapeTypeEnd; t++ {
		b.WriteString("| " + t.String() + " | " + strings.Join(escapeKeys(t), " ") + " |\n")
	}
	b.WriteString("\n")
	for _, e := range []struct {
		name  string
		words []string
	}{
		{"EscapeType (escape_type)", escapeTypeWords.words},
		{"TCPConnectError (reason of TcpConnect)", tcpConnectErrorWords.words},
		{"UDPSendtoError (reason of UdpSendto)", udpSendtoErrorWords.words},
		{"TLSApplication (tls_application)", tlsApplicationWords.words},
	} {
		b.WriteString("- " + e.name + ": `" + strings.Join(e.words[1:], "` `") + "`\n")
	}
	return b.String()
}

// resolveKeys returns the keys the code writes for a full Resolve record.
func resolveKeys() []string {
	var k keyRecorder
	e := recEnc{w: &k}
	fullResolveRecord().encode(&e)
	return k.keys
}

func genResolve() string {
	var b strings.Builder
	b.WriteString("Keys, in the order of g3's source: " + strings.Join(resolveKeys(), " ") + "\n\n")
	for _, e := range []struct {
		name  string
		words []string
	}{
		{"QueryType (query_type)", queryTypeWords.words},
		{"RRSource (rr_source)", rrSourceWords.words},
		{"ResolveErrorType (error_type)", resolveErrorTypeWords.words},
		{"ResolveErrorSubtype (error_subtype)", resolveErrorSubtypeWords.words},
	} {
		b.WriteString("- " + e.name + ": `" + strings.Join(e.words[1:], "` `") + "`\n")
	}
	b.WriteString("\n| error_type | error_subtype | message text |\n|---|---|---|\n")
	for t := ResolveErrorType(1); t < resolveErrorTypeEnd; t++ {
		if t == ResolveErrorServer || t == ResolveErrorDriver || t == ResolveErrorLocal {
			for s := ResolveErrorSubtype(1); s < resolveErrorSubtypeEnd; s++ {
				if subtypeOf(s) == t {
					b.WriteString("| " + t.String() + " | " + s.String() + " | " + ResolveErrorText(t, s, "...") + " |\n")
				}
			}
			continue
		}
		b.WriteString("| " + t.String() + " | \"\" | " + ResolveErrorText(t, 0, "...") + " |\n")
	}
	return b.String()
}

func genEnums() string {
	var b strings.Builder
	for _, e := range []struct {
		name  string
		words []string
	}{
		{"ServerType (server_type)", serverTypeWords.words},
		{"TaskType (task_type)", taskTypeWords.words},
		{"Stage (stage)", stageWords.words},
		{"Event (task_event)", eventWords.words},
	} {
		b.WriteString("- " + e.name + ": `" + strings.Join(e.words[1:], "` `") + "`\n")
	}
	return b.String()
}

func genReasons() string {
	var b strings.Builder
	b.WriteString("| Reason (reason) | Go constant | message text |\n|---|---|---|\n")
	for r := Reason(1); r < reasonEnd; r++ {
		b.WriteString("| `" + r.String() + "` | `Reason" + goName(r.String()) + "` | " + r.Text() + " |\n")
	}
	b.WriteString("\n| ForbiddenRule | message text |\n|---|---|\n")
	for f := ForbiddenRule(1); f < forbiddenEnd; f++ {
		b.WriteString("| `" + f.String() + "` | " + f.Message() + " |\n")
	}
	return b.String()
}

// goName spells g3's word with Go's initialisms, as the constants do.
func goName(word string) string {
	for _, r := range [][2]string{{"Tcp", "TCP"}, {"Udp", "UDP"}, {"Tls", "TLS"}, {"Http", "HTTP"}} {
		word = strings.ReplaceAll(word, r[0], r[1])
	}
	return word
}

// TestSchemaDocMatchesCode fails when docs/SCHEMA.md drifts from the code:
// its key table per event, its enum words and its reason texts are
// generated from the code (go test -run TestSchemaDocMatchesCode
// -update-docs rewrites them), and every key the code writes must have a
// row in its hand-written key reference.
func TestSchemaDocMatchesCode(t *testing.T) {
	const path = "docs/SCHEMA.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, sec := range []struct{ name, body string }{
		{"keys", genKeyTable()}, {"enums", genEnums()}, {"reasons", genReasons()}, {"escape", genEscape()}, {"resolve", genResolve()},
	} {
		begin, end := "<!-- BEGIN generated "+sec.name+" -->\n", "<!-- END generated "+sec.name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s has no %q ... %q section", path, begin, end)
		}
		if got := doc[i+len(begin) : j]; got != sec.body {
			if !*updateDocs {
				t.Errorf("%s section %q is out of date with the code; run go test -run TestSchemaDocMatchesCode -update-docs\n got:\n%s\nwant:\n%s", path, sec.name, got, sec.body)
				continue
			}
			doc = doc[:i+len(begin)] + sec.body + doc[j:]
		}
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)`").FindAllStringSubmatch(doc, -1) {
		documented[m[1]] = true
	}
	for _, typ := range taskTypes {
		for _, k := range codeKeys(typ, EventFinished) {
			if !documented[k] {
				t.Errorf("%s: key %s (%v) has no row in the key reference", path, k, typ)
			}
		}
	}
	for _, k := range resolveKeys() {
		if !documented[k] {
			t.Errorf("%s: Resolve key %s has no row in a key reference", path, k)
		}
	}
	for typ := EscapeType(1); typ < escapeTypeEnd; typ++ {
		for _, k := range escapeKeys(typ) {
			if !documented[k] {
				t.Errorf("%s: Escape key %s (%v) has no row in a key reference", path, k, typ)
			}
		}
	}
}

// The code's key lists are g3's, as sets (the order is tasklog's own: no
// JSON reader sees it).
func TestCodeKeysAreG3Keys(t *testing.T) {
	for _, typ := range taskTypes {
		for ev, list := range g3Keys[typ] {
			want := strings.Fields(g3Head + list)
			got := codeKeys(typ, ev)
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%v %v:\n got %v\nwant %v", typ, ev, got, want)
			}
		}
	}
}
