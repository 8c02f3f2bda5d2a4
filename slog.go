package tasklog

import (
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

var _ slog.LogValuer = (*TaskLog)(nil)

// LogValue implements [slog.LogValuer]. It returns a group of the same keys
// and values that [TaskLog.MarshalLogObject] writes, with strings for g3's
// formatted values (durations, times, ids, addresses), int64 and uint64 for
// numbers and bools for booleans, so that
//
//	slog.Info(rec.Reason.Text(), slog.Any("", rec))
//
// writes them at the top level of the entry. A bad record's group also has
// [ErrorKey] with the [TaskLog.Validate] error text; a nil r has only it.
// It allocates the group's attributes and the formatted strings.
func (r *TaskLog) LogValue() slog.Value {
	if r == nil {
		return slog.GroupValue(slog.String(ErrorKey, errNilRecord.Error()))
	}
	w := &slogWriter{attrs: make([]slog.Attr, 0, 40)}
	e := recEnc{w: w}
	r.encode(&e)
	if e.bad {
		w.attrs = append(w.attrs, slog.String(ErrorKey, r.Validate().Error()))
	}
	return slog.GroupValue(w.attrs...)
}

// slogWriter collects keys as slog attributes.
type slogWriter struct {
	attrs []slog.Attr
	buf   []byte
}

func (w *slogWriter) add(a slog.Attr) { w.attrs = append(w.attrs, a) }

// str hands val over as it is: slog's JSON handler, like zap's encoder,
// writes each invalid byte as \ufffd.
func (w *slogWriter) str(key, val string)  { w.add(slog.String(key, val)) }
func (w *slogWriter) word(key, val string) { w.add(slog.String(key, val)) }
func (w *slogWriter) formatted(key string) { w.add(slog.String(key, string(w.buf))) }
func (w *slogWriter) dur(key string, d time.Duration) {
	w.buf = AppendDuration(w.buf[:0], d)
	w.formatted(key)
}
func (w *slogWriter) ts(key string, t time.Time) {
	w.buf = AppendTimestamp(w.buf[:0], t)
	w.formatted(key)
}
func (w *slogWriter) id(key string, u uuid.UUID) {
	w.buf = AppendTaskID(w.buf[:0], u)
	w.formatted(key)
}
func (w *slogWriter) addrPort(key string, ap netip.AddrPort) {
	w.buf = ap.AppendTo(w.buf[:0])
	w.formatted(key)
}
func (w *slogWriter) addr(key string, a netip.Addr) {
	w.buf = a.AppendTo(w.buf[:0])
	w.formatted(key)
}
func (w *slogWriter) hostPort(key, host string, port uint16) {
	w.buf = appendHostPort(w.buf[:0], host, port)
	w.formatted(key)
}
func (w *slogWriter) uint(key string, v uint64) { w.add(slog.Uint64(key, v)) }
func (w *slogWriter) u16(key string, v uint16)  { w.add(slog.Uint64(key, uint64(v))) }
func (w *slogWriter) bool(key string, v bool)   { w.add(slog.Bool(key, v)) }
func (w *slogWriter) uri(key, raw string, maxChars int) {
	w.buf = AppendSanitizedURI(w.buf[:0], raw, maxChars)
	w.formatted(key)
}

func (w *slogWriter) none(string) {}

// logger: a slog handler writes the attributes in its own order.
func (w *slogWriter) logger(bool) {}

// inline converts what an unknown Detail writes to a zap map encoder into
// attributes, in key order.
func (w *slogWriter) inline(m zapcore.ObjectMarshaler) error {
	enc := zapcore.NewMapObjectEncoder()
	err := m.MarshalLogObject(enc)
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.add(slog.Any(k, enc.Fields[k]))
	}
	return err
}
