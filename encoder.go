package tasklog

import (
	"encoding/json"
	"io"
	"math"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// NewEncoder returns a zapcore.Encoder that writes one JSON object per
// entry with everything zapcore.NewJSONEncoder writes for the same
// configuration (every field type, the EncoderConfig's keys, level, time,
// duration, name and caller encoders, With context, namespaces and the
// line ending) in g3's order, so that with [EncoderConfig] and
// [LoggerFields] a record's line is, byte for byte, the JSON body g3proxy's
// syslog driver sends after "@cee:".
//
// g3 builds its lines with Rust's slog, which writes a logger's keys before
// a record's, each list last to first, and serde_json escaping. NewEncoder
// writes the top-level keys of an entry in that order:
//
//  1. the fields' logger keys (daemon_name, log_type, pid, server_type,
//     server_name, escaper_type, escaper_name, resolver_type,
//     resolver_name: the keys g3 keeps in its loggers), last to first;
//  2. the context's keys (a Logger's With), last to first;
//  3. the fields' other keys, last to first;
//  4. the entry's own keys, in zap's order: level, time, logger name,
//     caller, function, message, stack trace.
//
// A task logger built as logger.With(LoggerFields(name)...) and a
// [TaskLog] field so write server_name, server_type, pid, log_type,
// daemon_name, the record's keys last to first, report_ts and msg, as g3.
// Only the top level is reordered: an object's or array's members keep
// their order. A namespace (zap.Namespace) is one key that holds every key
// after it: one the fields open goes with the fields; one the context
// leaves open comes after the context's other keys and holds the fields.
// Strings are escaped as serde_json escapes them, which differs from zap
// only in writing \b and \f for the bytes 0x08 and 0x0c (zap writes
// \u0008 and \u000c); bytes that are not valid UTF-8 are written as
// \ufffd, as zap does. The lines parse to the same JSON values as zap's.
//
// It is faster where task records spend their time: strings are escaped a
// word at a time when they are plain ASCII, and a [*TaskLog] (through
// [Field] or [Object]) writes its keys and already formatted values straight
// into the line. Use it for every entry of a proxy's logger, not only task
// records. Like zap's encoders, the returned Encoder is not safe for
// concurrent use on its own; a zapcore.Core serializes its use. It also
// has the method
//
//	AppendEntry(dst []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error)
//
// which appends EncodeEntry's line to dst, with no zap buffer between, for
// a core that keeps its own bytes (find it with an interface assertion).
func NewEncoder(cfg zapcore.EncoderConfig) zapcore.Encoder {
	if cfg.SkipLineEnding {
		cfg.LineEnding = ""
	} else if cfg.LineEnding == "" {
		cfg.LineEnding = zapcore.DefaultLineEnding
	}
	if cfg.NewReflectedEncoder == nil {
		cfg.NewReflectedEncoder = defaultReflectedEncoder
	}
	e := getEncoder()
	e.cfg = newEncConf(cfg)
	return e
}

// encConf is an encoder's configuration with what EncodeEntry would
// otherwise work out for every entry: the time and message keys already
// escaped with their quotes and colon, and whether the time encoder is
// tasklog's unix seconds (written directly, without the callback).
type encConf struct {
	zapcore.EncoderConfig
	timeKey, msgKey string
	unixSeconds     bool
}

func newEncConf(cfg zapcore.EncoderConfig) *encConf {
	c := &encConf{EncoderConfig: cfg}
	if cfg.TimeKey != "" {
		c.timeKey = string(AppendJSONString(nil, cfg.TimeKey)) + ":"
	}
	if cfg.MessageKey != "" {
		c.msgKey = string(AppendJSONString(nil, cfg.MessageKey)) + ":"
	}
	c.unixSeconds = cfg.EncodeTime != nil &&
		reflect.ValueOf(cfg.EncodeTime).Pointer() == reflect.ValueOf(UnixSecondsTimeEncoder).Pointer()
	return c
}

func defaultReflectedEncoder(w io.Writer) zapcore.ReflectedEncoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // as zap does
	return enc
}

// jsonEncoder is the Encoder of NewEncoder. It appends to its own byte
// slice and copies the finished line into a pooled zap buffer once.
type jsonEncoder struct {
	cfg            *encConf
	bs             []byte
	openNamespaces int

	// marks holds where each top-level key starts in bs (the offset of
	// its opening quote, shifted left by one) with the low bit set for a
	// logger key that g3 writes before the others (see assemble). A key
	// inside an object, an array or a namespace is not top-level: nest
	// counts the objects and arrays open. hoist marks the keys a record
	// writes through jsonKeyWriter while it is set.
	marks []int
	nest  int
	hoist bool

	reflectBuf *buffer.Buffer
	reflectEnc zapcore.ReflectedEncoder
}

var (
	_ zapcore.Encoder      = (*jsonEncoder)(nil)
	_ zapcore.ArrayEncoder = (*jsonEncoder)(nil)

	encoderPool = sync.Pool{New: func() any { return &jsonEncoder{bs: make([]byte, 0, 1024), marks: make([]int, 0, 64)} }}
	linePool    = buffer.NewPool()
)

func getEncoder() *jsonEncoder { return encoderPool.Get().(*jsonEncoder) }

// maxPooledLine keeps one huge entry from pinning its memory in the pool.
const maxPooledLine = 64 << 10

func putEncoder(e *jsonEncoder) {
	if e.reflectBuf != nil {
		e.reflectBuf.Free()
	}
	e.reflectBuf, e.reflectEnc = nil, nil
	e.cfg = nil
	e.openNamespaces, e.nest, e.hoist = 0, 0, false
	e.marks = e.marks[:0]
	if cap(e.bs) > maxPooledLine {
		return
	}
	e.bs = e.bs[:0]
	encoderPool.Put(e)
}

// sep appends the comma that separates this element from the previous one.
func (e *jsonEncoder) sep() { e.bs = appendSep(e.bs) }

// appendSep appends to bs the comma that separates an element from the
// previous one, by the same rule as zap: none after '{', '[', ':', ',' or
// ' '. The straight-line writers call it on a local copy of the line.
func appendSep(bs []byte) []byte {
	if n := len(bs); n > 0 {
		switch bs[n-1] {
		case '{', '[', ':', ',', ' ':
		default:
			bs = append(bs, ',')
		}
	}
	return bs
}

func (e *jsonEncoder) addKey(key string) {
	e.sep()
	e.mark(len(e.bs), isLoggerKey(key))
	e.bs = append(e.bs, '"')
	e.bs = appendEscaped(e.bs, key)
	e.bs = append(e.bs, '"', ':')
}

// mark notes a key that starts at pos, if it is a top-level one.
func (e *jsonEncoder) mark(pos int, hoist bool) {
	if e.nest|e.openNamespaces != 0 {
		return
	}
	m := pos << 1
	if hoist {
		m |= 1
	}
	e.marks = append(e.marks, m)
}

// isLoggerKey reports whether g3 keeps key in a logger rather than in a
// record: the keys of its task, escape and resolve loggers, which its
// lines carry before the record's keys.
func isLoggerKey(key string) bool {
	switch key {
	case "daemon_name", "log_type", "pid", "server_type", "server_name",
		"escaper_type", "escaper_name", "resolver_type", "resolver_name":
		return true
	}
	return false
}

// ObjectEncoder.

// AddArray implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddArray(key string, arr zapcore.ArrayMarshaler) error {
	e.addKey(key)
	return e.AppendArray(arr)
}

// AddObject implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddObject(key string, obj zapcore.ObjectMarshaler) error {
	e.addKey(key)
	return e.AppendObject(obj)
}

// AddBinary implements [zapcore.ObjectEncoder]: base64, as zap does.
func (e *jsonEncoder) AddBinary(key string, val []byte) {
	e.addKey(key)
	e.bs = append(e.bs, '"')
	e.bs = appendBase64(e.bs, val)
	e.bs = append(e.bs, '"')
}

// AddByteString implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddByteString(key string, val []byte) {
	e.addKey(key)
	e.AppendByteString(val)
}

// AddBool implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddBool(key string, val bool) { e.addKey(key); e.AppendBool(val) }

// AddComplex128 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddComplex128(key string, val complex128) {
	e.addKey(key)
	e.AppendComplex128(val)
}

// AddComplex64 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddComplex64(key string, val complex64) { e.addKey(key); e.AppendComplex64(val) }

// AddDuration implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddDuration(key string, val time.Duration) {
	e.addKey(key)
	e.AppendDuration(val)
}

// AddFloat64 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddFloat64(key string, val float64) { e.addKey(key); e.AppendFloat64(val) }

// AddFloat32 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddFloat32(key string, val float32) { e.addKey(key); e.AppendFloat32(val) }

// AddInt implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddInt(key string, val int) { e.AddInt64(key, int64(val)) }

// AddInt64 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddInt64(key string, val int64) { e.addKey(key); e.AppendInt64(val) }

// AddInt32 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddInt32(key string, val int32) { e.AddInt64(key, int64(val)) }

// AddInt16 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddInt16(key string, val int16) { e.AddInt64(key, int64(val)) }

// AddInt8 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddInt8(key string, val int8) { e.AddInt64(key, int64(val)) }

// AddString implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddString(key, val string) { e.addKey(key); e.AppendString(val) }

// AddTime implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddTime(key string, val time.Time) { e.addKey(key); e.AppendTime(val) }

// AddUint implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUint(key string, val uint) { e.AddUint64(key, uint64(val)) }

// AddUint64 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUint64(key string, val uint64) { e.addKey(key); e.AppendUint64(val) }

// AddUint32 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUint32(key string, val uint32) { e.AddUint64(key, uint64(val)) }

// AddUint16 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUint16(key string, val uint16) { e.AddUint64(key, uint64(val)) }

// AddUint8 implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUint8(key string, val uint8) { e.AddUint64(key, uint64(val)) }

// AddUintptr implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) AddUintptr(key string, val uintptr) { e.AddUint64(key, uint64(val)) }

// AddReflected implements [zapcore.ObjectEncoder] with the configured
// reflected encoder (encoding/json without HTML escaping by default).
func (e *jsonEncoder) AddReflected(key string, obj any) error {
	b, err := e.encodeReflected(obj)
	if err != nil {
		return err
	}
	e.addKey(key)
	e.bs = append(e.bs, b...)
	return nil
}

// OpenNamespace implements [zapcore.ObjectEncoder].
func (e *jsonEncoder) OpenNamespace(key string) {
	e.addKey(key)
	e.bs = append(e.bs, '{')
	e.openNamespaces++
}

func (e *jsonEncoder) encodeReflected(obj any) ([]byte, error) {
	if obj == nil {
		return []byte("null"), nil
	}
	if e.reflectBuf == nil {
		e.reflectBuf = linePool.Get()
		e.reflectEnc = e.cfg.NewReflectedEncoder(e.reflectBuf)
	} else {
		e.reflectBuf.Reset()
	}
	if err := e.reflectEnc.Encode(obj); err != nil {
		return nil, err
	}
	e.reflectBuf.TrimNewline()
	return e.reflectBuf.Bytes(), nil
}

// ArrayEncoder.

// AppendArray implements [zapcore.ArrayEncoder].
func (e *jsonEncoder) AppendArray(arr zapcore.ArrayMarshaler) error {
	e.sep()
	e.bs = append(e.bs, '[')
	e.nest++
	err := arr.MarshalLogArray(e)
	e.nest--
	e.bs = append(e.bs, ']')
	return err
}

// AppendObject implements [zapcore.ArrayEncoder]. Namespaces opened inside
// the object close with it.
func (e *jsonEncoder) AppendObject(obj zapcore.ObjectMarshaler) error {
	old := e.openNamespaces
	e.openNamespaces = 0
	e.sep()
	e.bs = append(e.bs, '{')
	e.nest++
	err := obj.MarshalLogObject(e)
	e.bs = append(e.bs, '}')
	e.closeNamespaces()
	e.nest--
	e.openNamespaces = old
	return err
}

// AppendReflected implements [zapcore.ArrayEncoder].
func (e *jsonEncoder) AppendReflected(val any) error {
	b, err := e.encodeReflected(val)
	if err != nil {
		return err
	}
	e.sep()
	e.bs = append(e.bs, b...)
	return nil
}

// AppendBool implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendBool(val bool) { e.sep(); e.bs = strconv.AppendBool(e.bs, val) }

// AppendByteString implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendByteString(val []byte) {
	e.sep()
	e.bs = append(e.bs, '"')
	e.bs = appendEscapedBytes(e.bs, val)
	e.bs = append(e.bs, '"')
}

// AppendComplex128 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendComplex128(val complex128) { e.appendComplex(val, 64) }

// AppendComplex64 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendComplex64(val complex64) { e.appendComplex(complex128(val), 32) }

func (e *jsonEncoder) appendComplex(val complex128, bits int) {
	e.sep()
	r, i := real(val), imag(val)
	e.bs = append(e.bs, '"')
	e.bs = strconv.AppendFloat(e.bs, r, 'f', -1, bits)
	if i >= 0 {
		e.bs = append(e.bs, '+')
	}
	e.bs = strconv.AppendFloat(e.bs, i, 'f', -1, bits)
	e.bs = append(e.bs, 'i', '"')
}

// AppendDuration implements [zapcore.PrimitiveArrayEncoder] with the
// configured duration encoder, or nanoseconds when it writes nothing.
func (e *jsonEncoder) AppendDuration(val time.Duration) {
	n := len(e.bs)
	if enc := e.cfg.EncodeDuration; enc != nil {
		enc(val, e)
	}
	if len(e.bs) == n {
		e.AppendInt64(int64(val))
	}
}

// AppendFloat64 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendFloat64(val float64) { e.appendFloat(val, 64) }

// AppendFloat32 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendFloat32(val float32) { e.appendFloat(float64(val), 32) }

func (e *jsonEncoder) appendFloat(val float64, bits int) {
	e.sep()
	switch {
	case math.IsNaN(val):
		e.bs = append(e.bs, `"NaN"`...)
	case math.IsInf(val, 1):
		e.bs = append(e.bs, `"+Inf"`...)
	case math.IsInf(val, -1):
		e.bs = append(e.bs, `"-Inf"`...)
	default:
		e.bs = strconv.AppendFloat(e.bs, val, 'f', -1, bits)
	}
}

// AppendInt implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendInt(val int) { e.AppendInt64(int64(val)) }

// AppendInt64 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendInt64(val int64) { e.sep(); e.bs = strconv.AppendInt(e.bs, val, 10) }

// AppendInt32 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendInt32(val int32) { e.AppendInt64(int64(val)) }

// AppendInt16 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendInt16(val int16) { e.AppendInt64(int64(val)) }

// AppendInt8 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendInt8(val int8) { e.AppendInt64(int64(val)) }

// AppendString implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendString(val string) {
	e.sep()
	e.bs = append(e.bs, '"')
	e.bs = appendEscaped(e.bs, val)
	e.bs = append(e.bs, '"')
}

// AppendTimeLayout implements zap's optional layout encoder interface.
func (e *jsonEncoder) AppendTimeLayout(t time.Time, layout string) {
	e.sep()
	e.bs = append(e.bs, '"')
	e.bs = t.AppendFormat(e.bs, layout)
	e.bs = append(e.bs, '"')
}

// AppendTime implements [zapcore.PrimitiveArrayEncoder] with the configured
// time encoder, or unix nanoseconds when it writes nothing.
func (e *jsonEncoder) AppendTime(val time.Time) {
	n := len(e.bs)
	if enc := e.cfg.EncodeTime; enc != nil {
		enc(val, e)
	}
	if len(e.bs) == n {
		e.AppendInt64(val.UnixNano())
	}
}

// AppendUint implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUint(val uint) { e.AppendUint64(uint64(val)) }

// AppendUint64 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUint64(val uint64) { e.sep(); e.bs = strconv.AppendUint(e.bs, val, 10) }

// AppendUint32 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUint32(val uint32) { e.AppendUint64(uint64(val)) }

// AppendUint16 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUint16(val uint16) { e.AppendUint64(uint64(val)) }

// AppendUint8 implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUint8(val uint8) { e.AppendUint64(uint64(val)) }

// AppendUintptr implements [zapcore.PrimitiveArrayEncoder].
func (e *jsonEncoder) AppendUintptr(val uintptr) { e.AppendUint64(uint64(val)) }

// Encoder.

// Clone implements [zapcore.Encoder]: a copy holding the same context.
func (e *jsonEncoder) Clone() zapcore.Encoder {
	c := getEncoder()
	c.cfg = e.cfg
	c.openNamespaces = e.openNamespaces
	c.bs = append(c.bs[:0], e.bs...)
	c.marks = append(c.marks[:0], e.marks...)
	return c
}

// EncodeEntry implements [zapcore.Encoder]: one JSON object in g3's order
// (see [NewEncoder]).
func (e *jsonEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	f, start := e.encodeLine(ent, fields)
	line := linePool.Get()
	line.AppendBytes(f.bs[start:])
	putEncoder(f)
	return line, nil
}

// AppendEntry appends the line EncodeEntry would return to dst, without
// the zap buffer in between: for a core that keeps its own bytes (the log
// drivers of package driver find it with an interface assertion). It
// never fails; the error is there for that interface's sake.
func (e *jsonEncoder) AppendEntry(dst []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	if f, line := e.direct(dst, false, ent, fields); f != nil {
		putEncoder(f)
		return line, nil
	}
	f, callEnd := e.encodeFields(fields)
	call := f.bs[:callEnd]
	f.bs = dst
	e.assemble(f, call, ent)
	dst = f.bs
	f.bs = call[:0]
	putEncoder(f)
	return dst, nil
}

// encodeLine encodes the entry into a pooled encoder's bytes, from start
// on; the caller puts the encoder back once it has used them.
func (e *jsonEncoder) encodeLine(ent zapcore.Entry, fields []zapcore.Field) (*jsonEncoder, int) {
	if f, _ := e.direct(nil, true, ent, fields); f != nil {
		return f, 0
	}
	f, callEnd := e.encodeFields(fields)
	e.assemble(f, f.bs[:callEnd], ent)
	return f, callEnd
}

// direct writes the commonest entry, one task record that the
// straight-line writer takes and nothing else, in g3's order with no copy
// of its keys: the record's logger keys, the context's keys last to
// first, the record's other keys, the entry's. It appends the line to dst,
// or with mine to a pooled encoder's own bytes, and returns the line and
// the pooled encoder (its bytes the line with mine; put it back once
// done), or nil for any other entry.
func (e *jsonEncoder) direct(dst []byte, mine bool, ent zapcore.Entry, fields []zapcore.Field) (*jsonEncoder, []byte) {
	if len(fields) != 1 || fields[0].Type != zapcore.InlineMarshalerType || e.openNamespaces != 0 {
		return nil, nil
	}
	r, ok := fields[0].Interface.(*TaskLog)
	if !ok || r == nil {
		return nil, nil
	}
	tcp, http, ok := fastCheck(r)
	if !ok {
		return nil, nil
	}
	f := getEncoder()
	f.cfg = e.cfg
	own := f.bs[:0]
	if mine {
		dst = own
	}
	bs := fastHead(append(dst, '{'), r)
	bs = appendSegments(bs, e.bs, e.marks, 0, 0)
	if bs, ok = fastBody(bs, r, tcp, http); !ok {
		putEncoder(f)
		return nil, nil
	}
	f.bs = bs
	f.entryKeys(ent)
	f.bs = append(f.bs, '}')
	f.bs = append(f.bs, e.cfg.LineEnding...)
	line := f.bs
	if !mine {
		f.bs = own
	}
	return f, line
}

// encodeFields encodes the fields at the front of a pooled encoder's
// bytes, up to callEnd, noting where each top-level key starts (marks).
func (e *jsonEncoder) encodeFields(fields []zapcore.Field) (f *jsonEncoder, callEnd int) {
	f = getEncoder()
	f.cfg = e.cfg
	f.openNamespaces = e.openNamespaces
	f.bs = f.bs[:0]
	for i := range fields {
		fields[i].AddTo(f)
	}
	f.closeNamespaces()
	return f, len(f.bs)
}

// assemble appends the line to f.bs, from the encoded fields (call, with
// f.marks) and e's context, in g3's order: the fields' logger keys, last
// to first; the context's keys, last to first; the fields' other keys,
// last to first; then the entry's own keys (level, time, name, caller,
// function, message, stack trace). A namespace is one key that holds
// everything after it: a namespace the fields open holds the fields after
// it, one the context left open comes after the context's other keys and
// holds the fields.
func (e *jsonEncoder) assemble(f *jsonEncoder, call []byte, ent zapcore.Entry) {
	marks := f.marks
	f.bs = append(f.bs, '{')
	f.bs = appendSegments(f.bs, call, marks, 1, 1)
	ctxEnd, nsStart := len(e.bs), -1
	ctxMarks := e.marks
	if e.openNamespaces > 0 && len(ctxMarks) > 0 {
		nsStart = ctxMarks[len(ctxMarks)-1] >> 1
		ctxEnd, ctxMarks = nsStart, ctxMarks[:len(ctxMarks)-1]
	}
	f.bs = appendSegments(f.bs, e.bs[:ctxEnd], ctxMarks, 0, 0)
	if nsStart < 0 {
		f.bs = appendSegments(f.bs, call, marks, 1, 0)
	} else {
		// The fields go inside the context's open namespace.
		f.sep()
		f.bs = append(f.bs, e.bs[nsStart:]...)
		if len(call) > 0 && call[0] != '}' {
			f.sep()
		}
		f.bs = append(f.bs, call...)
	}
	f.entryKeys(ent)
	f.bs = append(f.bs, '}')
	f.bs = append(f.bs, e.cfg.LineEnding...)
}

// appendSegments appends the top-level keys of the encoded region src,
// last to first, comma separated: those whose mark's low bit is bit, or
// all of them when mask is 0. marks holds where each key starts; a key
// runs to the next one (less its comma) or to the end of src. Bytes
// before the first mark, which no zap field writes, go as one key would.
func appendSegments(b, src []byte, marks []int, mask, bit int) []byte {
	end := len(src)
	for i := len(marks); i >= 0; i-- {
		from, hoisted := 0, 0
		if i > 0 {
			from, hoisted = marks[i-1]>>1, marks[i-1]&1
		}
		seg := src[from:end]
		end = from
		if n := len(seg); n > 0 && seg[n-1] == ',' {
			seg = seg[:n-1]
		}
		if len(seg) == 0 || hoisted&mask != bit {
			continue
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, seg...)
	}
	return b
}

// entryKeys appends the entry's own keys, in zap's order among themselves.
func (f *jsonEncoder) entryKeys(ent zapcore.Entry) {
	cfg := f.cfg
	if cfg.LevelKey != "" && cfg.EncodeLevel != nil {
		f.addKey(cfg.LevelKey)
		n := len(f.bs)
		cfg.EncodeLevel(ent.Level, f)
		if len(f.bs) == n {
			f.AppendString(ent.Level.String())
		}
	}
	if cfg.timeKey != "" && !ent.Time.IsZero() {
		f.sep()
		f.bs = append(f.bs, cfg.timeKey...)
		if cfg.unixSeconds {
			f.bs = strconv.AppendInt(f.bs, ent.Time.Unix(), 10)
		} else {
			f.AppendTime(ent.Time)
		}
	}
	if ent.LoggerName != "" && cfg.NameKey != "" {
		f.addKey(cfg.NameKey)
		n := len(f.bs)
		nameEncoder := cfg.EncodeName
		if nameEncoder == nil {
			nameEncoder = zapcore.FullNameEncoder
		}
		nameEncoder(ent.LoggerName, f)
		if len(f.bs) == n {
			f.AppendString(ent.LoggerName)
		}
	}
	if ent.Caller.Defined {
		if cfg.CallerKey != "" {
			f.addKey(cfg.CallerKey)
			n := len(f.bs)
			if cfg.EncodeCaller != nil {
				cfg.EncodeCaller(ent.Caller, f)
			}
			if len(f.bs) == n {
				f.AppendString(ent.Caller.String())
			}
		}
		if cfg.FunctionKey != "" {
			f.addKey(cfg.FunctionKey)
			f.AppendString(ent.Caller.Function)
		}
	}
	if cfg.msgKey != "" {
		f.sep()
		f.bs = append(f.bs, cfg.msgKey...)
		f.bs = append(f.bs, '"')
		f.bs = appendEscaped(f.bs, ent.Message)
		f.bs = append(f.bs, '"')
	}
	if ent.Stack != "" && cfg.StacktraceKey != "" {
		f.AddString(cfg.StacktraceKey, ent.Stack)
	}
}

func (e *jsonEncoder) closeNamespaces() {
	for i := 0; i < e.openNamespaces; i++ {
		e.bs = append(e.bs, '}')
	}
	e.openNamespaces = 0
}

func appendBase64(b []byte, v []byte) []byte {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for len(v) >= 3 {
		n := uint(v[0])<<16 | uint(v[1])<<8 | uint(v[2])
		b = append(b, enc[n>>18&63], enc[n>>12&63], enc[n>>6&63], enc[n&63])
		v = v[3:]
	}
	switch len(v) {
	case 1:
		n := uint(v[0]) << 16
		b = append(b, enc[n>>18&63], enc[n>>12&63], '=', '=')
	case 2:
		n := uint(v[0])<<16 | uint(v[1])<<8
		b = append(b, enc[n>>18&63], enc[n>>12&63], enc[n>>6&63], '=')
	}
	return b
}

// Escaping, the same output as serde_json, which writes g3's JSON: '"'
// and '\\' escaped with a backslash, \b \f \n \r \t as such, other bytes
// below 0x20 as \u00XX, everything else as it is; bytes that are not valid
// UTF-8 (which a Rust string cannot hold) as \ufffd, as zap does. zap's
// own encoder writes \u0008 and \u000c for \b and \f.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes of w needs escaping: each
// is printable ASCII other than '"' and '\\'. It uses the classic
// "has a byte less than n" and "has a zero byte" word tests, which are exact
// about whether such a byte exists.
func plainWord(w uint64) bool {
	below := (w - lsb*0x20) & ^w // a byte below 0x20
	return (below|zeroByte(w^(lsb*'"'))|zeroByte(w^(lsb*'\\'))|w)&msb == 0
}

func zeroByte(x uint64) uint64 { return (x - lsb) & ^x }

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// plainPrefix returns how many leading bytes of s need no escaping,
// checking eight at a time.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainWord(load64(s, i)) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// appendEscaped appends s escaped for a JSON string, without quotes.
func appendEscaped(b []byte, s string) []byte {
	i := plainPrefix(s)
	b = append(b, s[:i]...)
	if i == len(s) {
		return b
	}
	return appendEscapedSlow(b, s[i:])
}

func appendEscapedBytes(b []byte, s []byte) []byte {
	// The string only lives for the call and is only read: no copy needed.
	return appendEscaped(b, bytesString(s))
}

// plainWordUTF8 is plainWord for a string already known to be valid
// UTF-8: bytes of multi-byte characters (0x80 and up) need no escaping.
func plainWordUTF8(w uint64) bool {
	below := (w - lsb*0x20) & ^w
	return (below|zeroByte(w^(lsb*'"'))|zeroByte(w^(lsb*'\\')))&msb == 0
}

// appendEscapedValid escapes a valid UTF-8 string, eight bytes at a time
// between the bytes that need it.
func appendEscapedValid(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plainWordUTF8(load64(s, i)) {
			i += 8
		}
		for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
			i++
		}
		if i == len(s) {
			break
		}
		b = append(b, s[last:i]...)
		b = appendEscapedByte(b, s[i])
		i++
		last = i
	}
	return append(b, s[last:]...)
}

func appendEscapedByte(b []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

func appendEscapedSlow(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return appendEscapedValid(b, s)
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[last:i]...)
			b = append(b, `\ufffd`...)
			i++
			last = i
			continue
		}
		if c >= 0x20 && c != '\\' && c != '"' {
			i++
			continue
		}
		b = append(b, s[last:i]...)
		b = appendEscapedByte(b, c)
		i++
		last = i
	}
	return append(b, s[last:]...)
}

// bytesString views b as a string for a read that ends before b changes.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
