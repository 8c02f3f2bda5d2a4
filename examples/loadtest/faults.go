package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/examples/internal/httpproxy"
	"github.com/proxylog/tasklog/examples/internal/socks5"
)

// connectOnly sends a CONNECT and returns the connection and the status.
func connectOnly(proxy, target string) (net.Conn, *bufio.Reader, int, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, nil, 0, err
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, nil, 0, err
	}
	return c, br, resp.StatusCode, nil
}

// fault runs one scenario against a fresh proxy and checks the reason of
// its one Finished record (want: one reason, or alternatives a|b).
func fault(r *report, name, want string, cfg httpproxy.Config, scenario func(proxy string) error) {
	p, addr, rec := startProxy(cfg)
	err := scenario(addr)
	recs := rec.finished(1, 10*time.Second)
	p.Shutdown()
	got := "no record"
	if len(recs) > 0 {
		got = fmt.Sprint(recs[0]["reason"])
	}
	ok := err == nil && len(recs) == 1 && strings.Contains("|"+want+"|", "|"+got+"|")
	r.check("Faults", name, ok, fmt.Sprintf("reason %s, want %s (scenario error %v, %d records)", got, want, err, len(recs)))
	if ok {
		r.rows[len(r.rows)-1][2] = got
	}
}

func faults(r *report, upstream string, resolver *net.Resolver) {
	closed := listen()
	closedAddr := closed.Addr().String()
	closed.Close()

	fault(r, "upstream refused", "UpstreamNotConnected", httpproxy.Config{}, func(proxy string) error {
		c, _, status, err := connectOnly(proxy, closedAddr)
		if err == nil {
			c.Close()
			if status != 502 {
				err = fmt.Errorf("status %d", status)
			}
		}
		return err
	})

	fault(r, "dial timeout", "UpstreamNotConnected", httpproxy.Config{DialTimeout: time.Nanosecond}, func(proxy string) error {
		c, _, _, err := connectOnly(proxy, upstream)
		if err == nil {
			c.Close()
		}
		return err
	})

	fault(r, "DNS failure (a resolver of its own on loopback)", "UpstreamNotResolved", httpproxy.Config{Resolver: resolver}, func(proxy string) error {
		c, _, _, err := connectOnly(proxy, "no-such-host.test:80")
		if err == nil {
			c.Close()
		}
		return err
	})

	// The SOCKS5 server resolves through the same loopback DNS server.
	{
		rec := &records{}
		s := socks5.New(socks5.Config{Logger: zap.New(rec), Resolver: resolver})
		ln := listen()
		go s.Serve(ln)
		c, err := net.Dial("tcp", ln.Addr().String())
		var rep byte = 0xff
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte{5, 1, 0})
			var b [10]byte
			io.ReadFull(c, b[:2])
			name := "no-such-host.test"
			req := append([]byte{5, 1, 0, 3, byte(len(name))}, name...)
			c.Write(append(req, 0, 80))
			if _, err := io.ReadFull(c, b[:2]); err == nil {
				rep = b[1]
			}
			c.Close()
		}
		recs := rec.finished(1, 5*time.Second)
		s.Shutdown()
		got := "no record"
		if len(recs) == 1 {
			got = fmt.Sprint(recs[0]["reason"])
		}
		r.check("Faults", "SOCKS5 DNS failure (the same resolver)", got == "UpstreamNotResolved" && rep == 4,
			fmt.Sprintf("reason %s, reply %d; want UpstreamNotResolved, 4 (host unreachable)", got, rep))
		if got == "UpstreamNotResolved" && rep == 4 {
			r.rows[len(r.rows)-1][2] = "UpstreamNotResolved (reply: host unreachable)"
		}
	}

	resetter := listen()
	defer resetter.Close()
	go func() {
		for {
			c, err := resetter.Accept()
			if err != nil {
				return
			}
			io.ReadFull(c, make([]byte, 5))
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	fault(r, "upstream reset mid-transfer", "UpstreamReadFailed", httpproxy.Config{}, func(proxy string) error {
		c, br, _, err := connectOnly(proxy, resetter.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("hello"))
		io.Copy(io.Discard, br)
		return nil
	})

	silent := listen()
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	fault(r, "silent upstream, idle timeout", "Idle", httpproxy.Config{Idle: 300 * time.Millisecond}, func(proxy string) error {
		c, br, _, err := connectOnly(proxy, silent.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		io.Copy(io.Discard, br)
		return nil
	})

	fault(r, "silent origin (forwarded request)", "UpstreamAppTimeout", httpproxy.Config{ResponseTimeout: 300 * time.Millisecond}, func(proxy string) error {
		c, err := net.Dial("tcp", proxy)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: x\r\n\r\n", silent.Addr())
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && resp.StatusCode != 504 {
			err = fmt.Errorf("status %d, want 504", resp.StatusCode)
		}
		return err
	})

	streamer := listen()
	defer streamer.Close()
	go func() {
		for {
			c, err := streamer.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, zeros{})
			}()
		}
	}()
	// Whether the reset meets the proxy's read or its write is the
	// kernel's timing: both are true reports.
	fault(r, "client reset mid-transfer", "ClientTcpWriteFailed|ClientTcpReadFailed", httpproxy.Config{}, func(proxy string) error {
		c, br, _, err := connectOnly(proxy, streamer.Addr().String())
		if err != nil {
			return err
		}
		io.ReadFull(br, make([]byte, 100000))
		c.(*net.TCPConn).SetLinger(0)
		return c.Close()
	})

	fault(r, "client half-close, upstream answers", "Finished", httpproxy.Config{}, func(proxy string) error {
		_, err := tunnel(proxy, upstream, 1000, 5000)
		return err
	})

	// Shutdown with open tunnels: every one ends CanceledAsServerQuit.
	p, addr, rec := startProxy(httpproxy.Config{})
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		if c, _, _, err := connectOnly(addr, silent.Addr().String()); err == nil {
			conns = append(conns, c)
		}
	}
	start := time.Now()
	p.Shutdown()
	recs := rec.finished(20, 5*time.Second)
	quit := 0
	for _, m := range recs {
		if m["reason"] == "CanceledAsServerQuit" {
			quit++
		}
	}
	r.check("Faults", "shutdown with 20 open tunnels", len(conns) == 20 && quit == 20,
		fmt.Sprintf("%d of %d tunnels CanceledAsServerQuit", quit, len(conns)))
	r.rows[len(r.rows)-1][2] = fmt.Sprintf("%d CanceledAsServerQuit, shutdown took %v", quit, time.Since(start).Round(time.Millisecond))
	for _, c := range conns {
		c.Close()
	}

	logSinkFaults(r, upstream)
}

// failingWriter fails every write, like stdout into a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func logSinkFaults(r *report, upstream string) {
	stuck := listen() // a fluentd that accepts and never reads
	defer stuck.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := stuck.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	quiet := driver.Options{QueueSize: 64, CloseTimeout: 300 * time.Millisecond, ErrorOutput: zapcore.AddSync(io.Discard)}
	fl, _ := driver.NewFluentd(driver.FluentdConfig{Address: stuck.Addr().String(), WriteTimeout: 5 * time.Second}, quiet)
	js := driver.NewJSON(failingWriter{}, quiet)
	for _, tc := range []struct {
		name string
		core *driver.Core
	}{{"stuck log sink (fluentd that never reads)", fl}, {"failing log sink (writes fail)", js}} {
		p, addr, _ := startProxy(httpproxy.Config{Logger: zap.New(tc.core), Periodic: 100 * time.Millisecond, Created: true, Connected: true})
		start := time.Now()
		errs := parallel(100, 20, func(int) error { _, err := tunnel(addr, upstream, 10000, 10000); return err })
		took := time.Since(start)
		p.Shutdown()
		tc.core.Close()
		s := tc.core.Stats()
		ok := len(errs) == 0 && s.Passed+s.Dropped() == s.Total && s.Total >= 400 && took < 20*time.Second
		r.check("Faults", tc.name, ok, fmt.Sprintf("%d tunnel errors (%v), %v; %+v", len(errs), first(errs), took, s))
		if ok {
			r.rows[len(r.rows)-1][2] = fmt.Sprintf("100 tunnels in %v; %d records: %d passed, %d dropped",
				took.Round(time.Millisecond), s.Total, s.Passed, s.Dropped())
		}
	}
	for _, c := range held {
		c.Close()
	}
}

// badInputs sends what hostile or broken clients send, and checks each
// outcome: a status and a closed connection, or just a closed one.
func badInputs(r *report) {
	p, addr, _ := startProxy(httpproxy.Config{HeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	defer p.Shutdown()
	for _, tc := range []struct {
		name, send string
		want       int
	}{
		{"2 MiB header", "GET http://example.test/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431},
		{"8 MiB unterminated header", "GET http://example.test/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 8<<20), 431},
		{"slowloris (a head that never ends)", "GET http://example.test/ HTTP/1.1\r\nHost: x\r\n", 408},
		{"idle connection", "", 0},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},
		{"CONNECT :9001", "CONNECT :9001 HTTP/1.1\r\nHost: :9001\r\n\r\n", 400},
		{"CONNECT with port 0", "CONNECT example.test:0 HTTP/1.1\r\nHost: example.test:0\r\n\r\n", 400},
		{"CONNECT with port 99999", "CONNECT example.test:99999 HTTP/1.1\r\n\r\n", 400},
		{"relative URI", "GET /x HTTP/1.1\r\nHost: example.test\r\n\r\n", 400},
		{"HTTP/2.0 request line", "GET http://example.test/ HTTP/2.0\r\n\r\n", 505},
		{"HTTP/0.9 request line", "GET /\r\n\r\n", 400},
		{"bad header line", "GET http://example.test/ HTTP/1.1\r\nNo colon here\r\n\r\n", 400},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			r.check("Bad input", tc.name, false, err.Error())
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go io.WriteString(c, tc.send)
		br := bufio.NewReader(c)
		got := 0
		if resp, err := http.ReadResponse(br, nil); err == nil {
			got = resp.StatusCode
		}
		_, rerr := br.ReadByte()
		c.Close()
		outcome := "connection closed"
		if got != 0 {
			outcome = fmt.Sprintf("%d, connection closed", got)
		}
		r.check("Bad input", tc.name, got == tc.want && rerr != nil, fmt.Sprintf("got %d (read after: %v), want %d", got, rerr, tc.want))
		if got == tc.want && rerr != nil {
			r.rows[len(r.rows)-1][2] = outcome
		}
	}
}
