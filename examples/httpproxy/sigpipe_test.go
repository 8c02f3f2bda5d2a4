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
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "httpproxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-created", "-connected")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on"))

	tunnel := func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n", echo.Addr())
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
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the proxy died of %v", ws.Signal())
	}
	if err != nil {
		t.Fatalf("the proxy exited with %v", err)
	}
}
