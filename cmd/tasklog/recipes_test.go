package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// The recipes under docs/recipes run here with the real programs, fed the
// bytes g3's own formatters write (driver/testdata/g3bytes, generated from
// bytedance/g3 at 7d237e22): 11 records, ordinary and hostile, in 8
// syslog configurations. What each program does to them is asserted, and
// what it changes is what the recipes' comments and the README say.

// needTool finds a program on PATH or at the path in envVar; without it
// the test skips (and fails in CI, where .ci/run installs it).
func needTool(t *testing.T, name, envVar string) string {
	t.Helper()
	if envVar != "" {
		if p := os.Getenv(envVar); p != "" {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 { // not /dev/null bound over it
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs it", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

type g3Datagram struct {
	record, format, logType string
	b                       []byte
}

func g3Datagrams(t *testing.T) []g3Datagram {
	var out []g3Datagram
	for _, l := range g3Lines(t) {
		if l.format == "stdout" {
			continue
		}
		lt := "Task"
		switch {
		case strings.HasPrefix(l.record, "escape-"):
			lt = "Escape"
		case strings.HasPrefix(l.record, "resolve-"):
			lt = "Resolve"
		}
		out = append(out, g3Datagram{l.record, l.format, lt, []byte(l.text)})
	}
	if len(out) != 88 {
		t.Fatalf("%d syslog datagrams, want 88", len(out))
	}
	return out
}

// wantReasons counts the reasons of the datagrams' records.
func wantReasons(dgs []g3Datagram) map[string]int {
	re := regexp.MustCompile(`[ ,{]"?reason(?:=|":)"([A-Za-z]+)"`)
	out := map[string]int{}
	for _, d := range dgs {
		if m := re.FindSubmatch(d.b); m != nil {
			out[string(m[1])]++
		}
	}
	return out
}

// sendDatagrams sends RFC 3164 messages to the unix datagram socket and
// RFC 5424 ones to the UDP port, as g3proxy's syslog driver does to each.
func sendDatagrams(t *testing.T, unixPath string, udpPort int, dgs []g3Datagram) {
	t.Helper()
	ux, err := net.Dial("unixgram", unixPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ux.Close()
	ud, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(udpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ud.Close()
	for _, d := range dgs {
		c := ux
		if strings.HasPrefix(d.format, "rfc5424") {
			c = ud
		}
		if _, err := c.Write(d.b); err != nil {
			t.Fatalf("%s %s: %v", d.record, d.format, err)
		}
		time.Sleep(time.Millisecond) // UDP on loopback: no burst beyond the receiver's buffer
	}
}

// waitFiles waits until the files in dir hold want lines in all, and
// returns each file's lines.
func waitFiles(t *testing.T, dir string, want int) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		files := map[string][]string{}
		total := 0
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if len(b) == 0 {
				continue
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			files[e.Name()] = lines
			total += len(lines)
		}
		if total >= want || time.Now().After(deadline) {
			if total != want {
				t.Fatalf("%d lines written, want %d: %v", total, want, fileCounts(files))
			}
			return files
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileCounts(files map[string][]string) string {
	var parts []string
	for n, l := range files {
		parts = append(parts, fmt.Sprintf("%s:%d", n, len(l)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// startDaemon runs a receiver in the foreground until the test ends, and
// waits for its unix socket.
func startDaemon(t *testing.T, sock string, cmd *exec.Cmd) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s said: %s", filepath.Base(cmd.Path), out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %s", cmd.Path, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recipe reads a recipe with its G3LOGDIR set to dir.
func recipe(t *testing.T, path, dir string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("G3LOGDIR")) {
		t.Fatalf("%s has no G3LOGDIR", path)
	}
	return strings.ReplaceAll(string(b), "G3LOGDIR", dir)
}

// validateFiles runs "tasklog validate" over files in dir.
func validateFiles(t *testing.T, dir string, names ...string) (int, string, string) {
	t.Helper()
	args := []string{"validate"}
	for _, n := range names {
		args = append(args, filepath.Join(dir, n))
	}
	return runCmd(t, "", args...)
}

// statsReasons runs "tasklog stats -json" over files and returns its
// records and reasons.
func statsReasons(t *testing.T, files ...string) (int, map[string]int) {
	t.Helper()
	code, out, e := runCmd(t, "", append([]string{"stats", "-json"}, files...)...)
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, e)
	}
	var s struct {
		Records  int            `json:"records"`
		ByReason map[string]int `json:"by_reason"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s.Records, s.ByReason
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// tasklogBinary builds this command once, for the recipes' shell script.
func tasklogBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tasklog-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "tasklog")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// checkLogs runs docs/recipes/check-logs.sh over dir, as an operator's
// pipeline would, and returns its exit status and the records stats
// counted.
func checkLogs(t *testing.T, dir string) (int, int, string) {
	t.Helper()
	cmd := exec.Command("sh", "../../docs/recipes/check-logs.sh", dir)
	cmd.Env = append(os.Environ(), "TASKLOG="+tasklogBinary(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Records int `json:"records"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("check-logs.sh printed no stats: %v\n%s%s", err, out, stderr.String())
	}
	return code, s.Records, stderr.String()
}

func keys(files map[string][]string) []string {
	var out []string
	for k := range files {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRsyslogRecipe: docs/recipes/rsyslog/g3proxy.conf routes every g3
// message by log_type, and every file it writes passes validate; stats
// over them counts every record and reason.
func TestRsyslogRecipe(t *testing.T) {
	bin := needTool(t, "rsyslogd", "")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	sock := filepath.Join(dir, "log.sock")
	port := nettest.FreePort(t, "udp")
	if err := os.WriteFile(filepath.Join(dir, "g3proxy.conf"), []byte(recipe(t, "../../docs/recipes/rsyslog/g3proxy.conf", out)), 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" port="%d" address="127.0.0.1" ruleset="g3proxy")
input(type="imuxsock" Socket=%q UseSpecialParser="off" ParseHostname="on" ruleset="g3proxy")
include(file=%q)
`, dir, port, sock, filepath.Join(dir, "g3proxy.conf"))
	conf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(conf, []byte(main), 0o644)
	startDaemon(t, sock, exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "pid")))

	dgs := g3Datagrams(t)
	sendDatagrams(t, sock, port, dgs)
	files := waitFiles(t, out, len(dgs))

	// Where each message went: CEE with the default @cee: flag is parsed
	// and written as JSON by log type; g3's flag set to something else
	// (here @json:) is not parsed and goes to other*.log as it came.
	want := map[string]int{}
	for _, d := range dgs {
		lt := strings.ToLower(d.logType)
		switch {
		case strings.Contains(d.format, "-flag-"):
			if strings.HasPrefix(d.format, "rfc5424") {
				want["other-5424.log"]++
			} else {
				want["other.log"]++
			}
		case strings.Contains(d.format, "cee"):
			want[lt+".json"]++
		case strings.HasPrefix(d.format, "rfc5424"):
			want[lt+"-5424.log"]++
		default:
			want[lt+".log"]++
		}
	}
	got := map[string]int{}
	for n, l := range files {
		got[n] = len(l)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files\n got %v\nwant %v", got, want)
	}
	code, vout, verr := validateFiles(t, out, keys(files)...)
	if code != 0 {
		t.Errorf("validate over rsyslog's files: exit %d\n%s%s", code, vout, verr)
	}
	var paths []string
	for _, n := range keys(files) {
		paths = append(paths, filepath.Join(out, n))
	}
	records, reasons := statsReasons(t, paths...)
	if records != len(dgs) || fmt.Sprint(reasons) != fmt.Sprint(wantReasons(dgs)) {
		t.Errorf("stats: %d records, reasons %v; want %d, %v", records, reasons, len(dgs), wantReasons(dgs))
	}
	// What rsyslog changes (the recipe says so): json-c holds integers as
	// int64, so u64 counters above 2^63-1 are clamped, and it cuts a
	// string at an escaped NUL (\u0000).
	hostile := ""
	for _, l := range files["task.json"] {
		if strings.Contains(l, `"UpstreamReadFailed"`) {
			hostile = l
		}
	}
	if !strings.Contains(hostile, `"c_rd_bytes": 9223372036854775807`) || !strings.Contains(hostile, `"user_agent": "q\"b\\s]e=a'p"`) {
		t.Errorf("rsyslog no longer clamps u64 or cuts at NUL (update the recipe's notes):\n%s", hostile)
	}
	if code, n, e := checkLogs(t, out); code != 0 || n != len(dgs) {
		t.Errorf("check-logs.sh: exit %d, %d records; want 0, %d\n%s", code, n, len(dgs), e)
	}
	t.Logf("rsyslog wrote %s; all valid", fileCounts(files))
}

// syslogNg returns the syslog-ng binary and the arguments it needs: a
// module path when it is not installed (.ci/run unpacks Debian's
// syslog-ng-core beside rsyslog, which it conflicts with as a package).
func syslogNg(t *testing.T) (string, []string, []string) {
	bin := needTool(t, "syslog-ng", "TASKLOG_SYSLOG_NG")
	root := filepath.Dir(filepath.Dir(filepath.Dir(bin))) // .../usr/sbin/syslog-ng → ...
	lib := filepath.Join(root, "usr", "lib", "syslog-ng")
	if _, err := os.Stat(filepath.Join(lib, "libsyslog-ng-3.38.so.0")); err == nil && os.Getenv("TASKLOG_SYSLOG_NG") != "" {
		mods, _ := filepath.Glob(filepath.Join(lib, "3.*"))
		return bin, []string{"--module-path=" + strings.Join(mods, ":")}, []string{"LD_LIBRARY_PATH=" + lib}
	}
	return bin, nil, nil
}

// runSyslogNg runs syslog-ng in dir with configuration conf until the
// test ends, once the socket ready exists (its control socket will do).
func runSyslogNg(t *testing.T, dir, conf, ready string) {
	t.Helper()
	bin, args, env := syslogNg(t)
	path := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"-F", "-f", path, "--persist-file=" + filepath.Join(dir, "persist"),
		"--pidfile=" + filepath.Join(dir, "pid"), "--control=" + filepath.Join(dir, "ctl")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	startDaemon(t, ready, cmd)
}

// TestSyslogNgRecipe: docs/recipes/syslog-ng/g3proxy.conf routes g3's
// messages by log_type. syslog-ng refuses g3's RFC 5424 CEE messages
// (g3 writes @cee: where the structured data goes): each becomes
// syslog-ng's own "Error processing log message" in other.log, which
// validate reports; every other file passes.
func TestSyslogNgRecipe(t *testing.T) {
	syslogNg(t) // skips, before anything is created, when syslog-ng is missing
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	sock := filepath.Join(dir, "log.sock")
	port := nettest.FreePort(t, "udp")
	os.WriteFile(filepath.Join(dir, "g3proxy.conf"), []byte(recipe(t, "../../docs/recipes/syslog-ng/g3proxy.conf", out)), 0o644)
	main := fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); use-dns(no); dns-cache(no); };
source s_g3proxy {
  unix-dgram(%q);
  syslog(transport("udp") ip("127.0.0.1") port(%d));
};
@include %q
`, sock, port, filepath.Join(dir, "g3proxy.conf"))
	runSyslogNg(t, dir, main, sock)

	dgs := g3Datagrams(t)
	sendDatagrams(t, sock, port, dgs)
	files := waitFiles(t, out, len(dgs))

	want := map[string]int{}
	refused := 0
	for _, d := range dgs {
		lt := strings.ToLower(d.logType)
		switch {
		case strings.HasPrefix(d.format, "rfc5424") && strings.Contains(d.format, "cee"):
			want["other.log"]++
			refused++
		case strings.Contains(d.format, "-flag-"): // @json: is not the parser's marker
			want["other.log"]++
		case strings.HasPrefix(d.format, "rfc5424"):
			want[lt+"-5424.log"]++
		default:
			want[lt+".log"]++
		}
	}
	got := map[string]int{}
	for n, l := range files {
		got[n] = len(l)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files\n got %v\nwant %v", got, want)
	}
	var routed []string
	for _, n := range keys(files) {
		if n != "other.log" {
			routed = append(routed, n)
		}
	}
	if code, vout, verr := validateFiles(t, out, routed...); code != 0 {
		t.Errorf("validate over syslog-ng's routed files: exit %d\n%s%s", code, vout, verr)
	}
	code, vout, _ := validateFiles(t, out, "other.log")
	if code != 1 || strings.Count(vout, "\n") != refused {
		t.Errorf("other.log: exit %d, %d lines reported, want 1 and the %d refused RFC 5424 CEE messages:\n%s", code, strings.Count(vout, "\n"), refused, vout)
	}
	for _, l := range files["other.log"] {
		if strings.Contains(l, "Error processing log message") && !strings.Contains(l, "@cee:{") && !strings.Contains(l, "@json:{") {
			t.Errorf("syslog-ng refused something else than g3's RFC 5424 CEE: %s", l)
		}
	}
	// syslog-ng's RFC 5424 parser keeps g3's Rust escapes as text: the
	// re-written structured data escapes their backslashes.
	if sd := strings.Join(files["task-5424.log"], "\n"); !strings.Contains(sd, `a\\'p\\0\\u{1}`) {
		t.Errorf("syslog-ng no longer keeps Rust escapes as text (update the recipe's notes)")
	}
	if code, n, e := checkLogs(t, out); code != 1 || n != len(dgs) || strings.Count(e, "other.log:") != refused {
		t.Errorf("check-logs.sh: exit %d, %d records; want 1 (the refused messages), %d\n%s", code, n, len(dgs), e)
	}
	t.Logf("syslog-ng wrote %s; %d RFC 5424 CEE messages refused", fileCounts(files), refused)
}

// TestLnavRecipe: lnav, with the formats of docs/recipes/lnav, reads
// tasklog's JSON lines and g3's syslog lines; its count of records by
// reason, run headless, equals "tasklog stats".
func TestLnavRecipe(t *testing.T) {
	bin := needTool(t, "lnav", "")
	dir := t.TempDir()
	// JSON lines with report_ts (g3's CEE bodies with append_report_ts,
	// the form tasklog's JSON line has), reasons varied over 600 records.
	var js, sys strings.Builder
	reasons := []string{"Finished", "ClosedByClient", "UpstreamNotConnected", "Idle", "UpstreamNotResolved"}
	n := 0
	for _, l := range g3Lines(t) {
		switch l.format {
		case "rfc3164-cee-flag-report_ts":
			body := l.text[strings.Index(l.text, "{"):]
			if strings.Contains(body, `"reason":"ClosedByClient"`) {
				for i := range 600 {
					js.WriteString(strings.Replace(body, `"reason":"ClosedByClient"`, `"reason":"`+reasons[i*7%len(reasons)]+`"`, 1) + "\n")
				}
			}
			js.WriteString(body + "\n")
		case "rfc3164", "rfc3164-cee":
			// As rsyslog's file format writes them.
			body := l.text[strings.Index(l.text, "g3proxy[4242]: "):]
			fmt.Fprintf(&sys, "2026-11-24T10:30:%02d.987654+00:00 host1 %s\n", n%60, body)
			n++
		}
	}
	jsonPath, sysPath := filepath.Join(dir, "task.json"), filepath.Join(dir, "g3proxy.log")
	os.WriteFile(jsonPath, []byte(js.String()), 0o644)
	os.WriteFile(sysPath, []byte(sys.String()), 0o644)

	home := t.TempDir() // lnav keeps its own state under HOME
	cmd := exec.Command(bin, "-n", "-I", "../../docs/recipes/lnav",
		"-c", ";SELECT reason, count(*) AS n FROM (SELECT reason FROM g3proxy_json UNION ALL SELECT reason FROM g3proxy_syslog) WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason",
		"-c", ":write-csv-to -", jsonPath, sysPath)
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=dumb")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("lnav: %v\n%s%s", err, outb, stderr.String())
	}
	got := map[string]int{}
	for i, l := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		if i == 0 {
			if l != "reason,n" {
				t.Fatalf("lnav's CSV header %q:\n%s%s", l, outb, stderr.String())
			}
			continue
		}
		k, v, _ := strings.Cut(l, ",")
		got[k], _ = strconv.Atoi(v)
	}
	// lnav 0.11 leaves out a JSON line holding an integer above 2^63-1
	// (yajl's int64): g3's hostile records have u64::MAX counters. The
	// recipe's notes say so; stats is compared without that line.
	var kept []string
	dropped := 0
	for _, l := range strings.SplitAfter(js.String(), "\n") {
		if strings.Contains(l, "18446744073709551615") {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	keptPath := filepath.Join(dir, "kept.json")
	os.WriteFile(keptPath, []byte(strings.Join(kept, "")), 0o644)
	if dropped == 0 {
		t.Fatal("no JSON line with u64::MAX: the golden set lost its hostile counters")
	}
	records, want := statsReasons(t, keptPath, sysPath)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lnav's count by reason\n got %v\nwant %v (tasklog stats, without the u64::MAX line)", got, want)
	}
	total := 0
	for _, v := range want {
		total += v
	}
	if total < 600 || records < 600 {
		t.Errorf("only %d reasons over %d records", total, records)
	}
	t.Logf("lnav and tasklog stats agree on %d records with a reason: %v", total, got)
}

// TestSyslogNgReadsStrictRFC5424: g3's RFC 5424 bytes are refused by a
// strict parser (CEE) or lose their escapes (structured data); with the
// syslog driver's RFC5424Strict (rfc5424_strict: true, tasklog's
// extension) syslog-ng parses every record, CEE and structured data, and
// every key arrives with the value tasklog's JSON line has, hostile
// values (quotes, backslashes, ']', a newline, control characters,
// Unicode marks) included.
func TestSyslogNgReadsStrictRFC5424(t *testing.T) {
	syslogNg(t) // skips, before anything is created, when syslog-ng is missing
	dir := t.TempDir()
	port := nettest.FreePort(t, "udp")
	out := filepath.Join(dir, "out.json")
	conf := fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); use-dns(no); dns-cache(no); };
source s { syslog(transport("udp") ip("127.0.0.1") port(%d)); };
parser p { json-parser(marker("@cee:") prefix(".g3.")); };
destination d { file(%q template("$(format-json --scope none --key .SDATA.* --key .g3.* --pair MSG=$MSG)\n")); };
log { source(s); junction { channel { parser(p); flags(final); }; channel { flags(final); }; }; destination(d); };
`, port, out)
	runSyslogNg(t, dir, conf, filepath.Join(dir, "ctl"))

	// What every key must read as: tasklog's own JSON line.
	var want bytes.Buffer
	driverRecords(zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(&want), zap.InfoLevel), true)
	var wantRecs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(want.String(), "\n"), "\n") {
		m := map[string]any{}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber() // u64 counters exactly
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "report_ts")
		wantRecs = append(wantRecs, m)
	}
	for _, cee := range []bool{false, true} {
		core, err := driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UDPAddr: "127.0.0.1:" + strconv.Itoa(port),
			RFC5424: true, RFC5424Strict: true, CEE: cee}, driver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		driverRecords(core, true)
		core.Close()
		if s := core.Stats(); s.Passed != uint64(len(wantRecs)) {
			t.Fatalf("CEE %v: the driver passed %d of %d records: %+v", cee, s.Passed, len(wantRecs), s)
		}
	}
	var lines []string
	deadline := time.Now().Add(10 * time.Second)
	for len(lines) < 2*len(wantRecs) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		b, _ := os.ReadFile(out)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	if len(lines) != 2*len(wantRecs) {
		t.Fatalf("syslog-ng wrote %d records, want %d:\n%s", len(lines), 2*len(wantRecs), strings.Join(lines, "\n"))
	}
	keysChecked := 0
	for i, l := range lines {
		var got struct {
			SDATA map[string]map[string]string `json:"_SDATA"`
			G3    map[string]string            `json:"_g3"`
			MSG   string
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("syslog-ng line %d: %v\n%s", i, err, l)
		}
		w := maps.Clone(wantRecs[i%len(wantRecs)])
		kv := got.G3
		if i < len(wantRecs) { // structured data: the keys in SDATA, the message as MSG
			kv = got.SDATA["g3proxy@0"]
			if got.MSG != w["msg"] {
				t.Errorf("record %d: MSG %q, want %q", i, got.MSG, w["msg"])
			}
			delete(w, "msg")
		} else if !strings.HasPrefix(got.MSG, "@cee:{") {
			t.Errorf("record %d: CEE body not parsed: %s", i, l)
		}
		if len(kv) != len(w) {
			t.Errorf("record %d: %d keys arrived, want %d\n got %v\nwant %v", i, len(kv), len(w), kv, w)
		}
		for k, v := range w {
			var ws string
			switch v := v.(type) {
			case string:
				ws = v
			default: // json.Number, bool
				ws = fmt.Sprint(v)
			}
			if kv[k] != ws {
				t.Errorf("record %d, %s: syslog-ng read %q, want %q", i, k, kv[k], ws)
			}
			keysChecked++
		}
	}
	t.Logf("syslog-ng parsed %d strict RFC 5424 records (SD and CEE), %d keys equal", len(lines), keysChecked)
}
