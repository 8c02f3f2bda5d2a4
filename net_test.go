package tasklog

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"
)

// listen returns a loopback TCP listener closed at the end of the test.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// tcpPair returns the two ends of one loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	l := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// relayFixture is client <-> proxy(Task.Relay) <-> upstream, all loopback.
type relayFixture struct {
	client   *net.TCPConn // the test's client end
	upstream *net.TCPConn // the test's upstream end
	srv      *Server
	task     *Task
	logs     *observer.ObservedLogs
	done     chan relayResult
}

type relayResult struct {
	reason Reason
	err    error
}

func newRelay(t *testing.T, idle time.Duration, opts ...ServerOption) *relayFixture {
	t.Helper()
	client, proxyClientSide := tcpPair(t)
	proxyRemoteSide, upstream := tcpPair(t)
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, opts...)
	task := srv.NewTask(time.Now(), "", tcpDetail())
	f := &relayFixture{client: client, upstream: upstream, srv: srv, task: task, logs: logs, done: make(chan relayResult, 1)}
	go func() {
		reason, err := task.Relay(proxyClientSide, proxyRemoteSide, idle)
		task.Finish(reason, err)
		f.done <- relayResult{reason, err}
	}()
	return f
}

func (f *relayFixture) wait(t *testing.T) relayResult {
	t.Helper()
	select {
	case r := <-f.done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not end")
		return relayResult{}
	}
}

func (f *relayFixture) finished(t *testing.T) map[string]any {
	t.Helper()
	for _, e := range f.logs.All() {
		if m := e.ContextMap(); m["task_event"] == "Finished" {
			return m
		}
	}
	t.Fatal("no Finished record")
	return nil
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// The counters equal exactly the bytes that crossed, both ways, through a
// half-closed tunnel. As in g3, the client's half-close writes the one
// shutdown record, and the upstream's clean close after it ends the task as
// Finished.
func TestRelayCountsExactHalfClose(t *testing.T) {
	f := newRelay(t, 0)
	up := pattern(3<<20+17, 1) // more than one splice chunk
	down := pattern(1<<20+5, 2)
	upstreamGot := make(chan []byte, 1)
	go func() {
		got, _ := io.ReadAll(f.upstream) // until the client's half-close arrives
		f.upstream.Write(down)           // then answer on the still-open direction
		f.upstream.CloseWrite()
		upstreamGot <- got
	}()
	if _, err := f.client.Write(up); err != nil {
		t.Fatal(err)
	}
	if err := f.client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	clientGot, err := io.ReadAll(f.client)
	if err != nil {
		t.Fatal(err)
	}
	res := f.wait(t)
	if !bytes.Equal(<-upstreamGot, up) || !bytes.Equal(clientGot, down) {
		t.Fatal("relayed bytes differ")
	}
	if res.reason != ReasonFinished || res.err != nil {
		t.Errorf("Relay = %v, %v; want Finished, nil", res.reason, res.err)
	}
	m := f.finished(t)
	for key, want := range map[string]uint64{"c_rd_bytes": uint64(len(up)), "r_wr_bytes": uint64(len(up)),
		"r_rd_bytes": uint64(len(down)), "c_wr_bytes": uint64(len(down))} {
		if m[key] != want {
			t.Errorf("%s = %v, want %d", key, m[key], want)
		}
	}
	if m["reason"] != "Finished" || f.msg(t) != "finished" {
		t.Errorf("finished record reason %v, message %q; want Finished, \"finished\"", m["reason"], f.msg(t))
	}
	f.wantEvents(t, "ClientShutdown", "Finished")
}

// events returns the task_event of every record written, in order.
func (f *relayFixture) wantEvents(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for _, e := range f.logs.All() {
		got = append(got, fmt.Sprint(e.ContextMap()["task_event"]))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// msg returns the finished record's message.
func (f *relayFixture) msg(t *testing.T) string {
	t.Helper()
	for _, e := range f.logs.All() {
		if e.ContextMap()["task_event"] == "Finished" {
			return e.Message
		}
	}
	t.Fatal("no Finished record")
	return ""
}

// An upstream reset after the client's clean half-close ends the task with
// the reset's reason; the one shutdown record stays.
func TestRelayUpstreamResetAfterClientShutdown(t *testing.T) {
	f := newRelay(t, 0)
	f.client.Write([]byte("hello"))
	f.client.CloseWrite()
	if got, err := io.ReadAll(f.upstream); err != nil || string(got) != "hello" {
		t.Fatalf("upstream read %q, %v", got, err)
	}
	f.upstream.SetLinger(0) // close with RST
	f.upstream.Close()
	res := f.wait(t)
	if res.reason != ReasonUpstreamReadFailed || res.err == nil {
		t.Errorf("Relay = %v, %v; want UpstreamReadFailed and the error", res.reason, res.err)
	}
	if m := f.finished(t); m["reason"] != "UpstreamReadFailed" {
		t.Errorf("finished record reason %v", m["reason"])
	}
	f.wantEvents(t, "ClientShutdown", "Finished")
}

// The idle timeout after a half-close ends the task as Idle.
func TestRelayIdleAfterClientShutdown(t *testing.T) {
	f := newRelay(t, 200*time.Millisecond)
	f.client.Write([]byte("hello"))
	f.client.CloseWrite()
	if got, err := io.ReadAll(f.upstream); err != nil || string(got) != "hello" {
		t.Fatalf("upstream read %q, %v", got, err)
	}
	// The upstream keeps its side open and says nothing.
	res := f.wait(t)
	if res.reason != ReasonIdle || !errors.Is(res.err, ErrIdle) {
		t.Errorf("Relay = %v, %v; want Idle", res.reason, res.err)
	}
	if m := f.finished(t); m["reason"] != "Idle" {
		t.Errorf("finished record reason %v", m["reason"])
	}
	f.wantEvents(t, "ClientShutdown", "Finished")
}

func TestRelayUpstreamClosesFirst(t *testing.T) {
	f := newRelay(t, 0)
	down := pattern(200000, 3)
	go func() {
		f.upstream.Write(down)
		f.upstream.CloseWrite()
		io.Copy(io.Discard, f.upstream)
	}()
	got, err := io.ReadAll(f.client)
	if err != nil || !bytes.Equal(got, down) {
		t.Fatalf("client read %d bytes, %v", len(got), err)
	}
	f.client.Write([]byte("bye"))
	f.client.CloseWrite()
	res := f.wait(t)
	if res.reason != ReasonFinished || res.err != nil {
		t.Errorf("Relay = %v, %v; want Finished", res.reason, res.err)
	}
	if m := f.finished(t); m["c_rd_bytes"] != uint64(3) || m["c_wr_bytes"] != uint64(len(down)) {
		t.Errorf("counters %v %v", m["c_rd_bytes"], m["c_wr_bytes"])
	}
	f.wantEvents(t, "UpstreamShutdown", "Finished")
}

func TestRelayUpstreamResets(t *testing.T) {
	f := newRelay(t, 0)
	f.client.Write([]byte("hello"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(f.upstream, buf); err != nil {
		t.Fatal(err)
	}
	f.upstream.SetLinger(0) // close with RST
	f.upstream.Close()
	res := f.wait(t)
	if res.reason != ReasonUpstreamReadFailed {
		t.Errorf("Relay = %v, %v; want UpstreamReadFailed", res.reason, res.err)
	}
	if m := f.finished(t); m["reason"] != "UpstreamReadFailed" || m["c_rd_bytes"] != uint64(5) {
		t.Errorf("finished record %v", m)
	}
}

func TestRelayClientHangsUpMidTransfer(t *testing.T) {
	f := newRelay(t, 0)
	go func() {
		chunk := pattern(64<<10, 4)
		for {
			if _, err := f.upstream.Write(chunk); err != nil {
				return
			}
		}
	}()
	if _, err := io.ReadFull(f.client, make([]byte, 100000)); err != nil {
		t.Fatal(err)
	}
	f.client.SetLinger(0)
	f.client.Close()
	res := f.wait(t)
	if res.reason != ReasonClientTCPWriteFailed && res.reason != ReasonClientTCPReadFailed {
		t.Errorf("Relay = %v, %v; want a client-side failure", res.reason, res.err)
	}
	if m := f.finished(t); m["c_wr_bytes"].(uint64) < 100000 {
		t.Errorf("c_wr_bytes = %v, want at least what the client read", m["c_wr_bytes"])
	}
}

func TestRelayIdle(t *testing.T) {
	f := newRelay(t, 100*time.Millisecond)
	start := time.Now()
	res := f.wait(t)
	elapsed := time.Since(start)
	if res.reason != ReasonIdle || !errors.Is(res.err, ErrIdle) {
		t.Errorf("Relay = %v, %v; want Idle", res.reason, res.err)
	}
	if elapsed < 100*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("idle after %v, want between 100ms and 150ms (3s allowed on a loaded machine)", elapsed)
	}
	if m := f.finished(t); m["reason"] != "Idle" {
		t.Errorf("finished record reason %v", m["reason"])
	}
}

// A slow but steady transfer is not idle, even though no splice chunk fills.
func TestRelaySlowTransferNotIdle(t *testing.T) {
	// A byte every 30ms against a 300ms idle timeout: ten times the gap,
	// so a loaded machine's scheduling delays do not make it idle.
	f := newRelay(t, 300*time.Millisecond)
	go func() {
		for i := 0; i < 12; i++ {
			f.upstream.Write([]byte{byte(i)})
			time.Sleep(30 * time.Millisecond)
		}
		f.upstream.CloseWrite()
	}()
	got, err := io.ReadAll(f.client)
	if err != nil || len(got) != 12 {
		t.Fatalf("client read %d bytes, %v", len(got), err)
	}
	f.client.CloseWrite()
	res := f.wait(t)
	if res.reason != ReasonFinished {
		t.Errorf("Relay = %v, %v; want Finished, not Idle", res.reason, res.err)
	}
}

func TestConnKeepsHalfClose(t *testing.T) {
	c, s := tcpPair(t)
	task := NewServer(ServerTypeHTTPProxy, "h", nil).NewTask(time.Time{}, "", tcpDetail())
	var wc net.Conn = task.WrapClient(c)
	cw, ok := wc.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("wrapped conn has no CloseWrite")
	}
	wc.Write([]byte("abc"))
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(s) // EOF arrives: the write side really closed
	if string(got) != "abc" {
		t.Fatalf("peer read %q", got)
	}
	s.Write([]byte("still open"))
	s.Close()
	back, _ := io.ReadAll(wc)
	if string(back) != "still open" || task.Counters.ClientWriteBytes.Load() != 3 || task.Counters.ClientReadBytes.Load() != 10 {
		t.Errorf("read back %q, counters %d/%d", back, task.Counters.ClientReadBytes.Load(), task.Counters.ClientWriteBytes.Load())
	}
	if err := task.WrapClient(&net.UDPConn{}).CloseRead(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CloseRead on a conn without it = %v", err)
	}
	if task.WrapClient(wc) != wc {
		t.Error("wrapping a wrapped conn of the same task again")
	}
}

func TestPacketConnCounts(t *testing.T) {
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	task := NewServer(ServerTypeSOCKSProxy, "s", nil).NewTask(time.Time{}, "", &UDPAssociate{})
	client, remote := task.WrapClientPacket(a), task.WrapRemotePacket(b)
	sizes := []int{10, 200, 1400}
	for _, n := range sizes {
		if _, err := client.WriteTo(make([]byte, n), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 2048)
	remote.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range sizes {
		if _, _, err := remote.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := remote.WriteToUDPAddrPort(make([]byte, 7), a.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := client.ReadFromUDPAddrPort(buf); err != nil || n != 7 {
		t.Fatalf("read %d, %v", n, err)
	}
	c := &task.Counters
	got := []uint64{c.ClientWriteBytes.Load(), c.ClientWritePackets.Load(), c.RemoteReadBytes.Load(), c.RemoteReadPackets.Load(),
		c.RemoteWriteBytes.Load(), c.RemoteWritePackets.Load(), c.ClientReadBytes.Load(), c.ClientReadPackets.Load()}
	want := []uint64{1610, 3, 1610, 3, 7, 1, 7, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("counters %v, want %v", got, want)
		}
	}
}

// reasonCase is one error from a real socket and its expected reasons.
func TestReasonForRealErrors(t *testing.T) {
	// A refused port: listen, note the address, close.
	l := listen(t)
	refusedAddr := l.Addr().String()
	l.Close()
	_, errRefused := net.Dial("tcp", refusedAddr)

	// A DNS lookup against a loopback port where nothing listens.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	deadDNS := pc.LocalAddr().String()
	pc.Close()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", deadDNS)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, errDNS := resolver.LookupHost(ctx, "upstream.example")

	// A peer that resets: read gets ECONNRESET, then writes fail.
	c, s := tcpPair(t)
	s.SetLinger(0)
	s.Close()
	time.Sleep(20 * time.Millisecond)
	_, errReset := c.Read(make([]byte, 1))
	var errWrite error
	for i := 0; i < 100 && errWrite == nil; i++ {
		_, errWrite = c.Write([]byte("x"))
	}

	// An expired deadline; a graceful close; a closed connection.
	c2, s2 := tcpPair(t)
	c2.SetReadDeadline(time.Now().Add(-time.Second))
	_, errDeadline := c2.Read(make([]byte, 1))
	c2.SetReadDeadline(time.Time{})
	s2.Close()
	_, errEOF := c2.Read(make([]byte, 1))
	c2.Close()
	_, errClosed := c2.Read(make([]byte, 1))

	// A TLS server whose certificate the client does not trust.
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
	ts.StartTLS()
	defer ts.Close()
	_, errBadCert := tls.Dial("tcp", ts.Listener.Addr().String(), &tls.Config{ServerName: "example.com"})

	// A TLS handshake with a peer that never answers.
	quiet := listen(t)
	go func() {
		c, err := quiet.Accept()
		if err == nil {
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	raw, err := net.Dial("tcp", quiet.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(50 * time.Millisecond))
	errTLSTimeout := tls.Client(raw, &tls.Config{ServerName: "x"}).Handshake()

	// A dial canceled by the server's context at shutdown.
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	var d net.Dialer
	_, errCanceled := d.DialContext(canceled, "tcp", refusedAddr)

	// UDP: a datagram to a closed port makes the next read fail.
	u, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("ping"))
	u.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, errUDP := u.Read(make([]byte, 10))

	tests := []struct {
		name     string
		err      error
		client   Reason
		upstream Reason
	}{
		{"nil", nil, ReasonFinished, ReasonFinished},
		{"refused", errRefused, ReasonUpstreamNotConnected, ReasonUpstreamNotConnected},
		{"dns", errDNS, ReasonUpstreamNotResolved, ReasonUpstreamNotResolved},
		{"reset read", errReset, ReasonClientTCPReadFailed, ReasonUpstreamReadFailed},
		{"write after reset", errWrite, ReasonClientTCPWriteFailed, ReasonUpstreamWriteFailed},
		{"deadline", errDeadline, ReasonClientAppTimeout, ReasonUpstreamAppTimeout},
		{"eof", errEOF, ReasonClosedByClient, ReasonClosedByUpstream},
		{"closed", errClosed, ReasonClosedByClient, ReasonClosedByUpstream},
		{"bad certificate", errBadCert, ReasonUnclassifiedError, ReasonUpstreamTLSHandshakeFailed},
		{"server quit", errCanceled, ReasonCanceledAsServerQuit, ReasonCanceledAsServerQuit},
		{"udp refused", errUDP, ReasonClientUDPRecvFailed, ReasonUpstreamReadFailed},
		{"idle", ErrIdle, ReasonIdle, ReasonIdle},
		{"other", errors.New("something else"), ReasonUnclassifiedError, ReasonUnclassifiedError},
	}
	for _, tt := range tests {
		if tt.err == nil && tt.name != "nil" {
			t.Errorf("%s: the socket gave no error", tt.name)
			continue
		}
		if got := ReasonFor(tt.err, SideClient); got != tt.client {
			t.Errorf("%s: ReasonFor(%v, SideClient) = %v, want %v", tt.name, tt.err, got, tt.client)
		}
		if got := ReasonFor(tt.err, SideUpstream); got != tt.upstream {
			t.Errorf("%s: ReasonFor(%v, SideUpstream) = %v, want %v", tt.name, tt.err, got, tt.upstream)
		}
	}
	if got := ReasonFor(errTLSTimeout, SideUpstreamTLS); got != ReasonUpstreamTLSHandshakeTimeout {
		t.Errorf("ReasonFor(%v, SideUpstreamTLS) = %v, want UpstreamTlsHandshakeTimeout", errTLSTimeout, got)
	}
	if got := ReasonFor(errBadCert, SideUpstreamTLS); got != ReasonUpstreamTLSHandshakeFailed {
		t.Errorf("ReasonFor(%v, SideUpstreamTLS) = %v", errBadCert, got)
	}
}

func TestRelayUpstreamHangsUpMidUpload(t *testing.T) {
	f := newRelay(t, 0)
	go func() {
		chunk := pattern(64<<10, 5)
		for {
			if _, err := f.client.Write(chunk); err != nil {
				return
			}
		}
	}()
	if _, err := io.ReadFull(f.upstream, make([]byte, 100000)); err != nil {
		t.Fatal(err)
	}
	f.upstream.SetLinger(0)
	f.upstream.Close()
	res := f.wait(t)
	if res.reason != ReasonUpstreamWriteFailed && res.reason != ReasonUpstreamReadFailed {
		t.Errorf("Relay = %v, %v; want an upstream-side failure", res.reason, res.err)
	}
}

// noHalfClose hides CloseWrite, as a wrapper that replays bytes a
// bufio.Reader read past a CONNECT head does.
type noHalfClose struct{ net.Conn }

// A client connection that cannot half-close: when the upstream ends, the
// client still sees the end of the stream at once (a full close instead of
// a FIN), and the task ends Finished with every byte counted.
func TestRelayWithoutHalfClose(t *testing.T) {
	client, proxyClientSide := tcpPair(t)
	proxyRemoteSide, upstream := tcpPair(t)
	logger, logs := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger)
	task := srv.NewTask(time.Now(), "", tcpDetail())
	done := make(chan relayResult, 1)
	go func() {
		reason, err := task.Relay(noHalfClose{proxyClientSide}, proxyRemoteSide, 0)
		task.Finish(reason, err)
		done <- relayResult{reason, err}
	}()
	client.Write([]byte("ping"))
	buf := make([]byte, 4)
	upstream.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(upstream, buf); err != nil {
		t.Fatal(err)
	}
	upstream.Write([]byte("pong"))
	upstream.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "pong" {
		t.Fatalf("the client read %q, %v: want pong and the end of the stream", got, err)
	}
	var r relayResult
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("relay did not end")
	}
	if r.reason != ReasonFinished || r.err != nil {
		t.Errorf("relay ended %v, %v; want Finished", r.reason, r.err)
	}
	f := &relayFixture{logs: logs}
	m := f.finished(t)
	if m["c_rd_bytes"] != uint64(4) || m["c_wr_bytes"] != uint64(4) || m["r_rd_bytes"] != uint64(4) || m["r_wr_bytes"] != uint64(4) {
		t.Errorf("counters %v", m)
	}
}
