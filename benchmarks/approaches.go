package benchmarks

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The writers every approach writes to: discard the bytes.
var discard = zapcore.AddSync(io.Discard)

func tunedLogger() *zap.Logger {
	return zap.New(zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), discard, zap.InfoLevel))
}

func zapJSONLogger() *zap.Logger {
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(tasklog.EncoderConfig()), discard, zap.InfoLevel))
}

// Floor: the same line appended by hand, no logger: constant keys, values
// formatted in place with the fastest appenders there are, in g3's order
// (the logger keys, then the record's keys last to first, then report_ts
// and msg).

func appendTCPFloor(b []byte, now time.Time, r *tasklog.TaskLog) []byte {
	d := r.Detail.(*tasklog.TCPConnect)
	b = appendFloorHead(b, r)
	b = appendTCPKeys(b, d)
	b = appendShared(b, r, "TcpConnect")
	return appendFloorTail(b, now, r)
}

func appendHTTPFloor(b []byte, now time.Time, r *tasklog.TaskLog) []byte {
	d := r.Detail.(*tasklog.HTTPForward)
	b = appendFloorHead(b, r)
	for _, kv := range [...]struct {
		k string
		v time.Duration
	}{{`,"dur_rsp_recv_all":"`, d.RspRecvAll}, {`","dur_rsp_recv_hdr":"`, d.RspRecvHdr},
		{`","dur_req_send_all":"`, d.ReqSendAll}, {`","dur_req_send_hdr":"`, d.ReqSendHdr}} {
		b = append(b, kv.k...)
		b = tasklog.AppendDuration(b, kv.v)
	}
	b = append(b, `","origin_status":`...)
	b = strconv.AppendInt(b, int64(d.OriginStatus), 10)
	b = append(b, `,"rsp_status":`...)
	b = strconv.AppendInt(b, int64(d.RspStatus), 10)
	b = append(b, `,"user_agent":"`...)
	b = append(b, d.UserAgent...)
	b = append(b, `","uri":"`...)
	b = tasklog.AppendSanitizedURI(b, d.URI, d.URIMaxChars)
	b = append(b, `","method":"`...)
	b = append(b, d.Method...)
	b = append(b, `","reuse_connection":`...)
	b = strconv.AppendBool(b, d.ReuseConnection)
	b = append(b, `,"pipeline_wait":"`...)
	b = tasklog.AppendDuration(b, d.PipelineWait)
	b = append(b, '"')
	b = appendTCPKeys(b, &d.TCPConnect)
	b = appendShared(b, r, "HttpForward")
	return appendFloorTail(b, now, r)
}

func appendFloorHead(b []byte, r *tasklog.TaskLog) []byte {
	b = append(b, `{"server_name":"`...)
	b = append(b, r.ServerName...)
	b = append(b, `","server_type":"`...)
	b = append(b, r.ServerType.String()...)
	return append(b, '"')
}

func appendFloorTail(b []byte, now time.Time, r *tasklog.TaskLog) []byte {
	b = append(b, `,"report_ts":`...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, `,"msg":"`...)
	b = append(b, r.Reason.Text()...)
	return append(b, "\"}\n"...)
}

func appendShared(b []byte, r *tasklog.TaskLog, taskType string) []byte {
	b = append(b, `,"total_time":"`...)
	b = tasklog.AppendDuration(b, r.TotalTime)
	b = append(b, `","ready_time":"`...)
	b = tasklog.AppendDuration(b, r.ReadyTime)
	b = append(b, `","wait_time":"`...)
	b = tasklog.AppendDuration(b, r.WaitTime)
	b = append(b, `","reason":"`...)
	b = append(b, r.Reason.String()...)
	b = append(b, `","escaper":"`...)
	b = append(b, r.Escaper...)
	b = append(b, `","user":"`...)
	b = append(b, r.User...)
	b = append(b, `","start_at":"`...)
	b = tasklog.AppendTimestamp(b, r.StartAt)
	b = append(b, `","stage":"`...)
	b = append(b, r.Stage.String()...)
	b = append(b, `","task_event":"`...)
	b = append(b, r.Event.String()...)
	b = append(b, `","task_id":"`...)
	b = tasklog.AppendTaskID(b, r.TaskID)
	b = append(b, `","task_type":"`...)
	b = append(b, taskType...)
	return append(b, '"')
}

func appendTCPKeys(b []byte, d *tasklog.TCPConnect) []byte {
	b = append(b, `,"r_wr_bytes":`...)
	b = strconv.AppendUint(b, d.RemoteWriteBytes, 10)
	b = append(b, `,"r_rd_bytes":`...)
	b = strconv.AppendUint(b, d.RemoteReadBytes, 10)
	b = append(b, `,"c_wr_bytes":`...)
	b = strconv.AppendUint(b, d.ClientWriteBytes, 10)
	b = append(b, `,"c_rd_bytes":`...)
	b = strconv.AppendUint(b, d.ClientReadBytes, 10)
	b = append(b, `,"tcp_connect_spend":"`...)
	b = tasklog.AppendDuration(b, d.ConnectSpend)
	b = append(b, `","tcp_connect_tries":`...)
	b = strconv.AppendInt(b, int64(d.ConnectTries), 10)
	b = append(b, `,"next_expire":"`...)
	b = tasklog.AppendTimestamp(b, d.NextExpire)
	b = append(b, `","next_peer_addr":"`...)
	b = d.NextPeerAddr.AppendTo(b)
	b = append(b, `","next_bound_addr":"`...)
	b = d.NextBoundAddr.AppendTo(b)
	b = append(b, `","next_bind_ip":"`...)
	b = d.NextBindIP.AppendTo(b)
	b = append(b, `","upstream":"`...)
	b = append(b, d.Upstream...)
	b = append(b, `","client_addr":"`...)
	b = d.ClientAddr.AppendTo(b)
	b = append(b, `","server_addr":"`...)
	b = d.ServerAddr.AppendTo(b)
	return append(b, '"')
}

// Hand-made: what a proxy author writes without tasklog, one field per key
// and a string made for each formatted value.

func simpleID(id uuid.UUID) string { return hex.EncodeToString(id[:]) }

func utcMicros(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func handZapFields(r *tasklog.TaskLog) []zap.Field {
	d := tcpOf(r)
	fs := []zap.Field{
		zap.String("server_type", r.ServerType.String()), zap.String("server_name", r.ServerName),
		zap.String("task_type", r.Detail.TaskType().String()), zap.String("task_id", simpleID(r.TaskID)),
		zap.String("task_event", r.Event.String()), zap.String("stage", r.Stage.String()),
		zap.String("start_at", utcMicros(r.StartAt)), zap.String("user", r.User), zap.String("escaper", r.Escaper),
		zap.String("reason", r.Reason.String()), zap.String("wait_time", tasklog.FormatDuration(r.WaitTime)),
		zap.String("ready_time", tasklog.FormatDuration(r.ReadyTime)), zap.String("total_time", tasklog.FormatDuration(r.TotalTime)),
		zap.String("server_addr", d.ServerAddr.String()), zap.String("client_addr", d.ClientAddr.String()),
		zap.String("upstream", d.Upstream), zap.String("next_bind_ip", d.NextBindIP.String()),
		zap.String("next_bound_addr", d.NextBoundAddr.String()), zap.String("next_peer_addr", d.NextPeerAddr.String()),
		zap.String("next_expire", utcMicros(d.NextExpire)), zap.Int("tcp_connect_tries", d.ConnectTries),
		zap.String("tcp_connect_spend", tasklog.FormatDuration(d.ConnectSpend)),
		zap.Uint64("c_rd_bytes", d.ClientReadBytes), zap.Uint64("c_wr_bytes", d.ClientWriteBytes),
		zap.Uint64("r_rd_bytes", d.RemoteReadBytes), zap.Uint64("r_wr_bytes", d.RemoteWriteBytes),
	}
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		fs = append(fs, zap.String("pipeline_wait", tasklog.FormatDuration(h.PipelineWait)),
			zap.Bool("reuse_connection", h.ReuseConnection), zap.String("method", h.Method),
			zap.String("uri", tasklog.SanitizeURI(h.URI, h.URIMaxChars)), zap.String("user_agent", h.UserAgent),
			zap.Int("rsp_status", h.RspStatus), zap.Int("origin_status", h.OriginStatus),
			zap.String("dur_req_send_hdr", tasklog.FormatDuration(h.ReqSendHdr)),
			zap.String("dur_req_send_all", tasklog.FormatDuration(h.ReqSendAll)),
			zap.String("dur_rsp_recv_hdr", tasklog.FormatDuration(h.RspRecvHdr)),
			zap.String("dur_rsp_recv_all", tasklog.FormatDuration(h.RspRecvAll)))
	}
	return fs
}

func handSlogAttrs(r *tasklog.TaskLog) []slog.Attr {
	d := tcpOf(r)
	as := []slog.Attr{
		slog.String("server_type", r.ServerType.String()), slog.String("server_name", r.ServerName),
		slog.String("task_type", r.Detail.TaskType().String()), slog.String("task_id", simpleID(r.TaskID)),
		slog.String("task_event", r.Event.String()), slog.String("stage", r.Stage.String()),
		slog.String("start_at", utcMicros(r.StartAt)), slog.String("user", r.User), slog.String("escaper", r.Escaper),
		slog.String("reason", r.Reason.String()), slog.String("wait_time", tasklog.FormatDuration(r.WaitTime)),
		slog.String("ready_time", tasklog.FormatDuration(r.ReadyTime)), slog.String("total_time", tasklog.FormatDuration(r.TotalTime)),
		slog.String("server_addr", d.ServerAddr.String()), slog.String("client_addr", d.ClientAddr.String()),
		slog.String("upstream", d.Upstream), slog.String("next_bind_ip", d.NextBindIP.String()),
		slog.String("next_bound_addr", d.NextBoundAddr.String()), slog.String("next_peer_addr", d.NextPeerAddr.String()),
		slog.String("next_expire", utcMicros(d.NextExpire)), slog.Int("tcp_connect_tries", d.ConnectTries),
		slog.String("tcp_connect_spend", tasklog.FormatDuration(d.ConnectSpend)),
		slog.Uint64("c_rd_bytes", d.ClientReadBytes), slog.Uint64("c_wr_bytes", d.ClientWriteBytes),
		slog.Uint64("r_rd_bytes", d.RemoteReadBytes), slog.Uint64("r_wr_bytes", d.RemoteWriteBytes),
	}
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		as = append(as, slog.String("pipeline_wait", tasklog.FormatDuration(h.PipelineWait)),
			slog.Bool("reuse_connection", h.ReuseConnection), slog.String("method", h.Method),
			slog.String("uri", tasklog.SanitizeURI(h.URI, h.URIMaxChars)), slog.String("user_agent", h.UserAgent),
			slog.Int("rsp_status", h.RspStatus), slog.Int("origin_status", h.OriginStatus),
			slog.String("dur_req_send_hdr", tasklog.FormatDuration(h.ReqSendHdr)),
			slog.String("dur_req_send_all", tasklog.FormatDuration(h.ReqSendAll)),
			slog.String("dur_rsp_recv_hdr", tasklog.FormatDuration(h.RspRecvHdr)),
			slog.String("dur_rsp_recv_all", tasklog.FormatDuration(h.RspRecvAll)))
	}
	return as
}

func handZerolog(l *zerolog.Logger, r *tasklog.TaskLog) {
	d := tcpOf(r)
	e := l.Info().
		Str("server_type", r.ServerType.String()).Str("server_name", r.ServerName).
		Str("task_type", r.Detail.TaskType().String()).Str("task_id", simpleID(r.TaskID)).
		Str("task_event", r.Event.String()).Str("stage", r.Stage.String()).
		Str("start_at", utcMicros(r.StartAt)).Str("user", r.User).Str("escaper", r.Escaper).
		Str("reason", r.Reason.String()).Str("wait_time", tasklog.FormatDuration(r.WaitTime)).
		Str("ready_time", tasklog.FormatDuration(r.ReadyTime)).Str("total_time", tasklog.FormatDuration(r.TotalTime)).
		Str("server_addr", d.ServerAddr.String()).Str("client_addr", d.ClientAddr.String()).
		Str("upstream", d.Upstream).Str("next_bind_ip", d.NextBindIP.String()).
		Str("next_bound_addr", d.NextBoundAddr.String()).Str("next_peer_addr", d.NextPeerAddr.String()).
		Str("next_expire", utcMicros(d.NextExpire)).Int("tcp_connect_tries", d.ConnectTries).
		Str("tcp_connect_spend", tasklog.FormatDuration(d.ConnectSpend)).
		Uint64("c_rd_bytes", d.ClientReadBytes).Uint64("c_wr_bytes", d.ClientWriteBytes).
		Uint64("r_rd_bytes", d.RemoteReadBytes).Uint64("r_wr_bytes", d.RemoteWriteBytes)
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		e = e.Str("pipeline_wait", tasklog.FormatDuration(h.PipelineWait)).
			Bool("reuse_connection", h.ReuseConnection).Str("method", h.Method).
			Str("uri", tasklog.SanitizeURI(h.URI, h.URIMaxChars)).Str("user_agent", h.UserAgent).
			Int("rsp_status", h.RspStatus).Int("origin_status", h.OriginStatus).
			Str("dur_req_send_hdr", tasklog.FormatDuration(h.ReqSendHdr)).
			Str("dur_req_send_all", tasklog.FormatDuration(h.ReqSendAll)).
			Str("dur_rsp_recv_hdr", tasklog.FormatDuration(h.RspRecvHdr)).
			Str("dur_rsp_recv_all", tasklog.FormatDuration(h.RspRecvAll))
	}
	e.Msg(r.Reason.Text())
}

func tcpOf(r *tasklog.TaskLog) *tasklog.TCPConnect {
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		return &h.TCPConnect
	}
	return r.Detail.(*tasklog.TCPConnect)
}

// anyRecord is the struct a user might hand to zap.Any: zap reflects it
// through encoding/json, in Go's formats rather than g3's.
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
	// HttpForward keys, left out for a TcpConnect record.
	PipelineWait    time.Duration `json:"pipeline_wait,omitempty"`
	ReuseConnection bool          `json:"reuse_connection,omitempty"`
	Method          string        `json:"method,omitempty"`
	URI             string        `json:"uri,omitempty"`
	UserAgent       string        `json:"user_agent,omitempty"`
	RspStatus       int           `json:"rsp_status,omitempty"`
	OriginStatus    int           `json:"origin_status,omitempty"`
	ReqSendHdr      time.Duration `json:"dur_req_send_hdr,omitempty"`
	ReqSendAll      time.Duration `json:"dur_req_send_all,omitempty"`
	RspRecvHdr      time.Duration `json:"dur_rsp_recv_hdr,omitempty"`
	RspRecvAll      time.Duration `json:"dur_rsp_recv_all,omitempty"`
}

func toAny(r *tasklog.TaskLog) anyRecord {
	d := tcpOf(r)
	a := anyRecord{
		r.ServerType.String(), r.ServerName, r.Detail.TaskType().String(), r.TaskID, r.Event.String(), r.Stage.String(),
		r.StartAt, r.User, r.Escaper, r.Reason.String(), r.WaitTime, r.ReadyTime, r.TotalTime,
		d.ServerAddr, d.ClientAddr, d.Upstream, d.NextBindIP, d.NextBoundAddr, d.NextPeerAddr, d.NextExpire,
		d.ConnectTries, d.ConnectSpend, d.ClientReadBytes, d.ClientWriteBytes, d.RemoteReadBytes, d.RemoteWriteBytes,
		0, false, "", "", "", 0, 0, 0, 0, 0, 0,
	}
	if h, ok := r.Detail.(*tasklog.HTTPForward); ok {
		a.PipelineWait, a.ReuseConnection, a.Method = h.PipelineWait, h.ReuseConnection, h.Method
		a.URI, a.UserAgent = tasklog.SanitizeURI(h.URI, h.URIMaxChars), h.UserAgent
		a.RspStatus, a.OriginStatus = h.RspStatus, h.OriginStatus
		a.ReqSendHdr, a.ReqSendAll, a.RspRecvHdr, a.RspRecvAll = h.ReqSendHdr, h.ReqSendAll, h.RspRecvHdr, h.RspRecvAll
	}
	return a
}

var background = context.Background()
