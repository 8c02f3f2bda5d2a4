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
	if got, want := keys(LoggerFields("")), []string{"pid", "log_type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LoggerFields(\"\") keys = %v, want %v", got, want)
	}
	if got, want := keys(LoggerFields("d")), []string{"daemon_name", "pid", "log_type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LoggerFields(d) keys = %v, want %v", got, want)
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range LoggerFields("d") {
		f.AddTo(enc)
	}
	if enc.Fields["pid"] != int64(os.Getpid()) || enc.Fields["log_type"] != "Task" {
		t.Errorf("LoggerFields values = %v", enc.Fields)
	}
}

func strconvItoa(n int) string { b, _ := json.Marshal(n); return string(b) }
