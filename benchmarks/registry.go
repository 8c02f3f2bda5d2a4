package benchmarks

import (
	"io"
	"log/slog"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// An Approach is one way of writing a finished task record. Make returns
// its setup (untimed: work such as creating tasks that the timed part then
// uses) and its run, which writes n records to w, taking the entry time
// from clock.
type Approach struct {
	Name string
	// SameBytes: it writes tasklog's exact line (a test checks it);
	// otherwise Differs says how its output differs.
	SameBytes bool
	Differs   string
	Make      func(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (setup, run func(n int))
	// Setup: its setup allocates (tasks to finish); the harness collects
	// that garbage before timing, so that it is not charged to the run.
	Setup bool
}

// Family is a record every approach of a table writes.
type Family struct {
	Name       string
	Record     func() *tasklog.TaskLog
	Floor      func([]byte, time.Time, *tasklog.TaskLog) []byte
	Honest     func([]byte, time.Time, *tasklog.TaskLog) []byte
	Approaches []Approach
}

// RealClock is zap's system clock.
var RealClock zapcore.Clock = zapcore.DefaultClock

func noSetup(int) {}

// Families are the two tables of the README: a TcpConnect and an
// HttpForward finished record, through every approach.
func Families() []Family {
	return []Family{
		{Name: "TcpConnect", Record: tcpRecord, Floor: appendTCPFloor, Honest: appendHonestTCP},
		{Name: "HttpForward", Record: httpRecord, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
	}
}

// ScalingFamilies are records that grow: long, non-ASCII and quoted
// values, IPv6 everywhere. Only the floors and tasklog run them.
func ScalingFamilies() []Family {
	return []Family{
		{Name: "HttpForward plain", Record: httpRecord, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
		{Name: "long values (1 KB URI, 512 B agent)", Record: longRecord, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
		{Name: "non-ASCII user and agent", Record: nonASCIIRecord, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
		{Name: "quotes in user, agent and URI", Record: quotedRecord, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
		{Name: "IPv6 everywhere", Record: ipv6Record, Floor: appendHTTPFloor, Honest: appendHonestHTTP},
	}
}

// zapOrder is how zap's JSON encoder differs from tasklog's line: the same
// keys and values, but report_ts and msg first and the rest in the order
// given, where g3 (and NewEncoder) write the logger keys first, the
// record's last to first and msg last.
const zapOrder = "zap's key order: report_ts and msg first, the record's keys in source order"

// Approaches returns the approaches of a family, the floor first.
func (f Family) All() []Approach {
	as := []Approach{
		{Name: "1. floor: byte append, no checks", SameBytes: true, Make: byteAppender(f.Floor)},
		{Name: "2. honest floor: byte append with tasklog's checks", SameBytes: true, Make: byteAppender(f.Honest)},
		{Name: "3. tasklog.Log, NewCore", SameBytes: true, Make: logNewCore},
		{Name: "4. Field, NewEncoder in zapcore.NewCore", SameBytes: true, Make: fieldLogger(tunedCore)},
		{Name: "5. Task.Finish, NewCore", Differs: "its own task's id and times", Make: taskFinish, Setup: true},
		{Name: "6. Field, zap's JSON encoder", Differs: zapOrder, Make: fieldLogger(zapJSONCore)},
		{Name: "7. hand-made zap fields", Differs: zapOrder, Make: handZap},
		{Name: "8. zap.Any struct", Differs: "Go's formats: nanosecond durations, RFC 3339 nano times, dashed uuid; the record nested under \"task\"", Make: zapAny},
		{Name: "9. slog JSON, slog.Any(\"\", rec)", Differs: "slog's \"time\" (RFC 3339) and \"level\" keys, counters as numbers alike", Make: slogAny},
		{Name: "10. slog JSON, hand-made attrs", Differs: "as 9", Make: slogHand},
		{Name: "11. zerolog lean (Append* into a stack buffer)", SameBytes: true, Make: zerologLean},
		{Name: "12. zerolog naive (a string per value)", Differs: "zerolog's \"level\" and RFC 3339 \"time\", \"message\" last", Make: zerologNaive},
	}
	return as
}

// Scaling returns the approaches of the scaling table.
func (f Family) Scaling() []Approach {
	all := f.All()
	return []Approach{all[0], all[1], all[2]}
}

func byteAppender(appendLine func([]byte, time.Time, *tasklog.TaskLog) []byte) func(*tasklog.TaskLog, io.Writer, zapcore.Clock) (func(int), func(int)) {
	return func(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
		buf := make([]byte, 0, 4096)
		return noSetup, func(n int) {
			for i := 0; i < n; i++ {
				buf = appendLine(buf[:0], clock.Now(), rec)
				w.Write(buf)
			}
		}
	}
}

func tunedCore(w io.Writer) zapcore.Core {
	return zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(w), zap.InfoLevel)
}

func zapJSONCore(w io.Writer) zapcore.Core {
	return zapcore.NewCore(zapcore.NewJSONEncoder(tasklog.EncoderConfig()), zapcore.AddSync(w), zap.InfoLevel)
}

func logNewCore(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
	l := zap.New(tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(w), zap.InfoLevel), zap.WithClock(clock))
	msg := rec.Reason.Text()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			tasklog.Log(l, zap.InfoLevel, msg, rec)
		}
	}
}

func fieldLogger(core func(io.Writer) zapcore.Core) func(*tasklog.TaskLog, io.Writer, zapcore.Clock) (func(int), func(int)) {
	return func(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
		l := zap.New(core(w), zap.WithClock(clock))
		msg := rec.Reason.Text()
		return noSetup, func(n int) {
			for i := 0; i < n; i++ {
				if ce := l.Check(zap.InfoLevel, msg); ce != nil {
					ce.Write(tasklog.Field(rec))
				}
			}
		}
	}
}

func taskFinish(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
	l := zap.New(tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(w), zap.InfoLevel), zap.WithClock(clock))
	srv := tasklog.NewServer(rec.ServerType, rec.ServerName, l)
	var tasks []*tasklog.Task
	return func(n int) {
			tasks = tasks[:0]
			for i := 0; i < n; i++ {
				tasks = append(tasks, newFinishedShape(srv, rec))
			}
		}, func(n int) {
			for _, t := range tasks[:n] {
				t.Finish(rec.Reason, nil)
			}
		}
}

func handZap(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
	l := zap.New(zapJSONCore(w), zap.WithClock(clock))
	msg := rec.Reason.Text()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			l.Info(msg, handZapFields(rec)...)
		}
	}
}

func zapAny(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
	l := zap.New(zapJSONCore(w), zap.WithClock(clock))
	msg := rec.Reason.Text()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			l.Info(msg, zap.Any("task", toAny(rec)))
		}
	}
}

func slogAny(rec *tasklog.TaskLog, w io.Writer, _ zapcore.Clock) (func(int), func(int)) {
	l := slog.New(slog.NewJSONHandler(w, nil))
	msg := rec.Reason.Text()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			l.Info(msg, slog.Any("", rec))
		}
	}
}

func slogHand(rec *tasklog.TaskLog, w io.Writer, _ zapcore.Clock) (func(int), func(int)) {
	l := slog.New(slog.NewJSONHandler(w, nil))
	msg := rec.Reason.Text()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			l.LogAttrs(background, slog.LevelInfo, msg, handSlogAttrs(rec)...)
		}
	}
}

func zerologNaive(rec *tasklog.TaskLog, w io.Writer, _ zapcore.Clock) (func(int), func(int)) {
	l := zerolog.New(w).With().Timestamp().Logger()
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			handZerolog(&l, rec)
		}
	}
}

func zerologLean(rec *tasklog.TaskLog, w io.Writer, clock zapcore.Clock) (func(int), func(int)) {
	l := zerolog.New(w)
	return noSetup, func(n int) {
		for i := 0; i < n; i++ {
			leanZerolog(&l, clock.Now(), rec)
		}
	}
}

// leanZerolog writes tasklog's exact line with zerolog as a competent
// user would: no level or time of zerolog's own, the keys in g3's order
// (the logger keys, the record's last to first, report_ts and msg) as
// fields, tasklog's Append* helpers into a stack buffer for the formatted
// values, Hex for the task id. No allocation.
func leanZerolog(l *zerolog.Logger, now time.Time, r *tasklog.TaskLog) {
	var buf [1200]byte
	d := tcpOf(r)
	e := l.Log().Str("server_name", r.ServerName).Str("server_type", r.ServerType.String())
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		e = e.Bytes("dur_rsp_recv_all", tasklog.AppendDuration(buf[:0], h.RspRecvAll)).
			Bytes("dur_rsp_recv_hdr", tasklog.AppendDuration(buf[:0], h.RspRecvHdr)).
			Bytes("dur_req_send_all", tasklog.AppendDuration(buf[:0], h.ReqSendAll)).
			Bytes("dur_req_send_hdr", tasklog.AppendDuration(buf[:0], h.ReqSendHdr)).
			Int("origin_status", h.OriginStatus).Int("rsp_status", h.RspStatus).
			Str("user_agent", h.UserAgent).Bytes("uri", tasklog.AppendSanitizedURI(buf[:0], h.URI, h.URIMaxChars)).
			Str("method", h.Method).Bool("reuse_connection", h.ReuseConnection).
			Bytes("pipeline_wait", tasklog.AppendDuration(buf[:0], h.PipelineWait))
	}
	e.Uint64("r_wr_bytes", d.RemoteWriteBytes).Uint64("r_rd_bytes", d.RemoteReadBytes).
		Uint64("c_wr_bytes", d.ClientWriteBytes).Uint64("c_rd_bytes", d.ClientReadBytes).
		Bytes("tcp_connect_spend", tasklog.AppendDuration(buf[:0], d.ConnectSpend)).Int("tcp_connect_tries", d.ConnectTries).
		Bytes("next_expire", tasklog.AppendTimestamp(buf[:0], d.NextExpire)).
		Bytes("next_peer_addr", d.NextPeerAddr.AppendTo(buf[:0])).Bytes("next_bound_addr", d.NextBoundAddr.AppendTo(buf[:0])).
		Bytes("next_bind_ip", d.NextBindIP.AppendTo(buf[:0])).Str("upstream", d.Upstream).
		Bytes("client_addr", d.ClientAddr.AppendTo(buf[:0])).Bytes("server_addr", d.ServerAddr.AppendTo(buf[:0])).
		Bytes("total_time", tasklog.AppendDuration(buf[:0], r.TotalTime)).
		Bytes("ready_time", tasklog.AppendDuration(buf[:0], r.ReadyTime)).
		Bytes("wait_time", tasklog.AppendDuration(buf[:0], r.WaitTime)).
		Str("reason", r.Reason.String()).Str("escaper", r.Escaper).Str("user", r.User).
		Bytes("start_at", tasklog.AppendTimestamp(buf[:0], r.StartAt)).
		Str("stage", r.Stage.String()).Str("task_event", r.Event.String()).
		Hex("task_id", r.TaskID[:]).Str("task_type", r.Detail.TaskType().String()).
		Int64("report_ts", now.Unix()).Str("msg", r.Reason.Text()).Send()
}

// newFinishedShape starts a task that will finish as rec: same keys.
func newFinishedShape(srv *tasklog.Server, rec *tasklog.TaskLog) *tasklog.Task {
	var d tasklog.Detail
	switch src := rec.Detail.(type) {
	case *tasklog.TCPConnect:
		c := *src
		d = &c
	case *tasklog.HTTPForward:
		c := *src
		d = &c
	}
	t := srv.NewTask(time.Now().Add(-rec.WaitTime), rec.User, d)
	t.SetEscaper(rec.Escaper)
	t.Relaying()
	t.Counters.ClientReadBytes.Add(517)
	t.Counters.ClientWriteBytes.Add(4810)
	return t
}
