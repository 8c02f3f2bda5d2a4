package tasklog

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// TaskLog is one g3proxy task record: the shared keys of every task log,
// plus the keys of its sub-type in Detail.
//
// The zero value is an empty record that [TaskLog.Validate] rejects. A
// TaskLog is plain data with no locks: fill it from one goroutine, then
// hand it to any number of loggers; marshaling only reads it, so one record
// may be encoded from many goroutines at once as long as none writes it.
//
// # Which keys a line carries
//
// Event decides the keys, as g3proxy's code does (docs/SCHEMA.md lists them
// per task type and event): a Created record has the identity keys, user,
// the client-side addresses, upstream, wait_time and the request keys;
// Connected adds escaper, ready_time and the keys of the remote connection;
// Periodic adds total_time and the counters; ClientShutdown and
// UpstreamShutdown (TcpConnect only) are Periodic without next_bind_ip and
// the connect tries and spend; a finished record (Event unset or
// [EventFinished]) carries everything, with reason and total_time required.
// Empty strings (but escaper), zero durations, zero times, invalid
// addresses and empty or unspecified upstreams are left out; counters,
// tries, status codes and reuse_connection are always written.
//
// # Bad records
//
// A record with a missing or invalid required value, an out-of-range enum,
// a negative duration or a shutdown event on a task type that has none is
// still written: every valid key, with each bad key left out and named,
// with its value, in the error that MarshalLogObject returns, which zap
// writes under [ErrorKey] (or key+"Error" for [Object]). These are the
// proxy author's mistakes. Values from the wire are never one: a user,
// method, user agent, URI or upstream that is not valid UTF-8 is written
// with each bad byte replaced by U+FFFD, as zap does, and an upstream that
// is not host:port is written as it is.
type TaskLog struct {
	ServerType ServerType    // server_type, required
	ServerName string        // server_name, required
	TaskID     uuid.UUID     // task_id, required: 32 hex digits on the wire
	Event      Event         // task_event; unset means a finished record, written as "Finished"
	Stage      Stage         // stage, required
	StartAt    time.Time     // start_at, required: microseconds, UTC
	User       string        // user; empty leaves it out
	Escaper    string        // escaper: written from Connected on, "" included
	Reason     Reason        // reason: required on a finished record, never written on others
	WaitTime   time.Duration // wait_time: accept (or keep-alive poll) to task creation
	ReadyTime  time.Duration // ready_time: task creation to relaying
	TotalTime  time.Duration // total_time: task creation to this record; required when finished
	Detail     Detail        // the sub-type: task_type and its own keys; required
}

var _ zapcore.ObjectMarshaler = (*TaskLog)(nil)

// encode writes every key of r that its event carries.
func (r *TaskLog) encode(e *recEnc) {
	e.keys = keysFor(r.Event)
	e.w.logger(true)
	if r.ServerType.IsValid() {
		e.w.word("server_type", r.ServerType.String())
	} else {
		e.enumProblem("server_type", r.ServerType == 0, r.ServerType.String())
	}
	e.reqStr("server_name", r.ServerName)
	e.w.logger(false)
	var taskType TaskType
	if r.Detail != nil {
		if taskType = r.Detail.TaskType(); taskType.IsValid() {
			e.w.word("task_type", taskType.String())
		} else {
			e.enumProblem("task_type", false, taskType.String())
		}
	}
	if r.TaskID == uuid.Nil {
		e.missing("task_id")
	} else {
		e.w.id("task_id", r.TaskID)
	}
	switch {
	case r.Event == 0:
		e.w.word("task_event", "Finished")
	case !r.Event.IsValid():
		e.enumProblem("task_event", false, r.Event.String())
	case (r.Event == EventClientShutdown || r.Event == EventUpstreamShutdown) &&
		taskType != TaskTypeTCPConnect:
		e.fail("task_event", r.Event.String()+" is an event of TcpConnect tasks only, not "+taskType.String())
	default:
		e.w.word("task_event", r.Event.String())
	}
	if r.Stage.IsValid() {
		e.w.word("stage", r.Stage.String())
	} else {
		e.enumProblem("stage", r.Stage == 0, r.Stage.String())
	}
	if r.StartAt.IsZero() {
		e.missing("start_at")
	} else {
		e.w.ts("start_at", r.StartAt)
	}
	e.optStr("user", r.User)
	if e.has(keysConnected) {
		e.w.str("escaper", r.Escaper) // "" included, as g3 does
	}
	if e.has(keysReason) {
		switch {
		case r.Reason.IsValid():
			e.w.word("reason", r.Reason.String())
		default:
			e.enumProblem("reason", r.Reason == 0, r.Reason.String())
		}
	}
	e.optDur("wait_time", r.WaitTime)
	if e.has(keysConnected) {
		e.optDur("ready_time", r.ReadyTime)
	}
	if e.has(keysReason) {
		e.reqDur("total_time", r.TotalTime)
	} else if e.has(keysRunning) {
		e.optDur("total_time", r.TotalTime)
	}
	encodeDetail(e, r.Detail)
}

func (e *recEnc) enumProblem(key string, unset bool, s string) {
	if unset {
		e.missing(key)
		return
	}
	e.fail(key, "invalid value "+s)
}

// Validate reports every missing or invalid key of r that its event
// carries, each as a [*KeyError], joined with [errors.Join]; it returns nil
// for a good record and does not allocate then. A nil r is an error.
func (r *TaskLog) Validate() error {
	if r == nil {
		return errNilRecord
	}
	e := recEnc{w: nopWriter{}, collect: true}
	r.encode(&e)
	return errors.Join(e.errs...)
}

var errNilRecord = errors.New("tasklog: nil *TaskLog")

// MarshalLogObject implements [zapcore.ObjectMarshaler]. It writes the
// record's keys in g3's wire formats whatever enc's EncoderConfig says about
// durations and times, and allocates nothing of its own. With the encoder
// of [NewEncoder] it writes straight into the line; with any other it uses
// the generic Add* calls. It only reads r, so
// it may run more than once per entry (a Tee core marshals once per
// output). For a bad record it writes every valid key and returns the
// [TaskLog.Validate] error.
func (r *TaskLog) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if r == nil {
		return errNilRecord
	}
	var e recEnc
	if je, ok := enc.(*jsonEncoder); ok {
		// NewEncoder's encoder: write straight into its line, in one
		// straight line for the common finished records.
		if fastFinished(je, r) {
			return nil
		}
		e.w = (*jsonKeyWriter)(je)
		r.encode(&e)
	} else {
		w := getZapWriter(enc)
		e.w = w
		r.encode(&e)
		putZapWriter(w)
	}
	if e.bad {
		return r.Validate()
	}
	return nil
}

// marshalDetail writes the keys of one Detail as a finished record carries
// them, and reports its missing or invalid keys.
func marshalDetail(enc zapcore.ObjectEncoder, d Detail) error {
	w := getZapWriter(enc)
	e := recEnc{w: w, keys: keysAll}
	encodeDetail(&e, d)
	putZapWriter(w)
	if !e.bad {
		return nil
	}
	e = recEnc{w: nopWriter{}, keys: keysAll, collect: true}
	encodeDetail(&e, d)
	return errors.Join(e.errs...)
}
