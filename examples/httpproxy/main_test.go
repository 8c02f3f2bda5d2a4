package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/proxylog/tasklog/examples/internal/testutil"
)

// TestCurl drives the proxy with the real curl: a CONNECT tunnel to a local
// HTTPS server (-k) and a plain forwarded GET.
func TestCurl(t *testing.T) {
	testutil.Curl(t)
	tlsOrigin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure hello")
	}))
	tlsOrigin.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsOrigin.StartTLS()
	defer tlsOrigin.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain hello")
	}))
	defer plain.Close()

	p := testutil.Start(t, run, "-name", "curl-test", "-daemon", "tasklog-test")
	proxy := "http://" + p.Addr
	if got := testutil.RunCurl(t, "-k", "-x", proxy, tlsOrigin.URL+"/s"); got != "secure hello" {
		t.Errorf("https through CONNECT: %q", got)
	}
	if got := testutil.RunCurl(t, "-x", proxy, "-A", "curl-test-agent", plain.URL+"/p?q=1"); got != "plain hello" {
		t.Errorf("forwarded GET: %q", got)
	}
	recs := p.Finished(t, 2)
	tunnel, get := recs[0], recs[1]
	if tunnel["task_type"] != "TcpConnect" {
		tunnel, get = get, tunnel
	}
	common := map[string]any{"log_type": "Task", "daemon_name": "tasklog-test", "server_type": "HttpProxy",
		"server_name": "curl-test", "task_event": "Finished", "pid": fmt.Sprint(os.Getpid())}
	for _, m := range []map[string]any{tunnel, get} {
		for k, v := range common {
			if fmt.Sprint(m[k]) != fmt.Sprint(v) {
				t.Errorf("%v: %s = %v, want %v", m["task_type"], k, m[k], v)
			}
		}
		if id, _ := m["task_id"].(string); len(id) != 32 || strings.Contains(id, "-") {
			t.Errorf("task_id %q", id)
		}
	}
	host := strings.TrimPrefix(tlsOrigin.URL, "https://")
	// How a TLS tunnel ends is up to curl and the kernel: a clean close
	// (Finished, as g3 says when both sides end cleanly), or a reset when
	// curl closes with unread TLS data (a session ticket) in its buffer.
	// Both are true reports.
	switch tunnel["reason"] {
	case "Finished", "ClientTcpReadFailed":
	default:
		t.Errorf("tunnel reason %v", tunnel["reason"])
	}
	if tunnel["task_type"] != "TcpConnect" || tunnel["upstream"] != host {
		t.Errorf("tunnel record %v", tunnel)
	}
	if fmt.Sprint(tunnel["c_rd_bytes"]) == "0" || fmt.Sprint(tunnel["c_wr_bytes"]) == "0" ||
		fmt.Sprint(tunnel["c_rd_bytes"]) != fmt.Sprint(tunnel["r_wr_bytes"]) || fmt.Sprint(tunnel["c_wr_bytes"]) != fmt.Sprint(tunnel["r_rd_bytes"]) {
		t.Errorf("tunnel counters c_rd %v r_wr %v c_wr %v r_rd %v", tunnel["c_rd_bytes"], tunnel["r_wr_bytes"], tunnel["c_wr_bytes"], tunnel["r_rd_bytes"])
	}
	for k, v := range map[string]any{"task_type": "HttpForward", "method": "GET", "uri": plain.URL + "/p?q=1",
		"user_agent": "curl-test-agent", "rsp_status": "200", "origin_status": "200", "reason": "Finished", "msg": "finished"} {
		if fmt.Sprint(get[k]) != fmt.Sprint(v) {
			t.Errorf("GET record %s = %v, want %v", k, get[k], v)
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
