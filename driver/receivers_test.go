package driver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/nettest"
)

// needTool returns the path of a receiver's program, found in PATH or at
// one of the other places given, skipping the test when it is missing
// outside CI (.ci/run installs it). A test calls it before it creates
// anything, so that a skip leaves nothing behind.
func needTool(t *testing.T, name string, elsewhere ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range elsewhere {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs it", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// rsyslog runs rsyslogd in the foreground with a configuration of its own:
// a unix socket and a loopback UDP port, mmjsonparse for CEE bodies, and
// every message written as one JSON line of the properties it parsed.
type rsyslog struct {
	dir, sock, udp, out string
	cmd                 *exec.Cmd
}

func startRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	bin := needTool(t, "rsyslogd")
	dir := t.TempDir()
	r := &rsyslog{dir: dir, sock: filepath.Join(dir, "log.sock"), out: filepath.Join(dir, "out.json")}
	port := nettest.FreePort(t, "udp")
	r.udp = "127.0.0.1:" + strconv.Itoa(port)
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
module(load="mmjsonparse")
input(type="imudp" port="%d" address="127.0.0.1")
input(type="imuxsock" Socket=%q UseSpecialParser="off" ParseHostname="on")
template(name="t" type="list" option.jsonf="on") {
 property(outname="facility" name="syslogfacility" format="jsonf")
 property(outname="severity" name="syslogseverity" format="jsonf")
 property(outname="program" name="programname" format="jsonf")
 property(outname="pid" name="procid" format="jsonf")
 property(outname="sd" name="structured-data" format="jsonf")
 property(outname="msg" name="msg" format="jsonf")
 property(outname="cee" name="$!all-json" format="jsonf")
}
action(type="mmjsonparse")
action(type="omfile" file=%q template="t")
`, dir, port, r.sock, r.out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	r.cmd = exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "pid"))
	r.cmd.Stdout, r.cmd.Stderr = &stderr, &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd said: %s", stderr.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(r.sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// lines waits for n lines of output and returns them parsed.
func (r *rsyslog) lines(t *testing.T, n int) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(r.out)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var out []map[string]string
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("rsyslog output %s: %v", sc.Bytes(), err)
			}
			out = append(out, m)
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) != n {
				t.Fatalf("rsyslog wrote %d lines, want %d:\n%s", len(out), n, data)
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostileRecord is an HttpForward whose strings need every kind of
// escaping the formats have.
func hostileRecord() *tasklog.TaskLog {
	rec := record()
	rec.User = `b\o"b ] 'x'`
	rec.Detail = &tasklog.HTTPForward{
		TCPConnect: *rec.Detail.(*tasklog.TCPConnect),
		Method:     "GET", URI: "http://h.example/a?q=\"x\"&r=]", UserAgent: "curl/8 (日本; tab\there)",
		RspStatus: 200, OriginStatus: 502, ReuseConnection: true,
	}
	return rec
}

// wantValues returns what every key of rec must read as, in text: the
// values of tasklog's own JSON line, as strings.
func wantValues(t *testing.T, rec *tasklog.TaskLog) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	core := zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(&buf), zap.InfoLevel)
	zap.New(core).With(zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"), zap.Int("pid", 4242)).
		Info("m", tasklog.Field(rec))
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		if k != "msg" && k != "report_ts" {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// Every field of every record reaches rsyslog and parses, for RFC 3164
// and RFC 5424, text and CEE, over its unix socket and over UDP.
func TestRsyslogReceivesEveryField(t *testing.T) {
	r := startRsyslog(t)
	type variant struct {
		name string
		cfg  SyslogConfig
	}
	var variants []variant
	for _, tr := range []string{"unix", "udp"} {
		for _, f := range []struct {
			name     string
			rfc5424  bool
			cee      bool
			reportTS bool
		}{{"rfc3164-text", false, false, true}, {"rfc3164-cee", false, true, true}, {"rfc5424-sd", true, false, false}, {"rfc5424-cee", true, true, false}} {
			cfg := SyslogConfig{Ident: "g3proxy", RFC5424: f.rfc5424, CEE: f.cee, AppendReportTS: f.reportTS, EnterpriseID: 32473}
			if tr == "unix" {
				cfg.UnixPath = r.sock
			} else {
				cfg.UDPAddr = r.udp
			}
			variants = append(variants, variant{tr + "/" + f.name, cfg})
		}
	}
	recs := []*tasklog.TaskLog{record(), hostileRecord()}
	for vi, v := range variants {
		core, err := NewSyslog(v.cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			logRecord(t, core, "closed by client", rec)
		}
		core.Close()
		if s := core.Stats(); s.Passed != 2 {
			t.Fatalf("%s: stats %+v", v.name, s)
		}
		// rsyslogd reads its unix socket and its UDP port on threads of
		// their own: wait for each variant's lines, so that the output
		// keeps the order the checks below expect.
		r.lines(t, (vi+1)*len(recs))
	}
	got := r.lines(t, len(variants)*len(recs))
	i := 0
	for _, v := range variants {
		for _, rec := range recs {
			line := got[i]
			i++
			want := wantValues(t, rec)
			if line["facility"] != "3" || line["severity"] != "5" || line["program"] != "g3proxy" || line["pid"] != strconv.Itoa(os.Getpid()) {
				t.Errorf("%s: header fields %v", v.name, line)
			}
			var fields map[string]string
			var msg string
			switch {
			case v.cfg.CEE:
				fields, msg = parseCEE(t, line["cee"])
			case v.cfg.RFC5424:
				fields = parseSD(t, line["sd"], "g3proxy@32473")
				msg = unescapeDebug(line["msg"])
			default:
				fields, msg = parseText(t, line["msg"])
			}
			if v.cfg.AppendReportTS {
				if fields["report_ts"] != "1795516204" {
					t.Errorf("%s: report_ts %q", v.name, fields["report_ts"])
				}
				delete(fields, "report_ts")
			}
			if msg != "closed by client" {
				t.Errorf("%s: msg %q", v.name, msg)
			}
			for k, w := range want {
				if fields[k] != w {
					t.Errorf("%s: %s = %q, want %q", v.name, k, fields[k], w)
				}
			}
			for k := range fields {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: unexpected key %s = %q", v.name, k, fields[k])
				}
			}
		}
	}
}

func parseCEE(t *testing.T, s string) (map[string]string, string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("CEE body %s: %v", s, err)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	msg := out["msg"]
	delete(out, "msg")
	return out, msg
}

// parseText reads g3's text body: msg, then ", key=value" pairs with
// strings quoted in Rust's escape_debug.
func parseText(t *testing.T, s string) (map[string]string, string) {
	t.Helper()
	s = strings.TrimPrefix(s, " ")
	i := strings.Index(s, ", ")
	if i < 0 {
		t.Fatalf("text body without keys: %s", s)
	}
	msg, rest := unescapeDebug(s[:i]), s[i:]
	out := map[string]string{}
	for rest != "" {
		if !strings.HasPrefix(rest, ", ") {
			t.Fatalf("text body: expected ', ' at %q", rest)
		}
		rest = rest[2:]
		eq := strings.IndexByte(rest, '=')
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = quoted(t, rest[1:])
			val = unescapeDebug(val)
		} else if j := strings.Index(rest, ", "); j >= 0 {
			val, rest = rest[:j], rest[j:]
		} else {
			val, rest = rest, ""
		}
		out[key] = val
	}
	return out, msg
}

// quoted returns the escaped text up to the closing quote, and the rest.
func quoted(t *testing.T, s string) (string, string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i], s[i+1:]
		}
	}
	t.Fatalf("unterminated string: %s", s)
	return "", ""
}

// parseSD reads [id key="value" ...].
func parseSD(t *testing.T, s, id string) map[string]string {
	t.Helper()
	if !strings.HasPrefix(s, "["+id+" ") || !strings.HasSuffix(s, "]") {
		t.Fatalf("structured data %s", s)
	}
	rest := s[len(id)+2 : len(s)-1]
	out := map[string]string{}
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		key := rest[:eq]
		var val string
		val, rest = quoted(t, rest[eq+2:])
		out[key] = unescapeDebug(strings.ReplaceAll(val, `\]`, "]"))
		rest = strings.TrimPrefix(rest, " ")
	}
	return out
}

// unescapeDebug undoes Rust's escape_debug.
func unescapeDebug(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case '0':
			b.WriteByte(0)
		case 'u':
			end := strings.IndexByte(s[i:], '}')
			n, _ := strconv.ParseUint(s[i+2:i+end], 16, 32)
			b.WriteRune(rune(n))
			i += end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
