package driver

import (
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// BenchmarkFormat measures each driver's formatting alone, on the logging
// goroutine's side and without the queue, for a finished TcpConnect record
// and a hostile HttpForward one, beside tasklog's JSON encoder writing the
// same record (json).
func BenchmarkFormat(b *testing.B) {
	formats := g3Formats(&testing.T{})
	formats["json"] = newJSONFormatter(tasklog.EncoderConfig())
	formats["stdout"] = newStdoutFormatter()
	var recs []g3Record
	for _, r := range g3Records() {
		if r.name == "tcp-finished" || r.name == "http-hostile" {
			recs = append(recs, r)
		}
	}
	for _, r := range recs {
		for _, name := range []string{"json", "rfc3164", "rfc3164-cee", "rfc5424", "fluentd", "journal", "stdout"} {
			f := formats[name].with(r.ctx)
			b.Run(r.name+"/"+name, func(b *testing.B) {
				ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: r.msg}
				buf := make([]byte, 0, 4096)
				fields := []zapcore.Field{r.field}
				b.ReportAllocs()
				for b.Loop() {
					var err error
					buf, err = f.format(buf[:0], ent, fields)
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
