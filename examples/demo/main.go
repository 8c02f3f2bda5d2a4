// Command demo shows tasklog end to end, in one process and on loopback
// only: it starts an HTTP and an HTTPS origin, a UDP echo server, the
// example HTTP proxy and SOCKS5 server, drives a scripted set of tasks
// through them, prints every g3 task log line the proxies write, then a
// one-line summary per task, and exits.
//
//	go run ./examples/demo
//	go run ./examples/demo -log stdout                  # g3's text format
//	go run ./examples/demo -log syslog:udp://127.0.0.1:514 -log-cee
//
// With -log other than json, the records go through that g3 log driver
// and only the summaries are printed here.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/httpproxy"
	"github.com/proxylog/tasklog/examples/internal/serving"
	"github.com/proxylog/tasklog/examples/internal/socks5"
	"github.com/proxylog/tasklog/internal/dnstest"
	"github.com/proxylog/tasklog/resolver"
)

func main() {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	logFlags := serving.AddLogFlags(fs)
	if err := serving.ParseFlags(fs, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var records *serving.Loggers // nil: JSON lines on stdout, in step with the script
	if logFlags.Target != "json" {
		logs, closeLog, err := logFlags.NewLoggers(os.Stdout, os.Stderr, "tasklog-demo")
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(2)
		}
		defer closeLog()
		records = &logs
	}
	if err := run(ctx, os.Stdout, records); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// step is one scripted task.
type step struct {
	name string
	run  func(ctx context.Context, env *env) error
}

// env is what the steps talk to.
type env struct {
	httpProxy, socksProxy string // listening addresses
	origin, tlsOrigin     *httptest.Server
	udpEcho               netip.AddrPort
	closedPort            string // a loopback address where nothing listens
}

// run drives the script. Every record goes to records (a log driver's
// three g3 loggers: task, Escape and Resolve) or, when it is nil, to out
// as a g3 JSON line; and to an observer from which the summaries are made.
func run(ctx context.Context, out io.Writer, records *serving.Loggers) error {
	obsCore, observed := observer.New(zap.InfoLevel)
	var logs serving.Loggers
	if records == nil {
		jsonCore := zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.Lock(zapcore.AddSync(out)), zap.InfoLevel)
		base := zap.New(zapcore.NewTee(jsonCore, obsCore))
		logs = serving.Loggers{Task: base.With(tasklog.LoggerFields("tasklog-demo")...),
			Escape: base.With(tasklog.EscapeLoggerFields("tasklog-demo")...), Resolve: base.With(tasklog.ResolveLoggerFields("tasklog-demo")...)}
	} else {
		tee := func(l *zap.Logger, fields []zap.Field) *zap.Logger {
			return zap.New(zapcore.NewTee(l.Core(), obsCore.With(fields)))
		}
		logs = serving.Loggers{Task: tee(records.Task, tasklog.LoggerFields("tasklog-demo")),
			Escape: tee(records.Escape, tasklog.EscapeLoggerFields("tasklog-demo")), Resolve: tee(records.Resolve, tasklog.ResolveLoggerFields("tasklog-demo"))}
	}

	e, stop, err := startAll(logs)
	if err != nil {
		return err
	}
	steps := []step{
		{"CONNECT tunnel to the HTTPS origin", connectTunnel},
		{"forwarded GET with credentials in the URL", forwardWithCredentials},
		{"CONNECT to a refused upstream (and its Escape record)", refusedUpstream},
		{"CONNECT to a name that does not resolve (and its Resolve records)", unresolvedUpstream},
		{"client hangs up mid-transfer", clientHangsUp},
		{"slow transfer with Periodic records", slowTransfer},
		{"SOCKS5 UDP ASSOCIATE exchange", udpAssociate},
	}
	for i, s := range steps {
		fmt.Fprintf(out, "\n# %d. %s\n", i+1, s.name)
		before := len(finishedRecords(observed))
		if err := s.run(ctx, e); err != nil {
			stop()
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := waitFinished(ctx, observed, before+1); err != nil {
			stop()
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	stop()
	fmt.Fprintln(out, "\n# summary: one line per task, then the Escape and Resolve records")
	for _, m := range finishedRecords(observed) {
		fmt.Fprintln(out, summary(m))
	}
	for _, entry := range observed.All() {
		m := entry.ContextMap()
		switch m["log_type"] {
		case "Escape":
			fmt.Fprintf(out, "Escape   %-12v %-18v %-22v task %v: %s\n", m["escape_type"], m["reason"], m["next_peer_addr"], m["task_id"], entry.Message)
		case "Resolve":
			fmt.Fprintf(out, "Resolve  %-12v %-18v %-4v %-12v %s\n", m["error_type"], m["error_subtype"], m["query_type"], m["domain"], entry.Message)
		}
	}
	return nil
}

// startAll starts the origins, a DNS server and both proxies; stop shuts
// them down.
func startAll(logs serving.Loggers) (*env, func(), error) {
	logger := logs.Task
	dns, err := dnstest.New()
	if err != nil {
		return nil, nil, err
	}
	r := &resolver.Resolver{Name: "default", Servers: []netip.AddrPort{dns.Addr}, Logger: logs.Resolve}
	origin := httptest.NewServer(http.HandlerFunc(originHandler))
	tlsOrigin := httptest.NewUnstartedServer(http.HandlerFunc(originHandler))
	tlsOrigin.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsOrigin.StartTLS()

	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(append([]byte("echo: "), buf[:n]...), from)
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	hp := httpproxy.New(httpproxy.Config{Name: "http", Logger: logger, Periodic: 300 * time.Millisecond,
		Resolver: r, EscapeLogger: logs.Escape})
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	go hp.Serve(hl)
	sp := socks5.New(socks5.Config{Name: "socks", Logger: logger, Users: map[string]string{"carol": "pw"},
		Resolver: r, EscapeLogger: logs.Escape})
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	go sp.Serve(sl)
	e := &env{httpProxy: hl.Addr().String(), socksProxy: sl.Addr().String(), origin: origin, tlsOrigin: tlsOrigin,
		udpEcho: echo.LocalAddr().(*net.UDPAddr).AddrPort(), closedPort: closedAddr}
	stop := func() {
		hp.Shutdown()
		sp.Shutdown()
		dns.Close()
		origin.Close()
		tlsOrigin.Close()
		echo.Close()
	}
	return e, stop, nil
}

func originHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/big":
		chunk := make([]byte, 64<<10)
		for i := 0; i < 256; i++ { // 16 MiB, more than the client will take
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "/slow":
		for i := 0; i < 8; i++ {
			fmt.Fprintf(w, "tick %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(125 * time.Millisecond)
		}
	default:
		fmt.Fprintf(w, "hello from %s\n", r.URL.Path)
	}
}

func proxyClient(e *env) *http.Client {
	proxyURL := &url.URL{Scheme: "http", Host: e.httpProxy}
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: e.tlsOrigin.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	c.CloseIdleConnections()
	return err
}

func connectTunnel(ctx context.Context, e *env) error {
	return get(ctx, proxyClient(e), e.tlsOrigin.URL+"/tunnel")
}

// forwardWithCredentials writes the request line itself: clients like curl
// move URL credentials into a header, and the point is the URI masking.
func forwardWithCredentials(ctx context.Context, e *env) error {
	host := strings.TrimPrefix(e.origin.URL, "http://")
	return rawRequest(e, fmt.Sprintf("GET http://bob:s3cret@%s/account?id=7 HTTP/1.1\r\nHost: %s\r\nUser-Agent: tasklog-demo\r\nConnection: close\r\n\r\n", host, host), -1)
}

func refusedUpstream(ctx context.Context, e *env) error {
	return rawRequest(e, fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", e.closedPort, e.closedPort), -1)
}

// unresolvedUpstream asks for a name the demo's DNS server answers
// NXDOMAIN: a task record with UpstreamNotResolved, and a Resolve record
// for its A and its AAAA query.
func unresolvedUpstream(ctx context.Context, e *env) error {
	return rawRequest(e, "CONNECT nx.example:443 HTTP/1.1\r\nHost: nx.example:443\r\n\r\n", -1)
}

func clientHangsUp(ctx context.Context, e *env) error {
	return rawRequest(e, fmt.Sprintf("GET %s/big HTTP/1.1\r\nHost: x\r\n\r\n", e.origin.URL), 256<<10)
}

func slowTransfer(ctx context.Context, e *env) error {
	return get(ctx, proxyClient(e), e.origin.URL+"/slow")
}

// rawRequest sends req to the HTTP proxy and reads the whole answer, or
// with hangUpAfter >= 0 that many bytes before resetting the connection.
func rawRequest(e *env, req string, hangUpAfter int) error {
	c, err := net.Dial("tcp", e.httpProxy)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	if hangUpAfter >= 0 {
		if _, err := io.ReadFull(c, make([]byte, hangUpAfter)); err != nil {
			return err
		}
		c.(*net.TCPConn).SetLinger(0) // hang up hard, mid-transfer
		return nil
	}
	_, err = io.Copy(io.Discard, bufio.NewReader(c))
	return err
}

func udpAssociate(ctx context.Context, e *env) error {
	ctrl, err := net.Dial("tcp", e.socksProxy)
	if err != nil {
		return err
	}
	defer ctrl.Close()
	ctrl.SetDeadline(time.Now().Add(10 * time.Second))
	relay, err := socks5.ClientAssociate(ctrl, "carol", "pw")
	if err != nil {
		return err
	}
	u, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(relay))
	if err != nil {
		return err
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	for _, msg := range []string{"ping 1", "ping 2", "ping 3"} {
		if _, err := u.Write(socks5.PackUDP(e.udpEcho, []byte(msg))); err != nil {
			return err
		}
		n, err := u.Read(buf)
		if err != nil {
			return err
		}
		if _, payload, err := socks5.UnpackUDP(buf[:n]); err != nil || string(payload) != "echo: "+msg {
			return fmt.Errorf("UDP reply %q, %v", buf[:n], err)
		}
	}
	return nil
}

func finishedRecords(logs *observer.ObservedLogs) []map[string]any {
	var out []map[string]any
	for _, entry := range logs.All() {
		if m := entry.ContextMap(); m["task_event"] == "Finished" {
			m["msg"] = entry.Message
			out = append(out, m)
		}
	}
	return out
}

func waitFinished(ctx context.Context, logs *observer.ObservedLogs, n int) error {
	for len(finishedRecords(logs)) < n {
		select {
		case <-ctx.Done():
			return errors.New("the task's finished record did not come")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// summary is one line about a finished record.
func summary(m map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12v %-10v %-24v", m["task_type"], m["server_name"], m["reason"])
	target := m["upstream"]
	if uri, ok := m["uri"]; ok {
		target = uri
	} else if peer, ok := m["initial_peer"]; ok {
		target = peer
	}
	fmt.Fprintf(&b, " %-44v total=%-10v", target, m["total_time"])
	var counters []string
	for k, v := range m {
		if strings.HasSuffix(k, "_bytes") || strings.HasSuffix(k, "_packets") {
			counters = append(counters, fmt.Sprintf("%s=%v", k, v))
		}
	}
	sort.Strings(counters)
	b.WriteString(" " + strings.Join(counters, " "))
	return b.String()
}
