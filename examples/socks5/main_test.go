package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/proxylog/tasklog/examples/internal/testutil"
)

// TestCurl drives the SOCKS5 server with the real curl, without and with a
// username and password.
func TestCurl(t *testing.T) {
	testutil.Curl(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "socks hello")
	}))
	defer origin.Close()
	open := testutil.Start(t, run)
	if got := testutil.RunCurl(t, "--socks5", open.Addr, origin.URL); got != "socks hello" {
		t.Errorf("curl --socks5: %q", got)
	}
	authed := testutil.Start(t, run, "-users", "dave:pw")
	if got := testutil.RunCurl(t, "--proxy-user", "dave:pw", "-x", "socks5://"+authed.Addr, origin.URL); got != "socks hello" {
		t.Errorf("curl with a SOCKS5 user: %q", got)
	}
	host := strings.TrimPrefix(origin.URL, "http://")
	for _, p := range []*testutil.Program{open, authed} {
		m := p.Finished(t, 1)[0]
		for k, v := range map[string]any{"server_type": "SocksProxy", "task_type": "TcpConnect", "upstream": host, "log_type": "Task"} {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if fmt.Sprint(m["c_rd_bytes"]) == "0" || fmt.Sprint(m["c_wr_bytes"]) == "0" {
			t.Errorf("counters %v/%v", m["c_rd_bytes"], m["c_wr_bytes"])
		}
	}
	if m := authed.Finished(t, 1)[0]; m["user"] != "dave" {
		t.Errorf("user = %v", m["user"])
	}
}
