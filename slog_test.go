package tasklog

import (
	"bytes"
	"log/slog"
	"reflect"
	"testing"
)

// slogMap logs rec through slog's JSON handler and returns the keys,
// without slog's own time, level and msg.
func slogMap(t *testing.T, rec *TaskLog) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
			return slog.Attr{}
		}
		return a
	}})
	slog.New(h).Info("m", slog.Any("", rec))
	return decode(t, buf.String())
}

func TestLogValueMatchesZap(t *testing.T) {
	bad := tcpConnectRecord()
	bad.Stage, bad.User = 99, "\xff"
	for _, rec := range []*TaskLog{tcpConnectRecord(), httpForwardRecord(), ftpOverHTTPRecord(),
		udpAssociateRecord(), udpConnectRecord(), minimalRecord(), bad, {}, nil} {
		zapKeys := decode(t, logLine(t, "m", Field(rec)))
		delete(zapKeys, "report_ts")
		delete(zapKeys, "msg")
		slogKeys := slogMap(t, rec)
		if !reflect.DeepEqual(zapKeys, slogKeys) {
			t.Errorf("slog and zap differ\n slog %v\n  zap %v", slogKeys, zapKeys)
		}
	}
}
