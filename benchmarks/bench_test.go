package benchmarks

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// The per-approach benchmarks, for benchstat users. The README's tables
// come from cmd/benchtable, which measures the same approaches interleaved
// (see Interleave): on a shared machine a plain -count run can put the
// floor in a slow phase and the others in a fast one.

func BenchmarkTcpConnect(b *testing.B) { benchFamily(b, Families()[0]) }

func BenchmarkHttpForward(b *testing.B) { benchFamily(b, Families()[1]) }

func benchFamily(b *testing.B, f Family) {
	for _, a := range f.All() {
		b.Run(strings.ReplaceAll(a.Name, " ", "_"), func(b *testing.B) {
			setup, run := a.Make(f.Record(), io.Discard, RealClock)
			setup(b.N)
			b.ReportAllocs()
			b.ResetTimer()
			run(b.N)
		})
	}
}

// Every approach that claims tasklog's bytes writes them, for every
// record of the tables, the scaling ones included (where the floor, which
// escapes nothing, is exempt for the quoted record).
func TestSameBytes(t *testing.T) {
	clock := fixedClock(time.Unix(1795516204, 0))
	for _, f := range append(Families(), ScalingFamilies()...) {
		want := lineOf(t, f.All()[2], f, clock) // tasklog.Log
		for _, a := range f.All() {
			if !a.SameBytes {
				if a.Differs == "" {
					t.Errorf("%s: %s neither writes the same bytes nor says how it differs", f.Name, a.Name)
				}
				continue
			}
			if strings.HasPrefix(a.Name, "1.") && strings.Contains(f.Name, "quotes") {
				continue // the floor escapes nothing: its line is not even JSON
			}
			if got := lineOf(t, a, f, clock); got != want {
				t.Errorf("%s: %s writes\n%s\nwant\n%s", f.Name, a.Name, got, want)
			}
		}
	}
}

func lineOf(t *testing.T, a Approach, f Family, clock zapcore.Clock) string {
	t.Helper()
	var buf bytes.Buffer
	setup, run := a.Make(f.Record(), &buf, clock)
	setup(1)
	run(1)
	return buf.String()
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

type fixedClock time.Time

func (c fixedClock) Now() time.Time                       { return time.Time(c) }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
