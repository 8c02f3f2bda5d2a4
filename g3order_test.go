package tasklog

import (
	"bytes"
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// g3OrderEncoder is the reference for NewEncoder's lines, built on zap's
// JSON encoder without knowing anything of NewEncoder's: zap encodes the
// context, the fields and the entry's keys, each on its own, and the line
// is put together from the top-level keys of those encodings by the rule
// NewEncoder documents (g3's order):
//
//   - the fields' logger keys (isLoggerKey), last to first;
//   - the context's keys, last to first, except a namespace it left open;
//   - the fields' other keys, last to first;
//   - the context's open namespace, holding the fields;
//   - the entry's keys, in zap's order;
//
// with \b and \f written as serde_json writes them instead of zap's
// \u0008 and \u000c.
type g3OrderEncoder struct {
	// zapcore.Encoder is zap's JSON encoder with no entry keys: it holds
	// the context, as With adds it.
	zapcore.Encoder
	cfg zapcore.EncoderConfig
}

func newG3OrderEncoder(cfg zapcore.EncoderConfig) zapcore.Encoder {
	blank := cfg
	blank.MessageKey, blank.LevelKey, blank.TimeKey, blank.NameKey = "", "", "", ""
	blank.CallerKey, blank.FunctionKey, blank.StacktraceKey = "", "", ""
	blank.SkipLineEnding = true
	return &g3OrderEncoder{Encoder: zapcore.NewJSONEncoder(blank), cfg: cfg}
}

func (e *g3OrderEncoder) Clone() zapcore.Encoder {
	return &g3OrderEncoder{Encoder: e.Encoder.Clone(), cfg: e.cfg}
}

// sentinelKey is a key no test writes: a field with it, encoded after the
// context, is a top-level key unless the context left a namespace open.
const sentinelKey = "\x00sentinel"

func (e *g3OrderEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	ctx, err := encodeTop(e.Encoder, zapcore.Entry{}, nil)
	if err != nil {
		return nil, err
	}
	probe, err := encodeTop(e.Encoder, zapcore.Entry{}, []zapcore.Field{zap.String(sentinelKey, "")})
	if err != nil {
		return nil, err
	}
	all, err := encodeTop(e.Encoder, ent, fields)
	if err != nil {
		return nil, err
	}
	full := e.cfg
	full.SkipLineEnding = true
	entry, err := encodeTop(zapcore.NewJSONEncoder(full), ent, nil)
	if err != nil {
		return nil, err
	}
	open := len(probe) == 0 || !bytes.HasPrefix(probe[len(probe)-1], []byte(`"\u0000sentinel"`))
	ctxSegs, callSegs, ns := all[:len(ctx)], all[len(ctx):], []byte(nil)
	if open {
		ctxSegs, ns = all[:len(ctx)-1], all[len(ctx)-1]
	}
	var out [][]byte
	for i := len(callSegs) - 1; i >= 0; i-- {
		if isLoggerKey(segKey(callSegs[i])) {
			out = append(out, callSegs[i])
		}
	}
	for i := len(ctxSegs) - 1; i >= 0; i-- {
		out = append(out, ctxSegs[i])
	}
	for i := len(callSegs) - 1; i >= 0; i-- {
		if !isLoggerKey(segKey(callSegs[i])) {
			out = append(out, callSegs[i])
		}
	}
	if ns != nil {
		out = append(out, ns)
	}
	out = append(out, entry...)
	line := serdeEscapes(append(append([]byte{'{'}, bytes.Join(out, []byte{','})...), '}'))
	if !e.cfg.SkipLineEnding {
		if e.cfg.LineEnding == "" {
			line = append(line, '\n')
		} else {
			line = append(line, e.cfg.LineEnding...)
		}
	}
	b := buffer.NewPool().Get()
	b.AppendBytes(line)
	return b, nil
}

// encodeTop encodes an entry with enc and splits the object into its
// top-level "key":value runs.
func encodeTop(enc zapcore.Encoder, ent zapcore.Entry, fields []zapcore.Field) ([][]byte, error) {
	buf, err := enc.EncodeEntry(ent, fields)
	if err != nil {
		return nil, err
	}
	defer buf.Free()
	return topLevel(buf.Bytes())
}

// topLevel splits a JSON object into its members' bytes, commas left out.
func topLevel(obj []byte) ([][]byte, error) {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("not an object: %q", obj)
	}
	var segs [][]byte
	depth, inStr, start := 0, false, 1
	for i := 1; i < len(obj)-1; i++ {
		c := obj[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 0:
			segs = append(segs, append([]byte(nil), obj[start:i]...))
			start = i + 1
		}
	}
	if start < len(obj)-1 {
		segs = append(segs, append([]byte(nil), obj[start:len(obj)-1]...))
	}
	return segs, nil
}

// segKey returns a member's key as written, without its quotes.
func segKey(seg []byte) string {
	for i := 1; i < len(seg); i++ {
		switch seg[i] {
		case '\\':
			i++
		case '"':
			return string(seg[1:i])
		}
	}
	return ""
}

// serdeEscapes rewrites zap's \u0008 and \u000c escapes as \b and \f.
func serdeEscapes(line []byte) []byte {
	out := make([]byte, 0, len(line))
	for i := 0; i < len(line); i++ {
		if line[i] != '\\' || i+1 == len(line) {
			out = append(out, line[i])
			continue
		}
		switch rest := line[i:]; {
		case bytes.HasPrefix(rest, []byte(`\u0008`)):
			out = append(out, `\b`...)
			i += 5
		case bytes.HasPrefix(rest, []byte(`\u000c`)):
			out = append(out, `\f`...)
			i += 5
		default:
			out = append(out, line[i], line[i+1])
			i++
		}
	}
	return out
}
