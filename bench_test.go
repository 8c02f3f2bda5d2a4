package tasklog

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// These benchmarks measure tasklog alone. The comparisons with hand-made
// zap fields, zap.Any, slog and zerolog, the byte-append floor, the
// parallel case and relay throughput live in the benchmarks module
// (cd benchmarks && go test -bench . -benchmem), so that this module's
// go.mod keeps only zap and uuid.

// BenchmarkTaskLog_Field logs one finished record per op through a zap
// Logger, with NewEncoder and with zap's JSON encoder, side by side.
func BenchmarkTaskLog_Field(b *testing.B) {
	for _, tc := range []struct {
		name string
		rec  *TaskLog
	}{{"TcpConnect", tcpConnectRecord()}, {"HttpForward", httpForwardRecord()}} {
		for _, enc := range costEncoders() {
			b.Run(tc.name+"/"+enc.name, func(b *testing.B) {
				logger := zap.New(zapcore.NewCore(enc.new(), zapcore.AddSync(discard{}), zap.InfoLevel))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					logger.Info(tc.rec.Reason.Text(), Field(tc.rec))
				}
			})
		}
	}
}

// BenchmarkTaskLog_MarshalLogObject encodes one entry holding a record,
// without a logger around it, through zap's encoder and NewEncoder's.
func BenchmarkTaskLog_MarshalLogObject(b *testing.B) {
	for _, tc := range []struct {
		name string
		rec  *TaskLog
	}{{"TcpConnect", tcpConnectRecord()}, {"HttpForward", httpForwardRecord()}} {
		for _, enc := range costEncoders() {
			b.Run(tc.name+"/"+enc.name, func(b *testing.B) {
				e := enc.new()
				fields := []zapcore.Field{Field(tc.rec)}
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					buf, err := e.EncodeEntry(zapcore.Entry{Message: "m"}, fields)
					if err != nil {
						b.Fatal(err)
					}
					buf.Free()
				}
			})
		}
	}
}

// BenchmarkTask_Finish writes the finished record of a task through
// NewEncoder; tasks are made with the timer stopped.
func BenchmarkTask_Finish(b *testing.B) {
	logger := zap.New(zapcore.NewCore(NewEncoder(EncoderConfig()), zapcore.AddSync(discard{}), zap.InfoLevel))
	srv := NewServer(ServerTypeHTTPProxy, "http", logger)
	b.ReportAllocs()
	b.StopTimer()
	tasks := make([]*Task, 0, 1024)
	for done := 0; done < b.N; {
		tasks = tasks[:0]
		for i := 0; i < min(1024, b.N-done); i++ {
			t := srv.NewTask(time.Now(), "alice", tcpConnectRecord().Detail)
			t.Relaying()
			tasks = append(tasks, t)
		}
		b.StartTimer()
		for _, t := range tasks {
			t.Finish(ReasonClosedByClient, nil)
		}
		b.StopTimer()
		done += len(tasks)
	}
}

func BenchmarkFormatDuration(b *testing.B) {
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendDuration(buf[:0], time.Duration(i)*1234567)
	}
}

func BenchmarkSanitizeURI(b *testing.B) {
	const uri = "http://bob:s3cret@www.example.com/catalog/items?page=2&sort=price&filter=in-stock"
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendSanitizedURI(buf[:0], uri, 0)
	}
}
