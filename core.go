package tasklog

import (
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewCore returns a zapcore.Core that encodes entries with [NewEncoder]'s
// encoder and writes each line straight to ws, without copying it into a
// second buffer as zapcore.NewCore does. It keeps everything a core does:
// level checks (enab), With, Check, Sync, so it works under a sampler,
// hooks and a tee. Like zapcore.NewCore it serializes nothing: ws must be
// safe for concurrent writes (zapcore.Lock makes it so), and each Write is
// one ws.Write of one whole line.
func NewCore(cfg zapcore.EncoderConfig, ws zapcore.WriteSyncer, enab zapcore.LevelEnabler) zapcore.Core {
	return &ioCore{LevelEnabler: enab, enc: NewEncoder(cfg).(*jsonEncoder), out: ws}
}

type ioCore struct {
	zapcore.LevelEnabler
	enc *jsonEncoder
	out zapcore.WriteSyncer
}

// Level reports the minimum enabled level, for zapcore.LevelOf.
func (c *ioCore) Level() zapcore.Level { return zapcore.LevelOf(c.LevelEnabler) }

func (c *ioCore) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone().(*jsonEncoder)
	for i := range fields {
		fields[i].AddTo(enc)
	}
	return &ioCore{LevelEnabler: c.LevelEnabler, enc: enc, out: c.out}
}

func (c *ioCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c *ioCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	f, start := c.enc.encodeLine(ent, fields)
	_, err := c.out.Write(f.bs[start:])
	putEncoder(f)
	if ent.Level > zapcore.ErrorLevel {
		// Panic and fatal entries end the program: flush, as zap's core does.
		_ = c.out.Sync()
	}
	return err
}

func (c *ioCore) Sync() error { return c.out.Sync() }

// fieldSlots holds one-field slices for Log: a slice passed to
// CheckedEntry.Write escapes through the Core interface, so a pooled one
// costs no allocation where a fresh one costs 64 bytes.
var fieldSlots = sync.Pool{New: func() any { return new([1]zap.Field) }}

// Log writes rec as one entry at lvl with message msg, like
// l.Log(lvl, msg, Field(rec)) but without the allocation of the variadic
// field slice: with [NewCore] (or any core that does not keep fields), it
// allocates nothing. It checks the level first, so a disabled level costs
// only the check.
//
// Log calls l.Check itself, one frame below its caller: a logger that
// annotates callers (zap.AddCaller) should be built with
// zap.AddCallerSkip(1) to name Log's caller. The core must not keep the
// field slice after Write returns (zaptest/observer keeps fields and their
// values, and works: the slot's content is copied before reuse).
func Log(l *zap.Logger, lvl zapcore.Level, msg string, rec *TaskLog) {
	ce := l.Check(lvl, msg)
	if ce == nil {
		return
	}
	slot := fieldSlots.Get().(*[1]zap.Field)
	slot[0] = Field(rec)
	ce.Write(slot[:]...)
	slot[0] = zap.Field{}
	fieldSlots.Put(slot)
}
