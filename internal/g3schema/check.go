package g3schema

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/proxylog/tasklog"
)

// ValType is what a line's syntax says about a value's type. JSON and
// g3's RFC 3164 text (quoted strings, bare numbers) tell strings from
// numbers; RFC 5424 structured data and the stdout driver's text do not.
type ValType uint8

// The value types a parser can report.
const (
	Untyped ValType = iota // the syntax does not say: structured data, stdout text
	String
	Number
	Bool
	Null // JSON null: fluentd's nil for a key g3 writes as none
)

// Field is one key and its value, unescaped.
type Field struct {
	Key  string
	Val  string
	Type ValType
}

// Problem is one thing wrong with a record.
type Problem struct {
	Key     string // the key, "" for the record as a whole
	Problem string // what is wrong: "missing", "unknown reason", ...
	Value   string // the value at fault, "" when there is none
	HasVal  bool   // Value is meaningful (it may be "")
}

// TransportKeys are keys that log shippers add beside g3's own (fluentd's
// and Vector's file outputs, rsyslog's and syslog-ng's JSON templates);
// Check ignores them.
var TransportKeys = map[string]bool{
	"time": true, "timestamp": true, "@timestamp": true, "tag": true, "host": true, "hostname": true,
	"source_type": true, "source": true, "level": true, "severity": true, "facility": true, "program": true,
	"appname": true, "procid": true, "msgid": true,
}

// ErrorKey is the key under which tasklog writes a record its writer found
// invalid (tasklog.ErrorKey).
const ErrorKey = tasklog.ErrorKey

// Result is what Check learned of a record, for the tools that summarise.
type Result struct {
	LogType string // "" when it could not be told
	Type    string // task_type or escape_type, "" when missing or unknown
	Event   string // task_event, "" when missing or unknown
}

// Check reports each problem of the record through report (nil report
// only classifies) and returns what kind of record it is. It does not
// keep fields or report's arguments past the call.
func Check(fields []Field, report func(Problem)) Result {
	if report == nil {
		report = func(Problem) {}
	}
	var res Result
	get := func(key string) (*Field, bool) {
		for i := range fields {
			if fields[i].Key == key {
				return &fields[i], true
			}
		}
		return nil, false
	}
	if f, ok := get("log_type"); ok {
		res.LogType = canonical(LogTypes, f.Val)
		if res.LogType == "" {
			report(Problem{Key: "log_type", Problem: "unknown log type", Value: f.Val, HasVal: true})
			res.LogType = ""
		}
	} else {
		report(Problem{Key: "log_type", Problem: "missing"})
		switch {
		case has(fields, "task_type"):
			res.LogType = "Task"
		case has(fields, "escape_type"):
			res.LogType = "Escape"
		case has(fields, "resolver_type"):
			res.LogType = "Resolve"
		}
	}
	if res.LogType == "" {
		return res
	}
	var shape *compiled
	tk := typeKey(res.LogType)
	typeOK := true
	if tk != "" {
		f, ok := get(tk)
		switch {
		case !ok:
			report(Problem{Key: tk, Problem: "missing"})
			typeOK = false
		case !index.words[enumOf(tk)][f.Val]:
			report(Problem{Key: tk, Problem: "unknown " + enumWhat(tk), Value: f.Val, HasVal: true})
			typeOK = false
		default:
			res.Type = canonical(enums[enumOf(tk)], f.Val)
		}
	}
	if typeOK {
		event := ""
		if res.LogType == "Task" {
			f, ok := get("task_event")
			switch {
			case !ok:
				report(Problem{Key: "task_event", Problem: "missing"})
			case !index.words["Event"][f.Val]:
				report(Problem{Key: "task_event", Problem: "unknown task event", Value: f.Val, HasVal: true})
			default:
				res.Event = canonical(enums["Event"], f.Val)
				event = res.Event
			}
		}
		shape = index.byKey[res.LogType+"\x00"+res.Type+"\x00"+event]
		if shape == nil && res.Event != "" {
			report(Problem{Key: "task_event", Problem: "not an event of " + res.Type + " tasks", Value: res.Event, HasVal: true})
		}
	}
	var seen [maxShapeKeys]bool // by index in shape.Keys
	for i := range fields {
		f := &fields[i]
		// A key of the shape is a duplicate when seen already; only the
		// others (rare) need the earlier fields searched.
		j, inShape := -1, false
		if shape != nil {
			j, inShape = shape.keys[f.Key]
		}
		if inShape && seen[j] || !inShape && i > 0 && dupBefore(fields, i) {
			report(Problem{Key: f.Key, Problem: "appears more than once", Value: f.Val, HasVal: true})
			continue
		}
		if inShape {
			seen[j] = true
		}
		if f.Key == ErrorKey {
			report(Problem{Key: f.Key, Problem: "the writer found the record invalid", Value: f.Val, HasVal: true})
			continue
		}
		if f.Key == tk || f.Key == "log_type" || (f.Key == "task_event" && res.LogType == "Task") {
			continue // checked above
		}
		if shape == nil {
			// The sub-type or event is unknown: check the value of any
			// key the log type has, by the first shape that has it.
			if k := anyShapeKey(res.LogType, f.Key); k != nil {
				checkValue(k, f, report)
			} else if !TransportKeys[f.Key] {
				report(Problem{Key: f.Key, Problem: "not a key of " + res.LogType + " records", Value: f.Val, HasVal: true})
			}
			continue
		}
		if !inShape {
			switch {
			case TransportKeys[f.Key]:
			case isKeyOf(res.LogType, f.Key):
				where := keyInOtherTypes(res.LogType, res.Type, f.Key)
				what := "not a key of " + res.Type + " " + shapeWhat(res.LogType)
				if res.Event != "" {
					what += " at " + res.Event
				}
				if where != "" {
					what += " (a key of " + where + ")"
				}
				report(Problem{Key: f.Key, Problem: what, Value: f.Val, HasVal: true})
			default:
				report(Problem{Key: f.Key, Problem: "not a key of " + res.LogType + " records", Value: f.Val, HasVal: true})
			}
			continue
		}
		if f.Type == Null {
			if shape.shape.Keys[j].Required {
				report(Problem{Key: f.Key, Problem: "null, but the record must carry it"})
			}
			continue
		}
		checkValue(&shape.shape.Keys[j], f, report)
	}
	if shape != nil {
		for _, j := range shape.required {
			if !seen[j] {
				report(Problem{Key: shape.shape.Keys[j].Name, Problem: "missing"})
			}
		}
		if res.LogType == "Resolve" {
			checkSubtype(fields, report)
		}
	}
	return res
}

// canonical returns the word of words equal to v: the Result's strings
// never share the caller's buffer.
func canonical(words []string, v string) string {
	for _, w := range words {
		if w == v {
			return w
		}
	}
	return ""
}

func has(fields []Field, key string) bool {
	for i := range fields {
		if fields[i].Key == key {
			return true
		}
	}
	return false
}

func dupBefore(fields []Field, i int) bool {
	for j := 0; j < i; j++ {
		if fields[j].Key == fields[i].Key {
			return true
		}
	}
	return false
}

func shapeWhat(logType string) string {
	switch logType {
	case "Task":
		return "tasks"
	case "Escape":
		return "escape records"
	}
	return "records"
}

func enumOf(typeKey string) string {
	if typeKey == "task_type" {
		return "TaskType"
	}
	return "EscapeType"
}

func enumWhat(typeKey string) string {
	if typeKey == "task_type" {
		return "task type"
	}
	return "escape type"
}

func anyShapeKey(logType, key string) *Key {
	for i := range shapes {
		if shapes[i].LogType != logType {
			continue
		}
		for j := range shapes[i].Keys {
			if shapes[i].Keys[j].Name == key {
				return &shapes[i].Keys[j]
			}
		}
	}
	for i := range loggerKeys {
		if loggerKeys[i].Name == key {
			return &loggerKeys[i]
		}
	}
	return nil
}

// checkSubtype applies g3's rule that ServerError, DriverError and
// LocalError carry one of their own subtypes and the other error types "".
func checkSubtype(fields []Field, report func(Problem)) {
	var typ, sub string
	var hasType, hasSub bool
	for i := range fields {
		switch fields[i].Key {
		case "error_type":
			typ, hasType = fields[i].Val, true
		case "error_subtype":
			sub, hasSub = fields[i].Val, true
		}
	}
	if !hasType || !hasSub || !index.words["ResolveErrorType"][typ] {
		return
	}
	wantsSub := typ == "ServerError" || typ == "DriverError" || typ == "LocalError"
	switch {
	case wantsSub && sub == "":
		report(Problem{Key: "error_subtype", Problem: "empty, but " + typ + " carries a subtype", Value: sub, HasVal: true})
	case !wantsSub && sub != "":
		report(Problem{Key: "error_subtype", Problem: typ + " has no subtype, g3 writes \"\"", Value: sub, HasVal: true})
	case wantsSub && subtypeOf[sub] != "" && subtypeOf[sub] != typ:
		report(Problem{Key: "error_subtype", Problem: "a subtype of " + subtypeOf[sub] + ", not " + typ, Value: sub, HasVal: true})
	}
}

// checkValue reports a value that is not of its key's kind.
func checkValue(k *Key, f *Field, report func(Problem)) {
	bad := func(problem string) {
		report(Problem{Key: f.Key, Problem: problem, Value: f.Val, HasVal: true})
	}
	if f.Type == Null {
		return
	}
	if !utf8.ValidString(f.Val) {
		bad("not valid UTF-8 (g3 writes only UTF-8)")
		return
	}
	switch k.Kind {
	case KindUint, KindU16:
		if f.Type == String {
			bad("a number written as a string")
			return
		}
		if f.Type == Bool {
			bad("a bool where g3 writes a number")
			return
		}
		bits := 64
		if k.Kind == KindU16 {
			bits = 16
		}
		if _, err := strconv.ParseUint(f.Val, 10, bits); err != nil || (len(f.Val) > 1 && f.Val[0] == '0') {
			bad("not an unsigned " + strconv.Itoa(bits) + "-bit integer")
		}
		return
	case KindBool:
		if f.Type == String {
			bad("a bool written as a string")
		} else if f.Val != "true" && f.Val != "false" {
			bad("not true or false")
		}
		return
	}
	if f.Type == Number || f.Type == Bool {
		bad("a bare value where g3 writes a string")
		return
	}
	v := f.Val
	switch k.Kind {
	case KindWord:
		if k.Name == "error_subtype" && v == "" {
			return // checked with error_type
		}
		if !index.words[k.Enum][v] {
			bad("unknown " + wordWhat(k))
		}
	case KindDuration:
		d, err := tasklog.ParseDuration(v)
		if err != nil || d < 0 {
			bad("not a Rust duration like 1.235ms")
		} else if want := tasklog.FormatDuration(d); want != v {
			bad("not g3's form of the duration (" + want + ")")
		}
	case KindTimestamp:
		if !isTimestamp(v) {
			bad("not g3's UTC timestamp with microseconds (2026-11-24T10:30:01.123456Z)")
		}
	case KindID:
		if !isSimpleID(v) {
			if len(v) == 36 && v[8] == '-' {
				bad("a dashed uuid; g3 writes 32 hex digits without dashes")
			} else {
				bad("not 32 lowercase hex digits")
			}
		}
	case KindSockAddr:
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			bad("not an ip:port socket address")
		} else if ap.String() != v {
			bad("not in canonical form (" + ap.String() + ")")
		}
	case KindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			bad("not an IP address")
		} else if a.String() != v {
			bad("not in canonical form (" + a.String() + ")")
		}
	case KindUpstream, KindHost, KindURI, KindBindAddr:
		if v == "" {
			bad("empty; g3 leaves the key out instead")
		}
	case KindIPList:
		for rest := v; rest != ""; {
			item := rest
			if i := indexByte(rest, ' '); i >= 0 {
				item, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			if _, err := netip.ParseAddr(item); err != nil {
				bad("not a list of IP addresses one space apart")
				return
			}
		}
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func wordWhat(k *Key) string {
	switch k.Enum {
	case "Event":
		return "task event"
	case "ServerType":
		return "server type"
	case "TaskType":
		return "task type"
	case "Stage":
		return "stage"
	case "Reason", "TCPConnectError", "UDPSendtoError":
		return "reason"
	}
	return k.Name
}

// isTimestamp reports whether v is g3's timestamp: RFC 3339 in UTC with
// exactly six fraction digits and Z.
func isTimestamp(v string) bool {
	const layout = "2006-01-02T15:04:05.000000Z"
	if len(v) != len(layout) {
		return false
	}
	for i := 0; i < len(layout); i++ {
		lc, c := layout[i], v[i]
		if lc >= '0' && lc <= '9' {
			if c < '0' || c > '9' {
				return false
			}
		} else if c != lc {
			return false
		}
	}
	_, err := time.Parse(layout, v)
	return err == nil
}

func isSimpleID(v string) bool {
	if len(v) != 32 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
