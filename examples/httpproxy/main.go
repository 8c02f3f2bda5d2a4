// Command httpproxy is an HTTP proxy that writes g3proxy's task log:
// CONNECT tunnels are TcpConnect tasks and absolute-URI requests are
// HttpForward tasks. Each task ends in one JSON line on stdout that a
// g3proxy log pipeline reads unchanged.
//
//	go run ./examples/httpproxy -listen 127.0.0.1:3128
//	curl -x http://127.0.0.1:3128 http://example.com/
//
// A failed connect of a CONNECT tunnel is also an Escape record, and with
// -dns IP:PORT upstream names are resolved by that server, each failed
// resolution a Resolve record: g3proxy's three logs, on one log driver.
//
// SIGINT or SIGTERM shuts it down, finishing every open task with
// CanceledAsServerQuit.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/proxylog/tasklog/examples/internal/httpproxy"
	"github.com/proxylog/tasklog/examples/internal/serving"
)

func main() { serving.Main("httpproxy", run) }

// run serves until ctx is done. It prints "listening on ADDR" to stderr
// once the listener is up.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("httpproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:3128", "address to listen on")
	name := fs.String("name", "http", "g3 server_name of the records")
	daemon := fs.String("daemon", "", "g3 daemon_name of the records (\"\" when empty, as g3 writes it)")
	periodic := fs.Duration("periodic", 0, "write a Periodic record this often while a task runs (0: never)")
	created := fs.Bool("created", false, "write Created records")
	connected := fs.Bool("connected", false, "write Connected records")
	idle := fs.Duration("idle", 5*time.Minute, "end tunnels idle this long (0: never)")
	dns := serving.AddDNSFlag(fs)
	logFlags := serving.AddLogFlags(fs)
	if err := serving.ParseFlags(fs, args, "periodic", "idle"); err != nil {
		return err
	}
	logs, closeLog, err := logFlags.NewLoggers(stdout, stderr, *daemon)
	if err != nil {
		return err
	}
	defer closeLog()
	r, err := dns.Resolver(logs.Resolve)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	p := httpproxy.New(httpproxy.Config{Name: *name, Logger: logs.Task, Periodic: *periodic,
		Created: *created, Connected: *connected, Idle: *idle, Resolver: r, EscapeLogger: logs.Escape})
	fmt.Fprintln(stderr, "listening on", ln.Addr())
	return serving.RunUntil(ctx, func() error { return p.Serve(ln) }, p.Shutdown)
}
