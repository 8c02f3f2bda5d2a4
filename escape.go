package tasklog

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// EscapeLog is one record of g3proxy's Escape log (log_type "Escape"): an
// escaper's failed attempt to reach the next hop for a task, joined to the
// task's record by task_id. g3proxy writes one for a failed TCP connect
// (each attempt), TLS handshake or UDP send (g3proxy/src/log/escape). The
// message of the entry is the error's text ("connect failed: connection
// refused"). The zero value is not a valid record.
//
// Write one with [EscapeField] (or [LogEscape]) through a logger built
// with [EscapeLoggerFields], as g3 does:
//
//	logger := zap.New(core).With(tasklog.EscapeLoggerFields("g3proxy")...)
//	logger.Info(err.Error(), tasklog.EscapeField(rec))
//
// An EscapeLog is a plain value; marshaling only reads it, so one record
// may be written from many goroutines at once.
type EscapeLog struct {
	EscaperType string       // escaper_type: g3's type of the escaper, "DirectFixed" for a direct one; required
	EscaperName string       // escaper_name: the escaper's name, the task's escaper key; required
	TaskID      uuid.UUID    // task_id: the task whose attempt failed; required
	Detail      EscapeDetail // escape_type and its keys; required
}

// EscapeDetail is what an Escape record says about one failed attempt:
// [*EscapeTCPConnect], [*EscapeTLSHandshake] or [*EscapeUDPSendto].
type EscapeDetail interface {
	// EscapeType returns the escape_type the detail writes.
	EscapeType() EscapeType
	escapeDetail() // only this package's details
}

// EscapeTCPConnect is a failed TCP connect (escape_type "TcpConnect", g3's
// log/escape/tcp_connect.rs).
type EscapeTCPConnect struct {
	Upstream      string          // upstream: host:port the task asked for; required
	OverridePeer  string          // override_peer: host:port the escaper connected to instead; optional
	NextBindIP    netip.Addr      // next_bind_ip: the bind address chosen; optional
	NextBoundAddr netip.AddrPort  // next_bound_addr: the local address of the attempt; optional
	NextPeerAddr  netip.AddrPort  // next_peer_addr: the address it tried; optional
	NextExpire    time.Time       // next_expire: expiry of a dynamic next peer; optional
	ConnectTries  int             // tcp_connect_tries: attempts so far
	ConnectSpend  time.Duration   // tcp_connect_spend: time spent on them, 0 written as 0.000ns
	Reason        TCPConnectError // reason: g3's TcpConnectError::brief; required
}

// EscapeTLSHandshake is a failed TLS handshake with the next hop
// (escape_type "TlsHandshake", g3's log/escape/tls_handshake.rs).
type EscapeTLSHandshake struct {
	Upstream       string         // upstream: host:port the task asked for; required
	NextBindIP     netip.Addr     // next_bind_ip; optional
	NextBoundAddr  netip.AddrPort // next_bound_addr; optional
	NextPeerAddr   netip.AddrPort // next_peer_addr; optional
	NextExpire     time.Time      // next_expire; optional
	TLSName        string         // tls_name: the server name checked, a host or an IP; required
	TLSPeer        string         // tls_peer: host:port of the TLS peer; required
	TLSApplication TLSApplication // tls_application; required
}

// EscapeUDPSendto is a failed UDP send or receive to the next hop
// (escape_type "UdpSendto", g3's log/escape/udp_sendto.rs).
type EscapeUDPSendto struct {
	Upstream      string         // upstream: host:port of the packet; optional
	NextBoundAddr netip.AddrPort // next_bound_addr: the local socket; optional
	NextPeerAddr  netip.AddrPort // next_peer_addr: where the packet went; optional
	NextExpire    time.Time      // next_expire; optional
	Reason        UDPSendtoError // reason; required
}

var (
	_ zapcore.ObjectMarshaler = (*EscapeLog)(nil)
	_ slog.LogValuer          = (*EscapeLog)(nil)
)

// EscapeType returns EscapeTypeTCPConnect.
func (*EscapeTCPConnect) EscapeType() EscapeType { return EscapeTypeTCPConnect }

// EscapeType returns EscapeTypeTLSHandshake.
func (*EscapeTLSHandshake) EscapeType() EscapeType { return EscapeTypeTLSHandshake }

// EscapeType returns EscapeTypeUDPSendto.
func (*EscapeUDPSendto) EscapeType() EscapeType { return EscapeTypeUDPSendto }

func (*EscapeTCPConnect) escapeDetail()   {}
func (*EscapeTLSHandshake) escapeDetail() {}
func (*EscapeUDPSendto) escapeDetail()    {}

func (d *EscapeTCPConnect) encodeEscape(e *recEnc) {
	e.reqUpstream("upstream", d.Upstream)
	e.upstream("override_peer", d.OverridePeer)
	e.optAddr("next_bind_ip", d.NextBindIP)
	e.optAddrPort("next_bound_addr", d.NextBoundAddr)
	e.optAddrPort("next_peer_addr", d.NextPeerAddr)
	e.optTime("next_expire", d.NextExpire)
	e.tries("tcp_connect_tries", d.ConnectTries)
	if d.ConnectSpend < 0 {
		e.fail("tcp_connect_spend", "negative duration "+FormatDuration(d.ConnectSpend))
	} else {
		e.w.dur("tcp_connect_spend", d.ConnectSpend) // g3's LtDuration, never none
	}
	e.escapeEnum("reason", d.Reason.IsValid(), d.Reason == 0, d.Reason.String())
}

func (d *EscapeTLSHandshake) encodeEscape(e *recEnc) {
	e.reqUpstream("upstream", d.Upstream)
	e.optAddr("next_bind_ip", d.NextBindIP)
	e.optAddrPort("next_bound_addr", d.NextBoundAddr)
	e.optAddrPort("next_peer_addr", d.NextPeerAddr)
	e.optTime("next_expire", d.NextExpire)
	e.tlsName(d.TLSName)
	e.reqUpstream("tls_peer", d.TLSPeer)
	e.escapeEnum("tls_application", d.TLSApplication.IsValid(), d.TLSApplication == 0, d.TLSApplication.String())
}

func (d *EscapeUDPSendto) encodeEscape(e *recEnc) {
	e.upstream("upstream", d.Upstream)
	e.optAddrPort("next_bound_addr", d.NextBoundAddr)
	e.optAddrPort("next_peer_addr", d.NextPeerAddr)
	e.optTime("next_expire", d.NextExpire)
	e.escapeEnum("reason", d.Reason.IsValid(), d.Reason == 0, d.Reason.String())
}

// reqUpstream writes a required host:port.
func (e *recEnc) reqUpstream(key, v string) {
	if v == "" {
		e.missing(key)
		return
	}
	e.upstream(key, v)
}

// tlsName writes g3's LtHost: an IP in its canonical form, else the name.
func (e *recEnc) tlsName(v string) {
	if v == "" {
		e.missing("tls_name")
		return
	}
	if looksLikeIP(v) {
		if ip, err := netip.ParseAddr(v); err == nil {
			e.w.addr("tls_name", ip)
			return
		}
	}
	e.w.str("tls_name", v)
}

func (e *recEnc) escapeEnum(key string, valid, unset bool, s string) {
	if valid {
		e.w.word(key, s)
		return
	}
	e.enumProblem(key, unset, s)
}

// encode writes every key of r, in g3's source order.
func (r *EscapeLog) encode(e *recEnc) {
	e.w.logger(true)
	e.reqStr("escaper_type", r.EscaperType)
	e.reqStr("escaper_name", r.EscaperName)
	e.w.logger(false)
	if r.Detail == nil {
		e.missing("escape_type")
	} else if t := r.Detail.EscapeType(); t.IsValid() {
		e.w.word("escape_type", t.String())
	} else {
		e.enumProblem("escape_type", false, t.String())
	}
	if r.TaskID == uuid.Nil {
		e.missing("task_id")
	} else {
		e.w.id("task_id", r.TaskID)
	}
	// A type switch, not an interface call, so that e does not escape:
	// validating a good record allocates nothing.
	switch d := r.Detail.(type) {
	case *EscapeTCPConnect:
		d.encodeEscape(e)
	case *EscapeTLSHandshake:
		d.encodeEscape(e)
	case *EscapeUDPSendto:
		d.encodeEscape(e)
	}
}

// MarshalLogObject implements [zapcore.ObjectMarshaler]: it writes the
// record's keys in g3's wire formats, every valid key of a bad record,
// and returns the [EscapeLog.Validate] error for a bad one. It only reads
// r.
func (r *EscapeLog) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if r == nil {
		return errNilEscape
	}
	// Direct calls (no interface in between), so that e stays on the
	// stack: marshaling allocates nothing of its own.
	var e recEnc
	if je, ok := enc.(*jsonEncoder); ok {
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

// Validate reports every missing or invalid key of r, each as a
// [*KeyError], joined with [errors.Join]; nil for a good record. A nil r
// is an error.
func (r *EscapeLog) Validate() error {
	if r == nil {
		return errNilEscape
	}
	e := recEnc{w: nopWriter{}, collect: true}
	r.encode(&e)
	return errors.Join(e.errs...)
}

var errNilEscape = errors.New("tasklog: nil *EscapeLog")

// LogValue implements [slog.LogValuer]: a group of the keys and values
// MarshalLogObject writes, and [ErrorKey] with the Validate error for a
// bad record. It allocates the attributes.
func (r *EscapeLog) LogValue() slog.Value {
	if r == nil {
		return slog.GroupValue(slog.String(ErrorKey, errNilEscape.Error()))
	}
	return logValueKeyed(r, 16)
}

// EscapeField returns a zap field that writes rec's keys at the top level
// of the entry, as [Field] does for a task record. It does not allocate;
// rec is marshaled only if the entry is written.
func EscapeField(rec *EscapeLog) zap.Field {
	return zap.Field{Key: fieldKey, Type: zapcore.InlineMarshalerType, Interface: rec}
}

// LogEscape writes rec at level with message msg (the error's text) if
// the logger is enabled for it, as [Log] does for task records.
func LogEscape(logger *zap.Logger, level zapcore.Level, msg string, rec *EscapeLog) {
	if ce := logger.Check(level, msg); ce != nil {
		ce.Write(EscapeField(rec))
	}
}

// EscapeLoggerFields returns the keys g3proxy's escape loggers add to every
// Escape record, in g3's order (log/escape/mod.rs): daemon_name,
// log_type "Escape" and pid. The record itself writes escaper_type and
// escaper_name, which g3 also keeps in the logger. Each call allocates a
// new slice.
func EscapeLoggerFields(daemonName string) []zap.Field {
	return []zap.Field{
		zap.String("daemon_name", daemonName),
		zap.String("log_type", "Escape"),
		zap.Uint32("pid", uint32(os.Getpid())),
	}
}

// EscapeObject returns a zap field that writes rec's keys nested under
// key, as [Object] does for a task record.
func EscapeObject(key string, rec *EscapeLog) zap.Field {
	return zap.Field{Key: key, Type: zapcore.ObjectMarshalerType, Interface: rec}
}
