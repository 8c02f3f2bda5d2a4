package driver

import (
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The writer's share of the formatting (see Core.Write). The logging
// goroutine copies an entry's fields into its record, a task record by
// value (tasklog's records and their details hold values only: strings,
// numbers, times, addresses; TestSnapshotTypesHoldValues keeps them so),
// and the writer runs the same format on the copy: the same bytes
// (TestSnapshotMatchesFormat). An entry with a field that may change after
// Write returns (bytes, objects, arrays, reflected or lazily computed
// values, another package's Detail) or more fields than a snapshot holds
// is not copied: the text formats then hand over NewEncoder's line when
// they can (see lineFormatter), and otherwise the logging goroutine
// formats it. fluentd's format, which keeps every key's Rust type and
// writes unset keys as nil, has no line to render from: a copy is its
// only way to the writer.

// snapshotter is a formatter whose entries may be copied (see above).
type snapshotter interface {
	formatter
	// snapshots reports whether the entry may be formatted later, and
	// returns it with what format would read from the clock fixed now
	// (fluentd's time of an entry without one).
	snapshots(ent zapcore.Entry) (zapcore.Entry, bool)
}

// snapshotsAll is the snapshots method of a formatter whose format reads
// nothing but the entry and the fields: every entry may be copied.
type snapshotsAll struct{}

func (snapshotsAll) snapshots(ent zapcore.Entry) (zapcore.Entry, bool) { return ent, true }

// maxSnapFields is the most fields a snapshot holds.
const maxSnapFields = 8

// snapshot is an entry's fields, copied: the task record and its detail
// are held by value, and the fields point at them.
type snapshot struct {
	fields [maxSnapFields]zapcore.Field
	n      int
	rec    tasklog.TaskLog
	tcp    tasklog.TCPConnect
	http   tasklog.HTTPForward
	ftp    tasklog.FTPOverHTTP
	udpa   tasklog.UDPAssociate
	udpc   tasklog.UDPConnect
}

// take copies fields into s, or returns false when one may change after
// the call or they are too many (release s then: it may hold part of a
// record).
func (s *snapshot) take(fields []zapcore.Field) bool {
	if len(fields) > maxSnapFields {
		return false
	}
	recs := 0
	for i := range fields {
		f := fields[i]
		if !s.value(&f, &recs) {
			clear(s.fields[:i]) // keep nothing of the program's alive
			return false
		}
		s.fields[i] = f
	}
	s.n = len(fields)
	return true
}

// value reports whether f can be copied, and makes a task record's field
// point at the copy of the record (at most one, counted in recs).
func (s *snapshot) value(f *zapcore.Field, recs *int) bool {
	switch f.Type {
	case zapcore.StringType, zapcore.BoolType, zapcore.SkipType,
		zapcore.Int64Type, zapcore.Int32Type, zapcore.Int16Type, zapcore.Int8Type,
		zapcore.Uint64Type, zapcore.Uint32Type, zapcore.Uint16Type, zapcore.Uint8Type, zapcore.UintptrType,
		zapcore.Float64Type, zapcore.Float32Type, zapcore.DurationType,
		zapcore.TimeType, zapcore.TimeFullType:
		// Values: the field holds all of it (a string's bytes never
		// change; a time's location is immutable).
		return true
	case zapcore.InlineMarshalerType:
		r, ok := f.Interface.(*tasklog.TaskLog)
		if !ok || r == nil || *recs > 0 || !s.copyRecord(r) {
			return false
		}
		*recs++
		f.Interface = &s.rec
		return true
	}
	return false
}

// copyRecord copies r and its detail, one of tasklog's own, into s.
func (s *snapshot) copyRecord(r *tasklog.TaskLog) bool {
	s.rec = *r
	switch d := r.Detail.(type) {
	case nil:
	case *tasklog.TCPConnect:
		s.rec.Detail = copyDetail(&s.tcp, d)
	case *tasklog.HTTPForward:
		s.rec.Detail = copyDetail(&s.http, d)
	case *tasklog.FTPOverHTTP:
		s.rec.Detail = copyDetail(&s.ftp, d)
	case *tasklog.UDPAssociate:
		s.rec.Detail = copyDetail(&s.udpa, d)
	case *tasklog.UDPConnect:
		s.rec.Detail = copyDetail(&s.udpc, d)
	default:
		return false
	}
	return true
}

// copyDetail copies *d into *dst and returns dst; a nil d, which holds
// nothing that can change, is returned as it is (the record keeps its
// typed nil detail, for the formatter to report).
func copyDetail[T any, P interface {
	*T
	tasklog.Detail
}](dst, d P) tasklog.Detail {
	if d == nil {
		return d
	}
	*dst = *d
	return dst
}

// view returns the copied fields.
func (s *snapshot) view() []zapcore.Field { return s.fields[:s.n] }

// release drops what the snapshot refers to (strings, the record), so
// that a spent record keeps no memory of the program's alive.
func (s *snapshot) release() {
	clear(s.fields[:s.n])
	s.n = 0
	switch s.rec.Detail.(type) {
	case *tasklog.TCPConnect:
		s.tcp = tasklog.TCPConnect{}
	case *tasklog.HTTPForward:
		s.http = tasklog.HTTPForward{}
	case *tasklog.FTPOverHTTP:
		s.ftp = tasklog.FTPOverHTTP{}
	case *tasklog.UDPAssociate:
		s.udpa = tasklog.UDPAssociate{}
	case *tasklog.UDPConnect:
		s.udpc = tasklog.UDPConnect{}
	}
	s.rec = tasklog.TaskLog{}
}
