package driver

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

var (
	stderr   = zapcore.Lock(os.Stderr)
	osStdout = os.Stdout
)

var formatDuration = tasklog.FormatDuration

// kind is the type of a value as g3's slog serializers see it.
type kind uint8

const (
	kindStr   kind = iota // a string (g3 quotes it in its text formats)
	kindInt               // a signed integer, in n
	kindUint              // an unsigned integer, in n
	kindFloat             // a float, its bits in n
	kindBool              // a bool, in n (0 or 1)
	kindNone              // a key g3 writes as none (fluentd's nil)
)

type pair struct {
	key   string
	s     string // kindStr; a view of kvEncoder.arena once collected, when off >= 0
	n     uint64 // kindInt, kindUint, kindBool; kindFloat's bits; kindStr with off >= 0: its length
	off   int32  // kindStr: where a byte-string value starts in the arena, or -1
	kind  kind
	width uint8 // kindInt, kindUint: the bits of the type it was added as (8 to 64), as g3's Rust types
}

// float returns a kindFloat pair's value.
func (p *pair) float() float64 { return math.Float64frombits(p.n) }

// kvEncoder is a zapcore.ObjectEncoder that keeps a record's keys and
// typed values in order, for the drivers whose formats are not JSON. A
// *tasklog.TaskLog writes its formatted values (durations, addresses, ids)
// with AddByteString and its unset keys with AddNone. Values that are
// objects, arrays or reflected become their JSON text.
type kvEncoder struct {
	pairs  []pair
	prefix string // open namespaces, "ns."
	// arena holds the byte-string values (formatted durations, addresses,
	// ids: a *TaskLog hands them over in a scratch buffer it reuses), so
	// keeping them costs no allocation; scratch is the renderers' own.
	arena, scratch []byte
	idx, order     []int
	vals           []textVal
	tmp            []pair // g3Order's other slice
	valid          bool   // every string value is valid UTF-8 (taskText.collect)
	// sortKeys and sortOrder keep the stdout format's last sort: records
	// of one kind have the same keys in the same order, so the order of
	// the last one sorted serves again while the keys are the same (and
	// have no duplicates, which sort by value). They survive putKV.
	sortKeys  []string
	sortOrder []int
	// nameKeys and names keep the journal's field names for the last
	// record's keys, in the same way.
	nameKeys, names []string
	// The memory of sortKeys and nameKeys: a record's keys may view its
	// line (pairsFromLine), whose buffer the next records reuse.
	sortArena, nameArena []byte
}

// textVal is a value as text: s, or once sealed a view of scratch[off:off+n].
type textVal struct {
	off, n int
	s      string
}

var kvPool = sync.Pool{New: func() any {
	return &kvEncoder{pairs: make([]pair, 0, 48), arena: make([]byte, 0, 1024), scratch: make([]byte, 0, 1024)}
}}

func getKV() *kvEncoder { return kvPool.Get().(*kvEncoder) }

func putKV(e *kvEncoder) {
	if cap(e.pairs) > 1024 || cap(e.arena) > 64<<10 || cap(e.scratch) > 64<<10 {
		return
	}
	clear(e.pairs)
	clear(e.vals)
	clear(e.tmp)
	e.pairs, e.tmp, e.prefix, e.arena, e.scratch = e.pairs[:0], e.tmp[:0], "", e.arena[:0], e.scratch[:0]
	e.idx, e.order, e.vals = e.idx[:0], e.order[:0], e.vals[:0]
	e.valid = false
	kvPool.Put(e)
}

// seal points the byte-string values at the arena, which no longer grows.
func (e *kvEncoder) seal() {
	for i := range e.pairs {
		if p := &e.pairs[i]; p.kind == kindStr && p.off >= 0 && p.n > 0 {
			p.s = unsafe.String(&e.arena[p.off], int(p.n))
		}
	}
}

// encode adds fields in order.
func (e *kvEncoder) encode(fields []zapcore.Field) {
	for i := range fields {
		fields[i].AddTo(e)
	}
}

func (e *kvEncoder) add(p pair) {
	if e.prefix != "" {
		p.key = e.prefix + p.key
	}
	e.pairs = append(e.pairs, p)
}

func (e *kvEncoder) AddNone(key string) { e.add(pair{key: key, kind: kindNone, off: -1}) }

func (e *kvEncoder) AddString(key, v string) { e.add(pair{key: key, kind: kindStr, s: v, off: -1}) }

// AddByteString keeps v in the arena: the caller may reuse it.
func (e *kvEncoder) AddByteString(key string, v []byte) {
	off := len(e.arena)
	e.arena = append(e.arena, v...)
	e.add(pair{key: key, kind: kindStr, off: int32(off), n: uint64(len(v))})
}

func (e *kvEncoder) AddBinary(key string, v []byte) {
	e.AddString(key, base64.StdEncoding.EncodeToString(v))
}

func (e *kvEncoder) AddBool(key string, v bool) {
	n := uint64(0)
	if v {
		n = 1
	}
	e.add(pair{key: key, kind: kindBool, n: n})
}

// Integers keep the width they were added with: g3's fluentd driver
// writes each in the MessagePack form of its Rust type (a u16 status as
// uint 16, a u32 pid as uint 32, a u64 counter or usize as uint 64).
func (e *kvEncoder) addInt(key string, v int64, width uint8) {
	e.add(pair{key: key, kind: kindInt, n: uint64(v), width: width})
}
func (e *kvEncoder) addUint(key string, v uint64, width uint8) {
	e.add(pair{key: key, kind: kindUint, n: v, width: width})
}
func (e *kvEncoder) AddInt64(key string, v int64)   { e.addInt(key, v, 64) }
func (e *kvEncoder) AddUint64(key string, v uint64) { e.addUint(key, v, 64) }
func (e *kvEncoder) AddFloat64(key string, v float64) {
	e.add(pair{key: key, kind: kindFloat, n: math.Float64bits(v)})
}
func (e *kvEncoder) AddFloat32(key string, v float32) { e.AddFloat64(key, float64(v)) }
func (e *kvEncoder) AddInt(key string, v int)         { e.addInt(key, int64(v), 64) }
func (e *kvEncoder) AddInt32(key string, v int32)     { e.addInt(key, int64(v), 32) }
func (e *kvEncoder) AddInt16(key string, v int16)     { e.addInt(key, int64(v), 16) }
func (e *kvEncoder) AddInt8(key string, v int8)       { e.addInt(key, int64(v), 8) }
func (e *kvEncoder) AddUint(key string, v uint)       { e.addUint(key, uint64(v), 64) }
func (e *kvEncoder) AddUint32(key string, v uint32)   { e.addUint(key, uint64(v), 32) }
func (e *kvEncoder) AddUint16(key string, v uint16)   { e.addUint(key, uint64(v), 16) }
func (e *kvEncoder) AddUint8(key string, v uint8)     { e.addUint(key, uint64(v), 8) }
func (e *kvEncoder) AddUintptr(key string, v uintptr) { e.addUint(key, uint64(v), 64) }
func (e *kvEncoder) AddComplex128(key string, v complex128) {
	e.AddString(key, strconv.FormatComplex(v, 'f', -1, 128))
}
func (e *kvEncoder) AddComplex64(key string, v complex64) {
	e.AddString(key, strconv.FormatComplex(complex128(v), 'f', -1, 64))
}

// AddDuration writes a plain zap.Duration in g3's form, as EncoderConfig's
// DurationEncoder does.
func (e *kvEncoder) AddDuration(key string, v time.Duration) { e.AddString(key, formatDuration(v)) }

// AddTime writes unix seconds, as g3's report_ts.
func (e *kvEncoder) AddTime(key string, v time.Time) { e.AddInt64(key, v.Unix()) }

func (e *kvEncoder) AddReflected(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.AddString(key, string(b))
	return nil
}

func (e *kvEncoder) AddArray(key string, v zapcore.ArrayMarshaler) error {
	return e.addJSON(key, func(enc zapcore.ObjectEncoder) error { return enc.AddArray("v", v) })
}

func (e *kvEncoder) AddObject(key string, v zapcore.ObjectMarshaler) error {
	return e.addJSON(key, func(enc zapcore.ObjectEncoder) error { return enc.AddObject("v", v) })
}

// addJSON writes a nested value as its JSON text.
func (e *kvEncoder) addJSON(key string, add func(zapcore.ObjectEncoder) error) error {
	m := zapcore.NewMapObjectEncoder()
	err := add(m)
	b, jerr := json.Marshal(m.Fields["v"])
	if jerr != nil && err == nil {
		err = jerr
	}
	e.AddString(key, string(b))
	return err
}

func (e *kvEncoder) OpenNamespace(key string) { e.prefix += key + "." }

var _ zapcore.ObjectEncoder = (*kvEncoder)(nil)

// text returns a value as g3's text formats print it, and whether it is
// a string (which they quote).
func (p *pair) text(b []byte) ([]byte, bool) {
	switch p.kind {
	case kindInt:
		return strconv.AppendInt(b, int64(p.n), 10), false
	case kindUint:
		return strconv.AppendUint(b, p.n, 10), false
	case kindBool:
		return strconv.AppendBool(b, p.n == 1), false
	case kindFloat:
		return strconv.AppendFloat(b, p.float(), 'g', -1, 64), false
	default:
		return append(b, p.s...), true
	}
}

// ownKeys copies n keys (key(i) for i < n) into *arena, whose earlier
// contents it reuses, and returns views of the copies in dst[:0]: a cache
// of the last record's keys compares them with the next record's after
// that record's memory was reused.
func ownKeys(dst []string, arena *[]byte, n int, key func(i int) string) []string {
	a := (*arena)[:0]
	for i := 0; i < n; i++ {
		a = append(a, key(i)...)
	}
	*arena = a
	dst, off := dst[:0], 0
	for i := 0; i < n; i++ {
		k := len(key(i))
		dst = append(dst, bytesView(a[off:off+k:off+k]))
		off += k
	}
	return dst
}

// appendValidUTF8 appends s with each byte that is not part of valid UTF-8
// written as U+FFFD, as NewEncoder's line has it: the journal and stdout
// formats print values so, whether they come from the line (see
// pairsFromLine) or from the kvEncoder.
func appendValidUTF8(b []byte, s string) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[:n]...)
		}
		s = s[n:]
	}
	return b
}

// kvFormatter is the base of the non-JSON formatters: context fields
// first, then the entry's, into one kvEncoder. The context fields are
// encoded once, when With is called (as zap's own encoders do), and
// copied into each record.
type kvFormatter struct {
	ctx    []pair // sealed: each value is its own string (off < 0)
	prefix string // the namespaces the context fields left open
}

// collect returns a pooled kvEncoder with the record's keys; putKV it.
func (f kvFormatter) collect(fields []zapcore.Field) *kvEncoder {
	e := getKV()
	e.pairs = append(e.pairs, f.ctx...)
	e.prefix = f.prefix
	e.encode(fields)
	e.seal()
	return e
}

// collectG3 collects the keys in the order g3's drivers write them. g3
// builds its records with slog, which serializes a logger's keys before a
// record's, and each list last to first. Its loggers carry daemon_name,
// log_type and pid, and the server's, escaper's or resolver's type and
// name (g3proxy/src/log/task/mod.rs and its siblings): so the context
// fields (a zap Logger's With) and those keys, wherever they come from,
// go first, last to first, then the entry's other keys, last to first.
// For a task logger built with tasklog.LoggerFields that is:
//
//	server_name, server_type, pid, log_type, daemon_name, <the task's keys, last to first>
func (f kvFormatter) collectG3(fields []zapcore.Field) *kvEncoder {
	e := f.collect(fields)
	ctxEnd := len(f.ctx)
	tmp := e.tmp[:0]
	for i := len(e.pairs) - 1; i >= 0; i-- {
		if i < ctxEnd || isLoggerKey(e.pairs[i].key) {
			tmp = append(tmp, e.pairs[i])
		}
	}
	for i := len(e.pairs) - 1; i >= ctxEnd; i-- {
		if !isLoggerKey(e.pairs[i].key) {
			tmp = append(tmp, e.pairs[i])
		}
	}
	e.pairs, e.tmp = tmp, e.pairs
	return e
}

// isLoggerKey reports whether g3 keeps key in a logger rather than in
// the record: the keys of its task, escape and resolve loggers.
func isLoggerKey(key string) bool {
	switch key {
	case "daemon_name", "log_type", "pid", "server_type", "server_name",
		"escaper_type", "escaper_name", "resolver_type", "resolver_name":
		return true
	}
	return false
}

// withCtx encodes fields after f's context fields, into a formatter's own
// memory: a record copies the pairs, whose values stay valid for as long
// as the formatter lives.
func (f kvFormatter) withCtx(fields []zapcore.Field) kvFormatter {
	e := &kvEncoder{pairs: append(make([]pair, 0, len(f.ctx)+len(fields)), f.ctx...), prefix: f.prefix}
	e.encode(fields)
	e.seal()
	for i := range e.pairs {
		e.pairs[i].off = -1 // s is the value now; the arena is not the record's
	}
	return kvFormatter{ctx: e.pairs, prefix: e.prefix}
}

// programName is the default ident: this program's file name.
func programName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "tasklog"
}
