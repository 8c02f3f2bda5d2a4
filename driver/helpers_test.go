package driver

import (
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

var (
	testTime = time.Date(2026, 11, 24, 10, 30, 4, 987654321, time.UTC)
	testID   = uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a")
)

type fixedClock struct{}

func (fixedClock) Now() time.Time                         { return testTime }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// record is a finished TcpConnect with a user and an unset wait_time.
func record() *tasklog.TaskLog {
	return &tasklog.TaskLog{
		ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http", TaskID: testID, Stage: tasklog.StageRelaying,
		StartAt: time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC), User: `al"ice`, Escaper: "direct",
		Reason: tasklog.ReasonClosedByClient, ReadyTime: 13456789, TotalTime: 2345678901,
		Detail: &tasklog.TCPConnect{
			ServerAddr: netip.MustParseAddrPort("10.0.0.1:3128"), ClientAddr: netip.MustParseAddrPort("[2001:db8::7]:53211"),
			Upstream: "example.com:443", ConnectTries: 1, ClientReadBytes: 517, ClientWriteBytes: 4810,
			RemoteReadBytes: 4810, RemoteWriteBytes: 517,
		},
	}
}

// logRecord logs one record through core with g3's logger keys (pid
// fixed to 4242 so the lines are stable) and syncs.
func logRecord(t *testing.T, core zapcore.Core, msg string, rec *tasklog.TaskLog) {
	t.Helper()
	logger := zap.New(core, zap.WithClock(fixedClock{})).With(logFields()...)
	logger.Info(msg, tasklog.Field(rec))
	if err := core.Sync(); err != nil {
		t.Fatal(err)
	}
}

// logFields are g3's logger keys with the pid fixed to 4242.
func logFields() []zapcore.Field {
	return []zapcore.Field{zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"), zap.Uint32("pid", 4242)}
}

// unixgramListener listens on a fresh unix datagram socket.
func unixgramListener(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func readDatagram(t *testing.T, c net.PacketConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1<<20)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// noLeak fails if goroutines started during the test are still running.
func noLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left, want %d:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func listenAt(path string) (*net.UnixConn, error) {
	return net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
}

// discardErrors is an ErrorOutput that drops everything.
var discardErrors = zapcore.AddSync(io.Discard)
