package g3line

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/proxylog/tasklog/internal/g3schema"
)

// parseJSON reads the flat JSON object at p, which must end the line
// (trailing spaces aside). g3's records have only strings, numbers, bools
// and (fluentd's) nulls; a nested object or array is an error, as is
// anything after the object.
func parseJSON(line string, p int, fields []g3schema.Field) ([]g3schema.Field, error) {
	p++ // '{'
	p = skipSpace(line, p)
	if p < len(line) && line[p] == '}' {
		return fields, trailing(line, p+1)
	}
	for {
		p = skipSpace(line, p)
		if p >= len(line) {
			return fields, fail(p, "JSON object ends early (truncated line?)")
		}
		if line[p] != '"' {
			return fields, fail(p, "expected a JSON key")
		}
		key, np, err := jsonString(line, p)
		if err != nil {
			return fields, err
		}
		p = skipSpace(line, np)
		if p >= len(line) || line[p] != ':' {
			return fields, fail(p, "expected ':' after the key "+strconv.Quote(key))
		}
		p = skipSpace(line, p+1)
		if p >= len(line) {
			return fields, fail(p, "value of "+key+" missing (truncated line?)")
		}
		var f g3schema.Field
		f.Key = key
		switch c := line[p]; {
		case c == '"':
			f.Val, p, err = jsonString(line, p)
			if err != nil {
				return fields, err
			}
			f.Type = g3schema.String
		case c == '-' || c >= '0' && c <= '9':
			end := numberEnd(line, p)
			if end < 0 {
				return fields, fail(p, "invalid JSON number in "+key)
			}
			f.Val, f.Type, p = line[p:end], g3schema.Number, end
		case strings.HasPrefix(line[p:], "true"):
			f.Val, f.Type, p = "true", g3schema.Bool, p+4
		case strings.HasPrefix(line[p:], "false"):
			f.Val, f.Type, p = "false", g3schema.Bool, p+5
		case strings.HasPrefix(line[p:], "null"):
			f.Type, p = g3schema.Null, p+4
		case c == '{' || c == '[':
			return fields, fail(p, "nested JSON value in "+key+": g3's records are flat")
		default:
			return fields, fail(p, "invalid JSON value in "+key)
		}
		fields = append(fields, f)
		p = skipSpace(line, p)
		if p >= len(line) {
			return fields, fail(p, "JSON object ends early (truncated line?)")
		}
		switch line[p] {
		case ',':
			p++
		case '}':
			return fields, trailing(line, p+1)
		default:
			return fields, fail(p, "expected ',' or '}' after the value of "+key)
		}
	}
}

func trailing(line string, p int) error {
	if p = skipSpace(line, p); p < len(line) {
		return fail(p, "text after the JSON object")
	}
	return nil
}

func skipSpace(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// numberEnd returns the end of the JSON number at p, -1 if it is invalid.
func numberEnd(s string, p int) int {
	i := p
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	return i
}

// jsonString reads the JSON string at p (its opening quote) and returns
// its value and the index after its closing quote. A string without
// escapes is a substring of s.
func jsonString(s string, p int) (string, int, error) {
	start := p + 1
	for i := start; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[start:i], i + 1, nil
		case c == '\\':
			return jsonUnescape(s, start, i)
		case c < 0x20:
			return "", i, fail(i, "raw control character in a JSON string")
		}
	}
	return "", len(s), fail(len(s), "unterminated JSON string (truncated line?)")
}

func jsonUnescape(s string, start, i int) (string, int, error) {
	b := make([]byte, 0, i-start+16)
	b = append(b, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return string(b), i + 1, nil
		case c < 0x20:
			return "", i, fail(i, "raw control character in a JSON string")
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return "", i, fail(i, "invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", i, fail(i, "invalid JSON escape \\"+string(rune(e)))
		}
		i += 2
	}
	return "", len(s), fail(len(s), "unterminated JSON string (truncated line?)")
}

func hex4(s string, p int) (rune, bool) {
	if p+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[p:p+4], 16, 32)
	return rune(v), err == nil
}
