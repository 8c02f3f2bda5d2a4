package tasklog

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// AppendTimestamp appends t in g3's timestamp form: RFC 3339 in UTC with
// exactly six fraction digits, truncated (not rounded), and a 'Z' suffix,
// as in "2026-11-24T10:30:01.123456Z". Years outside 0000-9999 fall back to
// time.RFC3339Nano's layout with six digits. It allocates only when b must
// grow.
func AppendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	hour, min, sec := t.Clock()
	us := t.Nanosecond() / 1000
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z')
	return b
}

// FormatTimestamp returns t in g3's timestamp form (see [AppendTimestamp]).
// It allocates its result.
func FormatTimestamp(t time.Time) string {
	var b [32]byte
	return string(AppendTimestamp(b[:0], t))
}

const hexDigits = "0123456789abcdef"

// AppendTaskID appends id in g3's "simple" form, 32 lowercase hex digits
// without dashes ("5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"). It allocates only
// when b must grow.
func AppendTaskID(b []byte, id uuid.UUID) []byte {
	for _, c := range id {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// FormatTaskID returns id in g3's "simple" form (see [AppendTaskID]).
func FormatTaskID(id uuid.UUID) string {
	var b [32]byte
	return string(AppendTaskID(b[:0], id))
}

// appendHostPort appends "host:port" for a domain host.
func appendHostPort(b []byte, host string, port uint16) []byte {
	b = append(b, host...)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(port), 10)
}

// AppendJSONString appends s to b as a JSON string, quotes included,
// escaped byte for byte as [NewEncoder] and g3's serde_json escape it:
// '"' and '\\' with a backslash, \b \f \n \r \t as such, other control
// bytes as \u00XX, bytes that are not valid UTF-8 as \ufffd (zap's JSON
// encoder differs only in writing \u0008 and \u000c for \b and \f). It
// allocates only when b must grow. Log drivers that build a line around an encoded record (the
// syslog CEE body ends with "msg") use it.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}
