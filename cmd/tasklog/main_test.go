package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// g3Line is one line that g3's own formatters write (bytedance/g3 at
// commit 7d237e22: lib/g3-syslog, lib/g3-stdlog), from the golden data
// that driver/testdata/g3bytes generates from g3's code.
type g3Line struct {
	record, format, text string
}

func g3Lines(t testing.TB) []g3Line {
	t.Helper()
	f, err := os.Open("../../driver/testdata/g3bytes/g3bytes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []g3Line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if cols[1] == "fluentd" || cols[1] == "journal" { // binary protocols, not lines
			continue
		}
		b, err := hex.DecodeString(cols[2])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g3Line{cols[0], cols[1], strings.TrimSuffix(string(b), "\n")})
	}
	if len(out) < 99 {
		t.Fatalf("read %d g3 lines, want 99 (9 formats × 11 records)", len(out))
	}
	return out
}

func g3LineOf(t testing.TB, record, format string) string {
	t.Helper()
	for _, l := range g3Lines(t) {
		if l.record == record && l.format == format {
			return l.text
		}
	}
	t.Fatalf("no g3 line %s %s", record, format)
	return ""
}

// runCmd runs the command with its output captured.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateAcceptsG3Lines: every line g3's syslog formatters write
// (RFC 3164 text, RFC 5424 structured data, CEE in both, with g3's
// options) and its stdout driver writes passes, hostile values included,
// except where g3's stdout driver writes a raw newline inside a value:
// that record is two lines in a file, and both halves are reported.
func TestValidateAcceptsG3Lines(t *testing.T) {
	var b strings.Builder
	n, split := 0, 0
	for _, l := range g3Lines(t) {
		if strings.Contains(l.text, "\n") {
			if l.format != "stdout" {
				t.Fatalf("%s %s: a syslog line with a raw newline", l.record, l.format)
			}
			split++
			continue
		}
		b.WriteString(l.text + "\n")
		n++
	}
	// rsyslog's file formats of the same messages: no <PRI>, a
	// traditional or RFC 3339 timestamp and the host name.
	for _, l := range g3Lines(t) {
		if l.format != "rfc3164" && l.format != "rfc3164-cee" {
			continue
		}
		body := l.text[strings.Index(l.text, "g3proxy[4242]: "):]
		b.WriteString("Nov 24 10:30:04 host1 " + body + "\n")
		b.WriteString("2026-11-24T10:30:04.987654+00:00 host1 " + body + "\n")
		n += 2
	}
	code, out, errOut := runCmd(t, b.String(), "validate")
	if code != 0 || out != "" {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	if want := fmt.Sprintf("tasklog validate: %d records, %d valid, 0 invalid", n, n); !strings.HasPrefix(errOut, want) {
		t.Errorf("summary %q, want it to start %q", errOut, want)
	}
	t.Logf("%d g3 lines valid; %d stdout records left out for their raw newlines", n, split)
	if split == 0 {
		t.Fatal("no hostile stdout record with a newline: the golden set lost its hostile values")
	}

	// The split record: both halves flagged.
	hostile := g3LineOf(t, "http-hostile", "stdout")
	code, out, _ = runCmd(t, hostile+"\n", "validate")
	if code != 1 || strings.Count(out, "\n") < 2 {
		t.Errorf("a stdout record split by a raw newline: exit %d, want 1 and both halves reported:\n%s", code, out)
	}
}

// breaks lists, per form, how a single key of the tcp-finished record is
// broken: old → new text in g3's line.
type breakCase struct {
	name, key string
	json      [2]string
	text      [2]string // RFC 3164 text body
	sd        [2]string // RFC 5424 structured data ("" when the form cannot carry the break)
	stdout    [2]string
}

var breaks = []breakCase{
	{"missing task_id", "task_id",
		[2]string{`,"task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"`, ``},
		[2]string{`, task_id="5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"`, ``},
		[2]string{` task_id="5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"`, ``},
		[2]string{` task_id: 5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a,`, ``}},
	{"a duration 12.3 ms", "total_time",
		[2]string{`"total_time":"2.346s"`, `"total_time":"12.3 ms"`},
		[2]string{`total_time="2.346s"`, `total_time="12.3 ms"`},
		[2]string{`total_time="2.346s"`, `total_time="12.3 ms"`},
		[2]string{`total_time: 2.346s,`, `total_time: 12.3 ms,`}},
	{"an unknown reason", "reason",
		[2]string{`"reason":"ClosedByClient"`, `"reason":"ClosedByAliens"`},
		[2]string{`reason="ClosedByClient"`, `reason="ClosedByAliens"`},
		[2]string{`reason="ClosedByClient"`, `reason="ClosedByAliens"`},
		[2]string{`reason: ClosedByClient,`, `reason: ClosedByAliens,`}},
	{"a counter as a string", "c_rd_bytes",
		[2]string{`"c_rd_bytes":517`, `"c_rd_bytes":"517"`},
		[2]string{`c_rd_bytes=517`, `c_rd_bytes="517"`},
		[2]string{}, // structured data quotes every value
		[2]string{}},
	{"a key of another task type", "uri",
		[2]string{`"reason":`, `"uri":"http://h.example/","reason":`},
		[2]string{`, reason=`, `, uri="http://h.example/", reason=`},
		[2]string{` reason=`, ` uri="http://h.example/" reason=`},
		[2]string{` user: alice,`, ` uri: http://h.example/, user: alice,`}},
	{"a dashed uuid", "task_id",
		[2]string{`5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a`, `5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a`},
		[2]string{`5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a`, `5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a`},
		[2]string{`5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a`, `5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a`},
		[2]string{`5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a`, `5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a`}},
	{"an unknown task type", "task_type",
		[2]string{`"task_type":"TcpConnect"`, `"task_type":"TcpTunnel"`},
		[2]string{`task_type="TcpConnect"`, `task_type="TcpTunnel"`},
		[2]string{`task_type="TcpConnect"`, `task_type="TcpTunnel"`},
		[2]string{`task_type: TcpConnect,`, `task_type: TcpTunnel,`}},
	{"a non-g3 timestamp", "start_at",
		[2]string{`"start_at":"2026-11-24T10:30:01.123456Z"`, `"start_at":"2026-11-24T10:30:01+00:00"`},
		[2]string{`start_at="2026-11-24T10:30:01.123456Z"`, `start_at="2026-11-24T10:30:01+00:00"`},
		[2]string{`start_at="2026-11-24T10:30:01.123456Z"`, `start_at="2026-11-24T10:30:01+00:00"`},
		[2]string{`start_at: 2026-11-24T10:30:01.123456Z,`, `start_at: 2026-11-24T10:30:01+00:00,`}},
	{"an unknown stage", "stage",
		[2]string{`"stage":"Relaying"`, `"stage":"Teleporting"`},
		[2]string{`stage="Relaying"`, `stage="Teleporting"`},
		[2]string{`stage="Relaying"`, `stage="Teleporting"`},
		[2]string{`stage: Relaying,`, `stage: Teleporting,`}},
	{"an unknown server type", "server_type",
		[2]string{`"server_type":"HttpProxy"`, `"server_type":"HttpsProxy"`},
		[2]string{`server_type="HttpProxy"`, `server_type="HttpsProxy"`},
		[2]string{`server_type="HttpProxy"`, `server_type="HttpsProxy"`},
		[2]string{`server_type: HttpProxy,`, `server_type: HttpsProxy,`}},
}

// TestValidateFlagsExactlyTheBrokenLines builds a file of valid g3 lines
// in four forms with, between them, the same lines broken in one key
// each (and truncated), and checks that validate reports exactly the
// broken lines, each naming the broken key.
func TestValidateFlagsExactlyTheBrokenLines(t *testing.T) {
	forms := []struct {
		format string
		pick   func(breakCase) [2]string
	}{
		{"rfc3164-cee", func(b breakCase) [2]string { return b.json }},
		{"rfc3164", func(b breakCase) [2]string { return b.text }},
		{"rfc5424", func(b breakCase) [2]string { return b.sd }},
		{"stdout", func(b breakCase) [2]string { return b.stdout }},
	}
	var lines []string
	wantBad := map[int]string{} // line number → key the report must name
	add := func(s string) int { lines = append(lines, s); return len(lines) }
	for _, fm := range forms {
		good := g3LineOf(t, "tcp-finished", fm.format)
		add(good)
		for _, bc := range breaks {
			r := fm.pick(bc)
			if r[0] == "" {
				continue
			}
			if !strings.Contains(good, r[0]) {
				t.Fatalf("%s: %q not in %s line %q", bc.name, r[0], fm.format, good)
			}
			wantBad[add(strings.Replace(good, r[0], r[1], 1))] = bc.key
			add(good)
		}
		// A truncated line: cut in the middle of a value.
		cutAt := strings.Index(good, "2026-11-24T10:30:01.12") + 10
		wantBad[add(good[:cutAt])] = ""
	}
	// Escape and Resolve lines, good ones, in every form.
	for _, l := range g3Lines(t) {
		if (strings.HasPrefix(l.record, "escape-") || strings.HasPrefix(l.record, "resolve-")) && !strings.Contains(l.text, "\n") {
			add(l.text)
		}
	}
	path := writeFile(t, "broken.log", strings.Join(lines, "\n")+"\n")
	code, out, errOut := runCmd(t, "", "validate", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	got := map[int]string{}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:(\d+): (.*)$`)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("report line not FILE:LINE: ...: %q", l)
		}
		n, _ := strconv.Atoi(m[1])
		got[n] = m[2]
	}
	for n, key := range wantBad {
		report, ok := got[n]
		switch {
		case !ok:
			t.Errorf("line %d (%q…) not reported", n, lines[n-1][:60])
		case key != "" && !strings.HasPrefix(report, key+": ") && !strings.Contains(report, "; "+key+": "):
			t.Errorf("line %d: report %q does not name %s", n, report, key)
		}
	}
	for n, report := range got {
		if _, ok := wantBad[n]; !ok {
			t.Errorf("line %d reported but valid: %s", n, report)
		}
	}
	t.Logf("%d lines, %d broken, all and only those reported; summary: %s", len(lines), len(wantBad), strings.TrimSpace(errOut))
	for n, r := range got {
		if n < 12 {
			t.Logf("line %d: %s", n, r)
		}
	}
}

// TestValidateExitStatus: 0 valid, 1 invalid, 2 unreadable input.
func TestValidateExitStatus(t *testing.T) {
	good := g3LineOf(t, "tcp-finished", "rfc3164-cee") + "\n"
	if code, out, e := runCmd(t, good, "validate"); code != 0 {
		t.Errorf("valid input: exit %d\n%s%s", code, out, e)
	}
	if code, _, _ := runCmd(t, good+"{}\n", "validate", "-"); code != 1 {
		t.Errorf("invalid input: exit %d, want 1", code)
	}
	code, _, e := runCmd(t, "", "validate", filepath.Join(t.TempDir(), "absent.log"))
	if code != 2 || !strings.Contains(e, "absent.log") {
		t.Errorf("a file that does not exist: exit %d, want 2, stderr %q", code, e)
	}
	if code, _, e := runCmd(t, "", "validate", t.TempDir()); code != 2 || !strings.Contains(e, "directory") {
		t.Errorf("a directory: exit %d, want 2, stderr %q", code, e)
	}
	if code, _, _ := runCmd(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "", "validate", "-bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

// TestBadInputNeverPanics: binary garbage, a 10 MiB line, invalid UTF-8,
// truncated lines and a last line without a newline each get a message
// naming their line.
func TestBadInputNeverPanics(t *testing.T) {
	good := g3LineOf(t, "tcp-finished", "rfc3164-cee")
	json := good[strings.Index(good, "{"):]
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7919) ^ byte(i>>3)
		if garbage[i] == '\n' {
			garbage[i] = 0
		}
	}
	huge := `{"msg":"` + strings.Repeat("x", 10<<20) + `"}`
	cases := []struct{ name, line, want string }{
		{"binary garbage", string(garbage), "line: "},
		{"a 10 MiB line", huge, "line longer than 1 MiB"},
		{"invalid UTF-8 in a value", strings.Replace(json, `"alice"`, "\"al\xffice\"", 1), "user: not valid UTF-8"},
		{"invalid UTF-8 outside values", "\xff\xfe\xfd" + json, "binary data"},
		{"a truncated JSON line", json[:len(json)/2], "truncated line?"},
		{"a truncated text line", good[:len(good)-3], "line: "},
		{"a NUL", "\x00", "line: "},
		{"a nested value", `{"log_type":{"a":1}}`, "nested JSON value"},
		{"JSON and more", json + " trailing", "text after the JSON object"},
		{"a bad escape", `<29>Nov 24 10:30:04 g3proxy[4242]: m, user="a\q", log_type="Task"`, `unknown escape \q`},
	}
	for _, c := range cases {
		var in strings.Builder
		in.WriteString(good + "\n" + c.line + "\n" + good) // the last line without a newline
		code, out, e := runCmd(t, in.String(), "validate")
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s%s", c.name, code, out, e)
			continue
		}
		if !strings.HasPrefix(out, "-:2: ") || !strings.Contains(out, c.want) || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: report %q, want one line \"-:2: ...%s...\"", c.name, cutStr(out, 200), c.want)
		}
		if !strings.Contains(e, "3 records, 2 valid, 1 invalid") {
			t.Errorf("%s: summary %q", c.name, e)
		}
		for _, cmd := range []string{"stats", "tail"} {
			if code, _, e := runCmd(t, in.String(), cmd); code != 0 {
				t.Errorf("%s: %s exit %d: %s", c.name, cmd, code, e)
			}
		}
	}
}

func cutStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestStatsCountsExactly: stats -json counts every record and every
// reason exactly, over a file mixing forms.
func TestStatsCountsExactly(t *testing.T) {
	finished := g3LineOf(t, "tcp-finished", "rfc3164-cee")
	reasons := []string{"Finished", "ClosedByClient", "UpstreamNotConnected", "Idle", "UpstreamNotResolved", "ClientTcpReadFailed"}
	want := map[string]int{}
	var b strings.Builder
	records := 0
	for i := range 3000 {
		r := reasons[(i*i+3*i)%len(reasons)]
		b.WriteString(strings.Replace(finished, `"reason":"ClosedByClient"`, `"reason":"`+r+`"`, 1) + "\n")
		want[r]++
		records++
	}
	for _, l := range g3Lines(t) {
		if strings.Contains(l.text, "\n") {
			continue
		}
		b.WriteString(l.text + "\n")
		records++
		m := regexp.MustCompile(`reason(?:=|":|: )"?([A-Za-z]+)`).FindStringSubmatch(l.text)
		if m != nil {
			want[m[1]]++
		}
	}
	code, out, e := runCmd(t, b.String(), "stats", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	var got struct {
		Records  int            `json:"records"`
		ByReason map[string]int `json:"by_reason"`
		Times    map[string]struct {
			Count int    `json:"count"`
			P50   string `json:"p50"`
			Max   string `json:"max"`
		} `json:"times"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stats -json output is not JSON: %v\n%s", err, out)
	}
	if got.Records != records {
		t.Errorf("records %d, want %d", got.Records, records)
	}
	if fmt.Sprint(got.ByReason) != fmt.Sprint(want) {
		t.Errorf("by_reason\n got %v\nwant %v", got.ByReason, want)
	}
	if tt := got.Times["total_time"]; tt.Max != "2.346s" || tt.Count < 3000 {
		t.Errorf("total_time %+v", tt)
	}
}

// TestStatsText prints the tables, with hostile values quoted.
func TestStatsText(t *testing.T) {
	var b strings.Builder
	for _, l := range g3Lines(t) {
		if !strings.Contains(l.text, "\n") {
			b.WriteString(l.text + "\n")
		}
	}
	code, out, e := runCmd(t, b.String(), "stats")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	for _, want := range []string{"records", "ClosedByClient", "total_time", "p99", "example.com:443", "top failing upstreams"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats output lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.ContainsAny(l, "\x00\x01\r\x1b\x7f") {
			t.Errorf("a raw control character reached the table: %q", l)
		}
	}
}

func TestSketchQuantiles(t *testing.T) {
	var s sketch
	for i := 1; i <= 100000; i++ {
		s.add(timeDur(i) * 1000) // 1µs … 100ms, uniform
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := q * 100000 * 1000
		got := float64(s.quantile(q))
		if rel := (got - want) / want; rel < -0.01 || rel > 0.01 {
			t.Errorf("p%v = %v, want %v within 1%%", q*100, got, want)
		}
	}
	if s.max != 100000*1000 {
		t.Errorf("max %v", s.max)
	}
}

func TestTopKSpaceSaving(t *testing.T) {
	tk := newTopK(10)
	for i := range 10000 {
		tk.add("heavy")
		if i%2 == 0 {
			tk.add("medium")
		}
		tk.add("rare" + strconv.Itoa(i)) // 10000 distinct keys through 10 slots
	}
	top := tk.top(2)
	if top[0].key != "heavy" || top[1].key != "medium" || tk.exact() {
		t.Errorf("top %+v exact %v", top, tk.exact())
	}
	if top[0].count < 10000 || top[0].count-top[0].err > 10000 {
		t.Errorf("heavy counted %d (err %d), want a bound on 10000", top[0].count, top[0].err)
	}
	if len(tk.counts) != 10 || len(tk.heap) != 10 {
		t.Errorf("kept %d keys, want 10", len(tk.counts))
	}
	exact := newTopK(10)
	exact.add("a")
	exact.add("a")
	if !exact.exact() || !slices.Equal([]topEntry{{key: "a", count: 2}}, exact.top(-1)) {
		t.Errorf("%+v", exact.top(-1))
	}
}

func timeDur(i int) time.Duration { return time.Duration(i) }
