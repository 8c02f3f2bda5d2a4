package driver

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/google/uuid"

	"github.com/proxylog/tasklog"
)

// The straight-line writer of the syslog text formats and the journal.
// The commonest entry, one finished TcpConnect or HttpForward record and
// nothing else, goes from the record to RFC 3164 text, RFC 5424
// structured data or the journal's fields in one pass, without
// NewEncoder's JSON line (or the collected pairs) between them, which
// cost as much again. It writes what the other path writes, key for key
// and byte for byte, in g3's order: the record's logger keys, the
// context's (rendered once, by the line path, in with), the record's
// other keys last to first. It takes exactly the records NewEncoder's own
// straight-line writer takes (tasklog's fast.go, whose checks and order
// taskText repeats) and returns false for any other, having written
// nothing that counts. TestTaskTextMatchesLine and FuzzTaskTextMatchesLine
// hold it to the other path, byte for byte.

// directOff turns the straight-line writer off, for its differential test.
var directOff bool

// taskText is one formatter's straight-line writer: the context already
// rendered, and how values are written.
type taskText struct {
	ctx        []byte // the context's keys as the line path renders them
	ctxPairs   []pair // pairs: the context's pairs, each value its own string
	sd, strict bool   // RFC 5424 structured data; RFC5424Strict
	journal    bool   // the journal's fields (KEY=value lines)
	pairs      bool   // a kvEncoder's pairs, for stdout's sort (see collect)
	on         bool   // the context rendered (the zero taskText is off)
}

// taskWriter is one record's writing: the writer, and the pooled
// kvEncoder whose scratch (and, collecting pairs, whose pairs and arena)
// it uses.
type taskWriter struct {
	*taskText
	e *kvEncoder
}

// task is a record the straight-line writer takes (see taskText.entry):
// the record, its TCP keys and its HTTP ones (nil for a TcpConnect), and
// its upstream when that is an address (written in canonical form).
type task struct {
	r    *tasklog.TaskLog
	tcp  *tasklog.TCPConnect
	http *tasklog.HTTPForward
	up   netip.AddrPort
}

// write appends the record's keys to b (see append), with a pooled
// kvEncoder's scratch.
func (t *taskText) write(b []byte, tk task) []byte {
	w := taskWriter{t, getKV()}
	b = w.append(b, tk)
	putKV(w.e)
	return b
}

// collect puts the record's keys into e as pairsFromLine would (each value
// the text stdout prints, in e's arena) and seals e.
func (t *taskText) collect(e *kvEncoder, tk task) {
	w := taskWriter{t, e}
	e.arena = w.append(e.arena[:0], tk)
	end := len(e.arena)
	for i := len(e.pairs) - 1; i >= 0; i-- {
		if p := &e.pairs[i]; p.off >= 0 {
			p.n, end = uint64(end-int(p.off)), int(p.off)
		}
	}
	e.seal()
	e.valid = true // str wrote each string valid; the context's come from the line
}

// newTaskText renders the context of l (the syslog formatter's line path)
// once.
func newTaskText(l fastLines, sd, strict bool) taskText {
	line, ok := contextLine(l)
	if !ok {
		return taskText{}
	}
	var scratch []byte
	ctx, ok := appendLineKVs(nil, line, &scratch, sd, strict)
	if !ok {
		return taskText{}
	}
	return taskText{ctx: ctx, sd: sd, strict: strict, on: true}
}

// newJournalText renders the context of l (the journal formatter's line
// path) once, as the journal's fields.
func newJournalText(l fastLines) taskText {
	e, ok := contextPairs(l)
	if !ok {
		return taskText{}
	}
	defer putKV(e)
	return taskText{ctx: appendJournalPairs(nil, e), journal: true, on: true}
}

// newPairsText collects the context of l (stdout's line path) once, as
// pairs whose values are their own strings.
func newPairsText(l fastLines) taskText {
	e, ok := contextPairs(l)
	if !ok {
		return taskText{}
	}
	defer putKV(e)
	ctx := make([]pair, len(e.pairs))
	for i, p := range e.pairs {
		ctx[i] = pair{key: strings.Clone(p.key), kind: kindStr, s: strings.Clone(p.s), off: -1}
	}
	return taskText{ctxPairs: ctx, pairs: true, on: true}
}

// contextPairs returns a pooled kvEncoder (putKV it) with the pairs of
// the context of l, as pairsFromLine reads them.
func contextPairs(l fastLines) (*kvEncoder, bool) {
	line, ok := contextLine(l)
	if !ok {
		return nil, false
	}
	e := getKV()
	if !pairsFromLine(e, line) {
		putKV(e)
		return nil, false
	}
	return e, true
}

// contextLine is NewEncoder's line of the context of l alone.
func contextLine(l fastLines) ([]byte, bool) {
	if l.off {
		return nil, false
	}
	line, err := l.encoder().AppendEntry(nil, zapcore.Entry{}, nil)
	return line, err == nil
}

// entry returns the entry's task record when it is the entry's only field
// and the straight-line writer takes it.
func (t *taskText) entry(fields []zapcore.Field) (task, bool) {
	if !t.on || directOff || fastLinesOff || len(fields) != 1 || fields[0].Type != zapcore.InlineMarshalerType {
		return task{}, false
	}
	r, ok := fields[0].Interface.(*tasklog.TaskLog)
	if !ok || r == nil {
		return task{}, false
	}
	return takesTask(r)
}

// takesTask reports whether NewEncoder's straight-line writer takes r
// (tasklog's fastCheck, condition for condition, and its upstream check):
// a finished TcpConnect or HttpForward whose every value the generic walk
// would write as it is. The conditions are repeated here because tasklog
// exports no such check (it would be API for an internal matter); were
// they to drift apart, a record one side takes and the other does not
// comes out in other bytes, which TestTaskTextMatchesLine and
// FuzzTaskTextMatchesLine catch.
func takesTask(r *tasklog.TaskLog) (task, bool) {
	if r.Event != 0 && r.Event != tasklog.EventFinished {
		return task{}, false
	}
	var tcp *tasklog.TCPConnect
	var http *tasklog.HTTPForward
	switch d := r.Detail.(type) {
	case *tasklog.TCPConnect:
		tcp = d
	case *tasklog.HTTPForward:
		if d == nil {
			return task{}, false
		}
		http, tcp = d, &d.TCPConnect
	default:
		return task{}, false
	}
	if tcp == nil || !r.ServerType.IsValid() || r.ServerName == "" || r.TaskID == uuid.Nil ||
		!r.Stage.IsValid() || r.StartAt.IsZero() || !r.Reason.IsValid() || r.TotalTime <= 0 ||
		r.WaitTime < 0 || r.ReadyTime < 0 || !plainAddrPort(tcp.ServerAddr) || !plainAddrPort(tcp.ClientAddr) ||
		tcp.ConnectTries < 0 || tcp.ConnectSpend < 0 || tcp.NextBindIP.Zone() != "" ||
		tcp.NextBoundAddr.Addr().Zone() != "" || tcp.NextPeerAddr.Addr().Zone() != "" {
		return task{}, false
	}
	if http != nil && (http.Method == "" || http.URI == "" || http.PipelineWait < 0 || !plainStatus(http.RspStatus) ||
		!plainStatus(http.OriginStatus) || http.ReqSendHdr < 0 || http.ReqSendAll < 0 || http.RspRecvHdr < 0 || http.RspRecvAll < 0) {
		return task{}, false
	}
	up, ok := plainUpstream(tcp.Upstream)
	if !ok {
		return task{}, false
	}
	return task{r: r, tcp: tcp, http: http, up: up}, true
}

func plainAddrPort(ap netip.AddrPort) bool { return ap.IsValid() && ap.Addr().Zone() == "" }

func plainStatus(v int) bool { return v == 0 || (v >= 100 && v <= 999) }

// plainUpstream reports whether the straight-line writer takes the
// upstream u: empty (left out), a domain of plain characters with a
// canonical non-zero port (written as it is; the zero AddrPort is
// returned for both), or an IPv4 or bracketed IPv6 address with such a
// port, returned to be written in canonical form (left out when
// unspecified). Any other form only the generic walk writes.
func plainUpstream(u string) (netip.AddrPort, bool) {
	if u == "" {
		return netip.AddrPort{}, true
	}
	i := len(u) - 1
	for i >= 0 && u[i] >= '0' && u[i] <= '9' {
		i--
	}
	if i <= 0 || u[i] != ':' || i == len(u)-1 || u[i+1] == '0' || len(u)-1-i > 5 {
		return netip.AddrPort{}, false
	}
	port, _ := strconv.Atoi(u[i+1:])
	if port > 65535 {
		return netip.AddrPort{}, false
	}
	host := u[:i]
	bracketed := host[0] == '['
	if bracketed {
		if host[len(host)-1] != ']' {
			return netip.AddrPort{}, false
		}
		host = host[1 : len(host)-1]
	} else {
		domain := false
		for j := 0; j < len(host); j++ {
			switch c := host[j]; {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
				domain = true
			case c >= '0' && c <= '9', c == '.':
			default:
				return netip.AddrPort{}, false // ':', escapes, non-ASCII
			}
		}
		if domain {
			return netip.AddrPort{}, true // written as it is
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || (bracketed && !a.Is6()) {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(port)), true
}

// append writes the record's keys (see taskText), the message and report
// time being the caller's.
func (t *taskWriter) append(b []byte, tk task) []byte {
	r, tcp, http := tk.r, tk.tcp, tk.http
	b = t.str(b, "server_name", r.ServerName)
	b = t.word(b, "server_type", r.ServerType.String())
	if t.pairs {
		t.e.pairs = append(t.e.pairs, t.ctxPairs...)
	} else {
		b = append(b, t.ctx...)
	}
	if http != nil {
		b = t.dur(b, "dur_rsp_recv_all", http.RspRecvAll)
		b = t.dur(b, "dur_rsp_recv_hdr", http.RspRecvHdr)
		b = t.dur(b, "dur_req_send_all", http.ReqSendAll)
		b = t.dur(b, "dur_req_send_hdr", http.ReqSendHdr)
		b = t.int(b, "origin_status", int64(http.OriginStatus))
		b = t.int(b, "rsp_status", int64(http.RspStatus))
		if http.UserAgent != "" {
			b = t.str(b, "user_agent", http.UserAgent)
		}
		t.e.scratch = tasklog.AppendSanitizedURI(t.e.scratch[:0], http.URI, http.URIMaxChars)
		b = t.str(b, "uri", bytesView(t.e.scratch))
		b = t.str(b, "method", http.Method)
		b = t.literal(t.key(b, "reuse_connection"), strconv.FormatBool(http.ReuseConnection))
		b = t.dur(b, "pipeline_wait", http.PipelineWait)
	}
	b = t.uint(b, "r_wr_bytes", tcp.RemoteWriteBytes)
	b = t.uint(b, "r_rd_bytes", tcp.RemoteReadBytes)
	b = t.uint(b, "c_wr_bytes", tcp.ClientWriteBytes)
	b = t.uint(b, "c_rd_bytes", tcp.ClientReadBytes)
	b = t.dur(b, "tcp_connect_spend", tcp.ConnectSpend)
	b = t.int(b, "tcp_connect_tries", int64(tcp.ConnectTries))
	if !tcp.NextExpire.IsZero() {
		b = t.open(t.key(b, "next_expire"))
		b = t.close(tasklog.AppendTimestamp(b, tcp.NextExpire))
	}
	b = t.addrPort(b, "next_peer_addr", tcp.NextPeerAddr)
	b = t.addrPort(b, "next_bound_addr", tcp.NextBoundAddr)
	if tcp.NextBindIP.IsValid() {
		b = t.open(t.key(b, "next_bind_ip"))
		b = t.close(tcp.NextBindIP.AppendTo(b))
	}
	if tk.up.IsValid() {
		if !tk.up.Addr().IsUnspecified() {
			b = t.addrPort(b, "upstream", tk.up)
		}
	} else if tcp.Upstream != "" {
		b = t.word(b, "upstream", tcp.Upstream)
	}
	b = t.addrPort(b, "client_addr", tcp.ClientAddr)
	b = t.addrPort(b, "server_addr", tcp.ServerAddr)
	b = t.dur(b, "total_time", r.TotalTime)
	b = t.dur(b, "ready_time", r.ReadyTime)
	b = t.dur(b, "wait_time", r.WaitTime)
	b = t.word(b, "reason", r.Reason.String())
	b = t.str(b, "escaper", r.Escaper)
	if r.User != "" {
		b = t.str(b, "user", r.User)
	}
	b = t.open(t.key(b, "start_at"))
	b = t.close(tasklog.AppendTimestamp(b, r.StartAt))
	b = t.word(b, "stage", r.Stage.String())
	b = t.word(b, "task_event", "Finished")
	b = t.open(t.key(b, "task_id"))
	b = t.close(tasklog.AppendTaskID(b, r.TaskID))
	if http != nil {
		return t.word(b, "task_type", "HttpForward")
	}
	return t.word(b, "task_type", "TcpConnect")
}

// key writes what comes before a value: ", key=" in text, " key=" in
// structured data, "KEY=" in the journal's fields (the journal's name of
// each of the writer's keys is the key upper-cased).
func (t *taskWriter) key(b []byte, k string) []byte {
	switch {
	case t.pairs:
		t.e.pairs = append(t.e.pairs, pair{key: k, kind: kindStr, off: int32(len(b))})
		return b
	case t.journal:
		return append(appendUpper(b, k), '=')
	case t.sd:
		b = append(b, ' ')
	default:
		b = append(b, ',', ' ')
	}
	b = append(b, k...)
	return append(b, '=')
}

// appendUpper appends k with its ASCII letters upper-cased.
func appendUpper(b []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// open and close enclose a value that is a string in the line: quotes,
// or in the journal nothing and the field's end, collecting pairs
// nothing.
func (t *taskWriter) open(b []byte) []byte {
	if t.journal || t.pairs {
		return b
	}
	return append(b, '"')
}

func (t *taskWriter) close(b []byte) []byte {
	switch {
	case t.journal:
		return append(b, '\n')
	case t.pairs:
		return b
	}
	return append(b, '"')
}

// literal writes a number or bool: as it is in text and the journal,
// quoted in structured data.
func (t *taskWriter) literal(b []byte, v string) []byte {
	switch {
	case t.sd:
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	case t.journal:
		b = append(b, v...)
		return append(b, '\n')
	}
	return append(b, v...)
}

// uint and int write a number as literal does.
func (t *taskWriter) uint(b []byte, k string, v uint64) []byte {
	b = t.key(b, k)
	if t.sd {
		return append(strconv.AppendUint(append(b, '"'), v, 10), '"')
	}
	return t.end(strconv.AppendUint(b, v, 10))
}

func (t *taskWriter) int(b []byte, k string, v int64) []byte {
	b = t.key(b, k)
	if t.sd {
		return append(strconv.AppendInt(append(b, '"'), v, 10), '"')
	}
	return t.end(strconv.AppendInt(b, v, 10))
}

// end ends a field: a newline in the journal, nothing in text.
func (t *taskWriter) end(b []byte) []byte {
	if t.journal {
		return append(b, '\n')
	}
	return b
}

// str writes a string value, escaped as the line path escapes it; in the
// journal as it is, each byte that is not valid UTF-8 as U+FFFD, in the
// binary-safe form when it holds a newline.
func (t *taskWriter) str(b []byte, k, v string) []byte {
	switch {
	case t.journal:
		return appendJournalValue(appendUpper(b, k), v, true)
	case t.pairs:
		return appendValidUTF8(t.key(b, k), v)
	}
	b = append(t.key(b, k), '"')
	if t.strict {
		b = appendSDValue(b, v)
	} else {
		b = appendEscapeDebug(b, v, t.sd)
	}
	return append(b, '"')
}

// word writes a value that needs no escape (an enum's word, a plain
// upstream).
func (t *taskWriter) word(b []byte, k, v string) []byte {
	b = t.open(t.key(b, k))
	b = append(b, v...)
	return t.close(b)
}

func (t *taskWriter) dur(b []byte, k string, d time.Duration) []byte {
	if d == 0 {
		return b
	}
	b = t.open(t.key(b, k))
	return t.close(tasklog.AppendDuration(b, d))
}

// addrPort writes an address and port; an IPv6 one's ']' is escaped in
// structured data.
func (t *taskWriter) addrPort(b []byte, k string, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return b
	}
	b = t.open(t.key(b, k))
	if !t.sd || ap.Addr().Is4() {
		return t.close(ap.AppendTo(b))
	}
	b = ap.Addr().AppendTo(append(b, '['))
	b = append(b, '\\', ']', ':')
	return t.close(strconv.AppendUint(b, uint64(ap.Port()), 10))
}
