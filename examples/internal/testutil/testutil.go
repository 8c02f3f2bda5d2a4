// Package testutil holds what the examples' tests share: running a
// program's run function on loopback, finding curl, a loopback port where
// nothing listens, and a goroutine-leak check.
package testutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// RunFunc is the signature of an example's run function.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Program is a running example program.
type Program struct {
	Addr   string // the address it listens on
	stdout syncBuffer
	stop   func() error
}

// Start runs run with args (plus -listen 127.0.0.1:0) until the test ends,
// and waits for its "listening on" line.
func Start(t *testing.T, run RunFunc, args ...string) *Program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Program{}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), &p.stdout, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- a
			}
		}
	}()
	select {
	case p.Addr = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("program ended before listening: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("program did not start listening")
	}
	var once sync.Once
	var runErr error
	p.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return p
}

// Stop shuts the program down, as SIGINT does, and returns run's error.
func (p *Program) Stop() error { return p.stop() }

// Records returns the JSON lines the program wrote to stdout.
func (p *Program) Records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("stdout line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Finished waits up to 5s for n task_event Finished records.
func (p *Program) Finished(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []map[string]any
		for _, m := range p.Records(t) {
			if m["task_event"] == "Finished" {
				out = append(out, m)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) != n {
				t.Fatalf("%d finished records, want %d:\n%s", len(out), n, p.stdout.String())
			}
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Curl returns the path of the curl binary. Without one it skips the test,
// or fails it under CI (CI=true), whose .ci/run installs curl.
func Curl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed; .ci/run should have installed it")
		}
		t.Skip("curl is not installed")
	}
	return path
}

// RunCurl runs curl with args (bounded by a 20s timeout) and returns stdout.
func RunCurl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Curl(t), append([]string{"--silent", "--show-error", "--max-time", "15"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ClosedAddr returns a loopback TCP address where nothing listens: a
// connection to it is refused.
func ClosedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// WaitGoroutines waits up to 5s for the goroutine count to come back to
// want, then fails the test with every goroutine's stack if it has not.
func WaitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > want {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left, want %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
	}
}

// Within runs fn and fails the test if it has not returned after limit,
// so a call that hangs fails the test instead of stalling the run.
func Within(t *testing.T, limit time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}
