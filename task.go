package tasklog

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// Counters are a task's byte and packet counters. Relay goroutines may add
// to them concurrently (the connection wrappers of [Task.WrapClient] and
// friends do); the task copies them into its record each time it writes
// one. Adding costs one atomic add and no allocation.
type Counters struct {
	ClientReadBytes    atomic.Uint64 // c_rd_bytes: received from the client
	ClientWriteBytes   atomic.Uint64 // c_wr_bytes: sent to the client
	RemoteReadBytes    atomic.Uint64 // r_rd_bytes: received from the remote peer
	RemoteWriteBytes   atomic.Uint64 // r_wr_bytes: sent to the remote peer
	ClientReadPackets  atomic.Uint64 // c_rd_packets (UDP)
	ClientWritePackets atomic.Uint64 // c_wr_packets (UDP)
	RemoteReadPackets  atomic.Uint64 // r_rd_packets (UDP)
	RemoteWritePackets atomic.Uint64 // r_wr_packets (UDP)
}

// Task is one proxy task from creation to its finished record: it owns the
// task's record, its timing (wait, ready and total time on the monotonic
// clock) and its [Counters], and writes its event records. Make it with
// [Server.NewTask]; end it with [Task.Finish], which writes exactly one
// finished record whatever the exit path.
//
// All methods are safe for concurrent use. Record changes and record
// writes are serialized by a per-task lock, so a Periodic record never sees
// a half-made change.
type Task struct {
	Counters Counters

	srv     *Server
	created time.Time // monotonic start
	log     bool      // the per-task log decision, made once

	// wmu serializes the task's record writes, so they reach the logger in
	// order (Created first, Finished last), while mu, which guards the
	// record, is never held during a write: a slow sink delays this task's
	// next record, never an Update or a counter. Lock order: wmu, then mu.
	wmu sync.Mutex

	mu       sync.Mutex
	rec      TaskLog // guarded by mu; frozen once done
	done     bool    // guarded by mu; Finish has run
	shutDown bool    // guarded by mu; a shutdown record was asked for
	// slot and slotIdx place the task in its server's periodic schedule;
	// guarded by the schedule's lock. slot is -1 when unscheduled.
	slot, slotIdx int
	msg           [160]byte // room for a finished message, never reused

	prev, next *Task // the server's ring of open tasks; guarded by srv.mu
}

// NewTask creates a task for a request that has become one, at the current
// time. waitStart is when the server began waiting for the request (the
// accept, or on a kept-alive connection the start of polling for the next
// request); wait_time runs from it to now, and a zero waitStart leaves
// wait_time unset. user is the authenticated user name, or "". detail is
// the sub-type record (a *TCPConnect, *HTTPForward, ...), filled with what
// is known now; change it later only through [Task.Update]. Byte and
// packet counters already set in detail are the starting values of the
// task's [Counters]: from then on the Counters are the truth, and every
// record copies them into the Detail.
//
// NewTask assigns the task id, sets StartAt and stage Created, makes the
// log decision, and writes the Created record if the server asks for one.
// It allocates the Task. Every task must end with [Task.Finish] (a defer is
// the usual way): until then the server keeps it in its open set, for
// [Server.FinishAll] and [Server.OpenTasks].
func (s *Server) NewTask(waitStart time.Time, user string, detail Detail) *Task {
	now := time.Now()
	t := &Task{srv: s, created: now, slot: -1}
	t.rec = TaskLog{
		ServerType: s.typ,
		ServerName: s.name,
		TaskID:     s.newID(),
		Stage:      StageCreated,
		StartAt:    now.Round(0),
		User:       user,
		Detail:     detail,
	}
	if !waitStart.IsZero() {
		if w := now.Sub(waitStart); w > 0 {
			t.rec.WaitTime = w
		}
	}
	t.Counters.seed(detail)
	t.log = s.filter == nil || s.filter(&t.rec)
	// Hold the write lock from before the task is visible in the open set
	// until its Created record is written: a FinishAll racing with NewTask
	// then writes Finished after Created, never before.
	t.wmu.Lock()
	defer t.wmu.Unlock()
	s.track(t)
	if s.created {
		t.writeSnapshot(EventCreated)
	}
	if s.sched != nil && t.log {
		s.sched.add(t)
	}
	return t
}

// ID returns the task id.
func (t *Task) ID() uuid.UUID { return t.rec.TaskID } // set once, before t is shared

// Elapsed returns the time since the task was created, on the monotonic
// clock: the value for total_time and the dur_* keys.
func (t *Task) Elapsed() time.Duration { return time.Since(t.created) }

// SetStage records how far the task got.
func (t *Task) SetStage(s Stage) {
	t.Update(func(r *TaskLog) { r.Stage = s })
}

// SetUser sets the user key. The log decision was made when the task was
// created and does not change.
func (t *Task) SetUser(user string) {
	t.Update(func(r *TaskLog) { r.User = user })
}

// SetEscaper sets the escaper key, the name of the route the task took.
func (t *Task) SetEscaper(escaper string) {
	t.Update(func(r *TaskLog) { r.Escaper = escaper })
}

// Update runs fn with the task's record under the task's lock, to set
// sub-type fields: t.Update(func(r *TaskLog) { r.Detail.(*tasklog.HTTPForward).RspStatus = 200 }).
// fn must not keep the record or call the task's methods. Counters in the
// Detail are overwritten from [Task.Counters] whenever a record is written:
// add to the Counters instead.
// After [Task.Finish] the record is frozen: Update and the setters do
// nothing, so a core that keeps entries and marshals them later still sees
// the finished record as it was written. A panic in fn reaches the caller
// unchanged and leaves the task usable: the lock is released, and Finish
// still writes its one record.
func (t *Task) Update(fn func(rec *TaskLog)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		fn(&t.rec)
	}
}

// Connected marks the upstream connected: stage Connected, and the
// Connected record if the server asks for it.
func (t *Task) Connected() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	t.rec.Stage = StageConnected
	t.mu.Unlock()
	if t.srv.connected {
		t.writeSnapshot(EventConnected)
	}
}

// Relaying marks both channels established: stage Relaying, and ready_time
// fixed at the time since creation. Only the first call sets ready_time.
func (t *Task) Relaying() {
	t.Update(func(r *TaskLog) {
		r.Stage = StageRelaying
		if r.ReadyTime == 0 {
			r.ReadyTime = max(t.Elapsed(), 1)
		}
	})
}

// ClientShutdown writes the ClientShutdown record: the client closed its
// sending side first, gracefully, and the other direction goes on. As in
// g3, a task has at most one shutdown record: only the first call of
// ClientShutdown or UpstreamShutdown writes, and only for a TcpConnect
// task (g3's other task types have no shutdown events).
func (t *Task) ClientShutdown() { t.shutdown(EventClientShutdown) }

// UpstreamShutdown writes the UpstreamShutdown record: the upstream closed
// its sending side first, gracefully. See [Task.ClientShutdown] for when it
// writes.
func (t *Task) UpstreamShutdown() { t.shutdown(EventUpstreamShutdown) }

func (t *Task) shutdown(ev Event) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.mu.Lock()
	first := !t.done && !t.shutDown
	t.shutDown = true
	tcp := t.rec.Detail != nil && t.rec.Detail.TaskType() == TaskTypeTCPConnect
	t.mu.Unlock()
	if first && tcp {
		t.writeSnapshot(ev)
	}
}

// Finish ends the task and writes its one finished record: task_event
// Finished, reason, total_time and the counters, with the message g3 uses,
// reason.Text() or reason.Text()+": "+err.Error(). Only the first call
// does anything and returns true; later calls, from any goroutine or a
// defer, return false. It stops the periodic records and takes the task
// out of its server's open set, even when the logger panics (the panic
// then reaches the caller).
//
// Finish allocates nothing beyond what the logger allocates itself (and
// what err.Error() allocates), as long as the message fits 160 bytes.
func (t *Task) Finish(reason Reason, err error) bool {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if !t.freeze(reason) {
		return false
	}
	if t.srv.sched != nil {
		t.srv.sched.remove(t)
	}
	defer t.srv.untrack(t)
	if t.log {
		// The record is frozen: it can be written without the lock, in
		// place, without a copy.
		t.write(&t.rec, t.message(reason, err))
	}
	return true
}

// freeze marks the task done and brings its record up to date for the
// finished record; false when it was done already.
func (t *Task) freeze(reason Reason) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.rec.Reason = reason
	t.prepare(EventFinished)
	return true
}

// message builds the finished message in t.msg. The buffer is written once,
// here, and never changed afterwards, so the string may outlive the call
// (a core that keeps entries, such as zaptest/observer, stays correct).
func (t *Task) message(reason Reason, err error) string {
	text := reason.Text()
	if err == nil {
		return text
	}
	e := err.Error()
	if len(text)+2+len(e) > len(t.msg) {
		return text + ": " + e
	}
	n := copy(t.msg[:], text)
	n += copy(t.msg[n:], ": ")
	n += copy(t.msg[n:], e)
	return unsafe.String(&t.msg[0], n)
}

// tick writes a Periodic record; the server's schedule calls it.
func (t *Task) tick() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.writeSnapshot(EventPeriodic)
}

// prepare brings the record up to date for an ev record. t.mu is held.
func (t *Task) prepare(ev Event) {
	t.rec.Event = ev
	if ev != EventCreated && ev != EventConnected {
		t.rec.TotalTime = max(t.Elapsed(), 1)
	}
	t.copyCounters() // a UDP Connected record carries the first packet's
}

// writeSnapshot writes a record of a running task, whose message g3 leaves
// empty, from a copy made under t.mu: the record goes on changing, and a
// core that keeps entries and marshals them later must still see each
// record as written. The copy costs an allocation. t.wmu is held.
func (t *Task) writeSnapshot(ev Event) {
	if !t.log {
		return
	}
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	t.prepare(ev)
	snap := t.rec
	snap.Detail = cloneDetail(t.rec.Detail)
	t.mu.Unlock()
	t.write(&snap, "")
}

// write hands rec to the logger through [Log], whose pooled field slot
// keeps the write free of allocation. t.wmu is held, t.mu is not.
func (t *Task) write(rec *TaskLog, msg string) {
	Log(t.srv.logger, zapcore.InfoLevel, msg, rec)
}

// cloneDetail returns a copy of d; a Detail of an unknown type is shared.
func cloneDetail(d Detail) Detail {
	switch d := d.(type) {
	case *TCPConnect:
		if d != nil {
			c := *d
			return &c
		}
	case *HTTPForward:
		if d != nil {
			c := *d
			return &c
		}
	case *FTPOverHTTP:
		if d != nil {
			c := *d
			return &c
		}
	case *UDPAssociate:
		if d != nil {
			c := *d
			return &c
		}
	case *UDPConnect:
		if d != nil {
			c := *d
			return &c
		}
	}
	return d
}

// counterFields returns the counter fields of a Detail of a known type:
// the TCP ones (TCPConnect, HTTPForward), FtpOverHttp's client ones, or
// the UDP ones; all nil for a nil or unknown Detail.
func counterFields(d Detail) (tcp *TCPConnect, ftp *FTPOverHTTP, udp *UDPCounters) {
	switch d := d.(type) {
	case *TCPConnect:
		tcp = d
	case *HTTPForward:
		if d != nil {
			tcp = &d.TCPConnect
		}
	case *FTPOverHTTP:
		ftp = d
	case *UDPAssociate:
		if d != nil {
			udp = &d.UDPCounters
		}
	case *UDPConnect:
		if d != nil {
			udp = &d.UDPCounters
		}
	}
	return tcp, ftp, udp
}

// copyCounters copies the atomic counters into the record's Detail.
func (t *Task) copyCounters() {
	c := &t.Counters
	tcp, ftp, udp := counterFields(t.rec.Detail)
	switch {
	case tcp != nil:
		c.copyTCP(tcp)
	case ftp != nil:
		ftp.ClientReadBytes, ftp.ClientWriteBytes = c.ClientReadBytes.Load(), c.ClientWriteBytes.Load()
	case udp != nil:
		c.copyUDP(udp)
	}
}

// seed adds the counters a Detail was created with.
func (c *Counters) seed(d Detail) {
	tcp, ftp, udp := counterFields(d)
	switch {
	case tcp != nil:
		c.ClientReadBytes.Add(tcp.ClientReadBytes)
		c.ClientWriteBytes.Add(tcp.ClientWriteBytes)
		c.RemoteReadBytes.Add(tcp.RemoteReadBytes)
		c.RemoteWriteBytes.Add(tcp.RemoteWriteBytes)
	case ftp != nil:
		c.ClientReadBytes.Add(ftp.ClientReadBytes)
		c.ClientWriteBytes.Add(ftp.ClientWriteBytes)
	case udp != nil:
		c.ClientReadBytes.Add(udp.ClientReadBytes)
		c.ClientReadPackets.Add(udp.ClientReadPackets)
		c.ClientWriteBytes.Add(udp.ClientWriteBytes)
		c.ClientWritePackets.Add(udp.ClientWritePackets)
		c.RemoteReadBytes.Add(udp.RemoteReadBytes)
		c.RemoteReadPackets.Add(udp.RemoteReadPackets)
		c.RemoteWriteBytes.Add(udp.RemoteWriteBytes)
		c.RemoteWritePackets.Add(udp.RemoteWritePackets)
	}
}

func (c *Counters) copyTCP(d *TCPConnect) {
	d.ClientReadBytes, d.ClientWriteBytes = c.ClientReadBytes.Load(), c.ClientWriteBytes.Load()
	d.RemoteReadBytes, d.RemoteWriteBytes = c.RemoteReadBytes.Load(), c.RemoteWriteBytes.Load()
}

func (c *Counters) copyUDP(d *UDPCounters) {
	*d = UDPCounters{
		ClientReadBytes: c.ClientReadBytes.Load(), ClientReadPackets: c.ClientReadPackets.Load(),
		ClientWriteBytes: c.ClientWriteBytes.Load(), ClientWritePackets: c.ClientWritePackets.Load(),
		RemoteReadBytes: c.RemoteReadBytes.Load(), RemoteReadPackets: c.RemoteReadPackets.Load(),
		RemoteWriteBytes: c.RemoteWriteBytes.Load(), RemoteWritePackets: c.RemoteWritePackets.Load(),
	}
}
