package benchmarks

import (
	"testing"

	"github.com/proxylog/tasklog"
	"go.uber.org/zap/zapcore"
)

// BenchmarkLoggerOverhead is the fixed cost a zap Logger adds to any entry
// (level check, clock, pooled entry, core, write): logger.Info with no
// fields, through the tuned encoder. It bounds how close a record written
// through zap can come to the floor.
func BenchmarkLoggerOverhead(b *testing.B) {
	b.Run("logger.Info_no_fields", func(b *testing.B) {
		logger := tunedLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info("closed by client")
		}
	})
	b.Run("EncodeEntry_record_only", func(b *testing.B) {
		enc := tasklog.NewEncoder(tasklog.EncoderConfig())
		fields := []zapcore.Field{tasklog.Field(tcpRecord())}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf, _ := enc.EncodeEntry(zapcore.Entry{Message: "closed by client"}, fields)
			buf.Free()
		}
	})
}
