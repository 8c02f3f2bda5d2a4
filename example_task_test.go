package tasklog_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/proxylog/tasklog"
)

// handleConnect is a proxy's CONNECT handler: one task per tunnel, and one
// finished record whatever the exit path.
func handleConnect(srv *tasklog.Server, client net.Conn, accepted time.Time, target string) {
	task := srv.NewTask(accepted, "", &tasklog.TCPConnect{
		ServerAddr: netip.MustParseAddrPort(client.LocalAddr().String()),
		ClientAddr: netip.MustParseAddrPort(client.RemoteAddr().String()),
		Upstream:   target,
	})
	reason, err := tasklog.ReasonCanceledAsServerQuit, error(nil)
	defer func() { task.Finish(reason, err) }()

	task.SetStage(tasklog.StageConnecting)
	// Dial resolves and connects as g3's direct escaper does, and records
	// the escaper, tcp_connect_tries/spend and next_bound/peer_addr.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	remote, err := task.Dial(ctx, target)
	cancel()
	if err != nil {
		reason = tasklog.ReasonFor(err, tasklog.SideUpstream) // UpstreamNotResolved, UpstreamNotConnected
		return
	}
	defer remote.Close()
	task.Connected()
	// Relay counts the bytes (keeping splice), writes the shutdown record
	// and says why the tunnel ended.
	reason, err = task.Relay(client, remote, 5*time.Minute)
}

func ExampleTask_Relay() {
	// An upstream that answers "pong" once the client has said everything.
	upstream, _ := net.Listen("tcp", "127.0.0.1:0")
	defer upstream.Close()
	go func() {
		c, _ := upstream.Accept()
		io.ReadAll(c)
		c.Write([]byte("pong"))
		c.Close()
	}()

	// A real proxy logs through tasklog.NewEncoder(tasklog.EncoderConfig());
	// the example keeps the records to print a few keys.
	core, records := observer.New(zap.InfoLevel)
	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", zap.New(core))

	proxy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer proxy.Close()
	handled := make(chan struct{})
	go func() {
		c, _ := proxy.Accept()
		handleConnect(srv, c, time.Now(), upstream.Addr().String())
		c.Close()
		close(handled)
	}()

	client, _ := net.Dial("tcp", proxy.Addr().String())
	client.Write([]byte("ping"))
	client.(*net.TCPConn).CloseWrite()
	answer, _ := io.ReadAll(client)
	client.Close()
	<-handled

	fmt.Println(string(answer))
	for _, e := range records.All() {
		m := e.ContextMap()
		fmt.Printf("%v %q reason=%v c_rd_bytes=%v", m["task_event"], e.Message, m["reason"], m["c_rd_bytes"])
		if m["task_event"] == "Finished" {
			// Left out of the ClientShutdown snapshot: as in g3, the FIN
			// reaches the upstream before that record is written, and its
			// "pong" may already have been relayed.
			fmt.Printf(" c_wr_bytes=%v", m["c_wr_bytes"])
		}
		fmt.Println()
	}
	// Output:
	// pong
	// ClientShutdown "" reason=<nil> c_rd_bytes=4
	// Finished "finished" reason=Finished c_rd_bytes=4 c_wr_bytes=4
}
