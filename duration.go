package tasklog

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// FormatDuration returns d the way g3proxy prints durations, which is Rust's
// format!("{:.3?}", d): the unit is chosen from the whole value (s from one
// second, ms from one millisecond, µs from one microsecond, else ns), then
// exactly three fraction digits, rounded to nearest with ties to even, and a
// carry never changes the unit: 999.9995ms prints "1000.000ms".
//
// Rust durations are never negative; a negative d is printed as its
// magnitude behind a '-' sign, which [ParseDuration] rejects and which a
// record never writes ([TaskLog.Validate] reports it). FormatDuration
// allocates its result; [AppendDuration] does not.
func FormatDuration(d time.Duration) string {
	var b [32]byte
	return string(AppendDuration(b[:0], d))
}

// AppendDuration appends the g3 form of d (see [FormatDuration]) to b and
// returns the extended slice. It allocates only when b must grow.
func AppendDuration(b []byte, d time.Duration) []byte {
	var n uint64
	if d < 0 {
		b = append(b, '-')
		n = uint64(-d) // two's complement: right for math.MinInt64 too
	} else {
		n = uint64(d)
	}
	// integer.fraction in the chosen unit; rest is what lies below the three
	// printed fraction digits, out of scale. This is Rust's
	// core::time::fmt_decimal at precision 3.
	var integer, digits, rest, scale uint64
	var unit string
	switch {
	case n >= 1e9:
		integer, digits, rest, scale, unit = n/1e9, n%1e9/1e6, n%1e6, 1e6, "s"
	case n >= 1e6:
		integer, digits, rest, scale, unit = n/1e6, n%1e6/1e3, n%1e3, 1e3, "ms"
	case n >= 1e3:
		integer, digits, rest, scale, unit = n/1e3, n%1e3, 0, 1, "µs"
	default:
		integer, digits, rest, scale, unit = n, 0, 0, 1, "ns"
	}
	if half := scale / 2; rest > half || (rest == half && rest != 0 && digits&1 == 1) {
		digits++
		if digits == 1000 { // the carry stays in the unit: "1000.000ms"
			digits = 0
			integer++
		}
	}
	b = strconv.AppendUint(b, integer, 10)
	b = append(b, '.', byte('0'+digits/100), byte('0'+digits/10%10), byte('0'+digits%10))
	return append(b, unit...)
}

// ParseDuration parses a duration in g3's form: one or more ASCII digits,
// optionally a '.' and one or more digits, then a unit: "ns", "µs" (U+00B5;
// "us" is accepted too), "ms" or "s". It takes any number of fraction digits
// and rounds them to the nanosecond (ties to even), so it reads every
// [FormatDuration] output back to within half of its last printed digit.
// A value past [math.MaxInt64] nanoseconds by less than half of the third
// fraction digit of its unit is the maximum, so every FormatDuration output
// parses, "9223372036.855s" included. Signs, spaces, exponents, other units
// and larger values are errors that quote s.
func ParseDuration(s string) (time.Duration, error) {
	d, why := parseDuration(s)
	if why != "" {
		return 0, errors.New("tasklog: invalid duration " + strconv.Quote(s) + ": " + why)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, string) {
	var unit uint64
	var exp int // digits of the fraction that are whole nanoseconds
	switch {
	case hasSuffix(s, "ns"):
		unit, exp, s = 1, 0, s[:len(s)-2]
	case hasSuffix(s, "µs"):
		unit, exp, s = 1e3, 3, s[:len(s)-len("µs")]
	case hasSuffix(s, "us"):
		unit, exp, s = 1e3, 3, s[:len(s)-2]
	case hasSuffix(s, "ms"):
		unit, exp, s = 1e6, 6, s[:len(s)-2]
	case hasSuffix(s, "s"):
		unit, exp, s = 1e9, 9, s[:len(s)-1]
	default:
		return 0, "missing or unknown unit (want ns, µs, us, ms or s)"
	}
	intPart, fracPart := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, fracPart = s[:i], s[i+1:]
			if fracPart == "" {
				return 0, "no digits after '.'"
			}
			break
		}
	}
	if intPart == "" {
		return 0, "no digits before the unit"
	}
	var whole uint64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, "unexpected " + strconv.QuoteRune(rune(c)) + " in the number"
		}
		if whole > (math.MaxUint64-9)/10 {
			return 0, "out of range"
		}
		whole = whole*10 + uint64(c-'0')
	}
	// The first exp fraction digits are whole nanoseconds; the rest round.
	var frac uint64
	roundDigit, sticky := -1, false
	for i := 0; i < len(fracPart); i++ {
		c := fracPart[i]
		if c < '0' || c > '9' {
			return 0, "unexpected " + strconv.QuoteRune(rune(c)) + " in the number"
		}
		switch {
		case i < exp:
			frac = frac*10 + uint64(c-'0')
		case i == exp:
			roundDigit = int(c - '0')
		default:
			sticky = sticky || c != '0'
		}
	}
	for i := len(fracPart); i < exp; i++ {
		frac *= 10
	}
	last := frac // the digit a tie rounds to even
	if exp == 0 {
		last = whole
	}
	if roundDigit > 5 || (roundDigit == 5 && (sticky || last&1 == 1)) {
		frac++ // may reach unit: still exact, the sum below checks range
	}
	if whole > math.MaxInt64/unit {
		return 0, "out of range"
	}
	n := whole*unit + frac
	if n > math.MaxInt64 {
		// FormatDuration(math.MaxInt64) rounds up past the maximum
		// ("9223372036.855s"): a value within half of its last printed
		// digit of the maximum is the maximum.
		if n-unit/2000 > math.MaxInt64 {
			return 0, "out of range"
		}
		n = math.MaxInt64
	}
	return time.Duration(n), ""
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
