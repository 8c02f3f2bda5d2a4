package tasklog

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zapcore"
)

// keyWriter receives a record's keys with their typed values. Each output
// (zap's ObjectEncoder, slog attributes, validation) implements it once, and
// one routine, recEnc, decides which keys a record carries, so the outputs
// cannot disagree. Values reach a keyWriter already checked: durations
// positive, addresses valid. Strings may hold anything: each writer
// replaces every byte that is not valid UTF-8 with U+FFFD, as zap's JSON
// encoder does, so a value from the wire never makes its key disappear.
type keyWriter interface {
	str(key, val string)
	word(key, val string) // a value known to need no escaping: enum words
	dur(key string, d time.Duration)
	ts(key string, t time.Time)
	id(key string, u uuid.UUID)
	addrPort(key string, ap netip.AddrPort)
	addr(key string, a netip.Addr)
	hostPort(key, host string, port uint16) // a domain and a port: host:port
	uint(key string, v uint64)
	// u16 writes a value g3 holds as a u16 (HTTP status codes): drivers
	// with typed integers (fluentd's MessagePack) keep that width.
	u16(key string, v uint16)
	bool(key string, v bool)
	uri(key, raw string, maxChars int)
	// none notes a key the event carries whose value is unset: g3 emits
	// "none" for it, which JSON leaves out and fluentd writes as nil.
	none(key string)
	// inline writes the keys of a Detail this package does not know.
	inline(m zapcore.ObjectMarshaler) error
	// logger says that the keys written from now until logger(false) are
	// ones g3 keeps in its logger (the server's, escaper's or resolver's
	// type and name), which NewEncoder writes before the others.
	logger(on bool)
}

// keySet says which groups of keys a record carries; the event decides, as
// the log_* functions of g3proxy's src/log/task/*.rs do (docs/SCHEMA.md,
// "Which keys each event carries"). Keys outside every group (the identity
// keys, user, the client-side addresses, the upstream, wait_time and the
// request keys of HttpForward and FtpOverHttp) are in every record.
type keySet uint8

const (
	// keysConnected, from Connected on: escaper, ready_time,
	// next_bound_addr, next_peer_addr, next_expire, reuse_connection; the
	// FTP control connection's keys and rsp_status; the UDP socket
	// addresses, the peer and the first packet's c_rd_bytes/c_rd_packets.
	keysConnected keySet = 1 << iota
	// keysConnect: next_bind_ip and tcp_connect_tries/spend, which the
	// TcpConnect shutdown records leave out.
	keysConnect
	// keysRunning: total_time and the byte and packet counters.
	keysRunning
	// keysStats: the HTTP status codes and request/response durations and
	// the FTP data connection's keys, which Periodic and Finished carry.
	keysStats
	// keysReason: the reason, on the finished record only.
	keysReason

	keysAll = keysConnected | keysConnect | keysRunning | keysStats | keysReason
)

// keysFor returns the key groups of an event. Unset means Finished; an
// invalid event is reported and written in full.
func keysFor(e Event) keySet {
	switch e {
	case EventCreated:
		return 0
	case EventConnected:
		return keysConnected | keysConnect
	case EventPeriodic:
		return keysConnected | keysConnect | keysRunning | keysStats
	case EventClientShutdown, EventUpstreamShutdown:
		return keysConnected | keysRunning
	default:
		return keysAll
	}
}

// recEnc applies the presence rules of docs/SCHEMA.md while writing keys to
// w. A missing or invalid value leaves its key out and marks the record
// bad; when collect is set it also records a KeyError naming the key and
// value.
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
		e.w.none(key)
		return
	}
	e.w.str(key, v)
}

func (e *recEnc) reqStr(key, v string) {
	if v == "" {
		e.missing(key)
		return
	}
	e.w.str(key, v)
}

// upstream writes a host:port value as g3 prints its UpstreamAddr: left
// out when the host is empty or an unspecified IP (0.0.0.0, ::), the host
// alone when the port is 0 or absent, an IP host in its canonical form
// (IPv6 in brackets when a port follows). A value that is not host:port is
// written as it is: it came from the wire and is the best record of what
// the client asked for.
func (e *recEnc) upstream(key, v string) {
	host, port, ok := splitUpstream(v)
	bracketed := ok && v != "" && v[0] == '['
	switch {
	case !ok:
		e.optStr(key, v)
	case host == "":
		e.w.none(key)
	case looksLikeIP(host):
		ip, err := netip.ParseAddr(host)
		switch {
		case err != nil, bracketed && !ip.Is6():
			e.w.str(key, v)
		case ip.IsUnspecified():
			e.w.none(key)
		case port == 0:
			e.w.addr(key, ip)
		default:
			e.w.addrPort(key, netip.AddrPortFrom(ip, port))
		}
	case bracketed:
		e.w.str(key, v) // brackets around something that is not an IP
	case port == 0:
		e.w.str(key, host)
	default:
		e.w.hostPort(key, host, port)
	}
}

// splitUpstream splits "host:port", "[ipv6]:port", "[ipv6]", a bare host or
// a bare IPv6 address into its host (brackets removed) and port (0 when
// absent). ok is false when a port is present but is not a decimal number
// up to 65535; an empty v is ok with an empty host.
func splitUpstream(v string) (host string, port uint16, ok bool) {
	if v == "" {
		return "", 0, true
	}
	rest := ""
	if v[0] == '[' {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", 0, false
		}
		host, rest = v[1:end], v[end+1:]
		if rest == "" {
			return host, 0, true
		}
		if rest[0] != ':' {
			return "", 0, false
		}
		rest = rest[1:]
	} else {
		i := strings.LastIndexByte(v, ':')
		switch {
		case i < 0:
			return v, 0, true
		case strings.IndexByte(v[:i], ':') >= 0:
			return v, 0, true // a bare IPv6 address, no port
		}
		host, rest = v[:i], v[i+1:]
	}
	if rest == "" || len(rest) > 5 {
		return "", 0, false
	}
	n := 0
	for _, c := range []byte(rest) {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > math.MaxUint16 {
		return "", 0, false
	}
	return host, uint16(n), true
}

// looksLikeIP reports whether host can only be meant as an IP address:
// digits and dots (IPv4), or any ':' (IPv6). Domain names go no further,
// which keeps netip's error (an allocation) off the common path.
func looksLikeIP(host string) bool {
	if strings.IndexByte(host, ':') >= 0 {
		return true
	}
	for _, c := range []byte(host) {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func (e *recEnc) optDur(key string, d time.Duration) {
	switch {
	case d == 0:
		e.w.none(key)
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
	if t.IsZero() {
		e.w.none(key)
		return
	}
	e.w.ts(key, t)
}

func (e *recEnc) optAddrPort(key string, ap netip.AddrPort) {
	if !ap.IsValid() {
		e.w.none(key)
		return
	}
	e.w.addrPort(key, ap)
}

func (e *recEnc) reqAddrPort(key string, ap netip.AddrPort) {
	if !ap.IsValid() {
		e.missing(key)
		return
	}
	e.w.addrPort(key, ap)
}

func (e *recEnc) optAddr(key string, a netip.Addr) {
	if !a.IsValid() {
		e.w.none(key)
		return
	}
	e.w.addr(key, a)
}

func (e *recEnc) count(key string, v uint64) { e.w.uint(key, v) }

func (e *recEnc) tries(key string, v int) {
	if v < 0 {
		e.fail(key, "negative count "+strconv.Itoa(v))
		return
	}
	e.w.uint(key, uint64(v)) // g3's usize
}

// status writes an HTTP status code, 0 included (g3 holds it as a plain
// u16 that stays 0 until a response is known).
func (e *recEnc) status(key string, v int) {
	if v != 0 && (v < 100 || v > 999) {
		e.fail(key, "invalid status code "+strconv.Itoa(v))
		return
	}
	e.w.u16(key, uint16(v))
}

func (e *recEnc) uri(raw string, maxChars int) {
	if raw == "" {
		e.missing("uri")
		return
	}
	e.w.uri("uri", raw, maxChars)
}

// KeyError describes one missing or invalid key of a record, as returned
// (joined with [errors.Join]) by [TaskLog.Validate].
type KeyError struct {
	Key     string // the g3 key, such as "stage" or "c_rd_bytes"
	Problem string // what is wrong: "missing", or the bad value quoted
}

// Error implements the error interface: "tasklog: stage: invalid value Stage(200)".
func (e *KeyError) Error() string { return "tasklog: " + e.Key + ": " + e.Problem }
