package driver

import (
	"strconv"
	"time"
	"unicode/utf8"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// appendEscapeDebug appends s as Rust's char::escape_debug prints each of
// its chars, which is how g3's syslog text formats write strings: \t \r
// \n \\ \' \" \0 escaped, the chars Rust's Unicode tables call
// grapheme-extending or not printable (control characters, U+00A0,
// combining marks, format characters, private use, unassigned, ...) as
// \u{hex}, everything else as it is; a byte that is not valid UTF-8 (Rust
// strings have none) as U+FFFD. In RFC 5424 structured data ']' is escaped
// too (sd).
func appendEscapeDebug(b []byte, s string, sd bool) []byte {
	for i := 0; i < len(s); {
		// A run of printable ASCII that needs no escape goes in at once,
		// checked eight bytes at a time.
		j := i
		for j+8 <= len(s) && plainDebugWord(load64(s, j)) {
			j += 8
		}
		for j < len(s) && plainASCII[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			switch c {
			case '\\', '\'', '"':
				b = append(b, '\\', c)
			case ']':
				if sd {
					b = append(b, '\\')
				}
				b = append(b, c)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == 0:
			b = append(b, '\\', '0')
		case escapedByRust(r):
			b = append(b, '\\', 'u', '{')
			b = strconv.AppendUint(b, uint64(r), 16)
			b = append(b, '}')
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// Word tests, as tasklog's JSON escaping does them: each sets the high
// bit of a byte where the condition holds (exactly, for "has such a
// byte").
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func zeroByte(x uint64) uint64 { return (x - lsb) & ^x }

// plainDebugWord reports whether all 8 bytes of w are in plainASCII:
// none below 0x20, none 0x7f or above, none of \ ' " ].
func plainDebugWord(w uint64) bool {
	below := (w - lsb*0x20) & ^w
	del := zeroByte(w ^ (lsb * 0x7f))
	special := zeroByte(w^(lsb*'\\')) | zeroByte(w^(lsb*'\'')) | zeroByte(w^(lsb*'"')) | zeroByte(w^(lsb*']'))
	return (below|del|special|w)&msb == 0
}

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// plainASCII marks the bytes escape_debug writes as they are in both text
// and structured data: printable ASCII but \ ' " ].
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\' && c != '\'' && c != '"' && c != ']'
	}
	return t
}()

type runeRange struct{ lo, hi rune }

// escapedByRust reports whether char::escape_debug writes r as \u{...}:
// a binary search of escapeDebugRanges (escape_table.go).
func escapedByRust(r rune) bool {
	lo, hi := 0, len(escapeDebugRanges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if escapeDebugRanges[m].hi < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(escapeDebugRanges) && escapeDebugRanges[lo].lo <= r
}

// g3's severities for zap's levels, after its slog mapping (g3-syslog
// util.rs): info records are "notice".
func severity(l zapcore.Level) int {
	switch {
	case l <= zapcore.DebugLevel:
		return 6 // info (slog debug)
	case l == zapcore.InfoLevel:
		return 5 // notice (slog info)
	case l == zapcore.WarnLevel:
		return 4
	case l == zapcore.ErrorLevel:
		return 3
	default:
		return 2 // critical
	}
}

// slogLevel is the word g3's stdout driver prints for a level (slog's
// short names).
func slogLevel(l zapcore.Level) string {
	switch {
	case l <= zapcore.DebugLevel:
		return "DEBG"
	case l == zapcore.InfoLevel:
		return "INFO"
	case l == zapcore.WarnLevel:
		return "WARN"
	case l == zapcore.ErrorLevel:
		return "ERRO"
	default:
		return "CRIT"
	}
}

// zone is the time zone of the RFC 3164 and stdout timestamps: nil for
// time.Local, as g3's; the golden-bytes test sets UTC without touching
// time.Local, which other goroutines read.
var zone *time.Location

// inZone returns t in the timestamps' zone.
func inZone(t time.Time) time.Time {
	if zone != nil {
		return t.In(zone)
	}
	return t.Local()
}

// appendRFC3164Time appends "Jan  2 15:04:05" (day padded with a space) in
// t's zone.
func appendRFC3164Time(b []byte, t time.Time) []byte {
	_, mon, day := t.Date()
	b = appendMonth(b, mon)
	if day < 10 {
		b = append(b, ' ', ' ', byte('0'+day))
	} else {
		b = append(b, ' ', byte('0'+day/10), byte('0'+day%10))
	}
	return appendClock(append(b, ' '), t)
}

// appendMonth appends the month's three-letter English name.
func appendMonth(b []byte, mon time.Month) []byte {
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	return append(b, months[3*(mon-1):3*mon]...)
}

// appendClock appends "15:04:05".
func appendClock(b []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10),
		':', byte('0'+s/10), byte('0'+s%10))
}

// appendRFC5424Time appends "2006-01-02T15:04:05.000000Z" in UTC: g3's
// timestamp form, which tasklog.AppendTimestamp writes without
// time.Time.AppendFormat's layout parsing (a quarter of the RFC 5424
// header's cost).
func appendRFC5424Time(b []byte, t time.Time) []byte {
	return tasklog.AppendTimestamp(b, t)
}
