package tasklog

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestEncoderConfigShape(t *testing.T) {
	logger, buf := newTestLogger(nil)
	logger.With(LoggerFields("g3proxy")...).Warn("m", zap.Duration("d", 1500*time.Microsecond), Field(minimalRecord()))
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(buf.String()), &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"report_ts": "1795516204", "msg": `"m"`, "daemon_name": `"g3proxy"`, "log_type": `"Task"`,
		"pid": strconvItoa(os.Getpid()), "d": `"1.500ms"`,
	} {
		if got := string(m[key]); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
	for _, key := range []string{"level", "L", "logger", "caller", "stacktrace", "ts"} {
		if _, ok := m[key]; ok {
			t.Errorf("key %q written; g3 lines have none", key)
		}
	}
	if !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("want one line per entry, got %q", buf.String())
	}
}

func TestLoggerFields(t *testing.T) {
	keys := func(fs []zap.Field) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Key)
		}
		return out
	}
	// g3's order (log/task/mod.rs): daemon_name, log_type, pid; an empty
	// daemon name is still written, as g3 does.
	for _, name := range []string{"", "d"} {
		if got, want := keys(LoggerFields(name)), []string{"daemon_name", "log_type", "pid"}; !reflect.DeepEqual(got, want) {
			t.Errorf("LoggerFields(%q) keys = %v, want %v", name, got, want)
		}
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range LoggerFields(name) {
			f.AddTo(enc)
		}
		if enc.Fields["daemon_name"] != name || enc.Fields["pid"] != uint32(os.Getpid()) || enc.Fields["log_type"] != "Task" {
			t.Errorf("LoggerFields(%q) values = %v", name, enc.Fields)
		}
	}
	if got, want := keys(LoggerFieldsNoDaemonName()), []string{"log_type", "pid"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LoggerFieldsNoDaemonName() keys = %v, want %v", got, want)
	}
}

func strconvItoa(n int) string { b, _ := json.Marshal(n); return string(b) }
