package driver

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/nettest"
)

// fluentServer runs @fluent-org/logger's FluentServer (testdata/fluentd)
// under node, and collects the entries it decodes.
type fluentServer struct {
	addr    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex
	entries []fluentEntry
}

type fluentEntry struct {
	Tag    string         `json:"tag"`
	Sec    int64          `json:"sec"`
	Nsec   int64          `json:"nsec"`
	Record map[string]any `json:"record"`
}

// needFluentServer returns node and the folder of the fluentd server, or
// skips the test when either is missing (outside CI: .ci/run installs
// both). A test calls it before it creates anything.
func needFluentServer(t *testing.T) (node, dir string) {
	t.Helper()
	node = needTool(t, "node")
	dir, _ = filepath.Abs("testdata/fluentd")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@fluent-org", "logger")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("@fluent-org/logger is not installed in testdata/fluentd; .ci/run runs npm ci there")
		}
		t.Skip("@fluent-org/logger is not installed: run npm ci in driver/testdata/fluentd")
	}
	return node, dir
}

func startFluentServer(t *testing.T, opts map[string]any) *fluentServer {
	t.Helper()
	node, dir := needFluentServer(t)
	arg, _ := json.Marshal(opts)
	s := &fluentServer{cmd: exec.Command(node, filepath.Join(dir, "server.js"), string(arg))}
	s.cmd.Dir = dir
	s.cmd.Stderr = os.Stderr
	out, _ := s.cmd.StdoutPipe()
	s.stdin, _ = s.cmd.StdinPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	port := make(chan string, 1)
	go func() {
		for sc.Scan() {
			line := sc.Text()
			if p, ok := strings.CutPrefix(line, "PORT "); ok {
				port <- p
				continue
			}
			var e fluentEntry
			if err := json.Unmarshal([]byte(line), &e); err == nil {
				s.mu.Lock()
				s.entries = append(s.entries, e)
				s.mu.Unlock()
			}
		}
	}()
	select {
	case p := <-port:
		s.addr = "127.0.0.1:" + p
	case <-time.After(10 * time.Second):
		t.Fatal("the fluentd server did not start")
	}
	return s
}

func (s *fluentServer) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *fluentServer) wait(t *testing.T, n int) []fluentEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		got := append([]fluentEntry(nil), s.entries...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("the server decoded %d entries, want %d", len(got), n)
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkEntry compares one decoded entry with the record: tag, EventTime
// with nanoseconds, every key with its value, nil for g3's none keys,
// and msg.
func checkEntry(t *testing.T, name string, e fluentEntry, rec *tasklog.TaskLog) {
	t.Helper()
	if e.Tag != "g3proxy.Task" || e.Sec != testTime.Unix() || e.Nsec != int64(testTime.Nanosecond()) {
		t.Errorf("%s: tag %q time %d.%09d, want g3proxy.Task %d.%09d", name, e.Tag, e.Sec, e.Nsec, testTime.Unix(), testTime.Nanosecond())
	}
	want := wantValues(t, rec)
	want["msg"] = "closed by client"
	for k, w := range want {
		if got := fmt.Sprint(e.Record[k]); got != w {
			t.Errorf("%s: %s = %v, want %s", name, k, e.Record[k], w)
		}
	}
	for k, v := range e.Record {
		if _, ok := want[k]; ok {
			continue
		}
		if v != nil {
			t.Errorf("%s: unexpected key %s = %v", name, k, v)
		}
	}
	// g3 writes the unset keys of the event as nil.
	for _, k := range []string{"wait_time", "next_bind_ip", "next_expire", "tcp_connect_spend"} {
		if v, ok := e.Record[k]; !ok || v != nil {
			t.Errorf("%s: %s = %v (present %v), want nil", name, k, v, ok)
		}
	}
}

func TestFluentdServerReceives(t *testing.T) {
	needFluentServer(t)
	cert, pemCert, pemKey := nettest.SelfSigned(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, tc := range []struct {
		name string
		opts map[string]any
		cfg  FluentdConfig
	}{
		{"plain", nil, FluentdConfig{}},
		{"shared key", map[string]any{"sharedKey": "s3cret"}, FluentdConfig{SharedKey: "s3cret"}},
		{"shared key and user", map[string]any{"sharedKey": "s3cret", "users": map[string]string{"alice": "pw"}},
			FluentdConfig{SharedKey: "s3cret", Username: "alice", Password: "pw"}},
		// g3 runs no shared-key handshake over TLS: a TLS server for g3
		// has none configured.
		{"tls", map[string]any{"tls": map[string]string{"key": pemKey, "cert": pemCert}},
			FluentdConfig{TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFluentServer(t, tc.opts)
			cfg := tc.cfg
			cfg.Address, cfg.Ident = srv.addr, "g3proxy"
			core, err := NewFluentd(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			recs := []*tasklog.TaskLog{record(), hostileRecord()}
			for _, rec := range recs {
				logRecord(t, core, "closed by client", rec)
			}
			if err := core.Close(); err != nil {
				t.Fatal(err)
			}
			got := srv.wait(t, 2)
			for i, rec := range recs {
				checkEntry(t, fmt.Sprint(tc.name, " #", i), got[i], rec)
			}
			if s := core.Stats(); s.Passed != 2 || s.Dropped() != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// A wrong shared key fails visibly (reported on ErrorOutput) and every
// record is counted as dropped.
func TestFluentdWrongKeyIsVisible(t *testing.T) {
	needFluentServer(t)
	noLeak(t)
	srv := startFluentServer(t, map[string]any{"sharedKey": "right"})
	var errs lockedBuf
	core, err := NewFluentd(FluentdConfig{Address: srv.addr, SharedKey: "wrong", ConnectDelay: 50 * time.Millisecond},
		Options{ErrorOutput: zapcore.AddSync(&errs), ErrorSampling: -1})
	if err != nil {
		t.Fatal(err)
	}
	logger := zap.New(core)
	for i := 0; i < 3; i++ {
		logger.Info("m", tasklog.Field(record()))
		core.Sync()
	}
	core.Close()
	if s := core.Stats(); s.Passed != 0 || s.DropPeerUnreachable != 3 || s.Total != 3 {
		t.Errorf("stats %+v, want all 3 dropped as peer unreachable", s)
	}
	if !strings.Contains(errs.String(), "refused authentication") {
		t.Errorf("the error output does not say authentication failed:\n%s", errs.String())
	}
	time.Sleep(100 * time.Millisecond)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.entries) != 0 {
		t.Errorf("the server took %d entries with a wrong key", len(srv.entries))
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The server down at start, up, killed mid-stream and up again: records
// logged while it is up arrive, those logged while it is down wait in the
// retry queue (the oldest dropped when it is full), and at the end every
// record is either received by a server or counted as dropped: none is
// lost without a count.
func TestFluentdServerDownAndRestarted(t *testing.T) {
	needFluentServer(t)
	noLeak(t)
	port := nettest.FreePort(t, "tcp")
	core, err := NewFluentd(FluentdConfig{Address: fmt.Sprint("127.0.0.1:", port), Ident: "g3proxy",
		ConnectDelay: 50 * time.Millisecond, RetryQueueLen: 5}, Options{ErrorOutput: discardErrors})
	if err != nil {
		t.Fatal(err)
	}
	logger := zap.New(core, zap.WithClock(fixedClock{})).With(
		zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"), zap.Int("pid", 4242))
	log := func(n int) {
		for i := 0; i < n; i++ {
			logger.Info("closed by client", tasklog.Field(record()))
		}
		core.Sync()
	}
	log(8) // down: 5 wait in the retry queue, 3 are dropped
	srv1 := startFluentServer(t, map[string]any{"port": port})
	time.Sleep(100 * time.Millisecond) // past ConnectDelay
	log(2)                             // connects: the 5 waiting and these 2 arrive
	got1 := srv1.wait(t, 7)
	srv1.cmd.Process.Kill() // killed mid-stream
	srv1.cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	log(4) // down again: they wait in the retry queue
	srv2 := startFluentServer(t, map[string]any{"port": port})
	time.Sleep(100 * time.Millisecond)
	log(1) // the 4 waiting and this one arrive
	got2 := srv2.wait(t, 5)
	core.Close()
	s := core.Stats()
	received := uint64(len(got1) + len(got2))
	if s.Total != 15 || s.Passed != received || s.Passed+s.Dropped() != s.Total || s.DropPeerUnreachable != 3 {
		t.Errorf("stats %+v; the servers received %d: want 15 total, passed = received, 3 dropped", s, received)
	}
	for _, e := range append(got1, got2...) {
		checkEntry(t, "after restart", e, record())
	}
}
