package tasklog

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
)

// Server describes one listening proxy server: its g3 server type and
// name, the logger its task records go to, and how its tasks log. Create it
// with [NewServer] and make every task of the listener with
// [Server.NewTask]. A Server is safe for concurrent use.
type Server struct {
	typ       ServerType
	name      string
	logger    *zap.Logger
	newID     func() uuid.UUID
	created   bool
	connected bool
	periodic  time.Duration
	sched     *periodic // the Periodic records' schedule; nil when off
	filter    func(*TaskLog) bool
	dialer    *Dialer // Task.Dial's; nil is the zero Dialer

	mu   sync.Mutex
	open Task // sentinel of the open tasks' ring (open.prev, open.next); guarded by mu
	n    int  // open tasks; guarded by mu
}

// ServerOption configures a [Server].
type ServerOption func(*Server)

// WithIDGenerator replaces the task id generator. The default is a
// time-ordered UUIDv7 (g3 uses time-based UUIDv1: pass a function around
// uuid.NewUUID for that). gen must be safe for concurrent use.
func WithIDGenerator(gen func() uuid.UUID) ServerOption {
	return func(s *Server) { s.newID = gen }
}

// WithCreatedRecords makes each task write a Created record when it is
// created. g3 does not by default.
func WithCreatedRecords() ServerOption { return func(s *Server) { s.created = true } }

// WithConnectedRecords makes each task write a Connected record when
// [Task.Connected] is called. g3 does not by default.
func WithConnectedRecords() ServerOption { return func(s *Server) { s.connected = true } }

// MinPeriodic is the shortest interval [WithPeriodic] accepts: a shorter
// positive one is raised to it, so a typo such as 1 (nanosecond) cannot
// flood the log. g3 writes periodic task records on a scale of seconds to
// minutes.
const MinPeriodic = 100 * time.Millisecond

// WithPeriodic makes each task write a Periodic record, with its live
// counters, every interval while it runs. Zero or negative turns it off,
// the default; a positive interval below [MinPeriodic] is raised to it.
// One goroutine per server writes them, spreading the tasks over the
// period so that their records do not all come at once; it runs only while
// tasks are open.
func WithPeriodic(interval time.Duration) ServerOption {
	switch {
	case interval <= 0:
		interval = 0
	case interval < MinPeriodic:
		interval = MinPeriodic
	}
	return func(s *Server) { s.periodic = interval }
}

// Periodic returns the interval of the Periodic records, 0 when off.
func (s *Server) Periodic() time.Duration { return s.periodic }

// WithLogFilter sets the per-task log decision, as g3's per-user
// log_rate_limit: keep is called once, when a task is created, with the
// task's first record (server, task id, user, Detail), and if it returns
// false the task writes no record at all; otherwise it writes every one.
// keep must be safe for concurrent use and must not keep the record.
func WithLogFilter(keep func(rec *TaskLog) bool) ServerOption {
	return func(s *Server) { s.filter = keep }
}

// NewServer returns a Server whose tasks write their records to logger
// (attach [LoggerFields] to it for g3's log_type and pid keys). A nil
// logger writes nothing. It panics on an invalid server type or an empty
// name, programming errors that would make every record bad.
func NewServer(typ ServerType, name string, logger *zap.Logger, opts ...ServerOption) *Server {
	if !typ.IsValid() || name == "" {
		panic("tasklog: NewServer needs a valid server type and a name, got " + typ.String() + " and " + name)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	s := &Server{typ: typ, name: name, logger: logger, newID: newV7}
	s.open.prev, s.open.next = &s.open, &s.open
	for _, opt := range opts {
		opt(s)
	}
	if s.periodic > 0 {
		s.sched = newPeriodic(s.periodic)
	}
	return s
}

func newV7() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil { // the system's random source failed
		return uuid.New()
	}
	return id
}

// Type returns the server type given to [NewServer].
func (s *Server) Type() ServerType { return s.typ }

// Name returns the server name given to [NewServer].
func (s *Server) Name() string { return s.name }

// Logger returns the logger the server's tasks write to.
func (s *Server) Logger() *zap.Logger { return s.logger }

// OpenTasks returns how many tasks have been created and not finished.
func (s *Server) OpenTasks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// FinishAll finishes every open task with reason and err (see
// [Task.Finish]) and returns how many it finished. A proxy that shuts down
// calls it with [ReasonCanceledAsServerQuit] before closing its
// connections, so each open task's one finished record says why; the
// Finish calls its handlers make afterwards do nothing.
func (s *Server) FinishAll(reason Reason, err error) int {
	s.mu.Lock()
	tasks := make([]*Task, 0, s.n)
	for t := s.open.next; t != &s.open; t = t.next {
		tasks = append(tasks, t)
	}
	s.mu.Unlock()
	n := 0
	for _, t := range tasks {
		if t.Finish(reason, err) {
			n++
		}
	}
	return n
}

// track and untrack keep the open tasks in a ring linked through the
// tasks themselves: leaving it is two pointer writes, not a map delete.
func (s *Server) track(t *Task) {
	s.mu.Lock()
	t.prev, t.next = s.open.prev, &s.open
	s.open.prev.next = t
	s.open.prev = t
	s.n++
	s.mu.Unlock()
}

func (s *Server) untrack(t *Task) {
	s.mu.Lock()
	if t.next != nil {
		t.prev.next, t.next.prev = t.next, t.prev
		t.prev, t.next = nil, nil
		s.n--
	}
	s.mu.Unlock()
}
