// Command socks5 is a SOCKS5 server (no authentication, or
// username/password) that writes g3proxy's task log: CONNECT requests are
// TcpConnect tasks and UDP ASSOCIATE sessions are UdpAssociate tasks, one
// JSON line each on stdout.
//
//	go run ./examples/socks5 -listen 127.0.0.1:1080
//	curl --socks5 127.0.0.1:1080 http://example.com/
//
// SIGINT or SIGTERM shuts it down, finishing every open task with
// CanceledAsServerQuit. A failed SOCKS5 negotiation, a wrong password
// included, writes no record, as in g3: it happens before a task exists.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/proxylog/tasklog/examples/internal/serving"
	"github.com/proxylog/tasklog/examples/internal/socks5"
)

func main() { serving.Main("socks5", run) }

// run serves until ctx is done. It prints "listening on ADDR" to stderr
// once the listener is up.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("socks5", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:1080", "address to listen on")
	name := fs.String("name", "socks", "g3 server_name of the records")
	daemon := fs.String("daemon", "", "g3 daemon_name of the records (\"\" when empty, as g3 writes it)")
	periodic := fs.Duration("periodic", 0, "write a Periodic record this often while a task runs (0: never)")
	idle := fs.Duration("idle", 5*time.Minute, "end tunnels idle this long (0: never)")
	users := fs.String("users", "", "comma-separated user:password pairs; empty allows no authentication")
	dns := serving.AddDNSFlag(fs)
	logFlags := serving.AddLogFlags(fs)
	if err := serving.ParseFlags(fs, args, "periodic", "idle"); err != nil {
		return err
	}
	var userMap map[string]string
	if *users != "" {
		userMap = map[string]string{}
		for _, pair := range strings.Split(*users, ",") {
			u, pw, ok := strings.Cut(pair, ":")
			if !ok || u == "" {
				return fmt.Errorf("-users: want user:password, got %q", pair)
			}
			userMap[u] = pw
		}
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
	s := socks5.New(socks5.Config{Name: *name, Logger: logs.Task, Periodic: *periodic, Idle: *idle, Users: userMap,
		Resolver: r, EscapeLogger: logs.Escape})
	fmt.Fprintln(stderr, "listening on", ln.Addr())
	return serving.RunUntil(ctx, func() error { return s.Serve(ln) }, s.Shutdown)
}
