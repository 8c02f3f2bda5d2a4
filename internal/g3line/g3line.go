// Package g3line reads one line of a g3 log, in any form an operator keeps
// it, into its keys and values: a JSON object (tasklog's JSON line, g3's
// CEE body, a fluentd or Vector file output's JSON, with or without
// fluentd's "time<TAB>tag<TAB>" prefix), a syslog message as received
// (RFC 3164 or RFC 5424, with its <PRI>) or as rsyslog writes it to a file
// (no <PRI>, a traditional or RFC 3339 timestamp), whose body is g3's text
// form, g3's RFC 5424 structured data or a "@cee:" JSON body, and g3's
// stdout driver line. Values are unescaped the way g3 escapes them (Rust's
// escape_debug in text and structured data).
package g3line

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/proxylog/tasklog/internal/g3schema"
)

// Form is the form a line was read in.
type Form uint8

// The forms Parse reads.
const (
	FormJSON       Form = iota + 1 // a JSON object, alone or after fluentd's time and tag
	FormSyslogCEE                  // syslog (RFC 3164 or 5424) with a @cee: (or other flag) JSON body
	FormSyslogText                 // RFC 3164 with g3's text body: msg, key="value", n=1
	FormSyslogSD                   // RFC 5424 with g3's structured data
	FormStdout                     // g3's stdout driver: Nov 24 10:30:04.123 INFO key: value, ..., msg
)

var formNames = [...]string{"", "json", "syslog-cee", "syslog-text", "syslog-sd", "stdout"}

// String names the form as the tools print it.
func (f Form) String() string {
	if int(f) < len(formNames) {
		return formNames[f]
	}
	return "form?"
}

// Error is a line Parse could not read. Pos is the byte offset where
// reading failed.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return e.Msg + " at byte " + strconv.Itoa(e.Pos+1) }

func fail(pos int, msg string) error { return &Error{Pos: pos, Msg: msg} }

// MaxLine is the longest line Parse reads; longer lines are an error.
const MaxLine = 1 << 20

// Parse reads line (without its newline) and appends its keys to
// fields[:0]. The strings it returns share line's memory where no
// unescaping was needed. The message of a syslog text, structured data or
// stdout line is returned as the key "msg", as g3's JSON body carries it.
func Parse(line string, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	fields = fields[:0]
	line = strings.TrimSuffix(line, "\r")
	if len(line) > MaxLine {
		return 0, fields, fail(MaxLine, "line longer than "+strconv.Itoa(MaxLine>>20)+" MiB")
	}
	if line == "" {
		return 0, fields, fail(0, "empty line")
	}
	switch c := line[0]; {
	case c == '{':
		fields, err := parseJSON(line, 0, fields)
		return FormJSON, fields, err
	case c == '<':
		return parseSyslog(line, fields)
	case isMonth(line):
		if len(line) > 19 && line[15] == '.' {
			return parseStdout(line, fields)
		}
		return parse3164(line, 0, fields)
	case c >= '0' && c <= '9':
		if i := strings.Index(line, "\t{"); i >= 0 && strings.Count(line[:i], "\t") == 1 {
			fields, err := parseJSON(line, i+1, fields)
			return FormJSON, fields, err
		}
		return parse3164(line, 0, fields)
	}
	if !utf8.ValidString(line[:min(len(line), 64)]) {
		return 0, fields, fail(0, "binary data, not a log line")
	}
	return 0, fields, fail(0, "not a g3 log line (JSON object, syslog message or stdout line)")
}

var months = [...]string{"Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec "}

func isMonth(s string) bool {
	if len(s) < 16 {
		return false
	}
	for _, m := range months {
		if s[:4] == m {
			return true
		}
	}
	return false
}

// parseSyslog reads <PRI> and dispatches on the version.
func parseSyslog(line string, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	end := strings.IndexByte(line, '>')
	if end < 2 || end > 4 {
		return 0, fields, fail(0, "a '<' that does not open a syslog <PRI>")
	}
	pri, err := strconv.Atoi(line[1:end])
	if err != nil || pri > 191 {
		return 0, fields, fail(1, "invalid syslog priority "+strconv.Quote(line[1:end]))
	}
	p := end + 1
	if strings.HasPrefix(line[p:], "1 ") {
		return parse5424(line, p+2, fields)
	}
	return parse3164(line, p, fields)
}

// parse3164 reads an RFC 3164 header (or rsyslog's file format: an RFC
// 3339 timestamp) from p, then the tag, then the body.
func parse3164(line string, p int, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	rest := line[p:]
	switch {
	case isMonth(rest) && rest[15] == ' ':
		p += 16
	default:
		sp := strings.IndexByte(rest, ' ')
		if sp < 10 || !(rest[0] >= '0' && rest[0] <= '9') || rest[4] != '-' {
			return 0, fields, fail(p, "no syslog timestamp")
		}
		p += sp + 1
	}
	// HOSTNAME (optional) and TAG: the body starts after the first ": "
	// of the first three words (a relay may put its own host name before
	// the one g3 sent: syslog-ng on a local socket does).
	body := -1
	for i, words := p, 0; i < len(line) && words < 3; i++ {
		if line[i] == ' ' {
			if i > p && line[i-1] == ':' {
				body = i + 1
				break
			}
			words++
		}
	}
	if body < 0 {
		if strings.HasSuffix(line, ":") {
			return 0, fields, fail(len(line), "syslog message with no body")
		}
		return 0, fields, fail(p, "no syslog tag (name[pid]: )")
	}
	return parseBody(line, body, fields)
}

// parseBody reads g3's syslog body: a flag such as @cee: and JSON, or text.
func parseBody(line string, p int, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	if j := ceeStart(line, p); j >= 0 {
		fields, err := parseJSON(line, j, fields)
		return FormSyslogCEE, fields, err
	}
	fields, err := parseText(line, p, fields)
	return FormSyslogText, fields, err
}

// ceeStart returns where the JSON of a "@flag:{" body at p starts, -1 if
// the body is not one.
func ceeStart(line string, p int) int {
	if p >= len(line) || line[p] != '@' {
		return -1
	}
	for i := p + 1; i < len(line) && i < p+33; i++ {
		c := line[i]
		if c == ':' {
			if i+1 < len(line) && line[i+1] == '{' {
				return i + 1
			}
			return -1
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return -1
		}
	}
	return -1
}

// parse5424 reads TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, then the
// structured data (or g3's CEE body, which it writes in its place), then
// the message.
func parse5424(line string, p int, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	for n := 0; n < 5; n++ {
		sp := strings.IndexByte(line[p:], ' ')
		if sp <= 0 {
			return 0, fields, fail(p, "RFC 5424 header ends early (want TIMESTAMP HOSTNAME APP-NAME PROCID MSGID)")
		}
		p += sp + 1
	}
	if j := ceeStart(line, p); j >= 0 { // g3 writes the flag where the SD goes
		fields, err := parseJSON(line, j, fields)
		return FormSyslogCEE, fields, err
	}
	if strings.HasPrefix(line[p:], "-") {
		p++
		if p < len(line) && line[p] == ' ' {
			p++
		}
		if j := ceeStart(line, p); j >= 0 { // "- @cee:{...}": CEE in the MSG
			fields, err := parseJSON(line, j, fields)
			return FormSyslogCEE, fields, err
		}
		return 0, fields, fail(p, "RFC 5424 message without structured data: no g3 keys")
	}
	if p < len(line) && line[p] != '[' {
		// rsyslog 8.2302 re-writes g3's "MSGID @cee:{" (CEE where the
		// structured data goes) as "MSGID MSGID @cee:{": take the JSON
		// that follows one more word.
		if sp := strings.IndexByte(line[p:], ' '); sp > 0 {
			if j := ceeStart(line, p+sp+1); j >= 0 {
				fields, err := parseJSON(line, j, fields)
				return FormSyslogCEE, fields, err
			}
		}
		return 0, fields, fail(p, "RFC 5424 structured data must start with '[' or be '-'")
	}
	for p < len(line) && line[p] == '[' {
		var err error
		if fields, p, err = parseSDElement(line, p, fields); err != nil {
			return FormSyslogSD, fields, err
		}
	}
	if len(fields) == 0 {
		return 0, fields, fail(p, "RFC 5424 message without structured data: no g3 keys")
	}
	msg := ""
	if p < len(line) {
		if line[p] != ' ' {
			return FormSyslogSD, fields, fail(p, "no space after the structured data")
		}
		// g3 escapes the message as it escapes values; tasklog's
		// rfc5424_strict writes it as it is. Take it raw when it does
		// not unescape.
		var err error
		if msg, err = unescape(line[p+1:], p+1); err != nil {
			msg = line[p+1:]
		}
	}
	fields = append(fields, g3schema.Field{Key: "msg", Val: msg, Type: g3schema.String})
	return FormSyslogSD, fields, nil
}

// parseSDElement reads [SD-ID name="value" ...] at p.
func parseSDElement(line string, p int, fields []g3schema.Field) ([]g3schema.Field, int, error) {
	p++ // '['
	for p < len(line) && line[p] != ' ' && line[p] != ']' {
		p++
	}
	for {
		if p >= len(line) {
			return fields, p, fail(p, "structured data ends early (truncated line?)")
		}
		if line[p] == ']' {
			return fields, p + 1, nil
		}
		if line[p] != ' ' {
			return fields, p, fail(p, "unexpected "+strconv.QuoteRune(rune(line[p]))+" in structured data")
		}
		p++
		eq := strings.IndexByte(line[p:], '=')
		if eq <= 0 || p+eq+1 >= len(line) || line[p+eq+1] != '"' {
			return fields, p, fail(p, "structured data parameter is not name=\"value\"")
		}
		key := line[p : p+eq]
		p += eq + 2
		end := closingQuote(line, p)
		if end < 0 {
			return fields, p, fail(p, "unterminated value of "+key+" (truncated line?)")
		}
		val, err := unescape(line[p:end], p)
		if err != nil {
			return fields, p, err
		}
		fields = append(fields, g3schema.Field{Key: key, Val: val, Type: g3schema.Untyped})
		p = end + 1
	}
}

// closingQuote returns the index of the first '"' at or after p that no
// backslash escapes, -1 if there is none.
func closingQuote(line string, p int) int {
	for i := p; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// parseText reads g3's RFC 3164 text body: the message, then ", key=value"
// pairs, strings quoted and escaped, numbers and bools bare.
func parseText(line string, p int, fields []g3schema.Field) ([]g3schema.Field, error) {
	start := p
	i := nextTextKey(line, p)
	if i < 0 {
		return fields, fail(p, "no key=value pairs in the syslog body")
	}
	msg, err := unescape(line[start:i], start)
	if err != nil {
		return fields, err
	}
	p = i
	for p < len(line) {
		p += 2 // ", "
		eq := strings.IndexByte(line[p:], '=')
		if eq <= 0 {
			return fields, fail(p, "expected key=value")
		}
		key := line[p : p+eq]
		p += eq + 1
		if p >= len(line) {
			return fields, fail(p, "value of "+key+" missing (truncated line?)")
		}
		if line[p] == '"' {
			end := closingQuote(line, p+1)
			if end < 0 {
				return fields, fail(p, "unterminated value of "+key+" (truncated line?)")
			}
			val, err := unescape(line[p+1:end], p+1)
			if err != nil {
				return fields, err
			}
			fields = append(fields, g3schema.Field{Key: key, Val: val, Type: g3schema.String})
			p = end + 1
		} else {
			end := strings.Index(line[p:], ", ")
			if end < 0 {
				end = len(line) - p
			}
			val := line[p : p+end]
			typ := g3schema.Number
			if val == "true" || val == "false" {
				typ = g3schema.Bool
			}
			fields = append(fields, g3schema.Field{Key: key, Val: val, Type: typ})
			p += end
		}
		if p < len(line) && !strings.HasPrefix(line[p:], ", ") {
			return fields, fail(p, "expected \", \" after the value of "+key)
		}
	}
	fields = append(fields, g3schema.Field{Key: "msg", Val: msg, Type: g3schema.String})
	return fields, nil
}

// nextTextKey finds the ", key=" that ends the message: a key of word
// characters, then a quoted value or a bare number or bool. The message
// is escaped, so it holds no bare '"'.
func nextTextKey(line string, p int) int {
	for {
		i := strings.Index(line[p:], ", ")
		if i < 0 {
			return -1
		}
		i += p
		j := i + 2
		for j < len(line) && isKeyByte(line[j]) {
			j++
		}
		if j > i+2 && j+1 < len(line) && line[j] == '=' {
			c := line[j+1]
			if c == '"' || c >= '0' && c <= '9' || c == 't' || c == 'f' {
				return i
			}
		}
		p = i + 2
	}
}

func isKeyByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' }

// parseStdout reads g3's stdout line: "Nov 24 10:30:04.123 INFO " then
// "key: value," pairs sorted by key, then " msg". Values are written raw;
// a value ends where ", " and a key of g3's that sorts after the current
// one follow.
func parseStdout(line string, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	p := 20 // "Nov 24 10:30:04.123 "
	sp := strings.IndexByte(line[p:], ' ')
	if sp < 0 {
		return FormStdout, fields, fail(p, "stdout line ends after its level")
	}
	switch line[p : p+sp] {
	case "CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRCE":
	default:
		return FormStdout, fields, fail(p, "unknown level "+strconv.Quote(line[p:p+sp]))
	}
	p += sp + 1
	prev := ""
	for {
		key, ok := stdoutKeyAt(line, p)
		if !ok {
			break
		}
		vstart := p + len(key) + 2
		// The value ends at the first ", " followed by a g3 key sorting at
		// or after this one; the last pair's at its first ", ".
		end, first := -1, -1
		for q := vstart; ; {
			i := strings.Index(line[q:], ", ")
			if i < 0 {
				break
			}
			i += q
			if first < 0 {
				first = i
			}
			if k, ok := stdoutKeyAt(line, i+2); ok && k >= key && g3schema.IsKey(k) {
				end = i
				break
			}
			q = i + 2
		}
		if end < 0 {
			end = first
		}
		if end < 0 {
			return FormStdout, fields, fail(vstart, "value of "+key+" has no ',' after it (truncated line?)")
		}
		if key < prev {
			return FormStdout, fields, fail(p, "keys out of g3's sorted order at "+key)
		}
		prev = key
		fields = append(fields, g3schema.Field{Key: key, Val: line[vstart:end], Type: g3schema.Untyped})
		p = end + 2
	}
	msg := line[p:]
	if msg == "()" {
		msg = ""
	}
	fields = append(fields, g3schema.Field{Key: "msg", Val: msg, Type: g3schema.String})
	return FormStdout, fields, nil
}

// stdoutKeyAt returns the key of a "key: " at p.
func stdoutKeyAt(line string, p int) (string, bool) {
	j := p
	for j < len(line) && isKeyByte(line[j]) {
		j++
	}
	if j == p || !strings.HasPrefix(line[j:], ": ") {
		return "", false
	}
	return line[p:j], true
}

// unescape undoes Rust's escape_debug (and the structured data's \]):
// \" \\ \' \] \0 \t \r \n and \u{X}. off is s's offset in the line, for
// errors.
func unescape(s string, off int) (string, error) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i+1 >= len(s) {
			return "", fail(off+i, "a '\\' at the end of a value")
		}
		i++
		switch s[i] {
		case '"', '\\', '\'', ']':
			b = append(b, s[i])
		case '0':
			b = append(b, 0)
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'n':
			b = append(b, '\n')
		case 'u':
			end := strings.IndexByte(s[i:], '}')
			if i+1 >= len(s) || s[i+1] != '{' || end < 3 || end > 8 {
				return "", fail(off+i-1, "invalid \\u{...} escape")
			}
			v, err := strconv.ParseUint(s[i+2:i+end], 16, 32)
			if err != nil || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return "", fail(off+i-1, "invalid \\u{...} escape")
			}
			b = utf8.AppendRune(b, rune(v))
			i += end
		default:
			return "", fail(off+i-1, "unknown escape \\"+string(rune(s[i])))
		}
	}
	return string(b), nil
}

// ParseSyslogBody reads the body of a syslog message (what follows its
// header): g3's text form or a "@flag:" JSON body, as receivers that
// parse the header hand it over (the OpenTelemetry Collector's syslog
// receiver's "message").
func ParseSyslogBody(body string, fields []g3schema.Field) (Form, []g3schema.Field, error) {
	return parseBody(body, 0, fields[:0])
}
