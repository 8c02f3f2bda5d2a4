package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// echoUpstream echoes every connection until its client half-closes.
func echoUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// stuckFluentd accepts connections and never reads from them.
func stuckFluentd(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nettest.AcceptAndHold(t, ln)
	return ln.Addr().String()
}

// stuckSyslog is a unix datagram socket nobody reads: once its buffer is
// full, every send would block.
func stuckSyslog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path
}

// runTunnels relays n CONNECT tunnels, 64 KiB each way, through a proxy
// logging to core, and returns how long they took.
func runTunnels(t *testing.T, core zapcore.Core, n int) time.Duration {
	t.Helper()
	target := echoUpstream(t)
	p := New(Config{Logger: zap.New(core), Periodic: 100 * time.Millisecond, Created: true, Connected: true})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go p.Serve(ln)
	defer p.Shutdown()
	payload := make([]byte, 64<<10)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
			if err != nil || resp.StatusCode != 200 {
				errs <- fmt.Errorf("CONNECT: %v %v", resp, err)
				return
			}
			go func() { c.Write(payload); c.(*net.TCPConn).CloseWrite() }()
			got, err := io.ReadAll(br)
			if err != nil || len(got) != len(payload) {
				errs <- fmt.Errorf("echo: %d bytes, %v", len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return time.Since(start)
}

// The proxy never waits for its log: with a fluentd or syslog peer that
// accepts and never reads, tunnels finish as fast as with a sink that
// takes everything, and the driver counts every record as passed or
// dropped.
func TestStuckLogPeerCostsOnlyDrops(t *testing.T) {
	const n = 40
	healthy := driver.NewDiscard(driver.Options{})
	base := runTunnels(t, healthy, n)
	healthy.Close()

	fl, err := driver.NewFluentd(driver.FluentdConfig{Address: stuckFluentd(t), WriteTimeout: 5 * time.Second},
		driver.Options{QueueSize: 16, CloseTimeout: 200 * time.Millisecond, ErrorOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	sl, err := driver.NewSyslog(driver.SyslogConfig{UnixPath: stuckSyslog(t), WriteTimeout: 5 * time.Second},
		driver.Options{QueueSize: 16, CloseTimeout: 200 * time.Millisecond, ErrorOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		core *driver.Core
	}{{"fluentd", fl}, {"syslog", sl}} {
		took := runTunnels(t, tc.core, n)
		// A proxy that waited for the stuck peer would need a 5 s write
		// timeout per record, over 4 records per tunnel: minutes. The bound
		// leaves the noise of a shared machine a wide margin.
		if took > base+5*time.Second {
			t.Errorf("%s: %d tunnels took %v with a stuck log peer, %v with a healthy sink", tc.name, n, took, base)
		}
		tc.core.Close()
		s := tc.core.Stats()
		if s.Total < 4*n || s.Passed+s.Dropped() != s.Total || s.Dropped() == 0 {
			t.Errorf("%s: stats %+v: want every record counted, some dropped", tc.name, s)
		}
		t.Logf("%s: %d tunnels in %v (healthy sink %v); %+v", tc.name, n, took, base, s)
	}
}
