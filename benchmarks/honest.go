package benchmarks

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/proxylog/tasklog"
)

// The honest floor: the floor's bytes, plus exactly the checks tasklog
// must make and the floor skips: escaping and UTF-8 checks of the strings
// (msg, server_name, user, escaper, method, user_agent), the upstream's
// host:port check, the URI's escape scan, and the presence rule of every
// optional key. It writes the same line for the benchmark records.

func appendHonestTCP(b []byte, now time.Time, r *tasklog.TaskLog) []byte {
	d := r.Detail.(*tasklog.TCPConnect)
	b = honestHead(b, r)
	b = honestTCPKeys(b, d)
	return honestTail(b, now, r, "TcpConnect")
}

func appendHonestHTTP(b []byte, now time.Time, r *tasklog.TaskLog) []byte {
	d := r.Detail.(*tasklog.HTTPForward)
	b = honestHead(b, r)
	b = honestDur(b, `,"dur_rsp_recv_all":`, d.RspRecvAll)
	b = honestDur(b, `,"dur_rsp_recv_hdr":`, d.RspRecvHdr)
	b = honestDur(b, `,"dur_req_send_all":`, d.ReqSendAll)
	b = honestDur(b, `,"dur_req_send_hdr":`, d.ReqSendHdr)
	b = append(b, `,"origin_status":`...)
	b = strconv.AppendInt(b, int64(d.OriginStatus), 10)
	b = append(b, `,"rsp_status":`...)
	b = strconv.AppendInt(b, int64(d.RspStatus), 10)
	b = honestStr(b, `,"user_agent":`, d.UserAgent)
	b = append(b, `,"uri":"`...)
	start := len(b)
	b = tasklog.AppendSanitizedURI(b, d.URI, d.URIMaxChars)
	if bytes.ContainsAny(b[start:], `"\`) {
		uri := string(b[start:])
		b = tasklog.AppendJSONString(b[:start-1], uri)
	} else {
		b = append(b, '"')
	}
	b = honestStr(b, `,"method":`, d.Method)
	b = append(b, `,"reuse_connection":`...)
	b = strconv.AppendBool(b, d.ReuseConnection)
	b = honestDur(b, `,"pipeline_wait":`, d.PipelineWait)
	b = honestTCPKeys(b, &d.TCPConnect)
	return honestTail(b, now, r, "HttpForward")
}

// honestHead writes the logger keys; honestTail the shared keys, last to
// first, and report_ts and msg.
func honestHead(b []byte, r *tasklog.TaskLog) []byte {
	b = honestStr(append(b, '{'), `"server_name":`, r.ServerName)
	b = append(b, `,"server_type":"`...)
	b = append(b, r.ServerType.String()...)
	return append(b, '"')
}

func honestTail(b []byte, now time.Time, r *tasklog.TaskLog, taskType string) []byte {
	b = honestDur(b, `,"total_time":`, r.TotalTime)
	b = honestDur(b, `,"ready_time":`, r.ReadyTime)
	b = honestDur(b, `,"wait_time":`, r.WaitTime)
	b = append(b, `,"reason":"`...)
	b = append(b, r.Reason.String()...)
	b = append(b, '"')
	b = honestStr(b, `,"escaper":`, r.Escaper)
	b = honestStr(b, `,"user":`, r.User)
	b = append(b, `,"start_at":"`...)
	b = tasklog.AppendTimestamp(b, r.StartAt)
	b = append(b, `","stage":"`...)
	b = append(b, r.Stage.String()...)
	b = append(b, `","task_event":"`...)
	b = append(b, r.Event.String()...)
	b = append(b, `","task_id":"`...)
	b = tasklog.AppendTaskID(b, r.TaskID)
	b = append(b, `","task_type":"`...)
	b = append(b, taskType...)
	b = append(b, `","report_ts":`...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = honestStr(b, `,"msg":`, r.Reason.Text())
	return append(b, "}\n"...)
}

func honestTCPKeys(b []byte, d *tasklog.TCPConnect) []byte {
	b = append(b, `,"r_wr_bytes":`...)
	b = strconv.AppendUint(b, d.RemoteWriteBytes, 10)
	b = append(b, `,"r_rd_bytes":`...)
	b = strconv.AppendUint(b, d.RemoteReadBytes, 10)
	b = append(b, `,"c_wr_bytes":`...)
	b = strconv.AppendUint(b, d.ClientWriteBytes, 10)
	b = append(b, `,"c_rd_bytes":`...)
	b = strconv.AppendUint(b, d.ClientReadBytes, 10)
	b = honestDur(b, `,"tcp_connect_spend":`, d.ConnectSpend)
	b = append(b, `,"tcp_connect_tries":`...)
	b = strconv.AppendInt(b, int64(d.ConnectTries), 10)
	if !d.NextExpire.IsZero() {
		b = append(b, `,"next_expire":"`...)
		b = tasklog.AppendTimestamp(b, d.NextExpire)
		b = append(b, '"')
	}
	b = honestAddrPort(b, `,"next_peer_addr":"`, d.NextPeerAddr)
	b = honestAddrPort(b, `,"next_bound_addr":"`, d.NextBoundAddr)
	if d.NextBindIP.IsValid() {
		b = append(b, `,"next_bind_ip":"`...)
		b = d.NextBindIP.AppendTo(b)
		b = append(b, '"')
	}
	if host, _, ok := splitHostPort(d.Upstream); ok && host != "" {
		b = append(b, `,"upstream":`...)
		b = tasklog.AppendJSONString(b, d.Upstream)
	}
	b = honestAddrPort(b, `,"client_addr":"`, d.ClientAddr)
	return honestAddrPort(b, `,"server_addr":"`, d.ServerAddr)
}

// honestStr writes an optional string key, escaped and UTF-8 checked.
func honestStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return tasklog.AppendJSONString(b, v)
}

func honestDur(b []byte, key string, d time.Duration) []byte {
	if d <= 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = tasklog.AppendDuration(b, d)
	return append(b, '"')
}

func honestAddrPort(b []byte, key string, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return b
	}
	b = append(b, key...)
	b = ap.AppendTo(b)
	return append(b, '"')
}

// splitHostPort is the upstream check: host:port with a decimal port, and
// an IP host parsed (an unspecified one is no upstream).
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", false
	}
	host, port = s[:i], s[i+1:]
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", false
	}
	if strings.Trim(host, "0123456789.") == "" || strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil || a.IsUnspecified() {
			return "", "", false
		}
	}
	return host, port, true
}
