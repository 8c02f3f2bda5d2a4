package httpproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Hostile and broken clients get a reply and a closed connection, in
// bounded time and memory, and never make the proxy dial itself.
func TestHostileClients(t *testing.T) {
	f := start(t, Config{HeaderTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, MaxHeaderBytes: 64 << 10})
	tests := []struct {
		name   string
		send   string
		status int // 0: the connection is closed without a reply
		task   bool
	}{
		{"header too large", "GET http://example.com/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 128<<10) + "\r\n\r\n", 431, false},
		{"unterminated header", "GET http://example.com/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 128<<10), 431, false},
		{"slowloris", "GET http://example.com/ HTTP/1.1\r\nHost: x\r\n", 408, false},
		{"idle connection", "", 0, false},
		{"malformed request line", "NOT HTTP AT ALL\r\n\r\n", 400, false},
		{"CONNECT without a host", "CONNECT :9001 HTTP/1.1\r\nHost: :9001\r\n\r\n", 400, false},
		{"CONNECT with a bad port", "CONNECT example.com:99999 HTTP/1.1\r\nHost: example.com:99999\r\n\r\n", 400, false},
		{"unknown HTTP version", "GET http://example.com/ HTTP/2.0\r\nHost: example.com\r\n\r\n", 505, false},
		{"relative URI", "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", 400, true},
		{"absolute URI with a bad port", "GET http://example.com:99999/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 400, true},
	}
	tasks := 0
	for _, tt := range tests {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		go io.WriteString(c, tt.send)
		br := bufio.NewReader(c)
		if tt.status == 0 {
			if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Errorf("%s: read %d bytes, %v; want the connection closed", tt.name, n, err)
			}
		} else {
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != tt.status {
				t.Errorf("%s: %v, %v; want %d", tt.name, resp, err, tt.status)
			} else if _, err := br.ReadByte(); err == nil {
				// EOF, or a reset when the proxy closed with the client's
				// unread bytes in its buffer: closed either way.
				t.Errorf("%s: the connection stays open after %d", tt.name, tt.status)
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v", tt.name, d)
		}
		c.Close()
		if tt.task {
			tasks++
		}
	}
	for _, m := range f.finished(t, tasks) {
		if m["reason"] != "InvalidClientProtocol" || m["rsp_status"] != uint16(400) {
			t.Errorf("record %v, want InvalidClientProtocol with rsp_status 400", m)
		}
	}
}
