package benchmarks

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The benchmark names are read by cmd/benchtable: "<family>/<n>_<approach>",
// where approach 1 is the floor each family's ratios are taken to.

func BenchmarkTcpConnect(b *testing.B) { benchRecord(b, tcpRecord(), appendTCPFloor) }

func BenchmarkHttpForward(b *testing.B) { benchRecord(b, httpRecord(), appendHTTPFloor) }

func benchRecord(b *testing.B, rec *tasklog.TaskLog, floor func([]byte, time.Time, *tasklog.TaskLog) []byte) {
	b.Run("1_floor_byte_append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for i := 0; i < b.N; i++ {
			buf = floor(buf[:0], time.Now(), rec)
			discard.Write(buf)
		}
	})
	b.Run("2_Task.Finish_tuned", func(b *testing.B) { benchFinish(b, rec) })
	b.Run("3_Field_tuned_encoder", func(b *testing.B) {
		logger := tunedLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), tasklog.Field(rec))
		}
	})
	b.Run("4_Field_zap_json_encoder", func(b *testing.B) {
		logger := zapJSONLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), tasklog.Field(rec))
		}
	})
	b.Run("5_hand_zap_fields", func(b *testing.B) {
		logger := zapJSONLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), handZapFields(rec)...)
		}
	})
	b.Run("6_zap_Any_struct", func(b *testing.B) {
		logger := zapJSONLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), zap.Any("task", toAny(rec)))
		}
	})
	b.Run("7_slog_JSON_Any_rec", func(b *testing.B) {
		logger := slogLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Info(rec.Reason.Text(), slog.Any("", rec))
		}
	})
	b.Run("8_slog_JSON_hand_attrs", func(b *testing.B) {
		logger := slogLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.LogAttrs(background, slog.LevelInfo, rec.Reason.Text(), handSlogAttrs(rec)...)
		}
	})
	b.Run("9_zerolog_hand_fields", func(b *testing.B) {
		logger := zerologLogger()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			handZerolog(&logger, rec)
		}
	})
}

// benchFinish measures Task.Finish writing the finished record through the
// tuned encoder. Tasks are made in batches with the timer stopped, so only
// Finish is timed (and counted for allocations).
func benchFinish(b *testing.B, rec *tasklog.TaskLog) {
	srv := tasklog.NewServer(rec.ServerType, rec.ServerName, tunedLogger())
	const batch = 1024
	tasks := make([]*tasklog.Task, 0, batch)
	b.ReportAllocs()
	b.StopTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		tasks = tasks[:0]
		for i := 0; i < n; i++ {
			tasks = append(tasks, newFinishedShape(srv, rec))
		}
		b.StartTimer()
		for _, t := range tasks {
			t.Finish(rec.Reason, nil)
		}
		b.StopTimer()
		done += n
	}
}

// newFinishedShape starts a task that will finish as rec: same keys.
func newFinishedShape(srv *tasklog.Server, rec *tasklog.TaskLog) *tasklog.Task {
	var d tasklog.Detail
	switch src := rec.Detail.(type) {
	case *tasklog.TCPConnect:
		c := *src
		d = &c
	case *tasklog.HTTPForward:
		c := *src
		d = &c
	}
	t := srv.NewTask(time.Now().Add(-rec.WaitTime), rec.User, d)
	t.SetEscaper(rec.Escaper)
	t.Relaying()
	t.Counters.ClientReadBytes.Add(517)
	t.Counters.ClientWriteBytes.Add(4810)
	return t
}

// BenchmarkParallel runs the same record from every core at once
// (b.RunParallel); compare with the single-goroutine figures above.
func BenchmarkParallel(b *testing.B) {
	rec := tcpRecord()
	b.Run("1_floor_byte_append", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 0, 2048)
			for pb.Next() {
				buf = appendTCPFloor(buf[:0], time.Now(), rec)
				discard.Write(buf)
			}
		})
	})
	b.Run("3_Field_tuned_encoder", func(b *testing.B) {
		logger := tunedLogger()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				logger.Info(rec.Reason.Text(), tasklog.Field(rec))
			}
		})
	})
	b.Run("4_Field_zap_json_encoder", func(b *testing.B) {
		logger := zapJSONLogger()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				logger.Info(rec.Reason.Text(), tasklog.Field(rec))
			}
		})
	})
	b.Run("5_hand_zap_fields", func(b *testing.B) {
		logger := zapJSONLogger()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				logger.Info(rec.Reason.Text(), handZapFields(rec)...)
			}
		})
	})
}

// BenchmarkTaskCreate measures Server.NewTask, id generation included.
func BenchmarkTaskCreate(b *testing.B) {
	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", zap.NewNop())
	rec := tcpRecord()
	const batch = 1024
	tasks := make([]*tasklog.Task, 0, batch)
	b.ReportAllocs()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		for i := 0; i < n; i++ {
			d := *rec.Detail.(*tasklog.TCPConnect)
			tasks = append(tasks, srv.NewTask(time.Now(), "alice", &d))
		}
		b.StopTimer()
		for _, t := range tasks {
			t.Finish(tasklog.ReasonClosedByClient, nil)
		}
		tasks = tasks[:0]
		b.StartTimer()
		done += n
	}
}

// BenchmarkCounterAdd is one byte-counter update, as a relay's wrapper does
// per read or write, alone and from every core on one task.
func BenchmarkCounterAdd(b *testing.B) {
	task := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", nil).NewTask(time.Time{}, "", &tasklog.TCPConnect{})
	defer task.Finish(tasklog.ReasonClosedByClient, nil)
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			task.Counters.ClientReadBytes.Add(1500)
		}
	})
	b.Run("parallel_same_task", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				task.Counters.ClientReadBytes.Add(1500)
			}
		})
	})
}

// BenchmarkRelay copies 64 MiB per op between loopback TCP connections
// with io.Copy: bare, and through the task's counting wrappers (which keep
// splice). Compare the MB/s.
func BenchmarkRelay(b *testing.B) {
	const size = 64 << 20
	for _, wrapped := range []bool{false, true} {
		name := "bare_io.Copy"
		if wrapped {
			name = "counting_wrappers"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				src, feeder := tcpPair(b)
				dst, sink := tcpPair(b)
				go func() {
					chunk := make([]byte, 1<<20)
					for sent := 0; sent < size; sent += len(chunk) {
						feeder.Write(chunk)
					}
					feeder.Close()
				}()
				got := make(chan int64)
				go func() { n, _ := io.Copy(io.Discard, sink); got <- n }()
				var from, to net.Conn = src, dst
				var task *tasklog.Task
				if wrapped {
					task = tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "b", nil).NewTask(time.Time{}, "", &tasklog.TCPConnect{})
					from, to = task.WrapClient(src), task.WrapRemote(dst)
				}
				b.StartTimer()
				if _, err := io.Copy(to, from); err != nil {
					b.Fatal(err)
				}
				dst.CloseWrite()
				n := <-got
				b.StopTimer()
				if n != size || (task != nil && task.Counters.ClientReadBytes.Load() != size) {
					b.Fatalf("copied %d bytes", n)
				}
				for _, c := range []net.Conn{src, dst, feeder, sink} {
					c.Close()
				}
				b.StartTimer()
			}
		})
	}
}

func tcpPair(b *testing.B) (*net.TCPConn, *net.TCPConn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); accepted <- c }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c.(*net.TCPConn), (<-accepted).(*net.TCPConn)
}

// The floor writes the very line tasklog writes, so the ratios compare
// equal work.
func TestFloorWritesTheSameLine(t *testing.T) {
	now := time.Unix(1795516204, 0)
	for _, tc := range []struct {
		rec   *tasklog.TaskLog
		floor func([]byte, time.Time, *tasklog.TaskLog) []byte
	}{{tcpRecord(), appendTCPFloor}, {httpRecord(), appendHTTPFloor}} {
		var buf bytes.Buffer
		core := zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(&buf), zap.InfoLevel)
		zap.New(core, zap.WithClock(fixedClock(now))).Info(tc.rec.Reason.Text(), tasklog.Field(tc.rec))
		if got := string(tc.floor(nil, now, tc.rec)); got != buf.String() {
			t.Errorf("floor line differs\nfloor   %s\ntasklog %s", got, buf.String())
		}
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time                       { return time.Time(c) }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
