package tasklog

import (
	"time"

	"go.uber.org/zap/zapcore"
)

// EncoderConfig returns a zap encoder configuration shaped like the body of
// g3proxy's JSON log lines (its syslog CEE and fluentd drivers): the message
// under "msg", the entry time under "report_ts" as integer unix seconds, no
// level, logger name, caller or stack trace keys, and one entry per line.
// Durations logged with zap.Duration print in g3's form ("12.346ms") too.
// Use it with [NewEncoder] (zapcore.NewJSONEncoder writes the same lines,
// more slowly), and add [LoggerFields] to the logger. g3 writes report_ts
// only when its log driver is told to; set TimeKey to "" to leave it out.
//
// Each call returns a new value that the caller may change.
func EncoderConfig() zapcore.EncoderConfig {
	return zapcore.EncoderConfig{
		MessageKey:     "msg",
		TimeKey:        "report_ts",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     UnixSecondsTimeEncoder,
		EncodeDuration: DurationEncoder,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeName:     zapcore.FullNameEncoder,
		EncodeCaller:   zapcore.ShortCallerEncoder,
	}
}

// UnixSecondsTimeEncoder is a zapcore.TimeEncoder that writes whole unix
// seconds as a JSON integer, as g3's report_ts.
func UnixSecondsTimeEncoder(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendInt64(t.Unix())
}

// DurationEncoder is a zapcore.DurationEncoder that writes durations in
// g3's form (see [FormatDuration]). It allocates the string it writes.
func DurationEncoder(d time.Duration, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(FormatDuration(d))
}
