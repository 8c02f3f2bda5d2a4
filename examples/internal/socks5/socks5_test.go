package socks5

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/testutil"
)

func start(t *testing.T, cfg Config) (string, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	cfg.Logger = zap.New(core)
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), logs
}

func finished(t *testing.T, logs *observer.ObservedLogs, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []map[string]any
		for _, e := range logs.All() {
			if m := e.ContextMap(); m["task_event"] == "Finished" {
				if m[tasklog.ErrorKey] != nil {
					t.Fatalf("bad record: %v", m[tasklog.ErrorKey])
				}
				out = append(out, m)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) != n {
				t.Fatalf("%d finished records, want %d", len(out), n)
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// greet runs the method negotiation and, with a user, RFC 1929.
func greet(t *testing.T, c net.Conn, user, pass string) {
	t.Helper()
	method := byte(methodNone)
	if user != "" {
		method = methodUserPwd
	}
	c.Write([]byte{5, 1, method})
	var rep [2]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil || rep[1] != method {
		t.Fatalf("method reply %v, %v", rep, err)
	}
	if user == "" {
		return
	}
	msg := append([]byte{1, byte(len(user))}, user...)
	msg = append(append(msg, byte(len(pass))), pass...)
	c.Write(msg)
	if _, err := io.ReadFull(c, rep[:]); err != nil || rep[1] != 0 {
		t.Fatalf("auth reply %v, %v", rep, err)
	}
}

// request sends a SOCKS request and returns the reply code and bound address.
func request(t *testing.T, c net.Conn, cmd byte, dst netip.AddrPort) (byte, netip.AddrPort) {
	t.Helper()
	c.Write(appendAddr([]byte{5, cmd, 0}, dst))
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		t.Fatal(err)
	}
	addr, err := readAddr(c, head[3])
	if err != nil {
		t.Fatal(err)
	}
	return head[1], netip.MustParseAddrPort(addr)
}

func TestConnect(t *testing.T) {
	for _, tc := range []struct{ user, pass string }{{"", ""}, {"alice", "pw"}} {
		var users map[string]string
		if tc.user != "" {
			users = map[string]string{tc.user: tc.pass}
		}
		addr, logs := start(t, Config{Users: users})
		echo, _ := net.Listen("tcp", "127.0.0.1:0")
		defer echo.Close()
		go func() {
			c, err := echo.Accept()
			if err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		greet(t, c, tc.user, tc.pass)
		if rep, _ := request(t, c, cmdConnect, netip.MustParseAddrPort(echo.Addr().String())); rep != repSucceeded {
			t.Fatalf("CONNECT reply %d", rep)
		}
		payload := bytes.Repeat([]byte("p"), 100000)
		go func() { c.Write(payload); c.(*net.TCPConn).CloseWrite() }()
		back, _ := io.ReadAll(c)
		c.Close()
		if !bytes.Equal(back, payload) {
			t.Fatalf("echo returned %d bytes", len(back))
		}
		m := finished(t, logs, 1)[0]
		for k, v := range map[string]any{"server_type": "SocksProxy", "task_type": "TcpConnect", "reason": "Finished",
			"c_rd_bytes": uint64(len(payload)), "c_wr_bytes": uint64(len(payload)), "r_rd_bytes": uint64(len(payload)),
			"r_wr_bytes": uint64(len(payload)), "upstream": echo.Addr().String()} {
			if m[k] != v {
				t.Errorf("user %q: %s = %v, want %v", tc.user, k, m[k], v)
			}
		}
		if tc.user != "" && m["user"] != tc.user {
			t.Errorf("user = %v", m["user"])
		}
	}
}

func TestConnectRefused(t *testing.T) {
	addr, logs := start(t, Config{})
	closed := netip.MustParseAddrPort(testutil.ClosedAddr(t))
	c, _ := net.Dial("tcp", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	greet(t, c, "", "")
	if rep, _ := request(t, c, cmdConnect, closed); rep != repRefused {
		t.Errorf("reply %d, want refused", rep)
	}
	if m := finished(t, logs, 1)[0]; m["reason"] != "UpstreamNotConnected" {
		t.Errorf("reason %v", m["reason"])
	}
}

func TestUDPAssociate(t *testing.T) {
	addr, logs := start(t, Config{Users: map[string]string{"carol": "pw"}})
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(append([]byte("re:"), buf[:n]...), from)
		}
	}()
	echoAddr := echo.LocalAddr().(*net.UDPAddr).AddrPort()

	ctrl, _ := net.Dial("tcp", addr)
	defer ctrl.Close()
	ctrl.SetDeadline(time.Now().Add(10 * time.Second))
	greet(t, ctrl, "carol", "pw")
	rep, relay := request(t, ctrl, cmdUDP, netip.MustParseAddrPort("0.0.0.0:0"))
	if rep != repSucceeded {
		t.Fatalf("UDP ASSOCIATE reply %d", rep)
	}
	u, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(relay))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(10 * time.Second))
	var sent, received, payloads, replies int
	for _, msg := range []string{"one", "two!", "three"} {
		dgram := append(appendAddr([]byte{0, 0, 0}, echoAddr), msg...)
		u.Write(dgram)
		sent += len(dgram)
		payloads += len(msg)
		buf := make([]byte, 2048)
		n, err := u.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[10:n]); got != "re:"+msg || binary.BigEndian.Uint16(buf[8:10]) != echoAddr.Port() {
			t.Fatalf("reply %q", buf[:n])
		}
		received += n
		replies += n - 10
	}
	ctrl.Close()
	m := finished(t, logs, 1)[0]
	for k, v := range map[string]any{"task_type": "UdpAssociate", "reason": "ClosedByClient", "user": "carol",
		"c_rd_packets": uint64(3), "c_wr_packets": uint64(3), "r_rd_packets": uint64(3), "r_wr_packets": uint64(3),
		"c_rd_bytes": uint64(sent), "c_wr_bytes": uint64(received), "r_wr_bytes": uint64(payloads), "r_rd_bytes": uint64(replies),
		"initial_peer": echoAddr.String(), "udp_listen_addr": relay.String(), "udp_client_addr": u.LocalAddr().String()} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestBadHandshakeMakesNoTask(t *testing.T) {
	addr, logs := start(t, Config{Users: map[string]string{"a": "b"}})
	c, _ := net.Dial("tcp", addr)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte{5, 1, methodNone}) // the server wants username/password
	var rep [2]byte
	io.ReadFull(c, rep[:])
	c.Close()
	if rep[1] != methodNoneOK {
		t.Errorf("method reply %v", rep)
	}
	time.Sleep(20 * time.Millisecond)
	if logs.Len() != 0 {
		t.Errorf("a refused handshake wrote %d records", logs.Len())
	}
}

// Shutting down with a UDP association open finishes its task with
// CanceledAsServerQuit and leaves no goroutine behind.
func TestShutdownWithOpenAssociation(t *testing.T) {
	before := runtime.NumGoroutine()
	core, logs := observer.New(zapcore.InfoLevel)
	s := New(Config{Logger: zap.New(core)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	ctrl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	ctrl.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := ClientAssociate(ctrl, "", ""); err != nil {
		t.Fatal(err)
	}
	testutil.Within(t, 10*time.Second, "Shutdown", s.Shutdown)
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	m := finished(t, logs, 1)[0]
	if m["task_type"] != "UdpAssociate" || m["reason"] != "CanceledAsServerQuit" {
		t.Errorf("record %v %v", m["task_type"], m["reason"])
	}
	// The client is still connected: only Shutdown can have ended the
	// server's goroutines.
	testutil.WaitGoroutines(t, before)
}

// A zero-length domain is refused, without dialing this host and without
// a task.
func TestZeroLengthDomainIsRefused(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	s := New(Config{Logger: zap.New(core)})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(ln)
	defer s.Shutdown()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	greet(t, c, "", "")
	c.Write([]byte{5, cmdConnect, 0, atypDomain, 0, 0x23, 0x29}) // "" port 9001
	rep := make([]byte, 2)
	if _, err := io.ReadFull(c, rep); err == nil && rep[1] == repSucceeded {
		t.Fatalf("a zero-length domain was accepted")
	}
	time.Sleep(50 * time.Millisecond)
	if logs.Len() != 0 || s.Server().OpenTasks() != 0 {
		t.Errorf("%d records, %d open tasks; want none", logs.Len(), s.Server().OpenTasks())
	}
}
