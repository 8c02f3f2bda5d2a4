package tasklog

import (
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// zapWriter writes keys to any zapcore.ObjectEncoder. Values that g3
// prints as formatted strings are appended to a scratch buffer and handed
// over with AddByteString, which copies them (zap's JSON encoder escapes
// them into its buffer, the map encoder makes a string), so the scratch is
// reused for the next key. Writers are pooled so that marshaling allocates
// nothing of its own.
type zapWriter struct {
	enc zapcore.ObjectEncoder
	buf []byte
}

var zapWriterPool = sync.Pool{New: func() any { return &zapWriter{buf: make([]byte, 0, 128)} }}

func getZapWriter(enc zapcore.ObjectEncoder) *zapWriter {
	w := zapWriterPool.Get().(*zapWriter)
	w.enc = enc
	return w
}

// maxPooledScratch keeps a rare huge URI from pinning its buffer in the pool.
const maxPooledScratch = 16 << 10

func putZapWriter(w *zapWriter) {
	w.enc = nil
	if cap(w.buf) > maxPooledScratch {
		return
	}
	zapWriterPool.Put(w)
}

// str hands val over as it is: zap's JSON encoder writes each invalid
// byte as \ufffd, byte for byte what NewEncoder writes.
func (w *zapWriter) str(key, val string)  { w.enc.AddString(key, val) }
func (w *zapWriter) word(key, val string) { w.enc.AddString(key, val) }
func (w *zapWriter) dur(key string, d time.Duration) {
	w.buf = AppendDuration(w.buf[:0], d)
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) ts(key string, t time.Time) {
	w.buf = AppendTimestamp(w.buf[:0], t)
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) id(key string, u uuid.UUID) {
	w.buf = AppendTaskID(w.buf[:0], u)
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) addrPort(key string, ap netip.AddrPort) {
	w.buf = ap.AppendTo(w.buf[:0])
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) addr(key string, a netip.Addr) {
	w.buf = a.AppendTo(w.buf[:0])
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) hostPort(key, host string, port uint16) {
	w.buf = appendHostPort(w.buf[:0], host, port)
	w.enc.AddByteString(key, w.buf)
}
func (w *zapWriter) uint(key string, v uint64) { w.enc.AddUint64(key, v) }
func (w *zapWriter) u16(key string, v uint16)  { w.enc.AddUint16(key, v) }
func (w *zapWriter) bool(key string, v bool)   { w.enc.AddBool(key, v) }
func (w *zapWriter) uri(key, raw string, maxChars int) {
	w.buf = AppendSanitizedURI(w.buf[:0], raw, maxChars)
	w.enc.AddByteString(key, w.buf)
}

// logger: another encoder writes the keys where they come.
func (w *zapWriter) logger(bool) {}

func (w *zapWriter) none(key string) {
	if n, ok := w.enc.(NoneAdder); ok {
		n.AddNone(key)
	}
}
func (w *zapWriter) inline(m zapcore.ObjectMarshaler) error { return m.MarshalLogObject(w.enc) }

// NoneAdder is implemented by a zapcore.ObjectEncoder that writes the keys
// g3 writes as "none": a key the record's event carries whose value is
// unset (an empty user, a zero duration, an invalid address). JSON leaves
// such keys out; g3's fluentd driver writes them as nil, and so does
// tasklog's. [TaskLog.MarshalLogObject] calls AddNone for each of them, in
// key order, when its encoder implements NoneAdder.
type NoneAdder interface {
	AddNone(key string)
}

// nopWriter discards keys; validation runs the encoding with it.
type nopWriter struct{}

func (nopWriter) str(string, string)              {}
func (nopWriter) hostPort(string, string, uint16) {}
func (nopWriter) word(string, string)             {}
func (nopWriter) dur(string, time.Duration)       {}
func (nopWriter) ts(string, time.Time)            {}
func (nopWriter) id(string, uuid.UUID)            {}
func (nopWriter) addrPort(string, netip.AddrPort) {}
func (nopWriter) addr(string, netip.Addr)         {}
func (nopWriter) uint(string, uint64)             {}
func (nopWriter) u16(string, uint16)              {}
func (nopWriter) bool(string, bool)               {}
func (nopWriter) uri(string, string, int)         {}
func (nopWriter) none(string)                     {}
func (nopWriter) logger(bool)                     {}
func (nopWriter) inline(m zapcore.ObjectMarshaler) error {
	return m.MarshalLogObject(zapcore.NewMapObjectEncoder())
}
