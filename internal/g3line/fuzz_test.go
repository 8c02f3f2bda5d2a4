package g3line

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/proxylog/tasklog/internal/g3schema"
)

// FuzzParse: no line makes Parse or Check panic, an error names a byte
// inside the line, and every key Parse returns is a substring of it or
// the message.
func FuzzParse(f *testing.F) {
	for _, l := range []string{
		`{"log_type":"Task","task_type":"TcpConnect","c_rd_bytes":1,"user":"a\u00e9\ud83d\ude00"}`,
		`<29>Nov 24 10:30:04 g3proxy[4242]: m, user="a\"b\u{1}", c_rd_bytes=5, log_type="Task"`,
		`<29>1 2026-11-24T10:30:04.987654Z - g3proxy 4242 - [g3proxy@0 user="a\]b" log_type="Task"] msg`,
		`<29>1 2026-11-24T10:30:04.987654Z - g3proxy 4242 TASK TASK @json:{"log_type":"Escape"}`,
		`Nov 24 10:30:04.987 INFO log_type: Task, user: a, b, wait_time: 1.000ms, msg, more`,
		`2026-11-24T10:30:04+00:00 h1 h2 g3proxy[1]: @cee:{"a":null}`,
		"1700000000\tg3proxy.Task\t{\"log_type\":\"Resolve\"}",
		`{"\u006cog_type":"Task","\u00e9":"\ud800"}`,
	} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		form, fields, err := Parse(line, nil)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Pos < 0 || e.Pos > len(line) {
				t.Fatalf("error %v at a position outside the line of %d bytes", err, len(line))
			}
			return
		}
		if form == 0 {
			t.Fatal("no form and no error")
		}
		for _, f := range fields {
			// Keys of text forms are never escaped; JSON's may be.
			if form != FormJSON && form != FormSyslogCEE && f.Key != "msg" && !strings.Contains(line, f.Key) {
				t.Fatalf("key %q is not in the line", f.Key)
			}
			if f.Type == g3schema.String && utf8.ValidString(line) && !utf8.ValidString(f.Val) {
				t.Fatalf("%s: valid UTF-8 in, invalid out: %q", f.Key, f.Val)
			}
		}
		g3schema.Check(fields, func(p g3schema.Problem) {
			if p.Key == "" && p.Problem == "" {
				t.Fatal("an empty problem")
			}
		})
	})
}
