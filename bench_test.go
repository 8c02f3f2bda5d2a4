package tasklog

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchLogger writes g3-shaped JSON to a discarding writer through zap's
// stock JSON encoder.
func benchLogger() *zap.Logger {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(EncoderConfig()), zapcore.AddSync(discard{}), zap.InfoLevel)
	return zap.New(core)
}

// handFields is what a proxy author writes without tasklog: one zap field
// per key, strings made with uuid.String, AddrPort.String, time.Format and
// FormatDuration (zap.Duration would print the wrong format).
func handFields(r *TaskLog) []zap.Field {
	d := r.Detail.(*TCPConnect)
	return []zap.Field{
		zap.String("server_type", r.ServerType.String()),
		zap.String("server_name", r.ServerName),
		zap.String("task_type", "TcpConnect"),
		zap.String("task_id", FormatTaskID(r.TaskID)),
		zap.String("task_event", r.Event.String()),
		zap.String("stage", r.Stage.String()),
		zap.String("start_at", r.StartAt.UTC().Format("2006-01-02T15:04:05.000000Z")),
		zap.String("user", r.User),
		zap.String("escaper", r.Escaper),
		zap.String("reason", r.Reason.String()),
		zap.String("wait_time", FormatDuration(r.WaitTime)),
		zap.String("ready_time", FormatDuration(r.ReadyTime)),
		zap.String("total_time", FormatDuration(r.TotalTime)),
		zap.String("server_addr", d.ServerAddr.String()),
		zap.String("client_addr", d.ClientAddr.String()),
		zap.String("upstream", d.Upstream),
		zap.String("next_bind_ip", d.NextBindIP.String()),
		zap.String("next_bound_addr", d.NextBoundAddr.String()),
		zap.String("next_peer_addr", d.NextPeerAddr.String()),
		zap.String("next_expire", d.NextExpire.UTC().Format("2006-01-02T15:04:05.000000Z")),
		zap.Int("tcp_connect_tries", d.ConnectTries),
		zap.String("tcp_connect_spend", FormatDuration(d.ConnectSpend)),
		zap.Uint64("c_rd_bytes", d.ClientReadBytes),
		zap.Uint64("c_wr_bytes", d.ClientWriteBytes),
		zap.Uint64("r_rd_bytes", d.RemoteReadBytes),
		zap.Uint64("r_wr_bytes", d.RemoteWriteBytes),
	}
}

// anyRecord is the struct a user might hand to zap.Any: zap reflects it
// through encoding/json, so durations and addresses come out in Go's forms.
type anyRecord struct {
	ServerType    string         `json:"server_type"`
	ServerName    string         `json:"server_name"`
	TaskType      string         `json:"task_type"`
	TaskID        uuid.UUID      `json:"task_id"`
	TaskEvent     string         `json:"task_event"`
	Stage         string         `json:"stage"`
	StartAt       time.Time      `json:"start_at"`
	User          string         `json:"user"`
	Escaper       string         `json:"escaper"`
	Reason        string         `json:"reason"`
	WaitTime      time.Duration  `json:"wait_time"`
	ReadyTime     time.Duration  `json:"ready_time"`
	TotalTime     time.Duration  `json:"total_time"`
	ServerAddr    netip.AddrPort `json:"server_addr"`
	ClientAddr    netip.AddrPort `json:"client_addr"`
	Upstream      string         `json:"upstream"`
	NextBindIP    netip.Addr     `json:"next_bind_ip"`
	NextBoundAddr netip.AddrPort `json:"next_bound_addr"`
	NextPeerAddr  netip.AddrPort `json:"next_peer_addr"`
	NextExpire    time.Time      `json:"next_expire"`
	ConnectTries  int            `json:"tcp_connect_tries"`
	ConnectSpend  time.Duration  `json:"tcp_connect_spend"`
	ClientRdBytes uint64         `json:"c_rd_bytes"`
	ClientWrBytes uint64         `json:"c_wr_bytes"`
	RemoteRdBytes uint64         `json:"r_rd_bytes"`
	RemoteWrBytes uint64         `json:"r_wr_bytes"`
}

func toAnyRecord(r *TaskLog) anyRecord {
	d := r.Detail.(*TCPConnect)
	return anyRecord{
		r.ServerType.String(), r.ServerName, "TcpConnect", r.TaskID, r.Event.String(), r.Stage.String(),
		r.StartAt, r.User, r.Escaper, r.Reason.String(), r.WaitTime, r.ReadyTime, r.TotalTime,
		d.ServerAddr, d.ClientAddr, d.Upstream, d.NextBindIP, d.NextBoundAddr, d.NextPeerAddr, d.NextExpire,
		d.ConnectTries, d.ConnectSpend, d.ClientReadBytes, d.ClientWriteBytes, d.RemoteReadBytes, d.RemoteWriteBytes,
	}
}

// BenchmarkTaskLog_Zap logs one finished TcpConnect record per op, side by
// side: tasklog.Field, hand-made zap fields, and zap.Any on a struct.
// Arguments are built inside the loop so their cost counts.
func BenchmarkTaskLog_Zap(b *testing.B) {
	rec := tcpConnectRecord()
	logger := benchLogger()
	fast := zap.New(zapcore.NewCore(NewEncoder(EncoderConfig()), zapcore.AddSync(discard{}), zap.InfoLevel))
	b.Run("tasklog.Field_NewEncoder", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			fast.Info(rec.Reason.Text(), Field(rec))
		}
	})
	b.Run("tasklog.Field", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), Field(rec))
		}
	})
	b.Run("hand-made_zap.Fields", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), handFields(rec)...)
		}
	})
	b.Run("zap.Any_struct", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), zap.Any("task", toAnyRecord(rec)))
		}
	})
}

// BenchmarkTaskLog_MarshalLogObject encodes one entry holding a record,
// without a logger around it, through zap's encoder and NewEncoder's.
func BenchmarkTaskLog_MarshalLogObject(b *testing.B) {
	for _, tc := range []struct {
		name string
		rec  *TaskLog
	}{{"TcpConnect", tcpConnectRecord()}, {"HttpForward", httpForwardRecord()}} {
		for _, enc := range testEncoders() {
			b.Run(tc.name+"/"+enc.name, func(b *testing.B) {
				e := enc.new()
				fields := []zapcore.Field{Field(tc.rec)}
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					buf, err := e.EncodeEntry(zapcore.Entry{Message: "m"}, fields)
					if err != nil {
						b.Fatal(err)
					}
					buf.Free()
				}
			})
		}
	}
}

func BenchmarkFormatDuration(b *testing.B) {
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendDuration(buf[:0], time.Duration(i)*1234567)
	}
}
