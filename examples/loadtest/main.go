// Command loadtest runs the example proxies under load, faults and hostile
// clients, on loopback only, and checks what they log: exactly one
// Finished record per task, unique task ids, every byte counter exact, the
// right reason for every fault, the right answer to every bad input. It
// prints a table of what it measured and exits 1 if any check failed.
//
//	go run ./examples/loadtest           # the full run: 10,000 tunnels at concurrency 200, ...
//	go run ./examples/loadtest -short    # what .ci/run runs: 1,000 tunnels, ...
//
// Names are resolved by a DNS server of its own on loopback, never by the
// system resolver.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/counting"
	"github.com/proxylog/tasklog/examples/internal/httpproxy"
	"github.com/proxylog/tasklog/examples/internal/socks5"
	"github.com/proxylog/tasklog/internal/dnstest"
)

type config struct {
	tunnels, concurrency, requests, socks, periodicTasks int
}

func main() {
	short := flag.Bool("short", false, "a shorter run, for CI")
	c := config{}
	flag.IntVar(&c.tunnels, "tunnels", 10000, "CONNECT tunnels")
	flag.IntVar(&c.concurrency, "concurrency", 200, "tunnels and requests at once")
	flag.IntVar(&c.requests, "requests", 10000, "forwarded requests (half kept alive, ten per connection)")
	flag.IntVar(&c.socks, "socks", 5000, "SOCKS5 tunnels")
	flag.IntVar(&c.periodicTasks, "periodic-tasks", 100000, "open library tasks with Periodic records for the scheduling figure")
	flag.Parse()
	if *short {
		c = config{tunnels: 1000, concurrency: 100, requests: 1000, socks: 500, periodicTasks: 10000}
	}
	r := &report{}
	run(c, r)
	r.print(os.Stdout)
	if r.failed > 0 {
		fmt.Printf("\n%d checks failed\n", r.failed)
		os.Exit(1)
	}
	fmt.Println("\nall checks passed")
}

// report collects table rows and failed checks.
type report struct {
	mu     sync.Mutex
	rows   [][3]string // section, item, outcome
	failed int
}

func (r *report) row(section, item, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, [3]string{section, item, outcome})
}

// check records a row whose outcome is ok or the failure.
func (r *report) check(section, item string, ok bool, outcome string) {
	if !ok {
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		outcome = "FAIL: " + outcome
	}
	r.row(section, item, outcome)
}

func (r *report) print(w io.Writer) {
	section := ""
	for _, row := range r.rows {
		if row[0] != section {
			section = row[0]
			fmt.Fprintf(w, "\n%s\n\n| | |\n|---|---|\n", section)
		}
		fmt.Fprintf(w, "| %s | %s |\n", row[1], row[2])
	}
}

// records is a zap core that keeps each record's keys.
type records struct {
	mu   sync.Mutex
	all  []map[string]any
	msgs []string
}

func (c *records) Enabled(zapcore.Level) bool        { return true }
func (c *records) With([]zapcore.Field) zapcore.Core { return c }
func (c *records) Sync() error                       { return nil }
func (c *records) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c *records) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	c.mu.Lock()
	c.all = append(c.all, enc.Fields)
	c.msgs = append(c.msgs, e.Message)
	c.mu.Unlock()
	return nil
}

// finished returns the Finished records, waiting until there are n.
func (c *records) finished(n int, within time.Duration) []map[string]any {
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		var out []map[string]any
		for _, m := range c.all {
			if m["task_event"] == "Finished" {
				out = append(out, m)
			}
		}
		c.mu.Unlock()
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rssKB() int {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return ln
}

// sizedUpstream reads what a client sends up to its half-close (the first
// 8 bytes say how much to answer), answers that many bytes and closes.
func sizedUpstream(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var hdr [8]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			io.Copy(io.Discard, c)
			n := binary.BigEndian.Uint64(hdr[:])
			io.CopyN(c, zeros{}, int64(n))
		}()
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func run(c config, r *report) {
	up := listen()
	defer up.Close()
	go sizedUpstream(up)
	dns, err := dnstest.New()
	if err != nil {
		r.check("Resources", "a DNS server of its own on loopback", false, err.Error())
		return
	}
	defer dns.Close()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns.Addr.String())
	}}

	runtime.GC()
	rss0, g0 := rssKB(), runtime.NumGoroutine()
	r.row("Resources", "before", fmt.Sprintf("RSS %d KiB, %d goroutines", rss0, g0))

	loadTunnels(c, r, up.Addr().String())
	loadForward(c, r)
	loadSOCKS(c, r, up.Addr().String())
	faults(r, up.Addr().String(), resolver)
	closed := listen()
	closedAddr := closed.Addr().String()
	closed.Close()
	escapeAndResolve(c, r, dns, closedAddr)
	badInputs(r)
	scheduling(c, r)

	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	rss1, g1 := rssKB(), runtime.NumGoroutine()
	r.row("Resources", "after", fmt.Sprintf("RSS %d KiB, %d goroutines", rss1, g1))
	r.check("Resources", "no goroutine left behind", g1 <= g0+2, fmt.Sprintf("%d goroutines, %d before", g1, g0))
}

// startProxy runs an HTTP proxy logging into a records core.
func startProxy(cfg httpproxy.Config) (*httpproxy.Proxy, string, *records) {
	rec := &records{}
	if cfg.Logger == nil {
		cfg.Logger = zap.New(rec)
	}
	p := httpproxy.New(cfg)
	ln := listen()
	go p.Serve(ln)
	return p, ln.Addr().String(), rec
}

// tunnel opens a CONNECT tunnel, sends up bytes (the first 8 asking for
// down bytes back), half-closes and reads the answer. It returns the
// client's local address, the key of its record.
func tunnel(proxy, target string, upN, downN int) (string, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("CONNECT: %s", resp.Status)
	}
	payload := make([]byte, upN)
	binary.BigEndian.PutUint64(payload, uint64(downN))
	if _, err := c.Write(payload); err != nil {
		return "", err
	}
	c.(*net.TCPConn).CloseWrite()
	n, err := io.Copy(io.Discard, br)
	if err != nil {
		return "", err
	}
	if n != int64(downN) {
		return "", fmt.Errorf("read %d bytes, want %d", n, downN)
	}
	return c.LocalAddr().String(), nil
}

// parallel runs n jobs at concurrency c and returns the errors.
func parallel(n, c int, job func(i int) error) []error {
	var mu sync.Mutex
	var errs []error
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := job(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

type sizes struct{ up, down int }

func loadTunnels(c config, r *report, target string) {
	p, addr, rec := startProxy(httpproxy.Config{})
	defer p.Shutdown()
	var moved atomic.Int64
	start := time.Now()
	errs := parallel(c.tunnels, c.concurrency, func(i int) error {
		s := tunnelSizes(i)
		if _, err := tunnel(addr, target, s.up, s.down); err != nil {
			return err
		}
		moved.Add(int64(s.up + s.down))
		return nil
	})
	took := time.Since(start)
	r.row("Load", "CONNECT tunnels", fmt.Sprintf("%d at concurrency %d in %v: %.0f tunnels/s, %.0f MB/s relayed",
		c.tunnels, c.concurrency, took.Round(time.Millisecond), float64(c.tunnels)/took.Seconds(), float64(moved.Load())/took.Seconds()/1e6))
	r.check("Load", "tunnels completed", len(errs) == 0, fmt.Sprintf("%d failed: %v", len(errs), first(errs)))
	checkRecords(r, "CONNECT", rec.finished(c.tunnels, 10*time.Second), c.tunnels, bySize(c.tunnels, tunnelSizes))
}

// tunnelSizes gives tunnel i its bytes each way: the upload size is
// unique to the tunnel, so a record is matched to its tunnel by it (the
// client's port is not unique: loopback reuses ports in TIME_WAIT).
func tunnelSizes(i int) sizes { return sizes{8 + 5*i, (i * 104729) % 131072} }

// bySize checks each record against the tunnel whose upload size it
// counted, and that no tunnel is counted twice.
func bySize(n int, size func(int) sizes) func(map[string]any) error {
	want := make(map[int]int, n)
	for i := 0; i < n; i++ {
		s := size(i)
		want[s.up] = s.down
	}
	var mu sync.Mutex
	return func(m map[string]any) error {
		up, _ := strconv.Atoi(fmt.Sprint(m["c_rd_bytes"]))
		mu.Lock()
		down, ok := want[up]
		delete(want, up)
		mu.Unlock()
		if !ok {
			return fmt.Errorf("c_rd_bytes %d is no tunnel's, or a second record of one", up)
		}
		return exact(m, up, down, "Finished")
	}
}

func exact(m map[string]any, upN, downN int, reason string) error {
	for k, v := range map[string]int{"c_rd_bytes": upN, "r_wr_bytes": upN, "r_rd_bytes": downN, "c_wr_bytes": downN} {
		if fmt.Sprint(m[k]) != strconv.Itoa(v) {
			return fmt.Errorf("%s = %v, want %d (%v)", k, m[k], v, m["client_addr"])
		}
	}
	if reason != "" && m["reason"] != reason {
		return fmt.Errorf("reason %v, want %s", m["reason"], reason)
	}
	return nil
}

// checkRecords checks n Finished records with unique ids and each one.
func checkRecords(r *report, what string, recs []map[string]any, n int, each func(map[string]any) error) {
	ids := map[any]bool{}
	bad := 0
	var firstErr error
	for _, m := range recs {
		if ids[m["task_id"]] {
			bad++
			firstErr = fmt.Errorf("task id %v twice", m["task_id"])
		}
		ids[m["task_id"]] = true
		if _, ok := m[tasklog.ErrorKey]; ok {
			bad++
			firstErr = fmt.Errorf("error key: %v", m[tasklog.ErrorKey])
		}
		if err := each(m); err != nil {
			bad++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	r.check("Load", what+": one Finished record per task", len(recs) == n, fmt.Sprintf("%d records for %d tasks", len(recs), n))
	r.check("Load", what+": unique ids, exact counters", bad == 0, fmt.Sprintf("%d bad records, first: %v", bad, firstErr))
}

func first(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

func loadForward(c config, r *report) {
	oln := &counting.Listener{Listener: listen()}
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		body, _ := io.ReadAll(q.Body)
		n, _ := strconv.Atoi(q.URL.Query().Get("n"))
		fmt.Fprintf(w, "%d:", len(body))
		io.CopyN(w, zeros{}, int64(n))
	})}
	go origin.Serve(oln)
	defer origin.Close()
	p, addr, rec := startProxy(httpproxy.Config{})
	defer p.Shutdown()

	var clientRd, clientWr atomic.Int64 // over all the client connections
	perConn := 10
	conns := c.requests / 2 / perConn
	oneShot := c.requests - conns*perConn
	start := time.Now()
	job := func(requests int) func(int) error {
		return func(i int) error {
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			conn := &counting.Conn{Conn: raw, Rd: &clientRd, Wr: &clientWr}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(conn)
			for k := 0; k < requests; k++ {
				body := strings.Repeat("b", (i*31+k)%2000)
				closing := ""
				if k == requests-1 {
					closing = "Connection: close\r\n"
				}
				fmt.Fprintf(conn, "POST http://%s/r?n=%d HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n%s",
					oln.Addr(), (i*997+k)%50000, oln.Addr(), len(body), closing, body)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return nil
		}
	}
	errs := append(parallel(conns, c.concurrency, job(perConn)), parallel(oneShot, c.concurrency, job(1))...)
	took := time.Since(start)
	r.row("Load", "forwarded requests", fmt.Sprintf("%d (%d kept alive, %d per connection; %d one per connection) in %v: %.0f requests/s",
		c.requests, conns*perConn, perConn, oneShot, took.Round(time.Millisecond), float64(c.requests)/took.Seconds()))
	r.check("Load", "requests completed", len(errs) == 0, fmt.Sprintf("%d failed: %v", len(errs), first(errs)))
	recs := rec.finished(c.requests, 10*time.Second)
	var sum [4]int64
	checkRecords(r, "HttpForward", recs, c.requests, func(m map[string]any) error {
		for i, k := range []string{"c_rd_bytes", "c_wr_bytes", "r_rd_bytes", "r_wr_bytes"} {
			n, _ := strconv.ParseInt(fmt.Sprint(m[k]), 10, 64)
			sum[i] += n
		}
		if m["reason"] != "Finished" {
			return fmt.Errorf("reason %v", m["reason"])
		}
		return nil
	})
	origin.Close()
	time.Sleep(100 * time.Millisecond)
	r.check("Load", "HttpForward: counters add up to what the client and the origin saw",
		sum[0] == clientWr.Load() && sum[1] == clientRd.Load() && sum[2] == oln.Wr.Load() && sum[3] == oln.Rd.Load(),
		fmt.Sprintf("records c_rd %d c_wr %d r_rd %d r_wr %d; client sent %d got %d; origin got %d sent %d",
			sum[0], sum[1], sum[2], sum[3], clientWr.Load(), clientRd.Load(), oln.Rd.Load(), oln.Wr.Load()))
}

func loadSOCKS(c config, r *report, target string) {
	rec := &records{}
	s := socks5.New(socks5.Config{Logger: zap.New(rec)})
	ln := listen()
	go s.Serve(ln)
	defer s.Shutdown()
	host, portStr, _ := net.SplitHostPort(target)
	port, _ := strconv.Atoi(portStr)
	ip := net.ParseIP(host).To4()
	start := time.Now()
	errs := parallel(c.socks, c.concurrency, func(i int) error {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		conn.Write([]byte{5, 1, 0})
		var b [10]byte
		if _, err := io.ReadFull(conn, b[:2]); err != nil || b[1] != 0 {
			return fmt.Errorf("greeting: %v", err)
		}
		req := append([]byte{5, 1, 0, 1}, ip...)
		req = binary.BigEndian.AppendUint16(req, uint16(port))
		conn.Write(req)
		if _, err := io.ReadFull(conn, b[:10]); err != nil || b[1] != 0 {
			return fmt.Errorf("CONNECT reply %d: %v", b[1], err)
		}
		sz := socksSizes(i)
		payload := make([]byte, sz.up)
		binary.BigEndian.PutUint64(payload, uint64(sz.down))
		conn.Write(payload)
		conn.(*net.TCPConn).CloseWrite()
		n, err := io.Copy(io.Discard, conn)
		if err != nil || n != int64(sz.down) {
			return fmt.Errorf("read %d bytes (%v), want %d", n, err, sz.down)
		}
		return nil
	})
	took := time.Since(start)
	r.row("Load", "SOCKS5 tunnels", fmt.Sprintf("%d in %v: %.0f tunnels/s", c.socks, took.Round(time.Millisecond), float64(c.socks)/took.Seconds()))
	r.check("Load", "SOCKS5 tunnels completed", len(errs) == 0, fmt.Sprintf("%d failed: %v", len(errs), first(errs)))
	checkRecords(r, "SOCKS5", rec.finished(c.socks, 10*time.Second), c.socks, bySize(c.socks, socksSizes))
}

func socksSizes(i int) sizes { return sizes{8 + 3*i, (i * 7) % 40000} }
