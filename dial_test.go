package tasklog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog/internal/nettest"
)

// resolverFunc is a Resolver that answers from a function: the tests
// resolve no name through the system's resolver, nor through DNS.
type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// answers resolves host to v4 and v6, each after its delay; an empty list
// is "no such host".
func answers(v4, v6 []string, v4Delay, v6Delay time.Duration) Resolver {
	return resolverFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		list, delay := v4, v4Delay
		if network == "ip6" {
			list, delay = v6, v6Delay
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if len(list) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, s := range list {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	})
}

// acceptOn listens on addr (loopback) and accepts until the test ends.
func acceptOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	nettest.AcceptAndClose(t, l)
	return l
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

type dialRun struct {
	task    map[string]any
	escapes []observer.LoggedEntry
	err     error
	reason  Reason
}

// dial runs one task's Dial with d and returns its finished record and
// the Escape records.
func dial(t *testing.T, d *Dialer, upstream string) dialRun {
	t.Helper()
	logger, logs := observed()
	escLogger, escLogs := observed()
	d.EscapeLogger = escLogger.With(EscapeLoggerFields("g3proxy")...)
	srv := NewServer(ServerTypeHTTPProxy, "http", logger, WithDialer(d))
	task := srv.NewTask(time.Now(), "", &TCPConnect{ServerAddr: ap("127.0.0.1:3128"), ClientAddr: ap("127.0.0.1:50000"), Upstream: upstream})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := task.Dial(ctx, upstream)
	reason := ReasonFinished
	if err != nil {
		reason = ReasonFor(err, SideUpstream)
	} else {
		conn.Close()
	}
	task.SetStage(StageConnecting)
	task.Finish(reason, err)
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d task records, want 1", len(entries))
	}
	return dialRun{task: recordOf(t, entries[0]), escapes: escLogs.All(), err: err, reason: reason}
}

func TestDialIP(t *testing.T) {
	l := acceptOn(t, "127.0.0.1:0")
	r := dial(t, &Dialer{}, l.Addr().String())
	if r.err != nil {
		t.Fatal(r.err)
	}
	m := r.task
	if m["escaper"] != "direct" || m["tcp_connect_tries"] != uint64(1) || m["next_peer_addr"] != l.Addr().String() {
		t.Errorf("record %v: want escaper direct, 1 try, the listener as next_peer_addr", m)
	}
	if b, ok := m["next_bound_addr"].(string); !ok || netip.MustParseAddrPort(b).Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("next_bound_addr %v", m["next_bound_addr"])
	}
	if _, ok := m["tcp_connect_spend"]; !ok {
		t.Errorf("no tcp_connect_spend in %v", m)
	}
	if len(r.escapes) != 0 {
		t.Errorf("%d Escape records for a connect that worked", len(r.escapes))
	}
}

// A refused connect: UpstreamNotConnected on the task, and exactly one
// Escape record with g3's keys, reason and message.
func TestDialRefused(t *testing.T) {
	upstream := fmt.Sprint("127.0.0.1:", closedPort(t))
	r := dial(t, &Dialer{Name: "edge"}, upstream)
	if r.reason != ReasonUpstreamNotConnected || !errors.Is(r.err, syscall.ECONNREFUSED) {
		t.Errorf("reason %v, err %v: want UpstreamNotConnected from a refused connect", r.reason, r.err)
	}
	if r.task["tcp_connect_tries"] != uint64(1) || r.task["next_peer_addr"] != upstream || r.task["escaper"] != "edge" {
		t.Errorf("record %v", r.task)
	}
	if len(r.escapes) != 1 {
		t.Fatalf("%d Escape records, want 1", len(r.escapes))
	}
	e := r.escapes[0]
	m := e.ContextMap()
	if e.Message != "connect failed: connection refused" || m["log_type"] != "Escape" || m["escape_type"] != "TcpConnect" ||
		m["escaper_type"] != "DirectFixed" || m["escaper_name"] != "edge" || m["reason"] != "ConnectFailed" ||
		m["upstream"] != upstream || m["next_peer_addr"] != upstream || m["tcp_connect_tries"] != uint64(1) ||
		m["task_id"] != r.task["task_id"] {
		t.Errorf("Escape record %q %v", e.Message, m)
	}
}

// A host name: IPv6 first when it answers within the resolution delay;
// a refused address is written as an Escape record and the next one is
// tried at once.
func TestDialHappyEyeballs(t *testing.T) {
	l4 := acceptOn(t, "127.0.0.1:0")
	port := l4.Addr().(*net.TCPAddr).Port
	// IPv6 answers first and is refused: one Escape record, then IPv4.
	r := dial(t, &Dialer{Resolver: answers([]string{"127.0.0.1"}, []string{"::1"}, 0, 0)}, fmt.Sprint("h.example:", port))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.task["tcp_connect_tries"] != uint64(2) || r.task["next_peer_addr"] != l4.Addr().String() || len(r.escapes) != 1 ||
		r.escapes[0].ContextMap()["next_peer_addr"] != fmt.Sprintf("[::1]:%d", port) {
		t.Errorf("record %v, %d Escape records: want [::1] refused, then 127.0.0.1", r.task, len(r.escapes))
	}
	// IPv6 too late (after the resolution delay): IPv4 is tried first.
	r = dial(t, &Dialer{Resolver: answers([]string{"127.0.0.1"}, []string{"::1"}, 0, 300*time.Millisecond)}, fmt.Sprint("h.example:", port))
	if r.err != nil || r.task["tcp_connect_tries"] != uint64(1) || len(r.escapes) != 0 {
		t.Errorf("record %v, %d Escape records, %v: want IPv4 first and connected", r.task, len(r.escapes), r.err)
	}
	// Both families refused, three addresses each but MaxTries 2.
	closed := closedPort(t)
	r = dial(t, &Dialer{MaxTries: 2, Resolver: answers([]string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, []string{"::1", "::1", "::1"}, 0, 0)},
		fmt.Sprint("h.example:", closed))
	if r.reason != ReasonUpstreamNotConnected || r.task["tcp_connect_tries"] != uint64(4) || len(r.escapes) != 4 {
		t.Errorf("reason %v, record %v, %d Escape records: want 4 tries, 4 Escape records", r.reason, r.task, len(r.escapes))
	}
	for i, e := range r.escapes {
		if got := e.ContextMap()["tcp_connect_tries"]; got != uint64(i+1) {
			t.Errorf("Escape record %d: tcp_connect_tries %v", i, got)
		}
	}
}

// A name that does not resolve: UpstreamNotResolved, no attempt, no
// Escape record.
func TestDialNotResolved(t *testing.T) {
	r := dial(t, &Dialer{Resolver: answers(nil, nil, 0, 0)}, "nx.example:443")
	if r.reason != ReasonUpstreamNotResolved || r.task["tcp_connect_tries"] != uint64(0) || len(r.escapes) != 0 {
		t.Errorf("reason %v, record %v, %d Escape records", r.reason, r.task, len(r.escapes))
	}
	var dnsErr *net.DNSError
	if !errors.As(r.err, &dnsErr) {
		t.Errorf("err %v is not a *net.DNSError", r.err)
	}
}

// An attempt that outlives ConnectTimeout: TimeoutByRule.
func TestDialTimeoutByRule(t *testing.T) {
	addr, stop := nettest.HangingListener(t)
	defer stop()
	start := time.Now()
	r := dial(t, &Dialer{ConnectTimeout: 200 * time.Millisecond}, addr)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Dial took %v with a 200ms ConnectTimeout", took)
	}
	if r.reason != ReasonUpstreamNotConnected || len(r.escapes) != 1 {
		t.Fatalf("reason %v, %d Escape records", r.reason, len(r.escapes))
	}
	if e := r.escapes[0]; e.Message != "timeout by rule" || e.ContextMap()["reason"] != "TimeoutByRule" {
		t.Errorf("Escape record %q %v", e.Message, e.ContextMap())
	}
}

// Canceling the context cancels the attempts: the server quitting.
func TestDialCanceled(t *testing.T) {
	addr, stop := nettest.HangingListener(t)
	defer stop()
	logger, _ := observed()
	srv := NewServer(ServerTypeHTTPProxy, "http", logger)
	task := srv.NewTask(time.Now(), "", tcpDetail())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := task.Dial(ctx, addr)
	task.Finish(ReasonFor(err, SideUpstream), err)
	if got := ReasonFor(err, SideUpstream); got != ReasonCanceledAsServerQuit {
		t.Errorf("reason %v (%v), want CanceledAsServerQuit", got, err)
	}
}

// tcp_connect_spend is the connect attempts' time, as g3's: a slow
// resolution is not in it.
func TestDialSpendLeavesResolutionOut(t *testing.T) {
	l := acceptOn(t, "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	r := dial(t, &Dialer{Resolver: answers([]string{"127.0.0.1"}, nil, 200*time.Millisecond, 200*time.Millisecond)}, fmt.Sprint("slow.example:", port))
	if r.err != nil {
		t.Fatal(r.err)
	}
	spend, err := ParseDuration(fmt.Sprint(r.task["tcp_connect_spend"]))
	total, err2 := ParseDuration(fmt.Sprint(r.task["total_time"]))
	if err != nil || err2 != nil || spend >= 150*time.Millisecond || total < 200*time.Millisecond {
		t.Errorf("tcp_connect_spend %v, total_time %v: want the 200ms resolution in the total only", r.task["tcp_connect_spend"], r.task["total_time"])
	}
}
