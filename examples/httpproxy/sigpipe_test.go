package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A log reader that goes away (httpproxy | head -n 3) must not kill the
// proxy: the built binary, its stdout a pipe whose reader closes after
// the first line, keeps serving tunnels and exits 0 on SIGINT.
func TestDeadLogReaderDoesNotKillTheProxy(t *testing.T) {
	bin := buildProxy(t)
	echo := echoServer(t)
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-created", "-connected")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on"))
	tunnel := func() error { return tunnelThrough(addr, echo) }
	if err := tunnel(); err != nil {
		t.Fatal(err)
	}
	// Read one line of the log, then go away like head -n 1.
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stdout.Close()
	for i := 0; i < 20; i++ {
		if err := tunnel(); err != nil {
			t.Fatalf("tunnel %d after the log reader left: %v", i, err)
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the proxy died of %v", ws.Signal())
	}
	if err != nil {
		t.Fatalf("the proxy exited with %v", err)
	}
}

// buildProxy builds this program into the test's temporary folder.
func buildProxy(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "httpproxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// echoServer echoes every connection on loopback until the test ends.
func echoServer(t *testing.T) net.Addr {
	t.Helper()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return echo.Addr()
}

// tunnelThrough opens a CONNECT tunnel through the proxy at addr to echo
// and checks one round trip.
func tunnelThrough(addr string, echo net.Addr) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n", echo)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("CONNECT: %v %v", resp, err)
	}
	c.Write([]byte("ping"))
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(br)
	if string(got) != "ping" {
		return fmt.Errorf("echo %q: %v", got, err)
	}
	return nil
}

// With its log on a stdout pipe nobody reads (httpproxy -log stdout |
// sleep 600), the proxy exits on SIGINT within the log driver's close
// timeout (5s) plus one second, and -log-stats prints counters that
// balance: every record logged is passed or dropped.
func TestStuckStdoutExitsWithinCloseTimeout(t *testing.T) {
	bin := buildProxy(t)
	echo := echoServer(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close() // never read until the proxy has exited
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-log", "stdout", "-log-stats")
	cmd.Stdout = pw
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer cmd.Process.Kill()
	errs := bufio.NewReader(stderr)
	line, _ := errs.ReadString('\n')
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on"))
	const tunnels = 400 // about 500 KB of records: the pipe holds 64 KB
	for i := 0; i < tunnels; i++ {
		if err := tunnelThrough(addr, echo); err != nil {
			t.Fatalf("tunnel %d: %v", i, err)
		}
	}
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(errs)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the proxy exited with %v: %s", err, rest)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("exit took %v after SIGINT, want at most the close timeout (5s) plus 1s", took)
	}
	var total, passed, bytes, dropped uint64
	i := strings.Index(string(rest), "log driver stdout: ")
	if i < 0 {
		t.Fatalf("no -log-stats line in %q", rest)
	}
	if _, err := fmt.Sscanf(string(rest[i:]), "log driver stdout: total %d, passed %d, bytes %d, dropped %d", &total, &passed, &bytes, &dropped); err != nil {
		t.Fatalf("-log-stats line %q: %v", rest[i:], err)
	}
	// Each tunnel writes two records: its shutdown event and Finished.
	if total != 2*tunnels || passed+dropped != total || dropped == 0 {
		t.Errorf("-log-stats: total %d, passed %d, dropped %d: want %d records, balanced, some dropped", total, passed, dropped, 2*tunnels)
	}
}
