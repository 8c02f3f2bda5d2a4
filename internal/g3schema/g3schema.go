// Package g3schema holds g3proxy's log schema as data, and checks records
// against it. Its rules (rules.go) are generated from tasklog's encoder by
// the root package's TestSchemaRulesMatchCode, so the checker, the JSON
// Schema under docs/schema and the encoder cannot disagree.
//
// A record is a flat list of keys with values, as a line parser reads them
// from any of g3's output forms; [Check] reports every key that is
// missing, does not belong to the record's log type, sub-type and event,
// or has a value g3 would not write.
package g3schema

import (
	"slices"
	"strings"
)

// Kind is the form of a key's value on the wire.
type Kind uint8

// The kinds of value g3 writes.
const (
	KindString    Kind = iota + 1 // any string, "" included
	KindWord                      // one word of an enum table
	KindDuration                  // Rust's {:.3?}: 1.235ms
	KindTimestamp                 // 2026-11-24T10:30:01.123456Z
	KindID                        // 32 lowercase hex digits
	KindSockAddr                  // ip:port, IPv6 in brackets
	KindIP                        // an IP address
	KindUpstream                  // host, host:port, ip, ip:port, or the client's text
	KindHost                      // a domain name or an IP
	KindUint                      // an unsigned 64-bit integer
	KindU16                       // an unsigned 16-bit integer
	KindBool                      // true or false
	KindURI                       // a URI, as g3 prints it
	KindBindAddr                  // an IP or an interface name
	KindIPList                    // IPs, one space apart
)

var kindNames = [...]string{"", "string", "word", "duration", "timestamp", "id", "socket address", "ip",
	"upstream", "host", "uint", "u16", "bool", "uri", "bind address", "ip list"}

// String returns the kind's name, as the schema documentation uses it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Key is one key of a record shape.
type Key struct {
	Name     string
	Kind     Kind
	Enum     string // the enum table of a KindWord key: "Reason", "Stage", ...
	Required bool   // the record must carry it; else it may be left out (or null)
}

// Shape is the set of keys of one kind of record: a log type, its
// sub-type (task_type, escape_type; "" for Resolve) and, for Task
// records, the task_event.
type Shape struct {
	LogType string
	Type    string
	Event   string
	Keys    []Key
}

// LogTypes are g3's log types, in the order the tools list them.
var LogTypes = []string{"Task", "Escape", "Resolve"}

// loggerKeys are the keys g3's loggers add to every record of a log type
// (g3proxy/src/log/{task,escape,resolve}/mod.rs), and the message: they
// come before the record's own keys in tasklog's JSON line. report_ts is
// written only when a driver's append_report_ts is set (and by tasklog's
// JSON encoder); daemon_name is left out by LoggerFieldsNoDaemonName.
var loggerKeys = []Key{
	{Name: "report_ts", Kind: KindUint},
	{Name: "msg", Kind: KindString, Required: true},
	{Name: "daemon_name", Kind: KindString},
	{Name: "log_type", Kind: KindWord, Enum: "LogType", Required: true},
	{Name: "pid", Kind: KindUint, Required: true},
}

// Shapes returns every record shape of a log type ("" for all), with the
// logger-level keys first.
func Shapes(logType string) []Shape {
	var out []Shape
	for _, s := range shapes {
		if logType == "" || s.LogType == logType {
			s.Keys = append(slices.Clip(loggerKeys), s.Keys...)
			out = append(out, s)
		}
	}
	return out
}

// Enum returns the words of an enum table, nil for an unknown table.
func Enum(name string) []string {
	if name == "LogType" {
		return LogTypes
	}
	return enums[name]
}

// SubtypeOf returns the error_type an error_subtype belongs to, "" for an
// unknown one.
func SubtypeOf(subtype string) string { return subtypeOf[subtype] }

// EnumNames returns the names of every enum table, sorted.
func EnumNames() []string {
	names := []string{"LogType"}
	for n := range enums {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// maxShapeKeys bounds the keys of one shape (g3's largest, a finished
// HttpForward, has 45 with the logger's), so that Check notes the keys it
// saw without allocating.
const maxShapeKeys = 128

// index is what Check looks records up by, built once.
type shapeIndex struct {
	byKey  map[string]*compiled // LogType + "\x00" + Type + "\x00" + Event
	anyKey map[string]bool      // every key of every shape of a log type, by log type + "\x00" + key
	words  map[string]map[string]bool
}

type compiled struct {
	shape    Shape
	keys     map[string]int // key name to index in shape.Keys
	required []int
}

var index = buildIndex()

func buildIndex() *shapeIndex {
	ix := &shapeIndex{byKey: map[string]*compiled{}, anyKey: map[string]bool{}, words: map[string]map[string]bool{}}
	for _, s := range Shapes("") {
		if len(s.Keys) > maxShapeKeys {
			panic("g3schema: a shape with more than maxShapeKeys keys: raise it") // caught by every test
		}
		c := &compiled{shape: s, keys: make(map[string]int, len(s.Keys))}
		for i, k := range s.Keys {
			c.keys[k.Name] = i
			if k.Required {
				c.required = append(c.required, i)
			}
			ix.anyKey[s.LogType+"\x00"+k.Name] = true
		}
		ix.byKey[s.LogType+"\x00"+s.Type+"\x00"+s.Event] = c
	}
	for _, n := range EnumNames() {
		m := map[string]bool{}
		for _, w := range Enum(n) {
			m[w] = true
		}
		ix.words[n] = m
	}
	return ix
}

// typeKey is the key that names a log type's sub-type.
func typeKey(logType string) string {
	switch logType {
	case "Task":
		return "task_type"
	case "Escape":
		return "escape_type"
	}
	return ""
}

// isKeyOf reports whether key belongs to some shape of logType.
func isKeyOf(logType, key string) bool { return index.anyKey[logType+"\x00"+key] }

// keyInOtherLogType returns a log type other than logType that has key.
func keyInOtherTypes(logType, typ, key string) string {
	var found []string
	for _, s := range shapes {
		if s.LogType != logType || s.Type == typ {
			continue
		}
		for _, k := range s.Keys {
			if k.Name == key && !slices.Contains(found, s.Type) {
				found = append(found, s.Type)
			}
		}
	}
	return strings.Join(found, ", ")
}

// IsKey reports whether key is a key of some record of some log type,
// the logger's keys included.
func IsKey(key string) bool { return allKeys[key] }

var allKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range Shapes("") {
		for _, k := range s.Keys {
			m[k.Name] = true
		}
	}
	return m
}()
