package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/proxylog/tasklog/examples/internal/testutil"
	"github.com/proxylog/tasklog/internal/dnstest"
	"github.com/proxylog/tasklog/internal/nettest"
)

// connectThrough sends one CONNECT to target through the proxy and
// returns the proxy's status code.
func connectThrough(t *testing.T, proxy, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// recordsOf returns the program's records of one log type.
func recordsOf(t *testing.T, p *testutil.Program, logType string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got []map[string]any
		for _, m := range p.Records(t) {
			if m["log_type"] == logType {
				got = append(got, m)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d %s records, want %d: %v", len(got), logType, n, got)
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The "done when": with -log json -dns, a CONNECT to a refused
// port writes its task record and exactly one Escape record; a name the
// DNS server answers NXDOMAIN (SERVFAIL) writes UpstreamNotResolved and a
// Resolve record for each query; a name that resolves writes
// tcp_connect_tries 1, the escaper, both next addresses and no Escape
// record.
func TestEscapeAndResolveLogs(t *testing.T) {
	dns := dnstest.Start(t)
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedPort := refused.Addr().(*net.TCPAddr).Port
	refused.Close()
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nettest.AcceptAndClose(t, up)
	upPort := up.Addr().(*net.TCPAddr).Port

	p := testutil.Start(t, run, "-log", "json", "-dns", dns.Addr.String(), "-daemon", "g3")

	// A refused port: the task and one Escape record.
	target := fmt.Sprintf("127.0.0.1:%d", refusedPort)
	if code := connectThrough(t, p.Addr, target); code != http.StatusBadGateway {
		t.Errorf("CONNECT to a refused port: %d, want 502", code)
	}
	task := p.Finished(t, 1)[0]
	esc := recordsOf(t, p, "Escape", 1)[0]
	if task["reason"] != "UpstreamNotConnected" || fmt.Sprint(task["tcp_connect_tries"]) != "1" {
		t.Errorf("task %v", task)
	}
	for k, want := range map[string]any{"escape_type": "TcpConnect", "task_id": task["task_id"], "reason": "ConnectFailed",
		"msg": "connect failed: connection refused", "escaper_type": "DirectFixed", "escaper_name": "direct",
		"upstream": target, "next_peer_addr": target, "daemon_name": "g3"} {
		if fmt.Sprint(esc[k]) != fmt.Sprint(want) {
			t.Errorf("Escape record %s = %v, want %v", k, esc[k], want)
		}
	}
	// g3's keys exactly: the logger's, the record's, the message, the time.
	want := map[string]bool{"daemon_name": true, "log_type": true, "pid": true, "escaper_type": true, "escaper_name": true,
		"escape_type": true, "task_id": true, "upstream": true, "next_peer_addr": true, "tcp_connect_tries": true,
		"tcp_connect_spend": true, "reason": true, "msg": true, "report_ts": true}
	for k := range esc {
		if !want[k] {
			t.Errorf("Escape record has %s, which g3's does not here", k)
		}
	}
	for k := range want {
		if _, ok := esc[k]; !ok {
			t.Errorf("Escape record lacks %s", k)
		}
	}

	// NXDOMAIN, then SERVFAIL: UpstreamNotResolved and Resolve records
	// (one for the A query, one for the AAAA).
	for i, tc := range []struct{ host, subtype string }{{"nx.example", "NOTFOUND"}, {"fail.example", "SERVFAIL"}} {
		if code := connectThrough(t, p.Addr, fmt.Sprintf("%s:%d", tc.host, upPort)); code != http.StatusBadGateway {
			t.Errorf("%s: %d, want 502", tc.host, code)
		}
		task := p.Finished(t, 2+i)[1+i]
		if task["reason"] != "UpstreamNotResolved" {
			t.Errorf("%s: task %v", tc.host, task)
		}
		recs := recordsOf(t, p, "Resolve", 2*(i+1))[2*i:]
		types := map[any]bool{}
		for _, r := range recs {
			types[r["query_type"]] = true
			for k, want := range map[string]any{"error_type": "ServerError", "error_subtype": tc.subtype, "domain": tc.host,
				"rr_source": "query", "server": "127.0.0.1", "server_port": dns.Addr.Port(), "resolver_type": "hickory",
				"resolver_name": "default"} {
				if fmt.Sprint(r[k]) != fmt.Sprint(want) {
					t.Errorf("%s: Resolve record %s = %v, want %v", tc.host, k, r[k], want)
				}
			}
			if _, ok := r["duration"]; !ok {
				t.Errorf("%s: no duration", tc.host)
			}
		}
		if !types["A"] || !types["AAAA"] {
			t.Errorf("%s: query types %v, want A and AAAA", tc.host, types)
		}
	}

	// A name that resolves (to 127.0.0.1 only): one try, the escaper,
	// both addresses, and no new Escape record; its AAAA query, answered
	// with no address, is a Resolve record of its own (EmptyResult), as
	// g3's resolver writes one for every failed query.
	if code := connectThrough(t, p.Addr, fmt.Sprintf("v4.example:%d", upPort)); code != http.StatusOK {
		t.Errorf("v4.example: %d, want 200", code)
	}
	task = p.Finished(t, 4)[3]
	if fmt.Sprint(task["tcp_connect_tries"]) != "1" || task["escaper"] != "direct" ||
		task["next_peer_addr"] != fmt.Sprintf("127.0.0.1:%d", upPort) || task["next_bound_addr"] == nil {
		t.Errorf("resolved task %v", task)
	}
	recordsOf(t, p, "Escape", 1)
	last := recordsOf(t, p, "Resolve", 5)[4]
	if last["domain"] != "v4.example" || last["query_type"] != "AAAA" || last["error_type"] != "EmptyResult" ||
		last["error_subtype"] != "" || last["msg"] != "empty result" {
		t.Errorf("v4.example's AAAA record %v", last)
	}
}
