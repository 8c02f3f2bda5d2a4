package tasklog

import (
	"bytes"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type syncCounter struct {
	bytes.Buffer
	syncs int
}

func (s *syncCounter) Sync() error { s.syncs++; return nil }

// NewCore writes exactly the lines zapcore.NewCore writes with the same
// encoder, honours the level, With and Sync.
func TestNewCoreMatchesZapCore(t *testing.T) {
	recs := []*TaskLog{tcpConnectRecord(), httpForwardRecord(), ftpOverHTTPRecord(), udpAssociateRecord(), udpConnectRecord(), minimalRecord()}
	var ours, theirs syncCounter
	a := zap.New(NewCore(EncoderConfig(), &ours, zap.InfoLevel), zap.WithClock(fixedClock{})).With(LoggerFields("d")...)
	b := zap.New(zapcore.NewCore(NewEncoder(EncoderConfig()), zapcore.AddSync(&theirs.Buffer), zap.InfoLevel), zap.WithClock(fixedClock{})).With(LoggerFields("d")...)
	for _, rec := range recs {
		for _, l := range []*zap.Logger{a, b} {
			l.Info(rec.Reason.Text(), Field(rec))
			l.Debug("below the level", Field(rec))
			Log(l, zap.InfoLevel, "via Log", rec)
			l.Warn("plain", zap.Int("n", 1), Object("task", rec))
		}
	}
	if ours.String() != theirs.String() {
		t.Errorf("NewCore wrote\n%s\nzapcore.NewCore wrote\n%s", ours.String(), theirs.String())
	}
	if err := a.Sync(); err != nil || ours.syncs != 1 {
		t.Errorf("Sync: %v, %d syncs", err, ours.syncs)
	}
	if !a.Core().Enabled(zap.InfoLevel) || a.Core().Enabled(zap.DebugLevel) {
		t.Error("level not honoured")
	}
}

// Log through NewCore allocates nothing: not the variadic slice, not the
// line's copy.
func TestLogAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rec := httpForwardRecord()
	l := zap.New(NewCore(EncoderConfig(), zapcore.AddSync(discardWriter{}), zap.InfoLevel))
	if n := testing.AllocsPerRun(1000, func() { Log(l, zap.InfoLevel, "finished", rec) }); n != 0 {
		t.Errorf("Log allocates %.1f times per record, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { Log(l, zap.DebugLevel, "finished", rec) }); n != 0 {
		t.Errorf("Log below the level allocates %.1f", n)
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// Log works with a core that keeps entries: each keeps its own record.
func TestLogWithObserver(t *testing.T) {
	logger, logs := observed()
	a, b := tcpConnectRecord(), udpConnectRecord()
	Log(logger, zap.InfoLevel, "one", a)
	Log(logger, zap.InfoLevel, "two", b)
	all := logs.All()
	if len(all) != 2 || all[0].ContextMap()["task_type"] != "TcpConnect" || all[1].ContextMap()["task_type"] != "UdpConnect" {
		t.Errorf("observed %v", all)
	}
}
