package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/dnstest"
	"github.com/proxylog/tasklog/internal/nettest"
)

func newResolver(s *dnstest.Server) (*Resolver, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.InfoLevel)
	return &Resolver{Name: "main", Servers: []netip.AddrPort{s.Addr}, Timeout: 300 * time.Millisecond,
		Logger: zap.New(core).With(tasklog.ResolveLoggerFields("g3proxy")...)}, logs
}

func TestLookupAnswers(t *testing.T) {
	s := dnstest.Start(t)
	r, logs := newResolver(s)
	ctx := context.Background()
	for _, tt := range []struct {
		network, host string
		want          []string
	}{
		{"ip4", "ok.example", []string{"127.0.0.1"}},
		{"ip6", "ok.example", []string{"::1"}},
		{"ip", "ok.example.", []string{"127.0.0.1", "::1"}},
		{"ip4", "big.example", []string{"127.0.0.9"}}, // truncated over UDP, then TCP
		{"ip4", "127.0.0.5", []string{"127.0.0.5"}},
	} {
		got, err := r.LookupNetIP(ctx, tt.network, tt.host)
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if err != nil || strings.Join(s, " ") != strings.Join(tt.want, " ") {
			t.Errorf("LookupNetIP(%s, %s) = %v, %v; want %v", tt.network, tt.host, got, err, tt.want)
		}
	}
	if n := logs.Len(); n != 0 {
		t.Errorf("%d Resolve records for lookups that worked", n)
	}
}

// Each failure is a *net.DNSError and one Resolve record with g3's words.
func TestLookupFailures(t *testing.T) {
	s := dnstest.Start(t)
	for _, tt := range []struct {
		host      string
		typ, sub  string
		msg       string
		notFound  bool
		isTimeout bool
	}{
		{"nx.example", "ServerError", "NOTFOUND", "server error: server claims domain name not found", true, false},
		{"fail.example", "ServerError", "SERVFAIL", "server error: server returned general failure", false, false},
		{"refused.example", "ServerError", "REFUSED", "server error: server refused query", false, false},
		{"empty.example", "EmptyResult", "", "empty result", true, false},
		{"slow.example", "DriverError", "Timeout", "driver error: timeout while contacting server", false, true},
	} {
		r, logs := newResolver(s)
		_, err := r.LookupNetIP(context.Background(), "ip4", tt.host)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || dnsErr.IsNotFound != tt.notFound || dnsErr.IsTimeout != tt.isTimeout || dnsErr.Err != tt.msg {
			t.Errorf("%s: err %#v", tt.host, err)
		}
		if got := tasklog.ReasonFor(err, tasklog.SideUpstream); got != tasklog.ReasonUpstreamNotResolved {
			t.Errorf("%s: ReasonFor = %v, want UpstreamNotResolved", tt.host, got)
		}
		entries := logs.All()
		if len(entries) != 1 {
			t.Fatalf("%s: %d Resolve records, want 1", tt.host, len(entries))
		}
		m := entries[0].ContextMap()
		if entries[0].Message != tt.msg || m["log_type"] != "Resolve" || m["resolver_type"] != "hickory" || m["resolver_name"] != "main" ||
			m["error_type"] != tt.typ || m["error_subtype"] != tt.sub || m["domain"] != tt.host || m["query_type"] != "A" ||
			m["rr_source"] != "query" || m["server"] != "127.0.0.1" || m["server_port"] != s.Addr.Port() {
			t.Errorf("%s: Resolve record %q %v", tt.host, entries[0].Message, m)
		}
		if _, ok := m["duration"]; !ok {
			t.Errorf("%s: no duration", tt.host)
		}
	}
}

// A server that is not there (ICMP port unreachable): ConnRefused, and the
// next server is asked.
func TestLookupNextServer(t *testing.T) {
	s := dnstest.Start(t)
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().(*net.UDPAddr).AddrPort()
	dead.Close()
	r, logs := newResolver(s)
	r.Servers = []netip.AddrPort{deadAddr}
	if _, err := r.LookupNetIP(context.Background(), "ip4", "ok.example"); err == nil {
		t.Fatal("a dead server answered")
	}
	if e := logs.All(); len(e) != 1 || e[0].ContextMap()["error_subtype"] != "ConnRefused" {
		t.Errorf("records %v, want one ConnRefused", e)
	}
	r.Servers = []netip.AddrPort{deadAddr, s.Addr}
	if got, err := r.LookupNetIP(context.Background(), "ip4", "ok.example"); err != nil || len(got) != 1 {
		t.Errorf("with a second server: %v, %v", got, err)
	}
}

// Through Task.Dial: a name the server says does not exist is
// UpstreamNotResolved with one Resolve record; a name that resolves
// connects with no record.
func TestDialThroughResolver(t *testing.T) {
	s := dnstest.Start(t)
	r, logs := newResolver(s)
	taskCore, tasks := observer.New(zapcore.InfoLevel)
	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", zap.New(taskCore),
		tasklog.WithDialer(&tasklog.Dialer{Resolver: r, ResolutionDelay: 10 * time.Millisecond}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nettest.AcceptAndClose(t, l)
	port := l.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		host    string
		reason  tasklog.Reason
		records int
	}{
		{"nx.example", tasklog.ReasonUpstreamNotResolved, 2}, // A and AAAA both fail
		{"ok.example", tasklog.ReasonFinished, 0},
	} {
		before := logs.Len()
		task := srv.NewTask(time.Now(), "", &tasklog.TCPConnect{ServerAddr: netip.MustParseAddrPort("127.0.0.1:3128"),
			ClientAddr: netip.MustParseAddrPort("127.0.0.1:50000"), Upstream: tt.host})
		conn, err := task.Dial(context.Background(), net.JoinHostPort(tt.host, strconv.Itoa(port)))
		reason := tasklog.ReasonFinished
		if err != nil {
			reason = tasklog.ReasonFor(err, tasklog.SideUpstream)
		} else {
			conn.Close()
		}
		task.Finish(reason, err)
		if reason != tt.reason || logs.Len()-before != tt.records {
			t.Errorf("%s: reason %v (%v), %d Resolve records; want %v, %d", tt.host, reason, err, logs.Len()-before, tt.reason, tt.records)
		}
	}
	if n := tasks.Len(); n != 2 {
		t.Errorf("%d task records, want 2", n)
	}
}
