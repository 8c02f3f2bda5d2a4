package driver

import (
	"io"
	"sync"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// CEEConfig configures the JSON lines of [NewCEE] and [NewCEECore].
type CEEConfig struct {
	// AppendReportTS adds report_ts (the entry's unix seconds) before msg,
	// as g3's append_report_ts does.
	AppendReportTS bool
}

// NewCEE returns a Core that writes to w (a nil w is os.Stdout), one per
// line, the JSON object g3proxy's syslog driver sends after "@cee:", byte
// for byte: the keys in g3's order (see the package doc), unset ones left
// out, then report_ts when asked, then msg, escaped as serde_json
// escapes. It delivers through the queue, as the other drivers; for a
// core that writes on the logging goroutine, as tasklog.NewCore does, see
// [NewCEECore]. tasklog.NewCore with tasklog.EncoderConfig writes the
// same lines for task, escape and resolve records.
func NewCEE(w io.Writer, cfg CEEConfig, opts Options) *Core {
	if w == nil {
		w = osStdout
	}
	return newCore("cee", newCEEFormatter(cfg.AppendReportTS, true), opts, newWriterSinks(w))
}

// ceeFormatter writes NewEncoder's lines, which are g3's CEE bodies: with
// report_ts as the time key when g3 appends it.
type ceeFormatter struct{ jsonFormatter }

func newCEEFormatter(reportTS, newline bool) *ceeFormatter {
	cfg := tasklog.EncoderConfig()
	if !reportTS {
		cfg.TimeKey = ""
	}
	cfg.SkipLineEnding = !newline
	return &ceeFormatter{*newJSONFormatter(cfg)}
}

func (f *ceeFormatter) with(fields []zapcore.Field) formatter {
	return &ceeFormatter{*f.jsonFormatter.with(fields).(*jsonFormatter)}
}

// NewCEECore returns a zapcore.Core that writes NewCEE's lines to w on the
// logging goroutine, with no queue, as tasklog.NewCore does: a slow w
// slows the logger, and a write error is Write's error. It syncs w after
// an entry above ErrorLevel, as zapcore.NewCore does.
func NewCEECore(w zapcore.WriteSyncer, cfg CEEConfig, level zapcore.LevelEnabler) zapcore.Core {
	return &ceeCore{LevelEnabler: level, f: newCEEFormatter(cfg.AppendReportTS, true), w: w}
}

type ceeCore struct {
	zapcore.LevelEnabler
	f *ceeFormatter
	w zapcore.WriteSyncer
}

var ceeLines = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (c *ceeCore) With(fields []zapcore.Field) zapcore.Core {
	return &ceeCore{LevelEnabler: c.LevelEnabler, f: c.f.with(fields).(*ceeFormatter), w: c.w}
}

func (c *ceeCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c *ceeCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	bp := ceeLines.Get().(*[]byte)
	line, _ := c.f.format((*bp)[:0], ent, fields) // a ceeFormatter cannot fail
	_, err := c.w.Write(line)
	if cap(line) <= 64<<10 {
		*bp = line
		ceeLines.Put(bp)
	}
	if err != nil {
		return err
	}
	if ent.Level > zapcore.ErrorLevel {
		return c.w.Sync()
	}
	return nil
}

func (c *ceeCore) Sync() error { return c.w.Sync() }
