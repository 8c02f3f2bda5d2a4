package driver

import (
	"errors"
	"expvar"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
)

// Defaults of [Options], g3's where g3 has one.
const (
	DefaultQueueSize      = 4096 // g3's async_channel_size
	DefaultWriters        = 1    // g3's async_thread_number
	DefaultErrorSampling  = 10   // g3's io_error_sampling_offset: report every 2^10th error
	DefaultSyncTimeout    = 5 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
	maxErrorSamplingShift = 16
)

// Options are what every driver shares: the queue between the goroutines
// that log and the one that delivers, and how IO errors are reported. The
// zero value means the defaults.
type Options struct {
	// QueueSize is how many records may wait for delivery; a
	// record that finds the queue full is dropped and counted. Default
	// DefaultQueueSize.
	QueueSize int
	// Writers is how many goroutines deliver. Default 1.
	Writers int
	// ErrorOutput receives one line for the 1st IO error and then for
	// every 2^ErrorSampling-th, never one per record. Default (nil):
	// standard error; pass zapcore.AddSync(io.Discard) to silence it. (A
	// zapcore.Core cannot see its Logger's ErrorOutput, so it is set here.)
	ErrorOutput zapcore.WriteSyncer
	// ErrorSampling is g3's io_error_sampling_offset, 0 to 16. Default 10.
	// Negative means 0 (report every error).
	ErrorSampling int
	// SyncTimeout bounds Sync; CloseTimeout bounds Close. Default 5s each.
	SyncTimeout, CloseTimeout time.Duration
	// Level is the lowest level written. Default zapcore.InfoLevel (g3's
	// task records are all info).
	Level zapcore.LevelEnabler
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if o.ErrorOutput == nil {
		o.ErrorOutput = stderr
	}
	if o.ErrorSampling == 0 {
		o.ErrorSampling = DefaultErrorSampling
	}
	if o.ErrorSampling < 0 {
		o.ErrorSampling = 0
	}
	if o.ErrorSampling > maxErrorSamplingShift {
		o.ErrorSampling = maxErrorSamplingShift
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultSyncTimeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Level == nil {
		o.Level = zapcore.InfoLevel
	}
	return o
}

// Stats are a driver's counters, the ones g3 keeps for each logger
// (lib/g3-types/src/log/stats.rs), with one cause of tasklog's own
// (DropTooLarge). Every record the driver was handed is in Total and,
// once Close has returned, in exactly one of Passed or a Drop counter:
// Total == Passed + Dropped(). While records are queued or being
// delivered, Total is larger by their number.
type Stats struct {
	Total  uint64 `json:"total"`  // records handed to the driver
	Passed uint64 `json:"passed"` // records delivered
	Bytes  uint64 `json:"bytes"`  // bytes delivered

	DropQueueFull       uint64 `json:"drop_queue_full"`       // the queue was full (g3: channel_overflow)
	DropFormatFailed    uint64 `json:"drop_format_failed"`    // the record could not be formatted
	DropPeerUnreachable uint64 `json:"drop_peer_unreachable"` // the peer could not be reached or refused it
	DropTooLarge        uint64 `json:"drop_too_large"`        // larger than one datagram of the transport (tasklog's own cause)
	// DropClosed counts records logged after Close, and those still
	// queued or being delivered when Close gave up at CloseTimeout
	// (g3: channel_closed).
	DropClosed uint64 `json:"drop_closed"`
}

// Dropped returns the sum of the drop counters.
func (s Stats) Dropped() uint64 {
	return s.DropQueueFull + s.DropFormatFailed + s.DropPeerUnreachable + s.DropTooLarge + s.DropClosed
}

// stats keeps the counters Write updates apart from those the writers
// update, on cache lines of their own: one record's outcome then does not
// take the next Write's counters away from the logging goroutine's core.
type stats struct {
	total, queueFull, formatFailed, closed   atomic.Uint64
	_                                        cacheLinePad
	passed, bytes, peerUnreachable, tooLarge atomic.Uint64
}

// cacheLinePad separates fields that different goroutines write.
type cacheLinePad [64]byte

// snapshot reads the outcomes before the total, so that a snapshot taken
// while records are logged never shows more outcomes than records.
func (s *stats) snapshot() Stats {
	st := Stats{
		Passed: s.passed.Load(), Bytes: s.bytes.Load(),
		DropQueueFull: s.queueFull.Load(), DropFormatFailed: s.formatFailed.Load(),
		DropPeerUnreachable: s.peerUnreachable.Load(), DropTooLarge: s.tooLarge.Load(), DropClosed: s.closed.Load(),
	}
	st.Total = s.total.Load()
	return st
}

// dropCause names a drop counter a sink may count.
type dropCause uint8

const (
	dropPeerUnreachable dropCause = iota
	dropTooLarge
	dropFormatFailed // a deferred record the writer could not render
)

// formatter turns an entry into the bytes one delivery sends. It must be
// safe for concurrent use; with returns a formatter that adds context
// fields, as zapcore.Core.With does. The non-JSON formatters collect the
// keys (kvFormatter) and render them from a kvEncoder, or for the field
// types it can carry read them back from tasklog.NewEncoder's line, which
// is faster (fastLines).
//
// Where format runs: Write hands the writer a copy of the entry when it
// can (snapshotter), else the line for the writer to render
// (lineFormatter), and formats on the logging goroutine only for entries
// neither can carry or when the writers are behind (behindAt). The bytes
// are format's either way.
type formatter interface {
	format(buf []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error)
	with(fields []zapcore.Field) formatter
}

// lineFormatter is a formatter whose records its writer renders (the
// deferred path). For the entries its fast path takes, the logging
// goroutine only writes tasklog.NewEncoder's JSON line of the fields (the
// context's included), which is all the JSON driver does, and the writer
// turns the line into the record's bytes: format's bytes for the same
// entry (TestRenderMatchesFormat holds them to it). It serves the entries
// a snapshot cannot hold (byte strings, binary values, stringers); other
// entries are formatted on the logging goroutine.
type lineFormatter interface {
	formatter
	// defers reports whether this formatter takes the deferred path at
	// all (a CEE syslog formatter does not: its body is the line).
	defers() bool
	// line appends the JSON line of fields to buf, or returns false,
	// having appended nothing that counts, for fields whose line render
	// could not take back.
	line(buf []byte, fields []zapcore.Field) ([]byte, bool)
	// render appends the record of ent and its line to b; scratch is the
	// writer's. It returns false only if the line is not one that line
	// wrote (a bug, counted as DropFormatFailed).
	render(b []byte, ent *zapcore.Entry, line []byte, scratch *[]byte) ([]byte, bool)
}

// queued is a record's bytes as they travel through the queue: the bytes
// the sink sends or, when lf is set, the line the writer renders them
// from, with the entry's own keys (ent). Records are recycled through the
// queue's free list, so that a record costs no allocation.
type queued struct {
	buf  []byte
	lf   lineFormatter
	sf   snapshotter // set when snap holds the entry's fields
	snap *snapshot   // made with the record when the formatter snapshots
	ent  zapcore.Entry
}

// deferred reports whether the writer renders the record.
func (r *queued) deferred() bool { return r.lf != nil || r.sf != nil }

// sink delivers formatted records, one writer goroutine at a time per
// sink value (Writers > 1 makes one sink per writer). It reports every
// record's outcome through the queue (q.pass, q.drop), which ignores
// outcomes once Close has given up on the writers, and checks
// q.abandoned before each write so that nothing new is sent after that.
type sink interface {
	deliver(rec []byte)
	// close gives up any connection and makes later connects fail; it may
	// be called while deliver is blocked, to unblock it.
	close()
}

// drainer is a sink that may hold records after its writer has stopped
// (fluentd's retry queue); drain counts them as dropped.
type drainer interface{ drain() }

// Core is a zapcore.Core that hands each entry to a bounded queue without
// ever blocking; writer goroutines format and deliver it, as g3proxy's
// log drivers do. An entry of plain values and tasklog's records is
// copied into the queue and formatted by the writer; one with values that
// may change once Write returns (byte slices, objects, arrays) is
// formatted on the logging goroutine, as are, for the drivers that send a
// record a system call (syslog, the journal), entries while more than a
// quarter of the queue waits, so that a logging goroutine faster than the
// writers shares their work instead of overflowing the queue. The bytes
// are the same wherever they are formatted. A full queue drops the newest
// record, and every drop is counted ([Core.Stats]). Make one with a
// driver's constructor ([NewSyslog], [NewFluentd], [NewJournal],
// [NewStdout], [NewJSON], [NewDiscard]) or [Config.Build], use it as the
// core of a zap.Logger (or under zapcore.NewTee, a sampler, hooks), and
// Close it when the program ends.
//
// A Core and the cores its With returns share one queue, one set of
// writers and one Stats; Close any of them to close all. All methods are
// safe for concurrent use.
type Core struct {
	zapcore.LevelEnabler
	fmt formatter
	lf  lineFormatter // fmt, when it defers
	sf  snapshotter   // fmt, when it snapshots
	q   *queue
}

// snapshotting returns f as a snapshotter, or nil.
func snapshotting(f formatter) snapshotter {
	sf, _ := f.(snapshotter)
	return sf
}

// deferring returns f as a lineFormatter when it takes the deferred path.
func deferring(f formatter) lineFormatter {
	if lf, ok := f.(lineFormatter); ok && lf.defers() {
		return lf
	}
	return nil
}

var _ zapcore.Core = (*Core)(nil)

type queue struct {
	// Set by newCore, read-only after.
	snapshots bool // records carry a snapshot (the formatter snapshots)
	name      string
	ch        chan *queued
	opts      Options
	sinks     []sink
	wake      chan struct{}
	wakeAt    int
	behindAt  int // the queue length past which Write formats (see Core.Write); off for a streamSink
	// free holds spent records for Write to reuse. A sync.Pool fits
	// badly: its records are taken on one goroutine and returned on
	// another while up to QueueSize of them wait, and in BenchmarkDrivers
	// it missed for about a quarter of the records.
	free chan *queued

	_ cacheLinePad
	// Written by Write (and Close).
	mu       sync.RWMutex // guards closed against sends on a closed ch
	closed   bool
	enqueued atomic.Uint64

	_  cacheLinePad
	st stats

	_ cacheLinePad
	// The writers' idle protocol, which spares Write the cost of waking a
	// parked goroutine for every record (a futex call on the logging
	// goroutine's thread). A writer that finds the queue empty naps for
	// nap and looks again, napping counting it, and blocks on ch only
	// after napsBeforePark empty naps: while records keep coming, Write
	// only queues them. Write wakes a napping writer early (through wake)
	// only when the queue is wakeAt full, so that a nap never lets it
	// overflow.
	napping atomic.Int32

	_ cacheLinePad
	// Written by the writers. The ledger: every record sent into ch is
	// resolved exactly once, by its writer (q.pass, q.drop) or, when
	// Close gives up, by Close counting all unresolved ones as
	// DropClosed; abandoned then turns the writers' late outcomes into
	// no-ops.
	ledger    sync.Mutex
	resolved  uint64 // guarded by ledger
	abandoned atomic.Bool
	processed atomic.Uint64
	errs      atomic.Uint64
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func newCore(name string, f formatter, opts Options, newSink func(*queue) sink) *Core {
	opts = opts.withDefaults()
	q := &queue{name: name, ch: make(chan *queued, opts.QueueSize), opts: opts,
		free: make(chan *queued, opts.QueueSize+opts.Writers*maxBatch+runtime.GOMAXPROCS(0)),
		wake: make(chan struct{}, opts.Writers), wakeAt: max(opts.QueueSize/8, 1),
		behindAt: max(opts.QueueSize/4, 1)}
	for i := 0; i < opts.Writers; i++ {
		s := newSink(q)
		q.sinks = append(q.sinks, s)
		if _, ok := s.(streamSink); ok {
			q.behindAt = math.MaxInt
		}
		q.wg.Add(1)
		go q.run(s)
	}
	sf := snapshotting(f)
	q.snapshots = sf != nil
	return &Core{LevelEnabler: opts.Level, fmt: f, lf: deferring(f), sf: sf, q: q}
}

// nap is how long an idle writer waits before it looks at the queue
// again, and napsBeforePark how many empty looks make it block instead:
// a record waits at most about a nap (longer only as the Go runtime's
// timers are coarser) and an idle writer parks after about a millisecond.
const (
	nap            = 200 * time.Microsecond
	napsBeforePark = 5
)

// streamSink is a multiSink that writes the records that waited with one
// write call (stdout and the other io.Writer drivers, fluentd). Write
// never formats for its writers to catch up (behindAt is off): one
// writer alone stays above a straight writer's rate (benchtable's
// throughput table, six runs: stdout 1.00x-1.20x, fluentd 2.5x-3.6x;
// with the logging goroutine's help 1.1x-1.5x and 4.0x-5.2x), and a
// logging goroutine that outruns it then costs 0.35x-0.43x of NewCore's
// JSON rather than 1.6x-2.3x. The datagram drivers keep the help: their
// writer pays a system call a record, and without the help the journal
// fell to 0.73x-0.81x.
type streamSink interface {
	multiSink
	stream()
}

// multiSink is a sink that takes the records waiting in the queue at
// once (one write for many). It reports each record's outcome, as
// deliver does.
type multiSink interface {
	sink
	deliverBatch(recs [][]byte)
}

// A writer hands a multiSink at most maxBatch records of at most about
// maxBatchBytes together: what is waiting when it looks, no more. A
// record the writer renders counts as deferredSize bytes, its size before
// rendering being unknown (a task record renders to 400 to 900 bytes).
const (
	maxBatch      = 256
	maxBatchBytes = 64 << 10
	deferredSize  = 512
)

// joinBatch appends recs back to back to buf[:0], for a sink that sends a
// batch with one write. It returns them, and the memory for the next
// batch: buf's, or nil once a batch of huge records grew it past
// 4*maxBatchBytes (let it go once written).
func joinBatch(buf []byte, recs [][]byte) (batch, next []byte) {
	buf = buf[:0]
	for _, r := range recs {
		buf = append(buf, r...)
	}
	if cap(buf) > 4*maxBatchBytes {
		return buf, nil
	}
	return buf, buf
}

// queuedSize is r's share of a batch's maxBatchBytes.
func queuedSize(r *queued) int {
	if r.deferred() {
		return max(len(r.buf), deferredSize)
	}
	return len(r.buf)
}

func (q *queue) run(s sink) {
	defer q.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	bs, batching := s.(multiSink)
	var w renderBuf
	var batch []*queued
	var bufs [][]byte
	for {
		r, ok := q.next(t)
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		if !batching {
			if !q.abandoned.Load() {
				if bufs = w.all(q, batch, bufs[:0]); len(bufs) == 1 {
					s.deliver(bufs[0])
				}
			}
			q.put(r)
			clear(bufs)
			q.processed.Add(1)
			continue
		}
		size, open := queuedSize(r), true
		for open && len(batch) < maxBatch && size < maxBatchBytes {
			select {
			case r, open = <-q.ch:
				if open {
					batch = append(batch, r)
					size += queuedSize(r)
				}
				continue
			default:
			}
			break
		}
		if !q.abandoned.Load() {
			if bufs = w.all(q, batch, bufs[:0]); len(bufs) > 0 {
				bs.deliverBatch(bufs)
			}
		}
		for _, r := range batch {
			q.put(r)
		}
		clear(bufs)
		q.processed.Add(uint64(len(batch)))
		if !open {
			return
		}
	}
}

// renderBuf is a writer's memory for the records it renders (see
// lineFormatter): the rendered bytes of a batch, back to back, which the
// sink sends before the next batch reuses them, so that no record needs
// a second buffer of its own.
type renderBuf struct {
	arena, scratch []byte
	ends           []int // each batch record's end in arena; direct, failed
}

const (
	direct = -1 // the record's bytes are its buf
	failed = -2 // rendering failed, counted
)

// all appends the bytes of each record of a batch (of one, for a sink
// that takes records one at a time) to bufs, rendering the deferred ones
// into the arena; a record that fails to render is left out, counted.
func (w *renderBuf) all(q *queue, batch []*queued, bufs [][]byte) [][]byte {
	w.arena, w.ends = w.arena[:0], w.ends[:0]
	for _, r := range batch {
		if !r.deferred() {
			w.ends = append(w.ends, direct)
			continue
		}
		start := len(w.arena)
		out, err := w.render(w.arena, r)
		if err != nil {
			q.renderFailed(err)
			w.arena = out[:start]
			w.ends = append(w.ends, failed)
			continue
		}
		w.arena = out
		w.ends = append(w.ends, len(out))
	}
	start := 0
	for i, end := range w.ends {
		switch end {
		case direct:
			bufs = append(bufs, batch[i].buf)
		case failed:
		default:
			bufs = append(bufs, w.arena[start:end:end])
			start = end
		}
	}
	if cap(w.arena) > 4*maxBatchBytes {
		w.arena = nil // let a batch that grew large go, once sent
	}
	return bufs
}

// render appends a deferred record's bytes to b.
func (w *renderBuf) render(b []byte, r *queued) ([]byte, error) {
	if r.lf != nil {
		out, ok := r.lf.render(b, &r.ent, r.buf, &w.scratch)
		if !ok {
			return out, errLineRender
		}
		return out, nil
	}
	return r.sf.format(b, r.ent, r.snap.view())
}

var errLineRender = errors.New("a line did not render")

// renderFailed counts and reports a deferred record the writer could not
// format: a bug, since Write hands over only records that format (line
// writes only lines render takes; snapshots refuses entries format would
// fail).
func (q *queue) renderFailed(err error) {
	q.drop(dropFormatFailed, 1)
	q.report(fmt.Errorf("format on the writer: %w", err))
}

// next returns the next queued record, or false once ch is closed and
// drained, by the idle protocol above.
func (q *queue) next(t *time.Timer) (*queued, bool) {
	for naps := 0; ; naps++ {
		select {
		case r, ok := <-q.ch:
			return r, ok
		default:
		}
		if naps == napsBeforePark {
			r, ok := <-q.ch // parked: the next Write's send wakes this writer
			return r, ok
		}
		q.napping.Add(1)
		t.Reset(nap)
		select {
		case <-t.C:
		case <-q.wake:
			t.Stop()
		}
		q.napping.Add(-1)
	}
}

// pass counts one record delivered with n bytes.
func (q *queue) pass(n int) { q.passN(1, n) }

// passN counts records delivered, of bytes bytes in all.
func (q *queue) passN(records, bytes int) {
	q.ledger.Lock()
	if !q.abandoned.Load() {
		q.resolved += uint64(records)
		q.st.passed.Add(uint64(records))
		q.st.bytes.Add(uint64(bytes))
	}
	q.ledger.Unlock()
}

// drop counts n records dropped for cause.
func (q *queue) drop(cause dropCause, n int) {
	if n == 0 {
		return
	}
	q.ledger.Lock()
	if !q.abandoned.Load() {
		q.resolved += uint64(n)
		switch cause {
		case dropTooLarge:
			q.st.tooLarge.Add(uint64(n))
		case dropFormatFailed:
			q.st.formatFailed.Add(uint64(n))
		default:
			q.st.peerUnreachable.Add(uint64(n))
		}
	}
	q.ledger.Unlock()
}

// abandon gives up on the writers: every record sent into ch and not yet
// resolved (queued, in a writer's hands, or held by a sink) is counted as
// DropClosed, and from now on the writers' outcomes count for nothing and
// they send nothing new. ch must be closed already, so enqueued is final.
func (q *queue) abandon() {
	q.ledger.Lock()
	defer q.ledger.Unlock()
	if q.abandoned.Load() {
		return
	}
	q.abandoned.Store(true)
	q.st.closed.Add(q.enqueued.Load() - q.resolved)
}

// get and put recycle records. When none is free, get makes a slab of
// them at once (their buffers cut from one array): a burst that fills the
// queue then costs one allocation per slab, not one per record.
func (q *queue) get() *queued {
	select {
	case r := <-q.free:
		return r
	default:
	}
	const n, size = 128, 2048
	recs := make([]queued, n)
	bufs := make([]byte, n*size)
	if q.snapshots {
		snaps := make([]snapshot, n)
		for i := range recs {
			recs[i].snap = &snaps[i]
		}
	}
	for i := 1; i < n; i++ {
		recs[i].buf = bufs[i*size : i*size : (i+1)*size]
		q.put(&recs[i])
	}
	recs[0].buf = bufs[:0:size]
	return &recs[0]
}

func (q *queue) put(r *queued) {
	if cap(r.buf) > 64<<10 {
		return // let a record that grew large go
	}
	if r.sf != nil {
		r.snap.release()
	}
	r.buf, r.lf, r.sf, r.ent = r.buf[:0], nil, nil, zapcore.Entry{}
	select {
	case q.free <- r:
	default:
	}
}

// report writes a sampled IO error: the first, then every 2^n-th.
func (q *queue) report(err error) {
	n := q.errs.Add(1)
	mask := uint64(1)<<q.opts.ErrorSampling - 1
	if n != 1 && n&mask != 0 {
		return
	}
	fmt.Fprintf(q.opts.ErrorOutput, "%s tasklog/driver %s: %v (%d IO errors so far)\n",
		time.Now().UTC().Format(time.RFC3339), q.name, err, n)
	_ = q.opts.ErrorOutput.Sync()
}

// Enabled implements zapcore.LevelEnabler (through Options.Level).

// With implements zapcore.Core: a Core that adds fields to every entry,
// sharing this one's queue.
func (c *Core) With(fields []zapcore.Field) zapcore.Core {
	f := c.fmt.with(fields)
	return &Core{LevelEnabler: c.LevelEnabler, fmt: f, lf: deferring(f), sf: snapshotting(f), q: c.q}
}

// Check implements zapcore.Core.
func (c *Core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// Write implements zapcore.Core: it formats the entry and queues it
// without blocking. It returns an error only when the entry cannot be
// formatted (counted as DropFormatFailed); a full queue or a closed driver
// drops the record, counted, and returns nil, so that a stuck log never
// fails the caller. A record that finds the queue full is dropped
// unformatted (an entry that would not format then counts as
// DropQueueFull, not DropFormatFailed).
func (c *Core) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	q := c.q
	if len(q.ch) == cap(q.ch) {
		// The queue is full: the record is dropped before it is formatted,
		// so that an overloaded logging goroutine spends nothing on
		// records that cannot go (g3's AsyncLogger formats first, then
		// finds its channel full: lib/g3-types/src/log/async_log.rs).
		q.mu.RLock()
		q.st.total.Add(1)
		q.refused()
		q.mu.RUnlock()
		return nil
	}
	r := q.get()
	var err error
	if len(q.ch) > q.behindAt {
		// More than a quarter of the queue waits: the writers are behind,
		// and this goroutine formats, so that both sides work and a burst
		// is delivered sooner and overflows the queue later (handing
		// records over would leave all the formatting to the writers).
		// A writer was woken at an eighth (wakeAt). A smaller share
		// (256 records) delivered a burst of 20,000 records faster in
		// the throughput table, but had the logging goroutine format
		// half the records of benchtable's drivers table, which logs as
		// fast as it can: a quarter spends the queue first. Only for
		// sinks that send a record a system call: see streamSink.
		r.buf, err = c.fmt.format(r.buf, ent, fields)
	} else if c.snapshot(r, ent, fields) {
		r.sf = c.sf
	} else if buf, ok := c.deferLine(r.buf, fields); ok {
		r.buf, r.lf, r.ent = buf, c.lf, ent
	} else {
		r.buf, err = c.fmt.format(buf[:0], ent, fields)
	}
	if err != nil {
		q.st.total.Add(1)
		q.st.formatFailed.Add(1)
		q.put(r)
		return fmt.Errorf("tasklog/driver %s: format: %w", q.name, err)
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	q.st.total.Add(1)
	if !q.closed {
		select {
		case q.ch <- r:
			q.enqueued.Add(1)
			if len(q.ch) >= q.wakeAt && q.napping.Load() > 0 {
				select {
				case q.wake <- struct{}{}:
				default:
				}
			}
			return nil
		default:
		}
	}
	q.refused()
	q.put(r)
	return nil
}

// refused counts a record Write could not queue (its total counted
// already, q.mu held): as closed once the Core is closed, else as
// DropQueueFull.
func (q *queue) refused() {
	if q.closed {
		q.st.closed.Add(1)
		return
	}
	q.st.queueFull.Add(1)
}

// deferLine writes the entry's line for the writer to render, when the
// formatter defers and the fields can take the line.
func (c *Core) deferLine(buf []byte, fields []zapcore.Field) ([]byte, bool) {
	if c.lf == nil || fastLinesOff {
		return buf, false
	}
	return c.lf.line(buf, fields)
}

// snapshot copies the entry's fields into r for the writer to format,
// when the formatter snapshots and the fields can be copied.
// It sets r.ent (the entry as the formatter will read it).
func (c *Core) snapshot(r *queued, ent zapcore.Entry, fields []zapcore.Field) bool {
	if c.sf == nil || r.snap == nil || fastLinesOff {
		return false
	}
	ent, ok := c.sf.snapshots(ent)
	if !ok {
		return false
	}
	if !r.snap.take(fields) {
		r.snap.release()
		return false
	}
	r.ent = ent
	return true
}

// ErrTimeout is returned by Sync and Close when the records could not be
// delivered in time.
var ErrTimeout = errors.New("tasklog/driver: timed out waiting for delivery")

// Sync implements zapcore.Core: it waits until every record queued before
// the call has been delivered (or dropped), for at most
// Options.SyncTimeout, and then returns ErrTimeout.
func (c *Core) Sync() error {
	q := c.q
	target := q.enqueued.Load()
	deadline := time.Now().Add(q.opts.SyncTimeout)
	for wait := 50 * time.Microsecond; q.processed.Load() < target; wait = min(wait*2, 5*time.Millisecond) {
		if q.abandoned.Load() {
			return nil // Close has counted what was left
		}
		if time.Now().After(deadline) {
			return ErrTimeout
		}
		time.Sleep(wait)
	}
	return nil
}

// closeGrace is how long Close waits, after giving up at CloseTimeout, for
// writers whose connections it closed to return, so that they leave no
// goroutine behind.
const closeGrace = 100 * time.Millisecond

// Close stops taking records (later ones are counted as DropClosed),
// delivers what is queued, and stops the writers, within
// Options.CloseTimeout. When that runs out, Close counts every record
// still queued, being delivered or waiting for a connection as
// DropClosed, closes the connections to unblock the writers, and returns
// ErrTimeout shortly after (within about 100 ms). Either way, when Close
// returns, Stats satisfies Total == Passed + Dropped() and the driver
// sends nothing more, with one exception: a write already blocked in the
// kernel when Close gave up (stdout into a pipe nobody reads) cannot be
// taken back. Its records (one write may carry the records that were
// waiting together) were counted as DropClosed, they may still reach the
// reader, and the writer goroutine ends when that write does; a network
// write is unblocked by closing its connection instead. Only the first
// call does anything; later ones return its result.
func (c *Core) Close() error {
	q := c.q
	q.closeOnce.Do(func() {
		timer := time.NewTimer(q.opts.CloseTimeout)
		defer timer.Stop()
		q.mu.Lock()
		q.closed = true
		close(q.ch)
		q.mu.Unlock()
		for range q.opts.Writers { // napping writers see the end now
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		done := make(chan struct{})
		go func() { q.wg.Wait(); close(done) }()
		select {
		case <-done:
			for _, s := range q.sinks {
				if d, ok := s.(drainer); ok {
					d.drain()
				}
				s.close()
			}
		case <-timer.C:
			q.closeErr = ErrTimeout
			q.abandon()
			for _, s := range q.sinks {
				s.close()
			}
			select {
			case <-done:
			case <-time.After(closeGrace):
			}
		}
	})
	return q.closeErr
}

// Stats returns the driver's counters now.
func (c *Core) Stats() Stats { return c.q.st.snapshot() }

// Publish makes the counters readable through expvar under name (as a map
// of the Stats' JSON keys), for /debug/vars. Like expvar.Publish it panics
// if name is already taken.
func (c *Core) Publish(name string) {
	expvar.Publish(name, expvar.Func(func() any { return c.Stats() }))
}
