package driver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"go.uber.org/zap/zapcore"
)

// Facility is a syslog facility (RFC 5424, 6.2.1).
type Facility uint8

// The syslog facilities g3 knows.
const (
	FacilityKern     Facility = 0
	FacilityUser     Facility = 1
	FacilityDaemon   Facility = 3 // g3's default
	FacilityAuth     Facility = 4
	FacilitySyslog   Facility = 5
	FacilityAuthPriv Facility = 10
	FacilityLocal0   Facility = 16
	FacilityLocal7   Facility = 23
)

// DefaultSyslogPath is the unix datagram socket of the local syslog
// daemon, g3's default target.
const DefaultSyslogPath = "/dev/log"

// DefaultReconnectInterval is how long a syslog driver waits after a
// failure before it connects again, g3's hard-coded 4 seconds; what is
// logged meanwhile is dropped and counted as DropPeerUnreachable.
const DefaultReconnectInterval = 4 * time.Second

// SyslogConfig configures [NewSyslog]. The zero value sends g3's RFC 3164
// text lines to /dev/log with facility daemon.
type SyslogConfig struct {
	// Ident is the program name in the header. g3proxy's is "g3proxy";
	// default: the name of this program.
	Ident string
	// UnixPath is the daemon's unix datagram socket (g3's target_unix);
	// default /dev/log. UDPAddr, when set, sends to that host:port
	// instead (target_udp).
	UnixPath string
	UDPAddr  string
	// BindIP is the source address of UDP datagrams (g3's bind_ip);
	// unset lets the kernel choose.
	BindIP netip.Addr
	// Facility; default daemon, as g3's configuration parser sets it.
	Facility *Facility
	// RFC5424 selects the RFC 5424 header and structured data body
	// (format_rfc5424); EnterpriseID and MessageID are its settings.
	RFC5424      bool
	EnterpriseID int32
	MessageID    string
	// RFC5424Strict (YAML rfc5424_strict: true) makes the RFC 5424 form
	// one that strict parsers accept, which g3's is not: "-" (no
	// structured data) before a CEE body, where g3 puts the body in the
	// structured data's place, and in structured data only the escapes
	// RFC 5424 defines (\", \\, \]), every other character as it is, where g3
	// writes Rust's escape_debug (\n, \', \u{1}), which strict parsers
	// refuse; the message follows unescaped. It is tasklog's extension: g3
	// has no such key, and its bytes stay the default. It needs RFC5424.
	RFC5424Strict bool
	// CEE sends the record as "@cee:" + JSON (use_cee_log_syntax);
	// CEEEventFlag replaces "@cee:" (cee_event_flag).
	CEE          bool
	CEEEventFlag string
	// EmitHostname puts this host's name in the header (emit_hostname).
	EmitHostname bool
	// AppendReportTS adds report_ts, the unix seconds of the entry
	// (append_report_ts).
	AppendReportTS bool
	// ReconnectInterval; default DefaultReconnectInterval.
	ReconnectInterval time.Duration
	// WriteTimeout bounds one send; default 1s.
	WriteTimeout time.Duration
}

// ceeEventFlag is g3's default CEE cookie.
const ceeEventFlag = "@cee:"

// NewSyslog returns a Core that sends each entry as one syslog datagram,
// formatted as g3proxy's syslog driver formats it (lib/g3-syslog):
//
//   - RFC 3164: "<29>Nov 25 20:41:00 g3proxy[1234]: " (local time, optional
//     hostname after the time), then the text body
//     "msg, key=value, key=\"string\"" (strings in Rust's escape_debug) or,
//     with CEE, "@cee:" and the JSON object with msg last;
//   - RFC 5424: "<29>1 2026-11-25T20:41:00.123456Z - g3proxy 1234 - " (UTC,
//     "-" for no hostname and no message id), then the structured data
//     "[g3proxy@<enterprise id> key=\"value\" ...] msg" or, with CEE,
//     "@cee:" and the JSON object.
//
// Unset keys are left out, as g3 does. A send that fails drops that record
// (DropPeerUnreachable) and closes the socket; the next connect is tried
// after ReconnectInterval, and records logged meanwhile are dropped and
// counted, so a dead syslog daemon costs the proxy nothing but drops.
func NewSyslog(cfg SyslogConfig, opts Options) (*Core, error) {
	f, err := newSyslogFormatter(cfg)
	if err != nil {
		return nil, err
	}
	return newCore("syslog", f, opts, func(q *queue) sink { return &datagramSink{cfg: f.cfg, q: q} }), nil
}

// newSyslogFormatter checks cfg and fills in its defaults.
func newSyslogFormatter(cfg SyslogConfig) (*syslogFormatter, error) {
	if cfg.Ident == "" {
		cfg.Ident = programName()
	}
	if cfg.RFC5424Strict && !cfg.RFC5424 {
		return nil, errors.New("tasklog/driver: syslog: RFC5424Strict (rfc5424_strict) needs RFC5424 (format_rfc5424)")
	}
	if cfg.UnixPath == "" && cfg.UDPAddr == "" {
		cfg.UnixPath = DefaultSyslogPath
	}
	if cfg.UnixPath != "" && cfg.UDPAddr != "" {
		return nil, errors.New("tasklog/driver: syslog: set UnixPath or UDPAddr, not both")
	}
	if cfg.UDPAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.UDPAddr); err != nil {
			return nil, fmt.Errorf("tasklog/driver: syslog: UDP address %q: %w", cfg.UDPAddr, err)
		}
	}
	if cfg.BindIP.IsValid() && cfg.UDPAddr == "" {
		return nil, errors.New("tasklog/driver: syslog: BindIP is for UDP targets only")
	}
	if cfg.ReconnectInterval <= 0 {
		cfg.ReconnectInterval = DefaultReconnectInterval
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Second
	}
	if cfg.CEEEventFlag == "" {
		cfg.CEEEventFlag = ceeEventFlag
	}
	fac := FacilityDaemon
	if cfg.Facility != nil {
		fac = *cfg.Facility
	}
	if fac > 23 {
		return nil, fmt.Errorf("tasklog/driver: syslog: facility %d out of range 0-23", fac)
	}
	f := &syslogFormatter{cfg: cfg, fac: fac, pid: os.Getpid()}
	if cfg.CEE {
		f.cee = newCEEFormatter(cfg.AppendReportTS, false)
	} else {
		f.text = newTaskText(f.lines, cfg.RFC5424, cfg.RFC5424Strict)
	}
	if cfg.EmitHostname {
		f.hostname, _ = os.Hostname()
	}
	return f, nil
}

type syslogFormatter struct {
	snapshotsAll
	cfg      SyslogConfig
	fac      Facility
	pid      int
	hostname string
	kv       kvFormatter
	lines    fastLines
	text     taskText      // the straight-line writer of lines' context
	cee      *ceeFormatter // the CEE body, when cfg.CEE
}

func (f *syslogFormatter) with(fields []zapcore.Field) formatter {
	c := *f
	if f.cee != nil {
		c.cee = f.cee.with(fields).(*ceeFormatter)
	} else {
		c.kv, c.lines = f.kv.withCtx(fields), f.lines.with(fields)
		c.text = newTaskText(c.lines, f.cfg.RFC5424, f.cfg.RFC5424Strict)
	}
	return &c
}

func (f *syslogFormatter) format(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, error) {
	b = f.header(b, &ent)
	if f.cee != nil {
		if f.cfg.RFC5424Strict {
			b = append(b, '-', ' ')
		}
		b = append(b, f.cfg.CEEEventFlag...)
		return f.cee.format(b, ent, fields)
	}
	if out, ok := f.fromLine(b, ent, fields); ok {
		return out, nil
	}
	e := f.kv.collectG3(fields)
	defer putKV(e)
	rfc5424 := f.cfg.RFC5424
	b = f.openBody(b, &ent)
	for i := range e.pairs {
		p := &e.pairs[i]
		if p.kind == kindNone {
			continue
		}
		val, str := p.s, p.kind == kindStr
		if !str {
			e.scratch, _ = p.text(e.scratch[:0])
			val = bytesView(e.scratch)
		}
		if rfc5424 {
			b = appendSDParam(b, p.key, val, str, f.cfg.RFC5424Strict)
		} else {
			b = appendTextKV(b, p.key, val, str)
		}
	}
	return f.closeBody(b, &ent), nil
}

// header appends what precedes the body: the priority, the timestamp,
// the host name, the ident and the pid (and in RFC 5424 the message id).
func (f *syslogFormatter) header(b []byte, ent *zapcore.Entry) []byte {
	pri := int(f.fac)<<3 | severity(ent.Level)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, '>')
	if f.cfg.RFC5424 {
		b = append(b, '1', ' ')
		b = appendRFC5424Time(b, ent.Time)
		b = append(b, ' ')
		b = appendOr(b, f.hostname, "-")
		b = append(b, ' ')
		b = append(b, f.cfg.Ident...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(f.pid), 10)
		b = append(b, ' ')
		b = appendOr(b, f.cfg.MessageID, "-")
		return append(b, ' ')
	}
	b = appendRFC3164Time(b, inZone(ent.Time))
	if f.hostname != "" {
		b = append(b, ' ')
		b = append(b, f.hostname...)
	}
	b = append(b, ' ')
	b = append(b, f.cfg.Ident...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(f.pid), 10)
	return append(b, ']', ':', ' ')
}

// defers, line and render are the deferred path (see lineFormatter):
// the text formats render from NewEncoder's line on the writer; the CEE
// body is that line, written on the logging goroutine.
func (f *syslogFormatter) defers() bool { return f.cee == nil && !f.lines.off }

func (f *syslogFormatter) line(buf []byte, fields []zapcore.Field) ([]byte, bool) {
	return f.lines.appendLine(buf, fields)
}

func (f *syslogFormatter) render(b []byte, ent *zapcore.Entry, line []byte, scratch *[]byte) ([]byte, bool) {
	b = f.header(b, ent)
	b = f.openBody(b, ent)
	b, ok := appendLineKVs(b, line, scratch, f.cfg.RFC5424, f.cfg.RFC5424Strict)
	return f.closeBody(b, ent), ok
}

// fromLine formats the body of one finished task record straight from
// the record (taskText), or else from NewEncoder's JSON line of the
// fields (the fast path, see fastLines), or returns false, having written
// nothing that counts, for an entry that must take the kvEncoder's.
func (f *syslogFormatter) fromLine(b []byte, ent zapcore.Entry, fields []zapcore.Field) ([]byte, bool) {
	if tk, ok := f.text.entry(fields); ok {
		return f.closeBody(f.text.write(f.openBody(b, &ent), tk), &ent), true
	}
	e := f.lines.line(fields)
	if e == nil {
		return b, false
	}
	defer putKV(e)
	start := len(b)
	b = f.openBody(b, &ent)
	b, ok := appendLineKVs(b, e.arena, &e.scratch, f.cfg.RFC5424, f.cfg.RFC5424Strict)
	if !ok {
		return b[:start], false
	}
	return f.closeBody(b, &ent), true
}

// openBody and closeBody write what comes before and after the keys: the
// message first in RFC 3164 text; in RFC 5424 the structured data's
// opening, and after the keys its closing and the message.
func (f *syslogFormatter) openBody(b []byte, ent *zapcore.Entry) []byte {
	if f.cfg.RFC5424 {
		b = append(b, "[g3proxy@"...)
		return strconv.AppendInt(b, int64(f.cfg.EnterpriseID), 10)
	}
	return appendEscapeDebug(b, ent.Message, false)
}

// closeBody: RFC 5424 structured data ends with the message, g3's
// ("[g3proxy@<enterprise id> key=\"value\" ...] msg", strings in Rust's
// escape_debug with ']' escaped too), or with RFC5424Strict the message as
// it is.
func (f *syslogFormatter) closeBody(b []byte, ent *zapcore.Entry) []byte {
	if !f.cfg.RFC5424 {
		if f.cfg.AppendReportTS {
			b = append(b, ", report_ts="...)
			b = strconv.AppendInt(b, ent.Time.Unix(), 10)
		}
		return b
	}
	if f.cfg.AppendReportTS {
		b = append(b, ` report_ts="`...)
		b = strconv.AppendInt(b, ent.Time.Unix(), 10)
		b = append(b, '"')
	}
	b = append(b, ']', ' ')
	if f.cfg.RFC5424Strict {
		return append(b, strings.ToValidUTF8(ent.Message, "\uFFFD")...)
	}
	return appendEscapeDebug(b, ent.Message, true)
}

// appendTextKV appends one key of g3's RFC 3164 text: ", key=" and the
// value, a string quoted in Rust's escape_debug, a number or bool as it is.
func appendTextKV(b []byte, key, val string, str bool) []byte {
	b = append(b, ',', ' ')
	b = append(b, key...)
	b = append(b, '=')
	if !str {
		return append(b, val...)
	}
	b = append(b, '"')
	b = appendEscapeDebug(b, val, false)
	return append(b, '"')
}

// appendSDParam appends one PARAM of the structured data: ' key="value"',
// a string in Rust's escape_debug with ']' escaped too, or with strict the
// PARAM-VALUE escaped as RFC 5424 says (a backslash before '"', '\\' and
// ']', every other character as it is). Values are valid UTF-8 (the
// encoder replaces bad bytes), as RFC 5424 requires.
func appendSDParam(b []byte, key, val string, str, strict bool) []byte {
	b = append(b, ' ')
	b = append(b, key...)
	b = append(b, '=', '"')
	switch {
	case !str:
		b = append(b, val...)
	case strict:
		b = appendSDValue(b, val)
	default:
		b = appendEscapeDebug(b, val, true)
	}
	return append(b, '"')
}

// appendSDValue escapes an RFC 5424 PARAM-VALUE: '"', '\\' and ']' get a
// backslash, and bytes that are not valid UTF-8 become U+FFFD.
func appendSDValue(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' || c == ']' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

func appendOr(b []byte, s, dflt string) []byte {
	if s == "" {
		return append(b, dflt...)
	}
	return append(b, s...)
}

// datagramSink sends each record as one datagram to a syslog daemon.
type datagramSink struct {
	cfg SyslogConfig
	q   *queue

	mu   sync.Mutex // guards conn against close from another goroutine
	conn net.Conn
	// next is when a connect may be tried again after a failure; only the
	// writer goroutine touches it.
	next   time.Time
	closed atomic.Bool
	batch  batchSender // the writer goroutine's own
}

func (s *datagramSink) dial() (net.Conn, error) {
	if s.cfg.UDPAddr != "" {
		d := net.Dialer{Timeout: s.cfg.WriteTimeout}
		if s.cfg.BindIP.IsValid() {
			d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.cfg.BindIP, 0))
		}
		return d.Dial("udp", s.cfg.UDPAddr)
	}
	return net.DialUnix("unixgram", nil, &net.UnixAddr{Name: s.cfg.UnixPath, Net: "unixgram"})
}

// connection returns the socket, connecting when the reconnect interval
// allows; nil means the record is to be dropped.
func (s *datagramSink) connection() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil || s.closed.Load() || time.Now().Before(s.next) {
		return s.conn
	}
	c, err := s.dial()
	if err != nil {
		s.next = time.Now().Add(s.cfg.ReconnectInterval)
		s.q.report(err)
		return nil
	}
	s.conn = c
	return c
}

func (s *datagramSink) deliver(rec []byte) {
	c := s.connection()
	if c == nil {
		s.q.drop(dropPeerUnreachable, 1)
		return
	}
	if s.q.abandoned.Load() {
		return
	}
	_ = c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_, err := c.Write(rec)
	switch {
	case err == nil:
		s.q.pass(len(rec))
	case errors.Is(err, syscall.EMSGSIZE):
		// Larger than the transport carries in one datagram: only this
		// record is lost. g3 treats it like a dead peer (it drops the
		// batch and reconnects after 4s), which would let one oversized
		// record hide the records after it.
		s.q.drop(dropTooLarge, 1)
		s.q.report(fmt.Errorf("a record of %d bytes is larger than one datagram: %w", len(rec), err))
	default:
		s.q.drop(dropPeerUnreachable, 1)
		s.mu.Lock()
		if s.conn == c {
			s.conn.Close()
			s.conn = nil
		}
		s.next = time.Now().Add(s.cfg.ReconnectInterval)
		s.mu.Unlock()
		s.q.report(err)
	}
}

// deliverBatch sends the records that waited together with one sendmmsg
// call where the system has it, as many as the socket takes; a record
// that cannot go takes the one-record path, which tells why and counts it.
func (s *datagramSink) deliverBatch(recs [][]byte) {
	sendBatch(recs, s, s.q, &s.batch, s.cfg.WriteTimeout)
}

func (s *datagramSink) batchConn() net.Conn {
	if c := s.connection(); c != nil {
		return c
	}
	return nil
}

// datagramSender is a datagram sink as sendBatch uses it: its one-record
// path, and its socket now (nil: none).
type datagramSender interface {
	deliver(rec []byte)
	batchConn() net.Conn
}

// sendBatch is the datagram sinks' deliverBatch: while more than one
// record is left, the socket takes as many as it does with one call; the
// first of the rest, or one that cannot go, or any once Close has given
// up, takes the sink's one-record path, which sends, drops or leaves it
// to Close, and counts it.
func sendBatch(recs [][]byte, s datagramSender, q *queue, b *batchSender, timeout time.Duration) {
	for len(recs) > 0 {
		n, bytes := 0, 0
		if len(recs) > 1 && !q.abandoned.Load() {
			if c := s.batchConn(); c != nil {
				_ = c.SetWriteDeadline(time.Now().Add(timeout))
				n, bytes = b.send(c, recs)
			}
		}
		if n == 0 {
			s.deliver(recs[0])
			recs = recs[1:]
			continue
		}
		q.passN(n, bytes)
		recs = recs[n:]
	}
}

func (s *datagramSink) close() {
	s.closed.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}
