package tasklog

import (
	"bytes"
	"fmt"
	"go/format"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// The operators' command (cmd/tasklog) and the JSON Schema under
// docs/schema check records against internal/g3schema's rules. Those rules
// are not written by hand: this file derives them from the encoder itself
// (recEnc and the encode methods, which decide every key a record carries)
// and TestSchemaRulesMatchCode fails when internal/g3schema/rules.go
// drifts from it (-update-docs rewrites it).

const rulesPath = "internal/g3schema/rules.go"

// kindRecorder is a keyWriter that notes each key with the kind of value
// written for it, in the order the encoder writes them.
type kindRecorder struct {
	keys  []string
	kinds map[string]string
}

func (k *kindRecorder) add(key, kind string) {
	if k.kinds == nil {
		k.kinds = map[string]string{}
	}
	if _, ok := k.kinds[key]; !ok {
		k.keys = append(k.keys, key)
	}
	k.kinds[key] = kind
}
func (k *kindRecorder) str(key, _ string)                     { k.add(key, "String") }
func (k *kindRecorder) word(key, _ string)                    { k.add(key, "Word") }
func (k *kindRecorder) dur(key string, _ time.Duration)       { k.add(key, "Duration") }
func (k *kindRecorder) ts(key string, _ time.Time)            { k.add(key, "Timestamp") }
func (k *kindRecorder) id(key string, _ uuid.UUID)            { k.add(key, "ID") }
func (k *kindRecorder) addrPort(key string, _ netip.AddrPort) { k.add(key, "SockAddr") }
func (k *kindRecorder) addr(key string, _ netip.Addr)         { k.add(key, "IP") }
func (k *kindRecorder) hostPort(key, _ string, _ uint16)      { k.add(key, "Upstream") }
func (k *kindRecorder) uint(key string, _ uint64)             { k.add(key, "Uint") }
func (k *kindRecorder) u16(key string, _ uint16)              { k.add(key, "U16") }
func (k *kindRecorder) bool(key string, _ bool)               { k.add(key, "Bool") }
func (k *kindRecorder) uri(key, _ string, _ int)              { k.add(key, "URI") }
func (k *kindRecorder) none(key string)                       { k.add(key, "none") }
func (k *kindRecorder) logger(bool)                           {}
func (k *kindRecorder) inline(zapcore.ObjectMarshaler) error  { return nil }

// kindOverrides are the keys whose value form depends on the value, so
// that one record cannot show it: the upstream-like keys go through
// recEnc.upstream or reqUpstream (a host, host:port, an IP or ip:port, or
// the client's text as it came), tls_name through recEnc.tlsName (an IP or
// a name), bind_addr is an IP or an interface name, server g3's
// space-separated IP list.
var kindOverrides = map[string]string{
	"upstream": "Upstream", "override_peer": "Upstream", "initial_peer": "Upstream", "tls_peer": "Upstream",
	"tls_name": "Host", "bind_addr": "BindAddr", "server": "IPList",
}

// enumFor names the enum table of a Word key; escape reasons depend on the
// escape type.
func enumFor(logType, sub, key string) string {
	switch key {
	case "server_type":
		return "ServerType"
	case "task_type":
		return "TaskType"
	case "task_event":
		return "Event"
	case "stage":
		return "Stage"
	case "reason":
		switch {
		case logType == "Task":
			return "Reason"
		case sub == "TcpConnect":
			return "TCPConnectError"
		case sub == "UdpSendto":
			return "UDPSendtoError"
		}
	case "escape_type":
		return "EscapeType"
	case "tls_application":
		return "TLSApplication"
	case "query_type":
		return "QueryType"
	case "rr_source":
		return "RRSource"
	case "error_type":
		return "ResolveErrorType"
	case "error_subtype":
		return "ResolveErrorSubtype"
	}
	return ""
}

type ruleKey struct {
	name, kind, enum string
	required         bool
}

// shapeRules derives one shape's keys: full is a record with every value
// set, zero the same record with every value unset. A key is required when
// the zero record writes it anyway (counters, escaper "") or reports it
// missing; the rest of the full record's keys are optional (g3 writes
// them as none, which its JSON leaves out).
func shapeRules(t *testing.T, logType, sub string, full, zero func(*recEnc)) []ruleKey {
	t.Helper()
	var fk kindRecorder
	full(&recEnc{w: &fk})
	var zk kindRecorder
	ze := recEnc{w: &zk, collect: true}
	zero(&ze)
	required := map[string]bool{}
	for _, key := range zk.keys {
		if zk.kinds[key] != "none" {
			required[key] = true
		}
	}
	for _, err := range ze.errs {
		ke := err.(*KeyError)
		if !strings.HasPrefix(ke.Problem, "missing") {
			t.Fatalf("%s %s: the zero record reports %v, not a missing key", logType, sub, ke)
		}
		required[ke.Key] = true
	}
	var out []ruleKey
	for _, key := range fk.keys {
		kind := fk.kinds[key]
		if o, ok := kindOverrides[key]; ok {
			kind = o
		}
		if kind == "none" {
			t.Fatalf("%s %s: the full record leaves %s unset", logType, sub, key)
		}
		rk := ruleKey{name: key, kind: kind, required: required[key]}
		if kind == "Word" {
			if rk.enum = enumFor(logType, sub, key); rk.enum == "" {
				t.Fatalf("%s %s: no enum table for %s", logType, sub, key)
			}
		}
		out = append(out, rk)
		delete(required, key)
	}
	for key := range required {
		t.Fatalf("%s %s: %s is required but the full record does not write it", logType, sub, key)
	}
	return out
}

// zeroDetail returns a Detail of typ with every value unset.
func zeroDetail(typ TaskType) Detail {
	switch typ {
	case TaskTypeTCPConnect:
		return &TCPConnect{}
	case TaskTypeHTTPForward:
		return &HTTPForward{}
	case TaskTypeFTPOverHTTP:
		return &FTPOverHTTP{}
	case TaskTypeUDPAssociate:
		return &UDPAssociate{}
	case TaskTypeUDPConnect:
		return &UDPConnect{}
	}
	return nil
}

func zeroEscapeDetail(typ EscapeType) EscapeDetail {
	switch typ {
	case EscapeTypeTCPConnect:
		return &EscapeTCPConnect{}
	case EscapeTypeTLSHandshake:
		return &EscapeTLSHandshake{}
	case EscapeTypeUDPSendto:
		return &EscapeUDPSendto{}
	}
	return nil
}

func genRules(t *testing.T) []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by go test -run TestSchemaRulesMatchCode -update-docs in
// the repository's root; DO NOT EDIT. It is derived from the encoder
// (keys.go and the encode methods) by schema_rules_test.go.

package g3schema

// shapes lists, per log type, sub-type and event, the keys a record
// carries in the order of g3's source, with their value kind, enum
// table and whether the record must carry them.
var shapes = []Shape{
`)
	writeShape := func(logType, sub, event string, keys []ruleKey) {
		fmt.Fprintf(&b, "\t{LogType: %q, Type: %q, Event: %q, Keys: []Key{\n", logType, sub, event)
		for _, k := range keys {
			fmt.Fprintf(&b, "\t\t{Name: %q, Kind: Kind%s", k.name, k.kind)
			if k.enum != "" {
				fmt.Fprintf(&b, ", Enum: %q", k.enum)
			}
			if k.required {
				b.WriteString(", Required: true")
			}
			b.WriteString("},\n")
		}
		b.WriteString("\t}},\n")
	}
	for _, typ := range taskTypes {
		for _, ev := range allEvents {
			if _, ok := g3Keys[typ][ev]; !ok {
				continue
			}
			full := goldenCases[typ].full()
			full.Event = ev
			zero := &TaskLog{Event: ev, Detail: zeroDetail(typ)}
			writeShape("Task", typ.String(), ev.String(), shapeRules(t, "Task", typ.String(),
				func(e *recEnc) { full.encode(e) }, func(e *recEnc) { zero.encode(e) }))
		}
	}
	for typ := EscapeType(1); typ < escapeTypeEnd; typ++ {
		var full *EscapeLog
		for _, r := range fullEscapeRecords() {
			if r.Detail.EscapeType() == typ {
				full = r
			}
		}
		zero := &EscapeLog{Detail: zeroEscapeDetail(typ)}
		writeShape("Escape", typ.String(), "", shapeRules(t, "Escape", typ.String(),
			func(e *recEnc) { full.encode(e) }, func(e *recEnc) { zero.encode(e) }))
	}
	full := fullResolveRecord()
	writeShape("Resolve", "", "", shapeRules(t, "Resolve", "",
		func(e *recEnc) { full.encode(e) }, func(e *recEnc) { (&ResolveLog{}).encode(e) }))
	b.WriteString("}\n\n")

	b.WriteString("// enums holds g3's words of each enum table, as the encoder writes them.\nvar enums = map[string][]string{\n")
	tables := map[string]*enumWords{
		"ServerType": &serverTypeWords, "TaskType": &taskTypeWords, "Event": &eventWords, "Stage": &stageWords,
		"Reason": &reasonWords, "TCPConnectError": &tcpConnectErrorWords, "UDPSendtoError": &udpSendtoErrorWords,
		"EscapeType": &escapeTypeWords, "TLSApplication": &tlsApplicationWords, "QueryType": &queryTypeWords,
		"RRSource": &rrSourceWords, "ResolveErrorType": &resolveErrorTypeWords, "ResolveErrorSubtype": &resolveErrorSubtypeWords,
	}
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q: {", n)
		for i, w := range tables[n].words[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", w)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n\n")

	b.WriteString("// subtypeOf maps each error_subtype to the error_type it belongs to;\n// the other error types are written with error_subtype \"\".\nvar subtypeOf = map[string]string{\n")
	for s := ResolveErrorSubtype(1); s < resolveErrorSubtypeEnd; s++ {
		fmt.Fprintf(&b, "\t%q: %q,\n", s.String(), subtypeOf(s).String())
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatalf("generated rules do not format: %v\n%s", err, b.Bytes())
	}
	return src
}

// TestSchemaRulesMatchCode fails when internal/g3schema's rules drift from
// the encoder; -update-docs rewrites them.
func TestSchemaRulesMatchCode(t *testing.T) {
	want := genRules(t)
	got, err := os.ReadFile(rulesPath)
	if err == nil && bytes.Equal(got, want) {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(rulesPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the encoder; run go test -run TestSchemaRulesMatchCode -update-docs (read error: %v)", rulesPath, err)
}
