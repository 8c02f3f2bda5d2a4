package driver

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"

	"go.uber.org/zap/zapcore"
)

// NewRecordCore returns a Core for a transport this package does not have
// (the OTLP driver of module github.com/proxylog/tasklog/otel is one): it
// collects each entry's keys on the logging goroutine, in g3's order and
// with g3's value types, into a compact encoding that costs no allocation
// once warm (the other drivers hand most entries to their writers as a
// copy instead, see [Core]), hands it to a bounded queue without ever
// blocking, and keeps the same Stats and Close guarantees. Each of Options.Writers writer goroutines decodes the
// records it takes into a [Record] and hands them to its own sink, made by
// newSink, which reports each record's outcome through the [Outcomes] it
// was given. name names the driver in error output.
func NewRecordCore(name string, opts Options, newSink func(*Outcomes) RecordSink) *Core {
	return newCore(name, &recordFormatter{}, opts, func(q *queue) sink {
		o := &Outcomes{q: q}
		return &recordSink{s: newSink(o), o: o}
	})
}

// A RecordSink delivers the records of a Core made by [NewRecordCore]. Its
// methods are called from its writer goroutine only, except Close.
type RecordSink interface {
	// Deliver takes one record: rec itself is valid only during the call
	// (its Fields are reused for the next one), its strings are the
	// sink's to keep; size is its encoded size, for Stats.Bytes. The sink must
	// report the record through its Outcomes exactly once, now or later:
	// a sink that batches records holds them until Outcomes.Idle says
	// nothing more is queued, or its batch is full, and then delivers
	// and reports them. Whatever it still holds when Drain is called is
	// dropped.
	Deliver(rec *Record, size int)
	// Drain is called once the writers have stopped (at Close): the sink
	// delivers or drops, and reports, anything it still holds.
	Drain()
	// Close gives up any connection and cancels a delivery in progress;
	// it may be called from another goroutine while Deliver is blocked,
	// when Close runs out of time.
	Close()
}

// Outcomes is how a RecordSink reports what became of its records.
type Outcomes struct{ q *queue }

// Pass counts n records delivered, of bytes encoded bytes in all.
func (o *Outcomes) Pass(n, bytes int) { o.q.passN(n, bytes) }

// Drop counts n records the peer did not take (DropPeerUnreachable).
func (o *Outcomes) Drop(n int) { o.q.drop(dropPeerUnreachable, n) }

// Report writes a delivery error to Options.ErrorOutput, sampled as
// Options.ErrorSampling says.
func (o *Outcomes) Report(err error) { o.q.report(err) }

// Idle reports whether no record waits in the queue: a sink that batches
// delivers what it holds now.
func (o *Outcomes) Idle() bool { return len(o.q.ch) == 0 }

// Abandoned reports whether Close has given up on the writers and counted
// every record not yet reported as DropClosed: a sink then delivers
// nothing more (and its reports count for nothing).
func (o *Outcomes) Abandoned() bool { return o.q.abandoned.Load() }

// Record is one entry as a RecordSink receives it.
type Record struct {
	Time    time.Time
	Level   zapcore.Level
	Message string
	// Fields are the entry's keys (the logger's, then the record's) in
	// g3's order, as the syslog and fluentd drivers write them.
	Fields []RecordField
}

// RecordField is one key of a Record and its value, typed as g3 types
// it: counters as unsigned integers of g3's width, durations, addresses
// and ids as g3's strings, unset keys as FieldNone.
type RecordField struct {
	Key   string
	Kind  FieldKind
	Str   string // FieldString
	Num   uint64 // FieldInt (two's complement), FieldUint, FieldBool (0 or 1), FieldFloat (IEEE 754 bits)
	Width uint8  // FieldInt, FieldUint: the bits of g3's Rust type (8 to 64)
}

// Int, Uint, Bool and Float return the value of a field of that kind.
func (f *RecordField) Int() int64 { return int64(f.Num) }

// Uint returns a FieldUint's value.
func (f *RecordField) Uint() uint64 { return f.Num }

// Bool returns a FieldBool's value.
func (f *RecordField) Bool() bool { return f.Num != 0 }

// Float returns a FieldFloat's value.
func (f *RecordField) Float() float64 { return math.Float64frombits(f.Num) }

// FieldKind is the type of a RecordField's value.
type FieldKind uint8

// The kinds of value a RecordField holds.
const (
	FieldString FieldKind = iota
	FieldInt
	FieldUint
	FieldFloat
	FieldBool
	FieldNone // a key the record's event carries, unset (g3's none)
)

// recordFormatter writes an entry as: the level (1 byte), the unix
// nanoseconds (8 bytes), the message, the number of fields, then each
// field as its kind, width, key and value; lengths and counts as
// uvarints, strings as their bytes.
type recordFormatter struct{ kv kvFormatter }

func (f *recordFormatter) with(fields []zapcore.Field) formatter {
	return &recordFormatter{kv: f.kv.withCtx(fields)}
}

func (f *recordFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	e := f.kv.collectG3(fields)
	defer putKV(e)
	b = append(b, byte(int8(ent.Level)))
	b = binary.LittleEndian.AppendUint64(b, uint64(ent.Time.UnixNano()))
	b = appendLenString(b, ent.Message)
	b = binary.AppendUvarint(b, uint64(len(e.pairs)))
	for i := range e.pairs {
		p := &e.pairs[i]
		var k FieldKind
		switch p.kind {
		case kindInt:
			k = FieldInt
		case kindUint:
			k = FieldUint
		case kindFloat:
			k = FieldFloat
		case kindBool:
			k = FieldBool
		case kindNone:
			k = FieldNone
		}
		b = append(b, byte(k), p.width)
		b = appendLenString(b, p.key)
		switch k {
		case FieldString:
			b = appendLenString(b, p.s)
		case FieldNone:
		default:
			b = binary.AppendUvarint(b, p.n)
		}
	}
	return b, nil
}

func appendLenString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadRecord = errors.New("tasklog/driver: a queued record does not decode (a bug)")

// decodeRecord reads what recordFormatter wrote into r, reusing its
// Fields.
func decodeRecord(r *Record, b []byte) error {
	if len(b) < 9 {
		return errBadRecord
	}
	r.Level, r.Time = zapcore.Level(int8(b[0])), time.Unix(0, int64(binary.LittleEndian.Uint64(b[1:9])))
	p := 9
	// One copy of the record's bytes, which every string of it views: a
	// single allocation, and the sink may keep them.
	all := string(b)
	str := func() (string, bool) {
		n, w := binary.Uvarint(b[p:])
		if w <= 0 || uint64(len(b)-p-w) < n {
			return "", false
		}
		s := all[p+w : p+w+int(n)]
		p += w + int(n)
		return s, true
	}
	var ok bool
	if r.Message, ok = str(); !ok {
		return errBadRecord
	}
	n, w := binary.Uvarint(b[p:])
	if w <= 0 || n > uint64(len(b)) {
		return errBadRecord
	}
	p += w
	r.Fields = slices.Grow(r.Fields[:0], int(n))[:n]
	for i := range r.Fields {
		f := &r.Fields[i]
		*f = RecordField{}
		if len(b)-p < 2 {
			return errBadRecord
		}
		f.Kind, f.Width = FieldKind(b[p]), b[p+1]
		p += 2
		if f.Key, ok = str(); !ok {
			return errBadRecord
		}
		switch f.Kind {
		case FieldString:
			if f.Str, ok = str(); !ok {
				return errBadRecord
			}
		case FieldNone:
		default:
			v, w := binary.Uvarint(b[p:])
			if w <= 0 {
				return errBadRecord
			}
			f.Num, p = v, p+w
		}
	}
	return nil
}

// recordSink adapts a RecordSink to the queue: it decodes each record.
type recordSink struct {
	s RecordSink
	o *Outcomes
	r Record
}

func (s *recordSink) deliver(b []byte) {
	if err := decodeRecord(&s.r, b); err != nil {
		s.o.q.report(err)
		s.o.q.drop(dropPeerUnreachable, 1)
		return
	}
	s.s.Deliver(&s.r, len(b))
}

func (s *recordSink) drain() { s.s.Drain() }
func (s *recordSink) close() { s.s.Close() }
