package tasklog

import (
	"strings"
	"unicode/utf8"
)

// DefaultURIMaxChars is how many characters of a URI a record logs when its
// limit is unset (g3's log_uri_max_chars default).
const DefaultURIMaxChars = 1024

// maskedPassword is what g3 prints in place of a URI's password.
const maskedPassword = "xyz"

// SanitizeURI returns raw as g3 logs it in the uri key. g3 logs the URI it
// parsed (Rust's http::Uri) rather than the request's text, so:
//   - a "#fragment" is dropped;
//   - the scheme http or https is written in lower case, whatever its case
//     in raw (other schemes keep theirs, as http::Uri does);
//   - a URI with a scheme and an empty path gets the path "/":
//     "http://h?q" logs as "http://h/?q";
//   - a password in the userinfo is replaced by "xyz", as g3 does: in the
//     authority, everything between the first ':' and the first '@' after it
//     ("http://bob:s3cret@h/" logs as "http://bob:xyz@h/"); a user name
//     without a password stays;
//   - control bytes (0x00-0x1F, 0x7F) and bytes that are not valid UTF-8 are
//     percent-escaped ("%01"), so the result is printable; valid non-ASCII
//     UTF-8 and everything else stays as it is (g3 would have refused such
//     a request; a Go server may pass it on);
//   - at most maxChars characters (Unicode code points) are kept, counted on
//     the result; maxChars <= 0 means [DefaultURIMaxChars]. An escape is
//     never cut in half: one that does not fit is left out whole.
//
// SanitizeURI allocates its result; [AppendSanitizedURI] does not.
func SanitizeURI(raw string, maxChars int) string {
	return string(AppendSanitizedURI(make([]byte, 0, len(raw)+8), raw, maxChars))
}

// AppendSanitizedURI appends [SanitizeURI](raw, maxChars) to b and returns
// the extended slice. It allocates only when b must grow.
func AppendSanitizedURI(b []byte, raw string, maxChars int) []byte {
	if maxChars <= 0 {
		maxChars = DefaultURIMaxChars
	}
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	passStart, passEnd := uriPassword(raw)
	lowerEnd, slashAt := -1, -1
	if se := schemeEnd(raw); se > 0 {
		if scheme := raw[:se-3]; strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") {
			lowerEnd = se - 3
		}
		slashAt = len(raw)
		if i := strings.IndexAny(raw[se:], "/?"); i >= 0 {
			slashAt = se + i
		}
		if slashAt < len(raw) && raw[slashAt] == '/' {
			slashAt = -1 // the path is there
		}
	}
	left := maxChars
	for i := 0; i < len(raw) && left > 0; {
		if i == slashAt {
			b = append(b, '/')
			left--
			slashAt = -1
			continue
		}
		if i == passStart {
			n := min(len(maskedPassword), left)
			b = append(b, maskedPassword[:n]...)
			left -= n
			i, passStart = passEnd, -1 // an empty password ends where it starts
			continue
		}
		c := raw[i]
		if c >= 0x20 && c < 0x7f {
			if i < lowerEnd {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
				left--
				i++
				continue
			}
			// Copy the run of printable ASCII up to the next position
			// that needs attention (the password, the inserted '/') or
			// the limit, in one append.
			limit := min(len(raw), i+left)
			if passStart > i {
				limit = min(limit, passStart)
			}
			if slashAt > i {
				limit = min(limit, slashAt)
			}
			end := i + 1
			for end < limit && raw[end] >= 0x20 && raw[end] < 0x7f {
				end++
			}
			b = append(b, raw[i:end]...)
			left -= end - i
			i = end
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r != utf8.RuneError || size > 1 {
				b = append(b, raw[i:i+size]...)
				left--
				i += size
				continue
			}
		}
		// A control byte or a byte that is not part of valid UTF-8.
		if left < 3 {
			break
		}
		b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		left -= 3
		i++
	}
	if slashAt == len(raw) && left > 0 {
		b = append(b, '/')
	}
	return b
}

// uriPassword returns the byte range of the password in raw's userinfo, or
// (-1, -1) when there is none. The authority follows "scheme://" or, for a
// URI without a scheme that does not start with '/', starts the URI (the
// authority form of CONNECT); it ends at the first '/', '?' or '#'.
func uriPassword(raw string) (int, int) {
	start := 0
	if i := schemeEnd(raw); i > 0 {
		start = i
	} else if raw != "" && raw[0] == '/' {
		return -1, -1
	}
	end := len(raw)
	for i := start; i < len(raw); i++ {
		if c := raw[i]; c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	colon := -1
	for i := start; i < end; i++ {
		switch raw[i] {
		case ':':
			if colon < 0 {
				colon = i
			}
		case '@':
			if colon < 0 {
				return -1, -1
			}
			return colon + 1, i
		}
	}
	return -1, -1
}

// schemeEnd returns the index just past "scheme://" at the start of raw, or
// 0 when raw does not start with a scheme.
func schemeEnd(raw string) int {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':' && len(raw) >= i+3 && raw[i+1] == '/' && raw[i+2] == '/':
			return i + 3
		default:
			return 0
		}
	}
	return 0
}
