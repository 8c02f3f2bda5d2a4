package tasklog

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// jsonKeyWriter writes a record's keys straight into a jsonEncoder's line:
// the keys are snake_case literals that need no escaping, and the values
// are formatted in place, with no scratch buffer and no per-key call
// through zapcore.ObjectEncoder.
type jsonKeyWriter jsonEncoder

// keyed returns the line with the separator and "key": appended. The
// methods below work on that local slice and store it back once, which
// keeps it in registers.
func (w *jsonKeyWriter) keyed(key string) []byte {
	bs := appendSep(w.bs)
	(*jsonEncoder)(w).mark(len(bs), w.hoist)
	bs = append(bs, '"')
	bs = append(bs, key...)
	return append(bs, '"', ':')
}

// logger marks the keys written until it is called again with false as
// logger keys, which the line carries first (see assemble).
func (w *jsonKeyWriter) logger(on bool) { w.hoist = on }

// str scans val once: a plain ASCII prefix is copied as it is, and only
// the rest, if any, is escaped, with bytes that are not valid UTF-8 written
// as \ufffd.
func (w *jsonKeyWriter) str(key, val string) {
	bs := append(w.keyed(key), '"')
	bs = appendEscaped(bs, val)
	w.bs = append(bs, '"')
}

func (w *jsonKeyWriter) hostPort(key, host string, port uint16) {
	bs := append(w.keyed(key), '"')
	bs = appendEscaped(bs, host)
	bs = append(bs, ':')
	bs = strconv.AppendUint(bs, uint64(port), 10)
	w.bs = append(bs, '"')
}

func (w *jsonKeyWriter) word(key, val string) {
	bs := append(w.keyed(key), '"')
	bs = append(bs, val...)
	w.bs = append(bs, '"')
}

func (w *jsonKeyWriter) dur(key string, d time.Duration) {
	bs := append(w.keyed(key), '"')
	bs = AppendDuration(bs, d)
	w.bs = append(bs, '"')
}

func (w *jsonKeyWriter) ts(key string, t time.Time) {
	bs := append(w.keyed(key), '"')
	bs = AppendTimestamp(bs, t)
	w.bs = append(bs, '"')
}

func (w *jsonKeyWriter) id(key string, u uuid.UUID) {
	bs := append(w.keyed(key), '"')
	bs = AppendTaskID(bs, u)
	w.bs = append(bs, '"')
}

// addrPort and addr: netip prints IPv6 zones, which may hold any text, so
// the value is escaped in place when it has one.
func (w *jsonKeyWriter) addrPort(key string, ap netip.AddrPort) {
	bs := append(w.keyed(key), '"')
	start := len(bs)
	w.bs = ap.AppendTo(bs)
	w.escapeFrom(start, ap.Addr().Zone() != "")
	w.bs = append(w.bs, '"')
}

func (w *jsonKeyWriter) addr(key string, a netip.Addr) {
	bs := append(w.keyed(key), '"')
	start := len(bs)
	w.bs = a.AppendTo(bs)
	w.escapeFrom(start, a.Zone() != "")
	w.bs = append(w.bs, '"')
}

// escapeFrom re-escapes the bytes written since start, when they may need it.
func (w *jsonKeyWriter) escapeFrom(start int, may bool) {
	if !may {
		return
	}
	raw := string(w.bs[start:])
	w.bs = appendEscaped(w.bs[:start], raw)
}

func (w *jsonKeyWriter) uint(key string, v uint64) { w.bs = strconv.AppendUint(w.keyed(key), v, 10) }

func (w *jsonKeyWriter) u16(key string, v uint16) {
	w.bs = strconv.AppendUint(w.keyed(key), uint64(v), 10)
}

func (w *jsonKeyWriter) bool(key string, v bool) { w.bs = strconv.AppendBool(w.keyed(key), v) }

// uri: the sanitized URI is printable, valid UTF-8, so only '"' and '\\'
// can need escaping; the value is escaped in place when it holds one.
func (w *jsonKeyWriter) uri(key, raw string, maxChars int) {
	bs := append(w.keyed(key), '"')
	start := len(bs)
	w.bs = escapeURIInPlace(AppendSanitizedURI(bs, raw, maxChars), start)
	w.bs = append(w.bs, '"')
}

func (w *jsonKeyWriter) none(string) {}

func (w *jsonKeyWriter) inline(m zapcore.ObjectMarshaler) error {
	return m.MarshalLogObject((*jsonEncoder)(w))
}

// escapeURIInPlace escapes the sanitized URI in b[start:]: it is printable
// valid UTF-8, so only '"' and '\\' need it, one backslash each. It grows
// b once and moves the bytes from the end, with no copy of the URI.
func escapeURIInPlace(b []byte, start int) []byte {
	n := 0
	for _, c := range b[start:] {
		if c == '"' || c == '\\' {
			n++
		}
	}
	if n == 0 {
		return b
	}
	old := len(b)
	b = append(b, make([]byte, n)...)
	j := len(b)
	for i := old - 1; i >= start; i-- {
		c := b[i]
		j--
		b[j] = c
		if c == '"' || c == '\\' {
			j--
			b[j] = '\\'
		}
	}
	return b
}
