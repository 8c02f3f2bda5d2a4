package benchmarks

import (
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/driver"
)

// drainUnixgram reads and discards datagrams on a fresh socket.
func drainUnixgram(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "s.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, _, err := l.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return path
}

// drainTCP accepts connections and discards what they send.
func drainTCP(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// BenchmarkDrivers measures what one TcpConnect finished record costs the
// goroutine that logs it, through each asynchronous driver (formatting and
// handing over to the queue; delivery runs on the driver's own goroutine),
// against the synchronous JSON path (tasklog.NewCore writing to
// io.Discard on the caller's goroutine), every one through tasklog.Log.
// Drops, if the writer falls behind, are reported per op: a record that
// finds the queue full is dropped unformatted, and costs less.
func BenchmarkDrivers(b *testing.B) {
	rec := tcpRecord()
	quiet := zapcore.AddSync(io.Discard)
	opts := driver.Options{QueueSize: 1 << 16, ErrorOutput: quiet}
	type approach struct {
		name string
		core func(b *testing.B) zapcore.Core
	}
	mustCore := func(c *driver.Core, err error) zapcore.Core {
		if err != nil {
			panic(err)
		}
		return c
	}
	approaches := []approach{
		{"sync_json", func(*testing.B) zapcore.Core {
			return tasklog.NewCore(tasklog.EncoderConfig(), zapcore.AddSync(io.Discard), zap.InfoLevel)
		}},
		{"json", func(*testing.B) zapcore.Core { return driver.NewJSON(io.Discard, opts) }},
		{"stdout_text", func(*testing.B) zapcore.Core { return driver.NewStdout(io.Discard, opts) }},
		{"syslog_rfc3164_text", func(b *testing.B) zapcore.Core {
			return mustCore(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: drainUnixgram(b)}, opts))
		}},
		{"syslog_rfc3164_cee", func(b *testing.B) zapcore.Core {
			return mustCore(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: drainUnixgram(b), CEE: true}, opts))
		}},
		{"syslog_rfc5424_sd", func(b *testing.B) zapcore.Core {
			return mustCore(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UnixPath: drainUnixgram(b), RFC5424: true}, opts))
		}},
		{"fluentd", func(b *testing.B) zapcore.Core {
			return mustCore(driver.NewFluentd(driver.FluentdConfig{Address: drainTCP(b), Ident: "g3proxy"}, opts))
		}},
		{"journal", func(b *testing.B) zapcore.Core {
			return driver.NewJournal(driver.JournalConfig{Ident: "g3proxy", Path: drainUnixgram(b)}, opts)
		}},
		{"discard", func(*testing.B) zapcore.Core { return driver.NewDiscard(opts) }},
	}
	for _, a := range approaches {
		b.Run(a.name, func(b *testing.B) {
			core := a.core(b)
			logger := zap.New(core).With(tasklog.LoggerFields("g3proxy")...)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tasklog.Log(logger, zap.InfoLevel, "closed by client", rec)
			}
			b.StopTimer()
			if c, ok := core.(*driver.Core); ok {
				c.Sync()
				c.Close()
				s := c.Stats()
				b.ReportMetric(float64(s.Dropped())/float64(b.N), "drops/op")
			}
			time.Sleep(time.Millisecond)
		})
	}
}

// Every driver approach logs the records it is asked to, and in bursts
// none is dropped: each burst is delivered before the next, so the
// default queue, a fifth of a round, never fills. A negative burst is an
// error.
func TestDriversLogInBursts(t *testing.T) {
	if _, err := NewDrivers(-1); err == nil {
		t.Error("NewDrivers(-1) made drivers")
	}
	d, err := NewDrivers(512)
	if err != nil {
		t.Fatal(err)
	}
	rec := tcpRecord()
	const n = 20000 // five times the default queue
	for _, a := range d.Approaches {
		setup, run := a.Make(rec, nil, RealClock)
		setup(n)
		run(n)
	}
	total, dropped := d.Stats()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if want := uint64(n * (len(d.Approaches) - 1)); total != want || dropped != 0 {
		t.Errorf("drivers took %d records and dropped %d; want %d and none", total, dropped, want)
	}
}
