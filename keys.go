package tasklog

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// keyWriter receives a record's keys with their typed values. Each output
// (zap's ObjectEncoder, slog attributes, validation) implements it once, and
// one routine, recEnc, decides which keys a record carries, so the outputs
// cannot disagree. Values reach a keyWriter already checked: strings are
// valid UTF-8, durations positive, addresses valid.
type keyWriter interface {
	// str writes a string that may need escaping, or nothing and false
	// when val is not valid UTF-8 (checked in the same scan as escaping).
	str(key, val string) bool
	word(key, val string) // a value known to need no escaping: enum words, checked upstreams
	dur(key string, d time.Duration)
	ts(key string, t time.Time)
	id(key string, u uuid.UUID)
	addrPort(key string, ap netip.AddrPort)
	addr(key string, a netip.Addr)
	uint(key string, v uint64)
	int(key string, v int64)
	bool(key string, v bool)
	uri(key, raw string, maxChars int)
	// inline writes the keys of a Detail this package does not know.
	inline(m zapcore.ObjectMarshaler) error
}

// keySet says which groups of keys a record carries; the event decides
// (SCHEMA.md, "Which keys each event carries"). Keys outside every group
// (the shared identity keys, user, the client-side addresses, the upstream,
// wait_time and the request keys of HttpForward) are in every record.
type keySet uint8

const (
	// keysConnected: escaper, ready_time, next_bound_addr, next_peer_addr,
	// next_expire, reuse_connection, the FTP bound and peer addresses.
	keysConnected keySet = 1 << iota
	// keysConnect: next_bind_ip and the connect tries and spend.
	keysConnect
	// keysRunning: total_time, every byte and packet counter, the status
	// codes and the request/response durations.
	keysRunning

	keysAll = keysConnected | keysConnect | keysRunning
)

func keysFor(e Event) keySet {
	switch e {
	case EventCreated:
		return 0
	case EventConnected:
		return keysConnected | keysConnect
	case EventPeriodic:
		return keysAll
	case EventClientShutdown, EventUpstreamShutdown:
		return keysConnected | keysRunning
	default: // unset, Finished, or invalid (reported, and written in full)
		return keysAll
	}
}

// recEnc applies the presence rules of SCHEMA.md while writing keys to w.
// A missing or invalid value leaves its key out and marks the record bad;
// when collect is set it also records a KeyError naming the key and value.
type recEnc struct {
	w       keyWriter
	keys    keySet
	bad     bool
	collect bool
	errs    []error
}

func (e *recEnc) has(k keySet) bool { return e.keys&k != 0 }

func (e *recEnc) fail(key, problem string) {
	e.bad = true
	if e.collect {
		e.errs = append(e.errs, &KeyError{Key: key, Problem: problem})
	}
}

func (e *recEnc) missing(key string) { e.fail(key, "missing") }

func (e *recEnc) optStr(key, v string) {
	if v == "" {
		return
	}
	if !e.w.str(key, v) {
		e.fail(key, "invalid UTF-8 "+strconv.Quote(v))
	}
}

func (e *recEnc) reqStr(key, v string) {
	if v == "" {
		e.missing(key)
		return
	}
	e.optStr(key, v)
}

// upstream writes a host:port value (domain or IP, IPv6 in brackets).
func (e *recEnc) upstream(key, v string, required bool) {
	switch {
	case v == "" && required:
		e.missing(key)
	case v == "":
	case !validUpstream(v):
		e.fail(key, "invalid upstream "+strconv.Quote(v)+" (want host:port)")
	default:
		e.w.word(key, v) // validUpstream allows nothing that needs escaping
	}
}

func (e *recEnc) optDur(key string, d time.Duration) {
	switch {
	case d == 0:
	case d < 0:
		e.fail(key, "negative duration "+FormatDuration(d))
	default:
		e.w.dur(key, d)
	}
}

func (e *recEnc) reqDur(key string, d time.Duration) {
	if d == 0 {
		e.missing(key)
		return
	}
	e.optDur(key, d)
}

func (e *recEnc) optTime(key string, t time.Time) {
	if !t.IsZero() {
		e.w.ts(key, t)
	}
}

func (e *recEnc) optAddrPort(key string, ap netip.AddrPort) {
	if ap.IsValid() {
		e.w.addrPort(key, ap)
	}
}

func (e *recEnc) reqAddrPort(key string, ap netip.AddrPort) {
	if !ap.IsValid() {
		e.missing(key)
		return
	}
	e.w.addrPort(key, ap)
}

func (e *recEnc) optAddr(key string, a netip.Addr) {
	if a.IsValid() {
		e.w.addr(key, a)
	}
}

func (e *recEnc) count(key string, v uint64) { e.w.uint(key, v) }

func (e *recEnc) tries(key string, v int) {
	if v < 0 {
		e.fail(key, "negative count "+strconv.Itoa(v))
		return
	}
	e.w.int(key, int64(v))
}

func (e *recEnc) status(key string, v int) {
	switch {
	case v == 0:
	case v < 100 || v > 999:
		e.fail(key, "invalid status code "+strconv.Itoa(v))
	default:
		e.w.int(key, int64(v))
	}
}

func (e *recEnc) method(v string) { e.reqStr("method", v) }

func (e *recEnc) uri(raw string, maxChars int) {
	if raw == "" {
		e.missing("uri")
		return
	}
	e.w.uri("uri", raw, maxChars)
}

// validUpstream reports whether s is host:port with a non-empty host (an
// IPv6 host in brackets) and a decimal port up to 65535.
func validUpstream(s string) bool {
	i := len(s) - 1
	for i >= 0 && s[i] != ':' {
		i--
	}
	if i <= 0 || i == len(s)-1 || len(s)-1-i > 5 {
		return false
	}
	port := 0
	for _, c := range []byte(s[i+1:]) {
		if c < '0' || c > '9' {
			return false
		}
		port = port*10 + int(c-'0')
	}
	if port > math.MaxUint16 {
		return false
	}
	host := s[:i]
	if host[0] == '[' {
		if len(host) < 2 || host[len(host)-1] != ']' {
			return false
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil && a.Is6()
	}
	for _, c := range []byte(host) {
		if c <= ' ' || c == ':' || c == '/' || c == '[' || c == ']' || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// KeyError describes one missing or invalid key of a record, as returned
// (joined with [errors.Join]) by [TaskLog.Validate].
type KeyError struct {
	Key     string // the g3 key, such as "stage" or "c_rd_bytes"
	Problem string // what is wrong: "missing", or the bad value quoted
}

// Error implements the error interface: "tasklog: stage: invalid value Stage(200)".
func (e *KeyError) Error() string { return "tasklog: " + e.Key + ": " + e.Problem }
