package driver

import (
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// NewStdout returns a Core that writes g3proxy's stdout driver format
// (lib/g3-stdlog) to w, one line per entry: the local time with
// milliseconds, the level as slog names it, the keys sorted, then the
// message ("()" when empty):
//
//	Nov 25 20:41:00.123 INFO c_rd_bytes: 517, server_type: HttpProxy, ..., closed by client
//
// Values print as they are, unquoted (a byte that is not part of valid
// UTF-8 as U+FFFD: g3's Rust strings cannot hold one); unset keys are
// left out. A nil w is os.Stdout.
func NewStdout(w io.Writer, opts Options) *Core {
	if w == nil {
		w = osStdout
	}
	return newCore("stdout", newStdoutFormatter(), opts, newWriterSinks(w))
}

type stdoutFormatter struct {
	snapshotsAll
	kvLines
	kv   kvFormatter
	text taskText // the straight-line collector of kvLines' context
}

func newStdoutFormatter() *stdoutFormatter {
	return &stdoutFormatter{text: newPairsText(fastLines{})}
}

func (f *stdoutFormatter) with(fields []zapcore.Field) formatter {
	l := f.kvLines.with(fields)
	return &stdoutFormatter{kv: f.kv.withCtx(fields), kvLines: l, text: newPairsText(l.lines)}
}

// render is the deferred path's writer half (see lineFormatter and
// kvLines).
func (f *stdoutFormatter) render(b []byte, ent *zapcore.Entry, line []byte, _ *[]byte) ([]byte, bool) {
	return renderPairs(b, ent, line, f.appendPairs)
}

// format collects one finished task record's pairs straight from the
// record (taskText), any other entry's through the kvEncoder.
func (f *stdoutFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	var e *kvEncoder
	if tk, ok := f.text.entry(fields); ok {
		e = getKV()
		f.text.collect(e, tk)
	} else {
		e = f.kv.collect(fields)
	}
	defer putKV(e)
	return f.appendPairs(b, &ent, e), nil
}

// appendPairs appends the record of ent and e's pairs.
func (f *stdoutFormatter) appendPairs(b []byte, ent *zapcore.Entry, e *kvEncoder) []byte {
	b = appendStdoutTime(b, inZone(ent.Time))
	b = append(b, ' ')
	b = append(b, slogLevel(ent.Level)...)
	// g3 sorts the (key, value) pairs. Numbers are rendered once into the
	// scratch buffer (vals holds where), then viewed as strings; idx
	// orders the pairs. None of it allocates once the pools are warm.
	e.idx, e.vals = e.idx[:0], e.vals[:0]
	for i := range e.pairs {
		p := &e.pairs[i]
		if p.kind == kindNone {
			continue
		}
		if p.kind == kindStr && (e.valid || utf8.ValidString(p.s)) {
			e.vals = append(e.vals, textVal{off: -1, s: p.s})
		} else if p.kind == kindStr {
			off := len(e.scratch)
			e.scratch = appendValidUTF8(e.scratch, p.s)
			e.vals = append(e.vals, textVal{off: off, n: len(e.scratch) - off})
		} else {
			off := len(e.scratch)
			e.scratch, _ = p.text(e.scratch)
			e.vals = append(e.vals, textVal{off: off, n: len(e.scratch) - off})
		}
		e.idx = append(e.idx, i)
	}
	for j := range e.vals {
		if v := &e.vals[j]; v.off >= 0 {
			v.s = unsafe.String(&e.scratch[v.off], v.n)
		}
	}
	order := e.sortedOrder()
	for _, j := range order {
		b = append(b, ' ')
		b = append(b, e.pairs[e.idx[j]].key...)
		b = append(b, ':', ' ')
		b = append(b, e.vals[j].s...)
		b = append(b, ',')
	}
	b = append(b, ' ')
	if ent.Message == "" {
		b = append(b, "()"...)
	} else {
		b = append(b, strings.ToValidUTF8(ent.Message, "\uFFFD")...)
	}
	return append(b, '\n')
}

// appendStdoutTime appends "Jan 02 15:04:05.000" (the day zero-padded,
// milliseconds truncated) in t's zone, as that layout does.
func appendStdoutTime(b []byte, t time.Time) []byte {
	_, mon, day := t.Date()
	ms := t.Nanosecond() / 1e6
	b = append(appendMonth(b, mon), ' ', byte('0'+day/10), byte('0'+day%10), ' ')
	return append(appendClock(b, t), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// sortCacheOff turns the last sort's reuse off, for the test that holds
// it to a sort of every record.
var sortCacheOff bool

// sortedOrder returns the order of e.idx's pairs by key, then value: the
// last sort's when the keys are those it sorted, else a new one, kept for
// the next record when no key repeats.
func (e *kvEncoder) sortedOrder() []int {
	if len(e.sortKeys) == len(e.idx) && len(e.sortOrder) == len(e.idx) && !sortCacheOff {
		same := true
		for j, i := range e.idx {
			if e.sortKeys[j] != e.pairs[i].key {
				same = false
				break
			}
		}
		if same {
			return e.sortOrder
		}
	}
	order := e.order[:0]
	for j := range e.idx {
		order = append(order, j)
	}
	slices.SortFunc(order, func(a, c int) int {
		if r := strings.Compare(e.pairs[e.idx[a]].key, e.pairs[e.idx[c]].key); r != 0 {
			return r
		}
		return strings.Compare(e.vals[a].s, e.vals[c].s)
	})
	e.order = order
	e.sortKeys, e.sortOrder = e.sortKeys[:0], e.sortOrder[:0]
	for k := 1; k < len(order); k++ {
		if e.pairs[e.idx[order[k]]].key == e.pairs[e.idx[order[k-1]]].key {
			return order // a repeated key: its values decide, record by record
		}
	}
	e.sortKeys = ownKeys(e.sortKeys, &e.sortArena, len(e.idx), func(j int) string { return e.pairs[e.idx[j]].key })
	e.sortOrder = append(e.sortOrder[:0], order...)
	return order
}

// NewJSON returns a Core that writes tasklog's JSON lines to w (a nil w is
// os.Stdout), as tasklog.NewEncoder writes them with
// tasklog.EncoderConfig: for task, escape and resolve records, g3's CEE
// body with report_ts, byte for byte (as NewCEE with AppendReportTS), one
// per line, through the same queue as the other drivers.
func NewJSON(w io.Writer, opts Options) *Core {
	if w == nil {
		w = osStdout
	}
	return newCore("json", newJSONFormatter(tasklog.EncoderConfig()), opts, newWriterSinks(w))
}

type jsonFormatter struct {
	snapshotsAll
	enc entryAppender
}

// entryAppender is the encoder of tasklog.NewEncoder: AppendEntry writes
// the line into the record's own bytes, with no zap buffer between.
type entryAppender interface {
	zapcore.Encoder
	AppendEntry(dst []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error)
}

func newJSONFormatter(cfg zapcore.EncoderConfig) *jsonFormatter {
	return &jsonFormatter{enc: tasklog.NewEncoder(cfg).(entryAppender)}
}

func (f *jsonFormatter) with(fields []zapcore.Field) formatter {
	enc := f.enc.Clone()
	for i := range fields {
		fields[i].AddTo(enc)
	}
	return &jsonFormatter{enc: enc.(entryAppender)}
}

func (f *jsonFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	return f.enc.AppendEntry(b, ent, fields)
}

// NewDiscard returns a Core that formats nothing and drops every record,
// counting it as passed, like g3's default discard driver.
func NewDiscard(opts Options) *Core {
	return newCore("discard", discardFormatter{}, opts, func(q *queue) sink { return discardSink{q} })
}

type discardFormatter struct{}

func (discardFormatter) with([]zapcore.Field) formatter { return discardFormatter{} }
func (discardFormatter) format(b []byte, _ zapcore.Entry, _ []zapcore.Field) ([]byte, error) {
	return b, nil
}

type discardSink struct{ q *queue }

func (s discardSink) deliver([]byte) { s.q.pass(0) }
func (discardSink) close()           {}

// writerSink writes records to an io.Writer: the records waiting in the
// queue together, in one Write (a pipe or a terminal then takes one
// system call for many lines). A failed write drops the records it held
// (DropPeerUnreachable).
type writerSink struct {
	w   io.Writer
	q   *queue
	mu  *sync.Mutex // shared by the writers of one Core: one write at a time, whole
	buf []byte      // the batch, this writer's own
}

// newWriterSinks returns the sink constructor of a Core writing to w. Its
// writers share one lock, so that records are never interleaved, and only
// they do: a Core whose writer is stuck never delays another Core.
func newWriterSinks(w io.Writer) func(*queue) sink {
	mu := new(sync.Mutex)
	return func(q *queue) sink { return &writerSink{w: w, q: q, mu: mu} }
}

func (s *writerSink) deliver(rec []byte) { s.write(rec, 1) }

func (s *writerSink) stream() {}

func (s *writerSink) deliverBatch(recs [][]byte) {
	if len(recs) == 1 {
		s.deliver(recs[0])
		return
	}
	var b []byte
	b, s.buf = joinBatch(s.buf, recs)
	s.write(b, len(recs))
}

// write writes p, the bytes of n records, whole under the writers' lock,
// and counts the records passed, or dropped when the write fails.
func (s *writerSink) write(p []byte, n int) {
	s.mu.Lock()
	if s.q.abandoned.Load() {
		s.mu.Unlock()
		return
	}
	_, err := s.w.Write(p)
	s.mu.Unlock()
	if err != nil {
		s.q.drop(dropPeerUnreachable, n)
		s.q.report(err)
		return
	}
	s.q.passN(n, len(p))
}

// close does nothing: an io.Writer has no connection to give up, and a
// write blocked in it cannot be taken back (see Core.Close).
func (s *writerSink) close() {}
