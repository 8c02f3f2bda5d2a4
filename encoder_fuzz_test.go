package tasklog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// fuzzInput hands out values decoded from the fuzzer's bytes.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) uint64() uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v = v<<8 | uint64(in.byte())
	}
	return v
}

// str returns up to 40 raw bytes: any text, invalid UTF-8 included.
func (in *fuzzInput) str() string {
	n := int(in.byte()) % 41
	if n > len(in.b) {
		n = len(in.b)
	}
	s := string(in.b[:n])
	in.b = in.b[n:]
	return s
}

type fuzzStringer string

func (s fuzzStringer) String() string { return string(s) }

// field decodes one zap field of any type; depth bounds nesting.
func (in *fuzzInput) field(depth int) zap.Field {
	key := in.str()
	switch k := in.byte() % 30; k {
	case 0:
		return zap.String(key, in.str())
	case 1:
		return zap.ByteString(key, []byte(in.str()))
	case 2:
		return zap.Binary(key, []byte(in.str()))
	case 3:
		return zap.Bool(key, in.byte()&1 == 1)
	case 4:
		return zap.Int64(key, int64(in.uint64()))
	case 5:
		return zap.Int32(key, int32(in.uint64()))
	case 6:
		return zap.Int8(key, int8(in.byte()))
	case 7:
		return zap.Uint64(key, in.uint64())
	case 8:
		return zap.Uint16(key, uint16(in.uint64()))
	case 9:
		return zap.Uintptr(key, uintptr(in.uint64()))
	case 10:
		f := math.Float64frombits(in.uint64())
		switch in.byte() % 4 {
		case 0:
			f = math.NaN()
		case 1:
			f = math.Inf(int(in.byte()%2)*2 - 1)
		}
		return zap.Float64(key, f)
	case 11:
		return zap.Float32(key, math.Float32frombits(uint32(in.uint64())))
	case 12:
		return zap.Complex128(key, complex(math.Float64frombits(in.uint64()), float64(int64(in.uint64()))))
	case 13:
		return zap.Complex64(key, complex(float32(int32(in.uint64())), -1.5))
	case 14:
		return zap.Duration(key, time.Duration(in.uint64()))
	case 15:
		return zap.Time(key, time.Unix(int64(in.uint64()%(1<<40)), int64(in.uint64()%1e9)).UTC())
	case 16:
		return zap.NamedError(key, errors.New(in.str()))
	case 17:
		return zap.Stringer(key, fuzzStringer(in.str()))
	case 18:
		return zap.Strings(key, []string{in.str(), in.str()})
	case 19:
		return zap.Namespace(key)
	case 20:
		return zap.Reflect(key, map[string]any{in.str(): in.str(), "n": int(in.byte()), "l": []any{in.str(), 1.5, nil}})
	case 21:
		return zap.Skip()
	case 22:
		return zap.Any(key, []int{int(in.byte()), -int(in.byte())})
	case 23, 24:
		if depth > 2 {
			return zap.String(key, in.str())
		}
		n := int(in.byte() % 4)
		var inner []zap.Field
		for i := 0; i < n; i++ {
			inner = append(inner, in.field(depth+1))
		}
		if k == 23 {
			return zap.Dict(key, inner...)
		}
		return zap.Inline(zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
			for _, f := range inner {
				f.AddTo(enc)
			}
			return nil
		}))
	case 25:
		if depth > 2 {
			return zap.Int(key, 1)
		}
		a, b := in.field(depth+1), in.field(depth+1)
		// Values are drawn now: the marshaler runs once per encoder.
		s, d, fl := in.str(), time.Duration(in.byte()), float32(in.byte())/3
		return zap.Array(key, zapcore.ArrayMarshalerFunc(func(enc zapcore.ArrayEncoder) error {
			enc.AppendString(s)
			enc.AppendDuration(d)
			enc.AppendTime(time.Unix(0, 0).UTC())
			enc.AppendBool(true)
			enc.AppendFloat32(fl)
			_ = enc.AppendObject(zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
				a.AddTo(o)
				b.AddTo(o)
				return nil
			}))
			return enc.AppendReflected(map[string]int{"x": 1})
		}))
	case 26, 27:
		rec := tcpConnectRecord()
		rec.ServerName, rec.User = in.str(), in.str()
		rec.Detail.(*TCPConnect).Upstream = in.str() + ":443"
		if in.byte()%3 == 0 {
			rec.Stage = Stage(in.byte())
		}
		if k == 26 {
			return Field(rec)
		}
		return Object(key, rec)
	case 28:
		rec := httpForwardRecord()
		d := rec.Detail.(*HTTPForward)
		d.URI, d.UserAgent, d.Method = in.str(), in.str(), in.str()
		d.NextBindIP = netip.MustParseAddr("fe80::1").WithZone(in.str())
		rec.Event = Event(in.byte() % 8)
		return Field(rec)
	default:
		return zap.Error(fmt.Errorf("wrapped: %w", errors.New(in.str())))
	}
}

// config decodes an EncoderConfig from the usual choices.
func (in *fuzzInput) config() zapcore.EncoderConfig {
	cfg := EncoderConfig()
	if in.byte()%2 == 0 {
		cfg = zap.NewProductionEncoderConfig()
	}
	pick := func(n byte) byte { return in.byte() % n }
	cfg.LevelKey = []string{"", "level", "L", "lé\"v"}[pick(4)]
	cfg.NameKey = []string{"", "logger"}[pick(2)]
	cfg.CallerKey = []string{"", "caller"}[pick(2)]
	cfg.FunctionKey = []string{"", "func"}[pick(2)]
	cfg.StacktraceKey = []string{"", "stack"}[pick(2)]
	cfg.MessageKey = []string{"", "msg", "message"}[pick(3)]
	cfg.TimeKey = []string{"", "ts", "report_ts"}[pick(3)]
	cfg.EncodeLevel = []zapcore.LevelEncoder{nil, zapcore.LowercaseLevelEncoder, zapcore.CapitalLevelEncoder}[pick(3)]
	cfg.EncodeTime = []zapcore.TimeEncoder{nil, zapcore.ISO8601TimeEncoder, zapcore.RFC3339NanoTimeEncoder,
		zapcore.EpochTimeEncoder, UnixSecondsTimeEncoder}[pick(5)]
	cfg.EncodeDuration = []zapcore.DurationEncoder{nil, zapcore.StringDurationEncoder, zapcore.NanosDurationEncoder,
		zapcore.MillisDurationEncoder, DurationEncoder}[pick(5)]
	cfg.EncodeCaller = []zapcore.CallerEncoder{zapcore.ShortCallerEncoder, zapcore.FullCallerEncoder}[pick(2)] // zap needs one with CallerKey
	cfg.EncodeName = []zapcore.NameEncoder{nil, zapcore.FullNameEncoder}[pick(2)]
	cfg.LineEnding = []string{"", "\n", "\r\n"}[pick(3)]
	cfg.SkipLineEnding = pick(5) == 0
	return cfg
}

// encodeBoth encodes one entry, with context and fields, through zap's JSON
// encoder, put in g3's order (g3OrderEncoder), and through NewEncoder.
func encodeBoth(in *fuzzInput) (want, got []byte, err error) {
	cfg := in.config()
	ent := zapcore.Entry{
		Level:      zapcore.Level(int8(in.byte()%7) - 1),
		Time:       time.Unix(int64(in.uint64()%(1<<35)), int64(in.uint64()%1e9)),
		LoggerName: in.str(),
		Message:    in.str(),
		Stack:      in.str(),
	}
	if in.byte()%2 == 0 {
		ent.Caller = zapcore.NewEntryCaller(0, "/src/tasklog/"+in.str()+".go", int(in.byte()), true)
		ent.Caller.Function = in.str()
	}
	var context, fields []zap.Field
	for n := int(in.byte() % 4); n > 0; n-- {
		context = append(context, in.field(0))
	}
	for n := int(in.byte() % 10); n > 0; n-- {
		fields = append(fields, in.field(0))
	}
	out := func(enc zapcore.Encoder) ([]byte, error) {
		enc = enc.Clone()
		for _, f := range context {
			f.AddTo(enc)
		}
		buf, err := enc.EncodeEntry(ent, fields)
		if err != nil {
			return nil, err
		}
		defer buf.Free()
		if je, ok := enc.(*jsonEncoder); ok {
			// AppendEntry appends the same line after what dst holds.
			line, err := je.AppendEntry([]byte("prefix"), ent, fields)
			if err != nil || string(line) != "prefix"+buf.String() {
				return nil, fmt.Errorf("AppendEntry wrote %q, %v; EncodeEntry %q", line, err, buf.String())
			}
			// A nil dst gets a slice of the caller's, not the pool's: the
			// next line, of another message, leaves it as it is.
			line, _ = je.AppendEntry(nil, ent, fields)
			other := ent
			other.Message += "!"
			_, _ = je.AppendEntry(nil, other, fields)
			if string(line) != buf.String() {
				return nil, fmt.Errorf("AppendEntry(nil) wrote %q, then it changed; EncodeEntry %q", line, buf.String())
			}
		}
		return append([]byte(nil), buf.Bytes()...), nil
	}
	if want, err = out(newG3OrderEncoder(cfg)); err != nil {
		return nil, nil, err
	}
	got, err = out(NewEncoder(cfg))
	return want, got, err
}

// FuzzEncoderMatchesZap: NewEncoder writes what zap's JSON encoder writes,
// in g3's order, for random entries, configurations and field sets, invalid
// UTF-8, control characters, quotes and non-ASCII text included. The lines
// must parse to the same JSON value; they are in fact required to be byte
// for byte equal.
func FuzzEncoderMatchesZap(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x09\x08key\"q\\\x01\x1a\x08\xff\xfe\xe2\x82\xacé日本"))
	f.Add(bytes.Repeat([]byte{26, 5, 'k', 'e', 'y', '\n', 0xc3}, 30))
	f.Add(bytes.Repeat([]byte{28, 9, 'u', 'r', 'i', '"', '\\', '/', 0x7f, 0xe2, 0x82}, 20))
	f.Add(bytes.Repeat([]byte{23, 3, 'd', 19, 24, 2, 25, 20, 10, 12, 13}, 25))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, got, err := encodeBoth(&fuzzInput{b: data})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Fatalf("lines differ\n zap %q\nours %q", want, got)
		}
		var wv, gv any
		werr, gerr := json.Unmarshal(bytes.TrimSpace(want), &wv), json.Unmarshal(bytes.TrimSpace(got), &gv)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(wv, gv) {
			t.Fatalf("JSON values differ: %v / %v", werr, gerr)
		}
	})
}
