package httpproxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/counting"
	"github.com/proxylog/tasklog/examples/internal/testutil"
)

type fixture struct {
	proxy *Proxy
	addr  string
	logs  *observer.ObservedLogs
}

func start(t *testing.T, cfg Config) *fixture {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	cfg.Logger = zap.New(core)
	p := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() {
		p.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &fixture{proxy: p, addr: ln.Addr().String(), logs: logs}
}

// finished waits for n finished records and checks that no task wrote two.
func (f *fixture) finished(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var out []map[string]any
	for {
		out = out[:0]
		seen := map[any]bool{}
		for _, e := range f.logs.All() {
			m := e.ContextMap()
			if m["task_event"] != "Finished" {
				continue
			}
			if seen[m["task_id"]] {
				t.Fatalf("task %v wrote two Finished records", m["task_id"])
			}
			seen[m["task_id"]] = true
			if m[tasklog.ErrorKey] != nil {
				t.Fatalf("bad record: %v", m[tasklog.ErrorKey])
			}
			m["msg"] = e.Message
			out = append(out, m)
		}
		if len(out) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(out) != n {
		t.Fatalf("%d finished records, want %d", len(out), n)
	}
	return out
}

// rawUpstream accepts one connection, reads want bytes, answers with
// reply and closes.
func rawUpstream(t *testing.T, want int, reply []byte) (addr string, got chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf := make([]byte, want)
		io.ReadFull(c, buf)
		c.Write(reply)
		got <- buf
	}()
	return ln.Addr().String(), got
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestConnectTunnelCounts(t *testing.T) {
	f := start(t, Config{})
	up, down := bytes.Repeat([]byte("u"), 300000), bytes.Repeat([]byte("d"), 700001)
	target, got := rawUpstream(t, len(up), down)
	c := dial(t, f.addr)
	// The tunnel's first bytes ride behind the CONNECT request.
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n%s", target, target, up[:1000])
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	c.Write(up[1000:])
	back, err := io.ReadAll(br)
	if err != nil || !bytes.Equal(back, down) {
		t.Fatalf("client got %d bytes, %v", len(back), err)
	}
	if !bytes.Equal(<-got, up) {
		t.Fatal("upstream got other bytes")
	}
	c.Close()
	m := f.finished(t, 1)[0]
	for k, v := range map[string]any{"task_type": "TcpConnect", "upstream": target, "reason": "Finished",
		"c_rd_bytes": uint64(len(up)), "r_wr_bytes": uint64(len(up)), "r_rd_bytes": uint64(len(down)),
		"c_wr_bytes": uint64(len(down)), "stage": "Relaying", "tcp_connect_tries": uint64(1)} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestForwardGet(t *testing.T) {
	body := strings.Repeat("hello ", 1000)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.User != nil || strings.Contains(r.RequestURI, "s3cret") {
			t.Errorf("credentials reached the origin: %q", r.RequestURI)
		}
		io.WriteString(w, body)
	}))
	defer origin.Close()
	host := strings.TrimPrefix(origin.URL, "http://")
	f := start(t, Config{Connected: true})
	c := dial(t, f.addr)
	br := bufio.NewReader(c)
	var reqs []string
	var respBytes []int
	for i, uri := range []string{"http://bob:s3cret@" + host + "/a?x=1", "http://" + host + "/b"} {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: test/%d\r\n\r\n", uri, host, i)
		reqs = append(reqs, req)
		io.WriteString(c, req)
		var raw bytes.Buffer
		resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(br, &raw)), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != body || resp.StatusCode != 200 {
			t.Fatalf("response %d %q", resp.StatusCode, got[:min(len(got), 20)])
		}
		respBytes = append(respBytes, raw.Len())
		time.Sleep(30 * time.Millisecond)
	}
	recs := f.finished(t, 2)
	for i, m := range recs {
		wantURI := "http://" + host + "/b"
		if i == 0 {
			wantURI = "http://bob:xyz@" + host + "/a?x=1"
		}
		for k, v := range map[string]any{"task_type": "HttpForward", "method": "GET", "uri": wantURI,
			"user_agent": fmt.Sprintf("test/%d", i), "rsp_status": uint16(200), "origin_status": uint16(200),
			"reason": "Finished", "stage": "Finished", "msg": "finished", "upstream": host,
			"c_rd_bytes": uint64(len(reqs[i])), "c_wr_bytes": uint64(respBytes[i]), "reuse_connection": i == 1} {
			if m[k] != v {
				t.Errorf("request %d: %s = %v, want %v", i, k, m[k], v)
			}
		}
		for _, k := range []string{"dur_req_send_hdr", "dur_req_send_all", "dur_rsp_recv_hdr", "dur_rsp_recv_all", "pipeline_wait", "wait_time"} {
			if _, err := tasklog.ParseDuration(fmt.Sprint(m[k])); err != nil {
				t.Errorf("request %d: %s = %v: %v", i, k, m[k], err)
			}
		}
		if m["r_rd_bytes"].(uint64) < uint64(len(body)) || m["r_wr_bytes"].(uint64) == 0 {
			t.Errorf("request %d: remote counters %v/%v", i, m["r_rd_bytes"], m["r_wr_bytes"])
		}
	}
	// The kept-alive connection's second request waited about the sleep:
	// the proxy starts the wait when it is done with the first response,
	// which under load can be a little after the client has read it (CI
	// once saw 8.5 ms of a 10 ms sleep), so the bound leaves 20 ms.
	if w, _ := tasklog.ParseDuration(fmt.Sprint(recs[1]["wait_time"])); w < 10*time.Millisecond {
		t.Errorf("second wait_time %v after a 30ms sleep, want at least 10ms", w)
	}
}

func TestRefusedUpstream(t *testing.T) {
	closed := testutil.ClosedAddr(t)
	f := start(t, Config{})
	c := dial(t, f.addr)
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", closed, closed)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 502 {
		t.Fatalf("CONNECT to a closed port: %v %v", resp, err)
	}
	c2 := dial(t, f.addr)
	fmt.Fprintf(c2, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n\r\n", closed, closed)
	resp, err = http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || resp.StatusCode != 502 {
		t.Fatalf("GET to a closed port: %v %v", resp, err)
	}
	for _, m := range f.finished(t, 2) {
		// The tunnel's Dial words it as g3 does; the forwarded GET's plain
		// net.Dialer as Go does.
		want := "upstream not connected: dial tcp"
		if m["task_type"] == "TcpConnect" {
			want = "upstream not connected: connection refused"
		}
		if m["reason"] != "UpstreamNotConnected" || !strings.HasPrefix(m["msg"].(string), want) {
			t.Errorf("reason %v, message %q, want %q", m["reason"], m["msg"], want)
		}
	}
}

func TestClientHangsUp(t *testing.T) {
	big := bytes.Repeat([]byte("z"), 64<<20)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(big) }))
	defer origin.Close()
	f := start(t, Config{})
	c := dial(t, f.addr)
	fmt.Fprintf(c, "GET %s/big HTTP/1.1\r\nHost: x\r\n\r\n", origin.URL)
	if _, err := io.ReadFull(c, make([]byte, 200000)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	m := f.finished(t, 1)[0]
	if m["reason"] != "ClientTcpWriteFailed" {
		t.Errorf("reason = %v (%q), want ClientTcpWriteFailed", m["reason"], m["msg"])
	}
	if n := m["c_wr_bytes"].(uint64); n < 200000 || n >= uint64(len(big)) {
		t.Errorf("c_wr_bytes = %d", n)
	}
}

func TestShutdownFinishesOpenTasks(t *testing.T) {
	before := runtime.NumGoroutine()
	target, _ := rawUpstream(t, 1<<20, nil) // never answers
	core, logs := observer.New(zapcore.InfoLevel)
	p := New(Config{Logger: zap.New(core), Periodic: 10 * time.Millisecond})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	var clients []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, ln.Addr().String())
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n", target)
		clients = append(clients, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Server().OpenTasks() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	testutil.Within(t, 10*time.Second, "Shutdown", p.Shutdown)
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	finished := 0
	for _, e := range logs.All() {
		m := e.ContextMap()
		if m["task_event"] == "Finished" {
			finished++
			if m["reason"] != "CanceledAsServerQuit" || e.Message != "canceled as server quit" {
				t.Errorf("reason %v message %q", m["reason"], e.Message)
			}
		}
	}
	if finished != 3 {
		t.Errorf("%d finished records, want 3", finished)
	}
	// The clients are still connected: only Shutdown can have ended the
	// proxy's goroutines.
	testutil.WaitGoroutines(t, before+1) // +1: the never-answering upstream
	for _, c := range clients {
		c.Close()
	}
}

func TestProxyAuthentication(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			t.Error("Proxy-Authorization reached the origin")
		}
	}))
	defer origin.Close()
	f := start(t, Config{Users: map[string]string{"alice": "pw"}})
	c := dial(t, f.addr)
	fmt.Fprintf(c, "GET %s/ HTTP/1.1\r\nHost: x\r\n\r\n", origin.URL)
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 407 {
		t.Fatalf("no credentials: %v %v", resp, err)
	}
	c2 := dial(t, f.addr)
	fmt.Fprintf(c2, "GET %s/ HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic YWxpY2U6cHc=\r\n\r\n", origin.URL)
	if resp, err := http.ReadResponse(bufio.NewReader(c2), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("with credentials: %v %v", resp, err)
	}
	if m := f.finished(t, 1)[0]; m["user"] != "alice" {
		t.Errorf("user = %v", m["user"])
	}
}

// A refused CONNECT counts no tunnel bytes: the 502 is the proxy's own.
func TestRefusedConnectCountsNothing(t *testing.T) {
	closed := testutil.ClosedAddr(t)
	f := start(t, Config{})
	c := dial(t, f.addr)
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n", closed)
	io.ReadAll(c)
	m := f.finished(t, 1)[0]
	for _, k := range []string{"c_rd_bytes", "c_wr_bytes", "r_rd_bytes", "r_wr_bytes"} {
		if m[k] != uint64(0) {
			t.Errorf("%s = %v, want 0", k, m[k])
		}
	}
}

// Five requests on one kept-alive client connection are five HttpForward
// tasks, and their byte counts add up exactly to what the client and the
// origin saw on the wire; each request's own bytes are its task's.
func TestKeepAliveCountsExactly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := &counting.Listener{Listener: ln}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s got %d bytes", r.Method, r.URL.Path, len(body))
		if r.URL.Path == "/big" {
			w.Write(bytes.Repeat([]byte("b"), 100000))
		}
	})}
	go srv.Serve(origin)
	t.Cleanup(func() { srv.Close() })

	f := start(t, Config{})
	raw := dial(t, f.addr)
	client := counting.NewConn(raw)
	br := bufio.NewReader(client)
	base := "http://" + ln.Addr().String()
	requests := []string{
		"GET " + base + "/a HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nUser-Agent: t\r\n\r\n",
		"POST " + base + "/b HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nContent-Length: 11\r\n\r\nhello world",
		"GET " + base + "/big HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\n\r\n",
		"POST " + base + "/c HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET " + base + "/d?x=1 HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\n\r\n",
	}
	for i, r := range requests {
		if _, err := io.WriteString(client, r); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	raw.Close()
	recs := f.finished(t, len(requests))

	var sum [4]int64 // c_rd c_wr r_rd r_wr
	for i, m := range recs {
		if m["reason"] != "Finished" || m["task_type"] != "HttpForward" {
			t.Errorf("record %d: %v %v", i, m["task_type"], m["reason"])
		}
		if got := m["c_rd_bytes"].(uint64); got != uint64(len(requests[i])) {
			t.Errorf("record %d: c_rd_bytes %d, want the request's %d bytes", i, got, len(requests[i]))
		}
		if reused := m["reuse_connection"].(bool); reused != (i > 0) {
			t.Errorf("record %d: reuse_connection %v", i, reused)
		}
		for j, k := range []string{"c_rd_bytes", "c_wr_bytes", "r_rd_bytes", "r_wr_bytes"} {
			sum[j] += int64(m[k].(uint64))
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for (origin.Rd.Load() != sum[3] || origin.Wr.Load() != sum[2]) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"sum of c_rd_bytes vs what the client sent", sum[0], client.Wr.Load()},
		{"sum of c_wr_bytes vs what the client received", sum[1], client.Rd.Load()},
		{"sum of r_rd_bytes vs what the origin sent", sum[2], origin.Wr.Load()},
		{"sum of r_wr_bytes vs what the origin received", sum[3], origin.Rd.Load()},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if n := origin.Conns.Load(); n != 1 {
		t.Errorf("the origin saw %d connections, want 1 (reused)", n)
	}
}
