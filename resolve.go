package tasklog

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ResolveLog is one record of g3proxy's Resolve log (log_type "Resolve"):
// a failed resolution of a domain, written by the resolver and joined to
// the task log by the domain. Its keys are those g3's hickory resolver
// writes (g3proxy/src/resolve/hickory/handle.rs), the kind of resolver a
// DNS client querying servers is; g3's c-ares resolver writes bind_ipv4
// and bind_ipv6 instead of bind_addr, server_port and encryption, which
// this record does not model. The message of the entry is the error's
// text, [ResolveErrorText]. The zero value is not a valid record.
//
// Write one with [ResolveField] (or [LogResolve]) through a logger built
// with [ResolveLoggerFields]. A ResolveLog is a plain value; marshaling
// only reads it.
type ResolveLog struct {
	ResolverType string // resolver_type: g3's resolver type, "hickory"; a logger key in g3; required
	ResolverName string // resolver_name; a logger key in g3; required

	BindIP        netip.Addr   // bind_addr: the source address of the queries; none when unset
	BindInterface string       // bind_addr: or the interface the queries leave by, by name (not with BindIP)
	Servers       []netip.Addr // server: the servers, written space-separated ("" for none)
	ServerPort    uint16       // server_port: none when 0 (the protocol's default)
	Encryption    string       // encryption: e.g. "DnsOverTls(dns.example)"; none when empty

	QueryType    QueryType           // query_type; required
	Duration     time.Duration       // duration: how long the query took, always written
	RRSource     RRSource            // rr_source; required
	ErrorType    ResolveErrorType    // error_type; required
	ErrorSubtype ResolveErrorSubtype // error_subtype; "" for the types that have none
	Domain       string              // domain: the name queried, written as it is ("" for EmptyDomain)
}

var (
	_ zapcore.ObjectMarshaler = (*ResolveLog)(nil)
	_ slog.LogValuer          = (*ResolveLog)(nil)
)

// subtypeOf returns the error type a subtype belongs to.
func subtypeOf(s ResolveErrorSubtype) ResolveErrorType {
	switch {
	case s >= ResolveErrorFormErr && s <= ResolveErrorRefused:
		return ResolveErrorServer
	case s >= ResolveErrorBadQuery && s <= ResolveErrorInternal:
		return ResolveErrorDriver
	case s >= ResolveErrorNoResolverSet && s <= ResolveErrorDriverTimedOut:
		return ResolveErrorLocal
	}
	return 0
}

// encode writes every key of r, in g3's source order.
func (r *ResolveLog) encode(e *recEnc) {
	e.w.logger(true)
	e.reqStr("resolver_type", r.ResolverType)
	e.reqStr("resolver_name", r.ResolverName)
	e.w.logger(false)
	switch {
	case r.BindIP.IsValid() && r.BindInterface != "":
		e.fail("bind_addr", "both an IP "+r.BindIP.String()+" and an interface "+r.BindInterface)
	case r.BindIP.IsValid():
		e.w.addr("bind_addr", r.BindIP)
	case r.BindInterface != "":
		e.w.str("bind_addr", r.BindInterface)
	default:
		e.w.none("bind_addr")
	}
	e.servers(r.Servers)
	if r.ServerPort == 0 {
		e.w.none("server_port")
	} else {
		e.w.u16("server_port", r.ServerPort)
	}
	e.optStr("encryption", r.Encryption)
	e.escapeEnum("query_type", r.QueryType.IsValid(), r.QueryType == 0, r.QueryType.String())
	if r.Duration < 0 {
		e.fail("duration", "negative duration "+FormatDuration(r.Duration))
	} else {
		e.w.dur("duration", r.Duration)
	}
	e.escapeEnum("rr_source", r.RRSource.IsValid(), r.RRSource == 0, r.RRSource.String())
	e.escapeEnum("error_type", r.ErrorType.IsValid(), r.ErrorType == 0, r.ErrorType.String())
	hasSubtype := r.ErrorType == ResolveErrorServer || r.ErrorType == ResolveErrorDriver || r.ErrorType == ResolveErrorLocal
	switch {
	case r.ErrorSubtype == 0 && !hasSubtype:
		e.w.word("error_subtype", "") // g3 writes "" for the types without one
	case r.ErrorSubtype == 0:
		e.missing("error_subtype")
	case !r.ErrorSubtype.IsValid():
		e.fail("error_subtype", "invalid value "+r.ErrorSubtype.String())
	case r.ErrorType.IsValid() && subtypeOf(r.ErrorSubtype) != r.ErrorType:
		e.fail("error_subtype", r.ErrorSubtype.String()+" is a subtype of "+subtypeOf(r.ErrorSubtype).String()+", not "+r.ErrorType.String())
	default:
		e.w.word("error_subtype", r.ErrorSubtype.String())
	}
	e.w.str("domain", r.Domain)
}

// servers writes the server list as g3 joins it: each IP, one space
// apart. Building the text allocates; validation skips it.
func (e *recEnc) servers(list []netip.Addr) {
	for _, a := range list {
		if !a.IsValid() {
			e.fail("server", "an invalid server address")
			return
		}
	}
	if _, nop := e.w.(nopWriter); nop {
		return
	}
	var b strings.Builder
	for i, a := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.String())
	}
	e.w.str("server", b.String())
}

// MarshalLogObject implements [zapcore.ObjectMarshaler]: it writes the
// record's keys in g3's wire formats, every valid key of a bad record,
// and returns the [ResolveLog.Validate] error for a bad one. It only
// reads r; writing the server list allocates.
func (r *ResolveLog) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if r == nil {
		return errNilResolve
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
// [*KeyError], joined with [errors.Join]; nil for a good record, without
// allocating. A nil r is an error.
func (r *ResolveLog) Validate() error {
	if r == nil {
		return errNilResolve
	}
	e := recEnc{w: nopWriter{}, collect: true}
	r.encode(&e)
	return errors.Join(e.errs...)
}

var errNilResolve = errors.New("tasklog: nil *ResolveLog")

// LogValue implements [slog.LogValuer]: a group of the keys and values
// MarshalLogObject writes, and [ErrorKey] with the Validate error for a
// bad record.
func (r *ResolveLog) LogValue() slog.Value {
	if r == nil {
		return slog.GroupValue(slog.String(ErrorKey, errNilResolve.Error()))
	}
	return logValueKeyed(r, 14)
}

// ResolveField returns a zap field that writes rec's keys at the top level
// of the entry. It does not allocate; rec is marshaled only if the entry
// is written.
func ResolveField(rec *ResolveLog) zap.Field {
	return zap.Field{Key: fieldKey, Type: zapcore.InlineMarshalerType, Interface: rec}
}

// LogResolve writes rec at level if the logger is enabled for it, with
// g3's text of the error as the message ([ResolveErrorText]; detail is
// the text of an InternalError or UnexpectedError).
func LogResolve(logger *zap.Logger, level zapcore.Level, rec *ResolveLog, detail string) {
	msg := ResolveErrorText(rec.ErrorType, rec.ErrorSubtype, detail)
	if ce := logger.Check(level, msg); ce != nil {
		ce.Write(ResolveField(rec))
	}
}

// ResolveLoggerFields returns the keys g3proxy's resolve loggers add to
// every Resolve record, in g3's order (log/resolve.rs): daemon_name,
// log_type "Resolve" and pid. The record itself writes resolver_type and
// resolver_name. Each call allocates a new slice.
func ResolveLoggerFields(daemonName string) []zap.Field {
	return []zap.Field{
		zap.String("daemon_name", daemonName),
		zap.String("log_type", "Resolve"),
		zap.Uint32("pid", uint32(os.Getpid())),
	}
}

var resolveSubtypeText = [...]string{
	ResolveErrorFormErr:           "server claims query was malformed",
	ResolveErrorServFail:          "server returned general failure",
	ResolveErrorNotFound:          "server claims domain name not found",
	ResolveErrorNotImp:            "server does not implement requested operation",
	ResolveErrorRefused:           "server refused query",
	ResolveErrorBadQuery:          "malformed DNS query",
	ResolveErrorBadName:           "malformed domain name",
	ResolveErrorBadFamily:         "unsupported address family",
	ResolveErrorBadResp:           "malformed DNS reply",
	ResolveErrorConnRefused:       "connection refused by server",
	ResolveErrorTimeout:           "timeout while contacting server",
	ResolveErrorInternal:          "internal error: ",
	ResolveErrorNoResolverSet:     "no resolver set",
	ResolveErrorNoResolverRunning: "no resolver running",
	ResolveErrorDriverTimedOut:    "driver timed out",
}

// ResolveErrorText returns g3's text of a resolve error, the message of its
// Resolve record (lib/g3-resolver error.rs): "server error: server claims
// domain name not found", "driver error: timeout while contacting server",
// "empty result", ... detail completes an InternalError or UnexpectedError
// ("unexpected error: " + detail). An unknown combination returns
// "resolve error".
func ResolveErrorText(t ResolveErrorType, s ResolveErrorSubtype, detail string) string {
	switch t {
	case ResolveErrorEmptyDomain:
		return "empty domain"
	case ResolveErrorEmptyResult:
		return "empty result"
	case ResolveErrorUnexpected:
		return "unexpected error: " + detail
	}
	if !s.IsValid() || subtypeOf(s) != t {
		return "resolve error"
	}
	text := resolveSubtypeText[s]
	if s == ResolveErrorInternal {
		text += detail
	}
	switch t {
	case ResolveErrorServer:
		return "server error: " + text
	case ResolveErrorDriver:
		return "driver error: " + text
	default:
		return "local error: " + text
	}
}

// ResolveObject returns a zap field that writes rec's keys nested under
// key, as [Object] does for a task record.
func ResolveObject(key string, rec *ResolveLog) zap.Field {
	return zap.Field{Key: key, Type: zapcore.ObjectMarshalerType, Interface: rec}
}
