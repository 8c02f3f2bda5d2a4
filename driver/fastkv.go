package driver

import (
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The syslog text formats' fast path. tasklog.NewEncoder writes an
// entry's keys in g3's order, fast (a task record writes straight into
// its line), and for the field types below its JSON line holds exactly the
// keys and values the kvEncoder collects, in the order collectG3 gives
// them. So for those entries RFC 3164 text and RFC 5424 structured data
// are rendered in one pass over the line: each string escaped as it is
// (unescaped first where the line escaped something), each number or bool
// as its literal. An entry with any other field type (floats, whose text
// differs; complex numbers; reflected values; objects, arrays and
// namespaces, which the kvEncoder flattens or renders otherwise) or a key
// the line had to escape goes through the kvEncoder instead, so that both
// paths write the same bytes (TestFastLinesMatchCollect holds them to it
// on random fields). The journal and stdout formats measured slower this
// way on the logging goroutine (their kvEncoder path does not reorder or
// already sorts) and format through the kvEncoder there; their writers
// read the pairs back from the line (pairsFromLine) when an entry was
// handed over as its line (see lineFormatter), which is also the line
// the text formats render from on the writer.

// fastLines is a formatter's fast path; the zero value has no context.
type fastLines struct {
	enc entryAppender // NewEncoder's with the context; nil: baseLines
	off bool          // a context field cannot take the fast path
}

// baseLines writes only the fields: no time, message or line ending.
// Encoding an entry does not change the encoder, so formatters share it.
var baseLines = func() entryAppender {
	cfg := tasklog.EncoderConfig()
	cfg.MessageKey, cfg.TimeKey, cfg.SkipLineEnding = "", "", true
	return tasklog.NewEncoder(cfg).(entryAppender)
}()

// fastLinesOff turns the fast path off, for the differential test.
var fastLinesOff bool

func (l fastLines) encoder() entryAppender {
	if l.enc == nil {
		return baseLines
	}
	return l.enc
}

// with returns the fast path with fields added to its context, or off
// when one of them cannot take it, or could not be deferred.
func (l fastLines) with(fields []zapcore.Field) fastLines {
	if l.off || !deferrable(fields) {
		return fastLines{off: true}
	}
	enc := l.encoder().Clone()
	for i := range fields {
		fields[i].AddTo(enc)
	}
	return fastLines{enc: enc.(entryAppender)}
}

// line returns a pooled kvEncoder whose arena holds NewEncoder's JSON
// line of the fields, the context's included, or nil when a field cannot
// take the fast path.
func (l fastLines) line(fields []zapcore.Field) *kvEncoder {
	if l.off || fastLinesOff || !safeFields(fields) {
		return nil
	}
	e := getKV()
	e.arena, _ = l.encoder().AppendEntry(e.arena[:0], zapcore.Entry{}, fields)
	return e
}

// appendLine appends NewEncoder's JSON line of the fields, the context's
// included, for the deferred path (see lineFormatter), or returns false
// when a field might write what appendLineKVs does not take back.
func (l fastLines) appendLine(buf []byte, fields []zapcore.Field) ([]byte, bool) {
	if l.off || !deferrable(fields) {
		return buf, false
	}
	buf, err := l.encoder().AppendEntry(buf, zapcore.Entry{}, fields)
	return buf, err == nil
}

// deferrable reports whether every field takes the fast path and is sure
// to be taken back from the line, which appendLineKVs checks only as it
// renders: its key needs no JSON escape, and it is not an error (whose
// JSON may add an array of causes).
func deferrable(fields []zapcore.Field) bool {
	for i := range fields {
		f := &fields[i]
		if f.Type == zapcore.ErrorType || !plainKey(f.Key) {
			return false
		}
	}
	return safeFields(fields)
}

// plainKey reports whether JSON writes key as it is: printable ASCII
// without '"' or '\\'.
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// safeFields reports whether every field is of a type whose JSON form
// gives back the kvEncoder's pair.
func safeFields(fields []zapcore.Field) bool {
	for i := range fields {
		switch f := &fields[i]; f.Type {
		case zapcore.StringType, zapcore.ByteStringType, zapcore.BoolType,
			zapcore.Int64Type, zapcore.Int32Type, zapcore.Int16Type, zapcore.Int8Type,
			zapcore.Uint64Type, zapcore.Uint32Type, zapcore.Uint16Type, zapcore.Uint8Type, zapcore.UintptrType,
			zapcore.DurationType, zapcore.TimeType, zapcore.TimeFullType, zapcore.BinaryType,
			zapcore.StringerType, zapcore.ErrorType, zapcore.SkipType:
		case zapcore.InlineMarshalerType:
			switch r := f.Interface.(type) {
			case *tasklog.TaskLog:
				if r != nil && !knownDetail(r.Detail) {
					return false
				}
			case *tasklog.EscapeLog, *tasklog.ResolveLog:
				// They write only their own keys (their Detail types are
				// closed).
			default:
				return false
			}
		default:
			return false
		}
	}
	return true
}

// knownDetail reports whether a TaskLog's Detail is one of tasklog's own,
// which write strings, integers and bools only (a Detail of another
// package may write anything).
func knownDetail(d tasklog.Detail) bool {
	switch d.(type) {
	case nil, *tasklog.TCPConnect, *tasklog.HTTPForward, *tasklog.FTPOverHTTP,
		*tasklog.UDPAssociate, *tasklog.UDPConnect:
		return true
	}
	return false
}

// appendLineKVs appends the keys of NewEncoder's JSON line as g3's RFC
// 3164 text (", key=value") or, with sd, as RFC 5424 PARAMs (' key="value"',
// strict or in escape_debug), in one pass over the line: what
// appendTextKV and appendSDParam write for the pairs pairsFromLine would
// read. It returns false, having written part of it, for a member the fast
// path does not take: a key with an escape (a control character, '"',
// '\\' or a byte that is not valid UTF-8, which the kvEncoder keeps as
// they are), a value that is an object, an array, null or a number with a
// fraction or exponent. scratch holds the unescaped values; line is
// NewEncoder's, well formed.
func appendLineKVs(b, line []byte, scratch *[]byte, sd, strict bool) ([]byte, bool) {
	n := len(line)
	for i := 1; i < n-1; {
		if line[i] == ',' {
			i++
		}
		if line[i] != '"' {
			return b, false
		}
		ks := i + 1
		for i = ks; line[i] != '"'; i++ {
			if line[i] == '\\' {
				return b, false
			}
		}
		if sd {
			b = append(b, ' ')
		} else {
			b = append(b, ',', ' ')
		}
		b = append(b, line[ks:i]...)
		b = append(b, '=')
		i += 2 // the quote and the colon
		c := line[i]
		if c != '"' {
			// A number or bool, as it is (quoted in structured data).
			vs := i
			boolean := c == 't' || c == 'f'
			for ; i < n-1 && line[i] != ','; i++ {
				switch line[i] {
				case '.', 'e', 'E', '{', '[', '"', 'n':
					if !boolean {
						return b, false // a float, or not a literal
					}
				}
			}
			if sd {
				b = append(b, '"')
				b = append(b, line[vs:i]...)
				b = append(b, '"')
			} else {
				b = append(b, line[vs:i]...)
			}
			continue
		}
		// A string: the run that needs no escape in either format is copied
		// as it is, eight bytes at a time; the rest is escaped as a whole.
		b = append(b, '"')
		vs := i + 1
		j := vs
		for j+8 <= n && plainDebugWord(load64(bytesView(line), j)) {
			j += 8
		}
		for plainASCII[line[j]] {
			j++
		}
		b = append(b, line[vs:j]...)
		if line[j] == '"' {
			i = j + 1
		} else {
			// Something to escape: the value from here, unescaped first if
			// the line escaped anything.
			k := j
			esc := false
			for ; line[k] != '"'; k++ {
				if line[k] == '\\' {
					esc = true
					k++
				}
			}
			rest := bytesView(line[j:k])
			if esc {
				*scratch = unescapeJSON((*scratch)[:0], line[j:k])
				rest = bytesView(*scratch)
			}
			switch {
			case strict:
				b = appendSDValue(b, rest)
			default:
				b = appendEscapeDebug(b, rest, sd)
			}
			i = k + 1
		}
		b = append(b, '"')
	}
	return b, true
}

// kvLines is the logging goroutine's half of the deferred path (see
// lineFormatter) for the formats that render pairs (the journal's and
// stdout's): NewEncoder's line, from which renderPairs reads them back.
type kvLines struct{ lines fastLines }

func (l kvLines) with(fields []zapcore.Field) kvLines { return kvLines{l.lines.with(fields)} }

func (l kvLines) defers() bool { return !l.lines.off }

func (l kvLines) line(buf []byte, fields []zapcore.Field) ([]byte, bool) {
	return l.lines.appendLine(buf, fields)
}

// renderPairs reads the pairs back from line and has appendPairs render
// them with ent.
func renderPairs(b []byte, ent *zapcore.Entry, line []byte, appendPairs func([]byte, *zapcore.Entry, *kvEncoder) []byte) ([]byte, bool) {
	e := getKV()
	defer putKV(e)
	if !pairsFromLine(e, line) {
		return b, false
	}
	return appendPairs(b, ent, e), true
}

// pairsFromLine appends the keys of NewEncoder's line to e.pairs as the
// text the journal and stdout formats print (each a kindStr: a string
// unescaped into e.arena, a number or bool as its literal), in the line's
// order, and seals e; the pairs view line and e.arena. It returns false
// for a member appendLineKVs would not take either. line is NewEncoder's,
// well formed. Its scans of a key and of a literal repeat appendLineKVs's:
// shared helpers measured 5-15% slower on appendLineKVs's path, the
// writer's (three paired BenchmarkFormat runs).
func pairsFromLine(e *kvEncoder, line []byte) bool {
	n := len(line)
	for i := 1; i < n-1; {
		if line[i] == ',' {
			i++
		}
		if line[i] != '"' {
			return false
		}
		ks := i + 1
		for i = ks; line[i] != '"'; i++ {
			if line[i] == '\\' {
				return false
			}
		}
		key := bytesView(line[ks:i])
		i += 2 // the quote and the colon
		if c := line[i]; c != '"' {
			vs := i
			boolean := c == 't' || c == 'f'
			for ; i < n-1 && line[i] != ','; i++ {
				switch line[i] {
				case '.', 'e', 'E', '{', '[', '"', 'n':
					if !boolean {
						return false
					}
				}
			}
			e.pairs = append(e.pairs, pair{key: key, kind: kindStr, s: bytesView(line[vs:i]), off: -1})
			continue
		}
		vs := i + 1
		k, esc := vs, false
		for ; line[k] != '"'; k++ {
			if line[k] == '\\' {
				esc = true
				k++
			}
		}
		i = k + 1
		if !esc {
			e.pairs = append(e.pairs, pair{key: key, kind: kindStr, s: bytesView(line[vs:k]), off: -1})
			continue
		}
		off := len(e.arena)
		e.arena = unescapeJSON(e.arena, line[vs:k])
		e.pairs = append(e.pairs, pair{key: key, kind: kindStr, off: int32(off), n: uint64(len(e.arena) - off)})
	}
	e.seal()
	return true
}

// unescapeJSON appends the string the escaped JSON text s stands for, as
// NewEncoder escapes: \" \\ \/ \b \f \n \r \t and \uXXXX (no surrogate
// pairs: NewEncoder writes non-ASCII as it is).
func unescapeJSON(b, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := rune(0)
			for _, h := range s[i+1 : min(i+5, len(s))] {
				r <<= 4
				switch {
				case h >= '0' && h <= '9':
					r |= rune(h - '0')
				case h >= 'a' && h <= 'f':
					r |= rune(h-'a') + 10
				case h >= 'A' && h <= 'F':
					r |= rune(h-'A') + 10
				}
			}
			b = utf8.AppendRune(b, r)
			i += 4
		default: // '"', '\\', '/'
			b = append(b, s[i])
		}
	}
	return b
}

func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
