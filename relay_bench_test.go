package tasklog

import (
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkRelayThroughput copies 64 MiB per op from one loopback TCP
// connection to another with io.Copy, bare and through the counting
// wrappers, side by side. Both should splice(2); the wrapped run should
// stay within 10% of the bare one.
func BenchmarkRelayThroughput(b *testing.B) {
	const size = 64 << 20
	for _, wrapped := range []bool{false, true} {
		name := "bare_io.Copy"
		if wrapped {
			name = "wrapped_io.Copy"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				src, feeder := benchPair(b)
				dst, sink := benchPair(b)
				go func() {
					buf := make([]byte, 1<<20)
					for sent := 0; sent < size; sent += len(buf) {
						feeder.Write(buf)
					}
					feeder.Close()
				}()
				done := make(chan int64)
				go func() { n, _ := io.Copy(io.Discard, sink); done <- n }()
				var from, to net.Conn = src, dst
				if wrapped {
					task := NewServer(ServerTypeHTTPProxy, "b", nil).NewTask(time.Time{}, "", tcpDetail())
					from, to = task.WrapClient(src), task.WrapRemote(dst)
				}
				b.StartTimer()
				if _, err := io.Copy(to, from); err != nil {
					b.Fatal(err)
				}
				dst.CloseWrite()
				if n := <-done; n != size {
					b.Fatalf("sink got %d bytes", n)
				}
				b.StopTimer()
				src.Close()
				dst.Close()
				feeder.Close()
				sink.Close()
				b.StartTimer()
			}
		})
	}
}

func benchPair(b *testing.B) (*net.TCPConn, *net.TCPConn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); accepted <- c }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c.(*net.TCPConn), (<-accepted).(*net.TCPConn)
}
