package tasklog

import (
	"bufio"
	"io"
	"testing"
	"time"
)

// A kept-alive connection read through a bufio.Reader: bytes read before a
// task exists are its own, bytes read ahead go to the next task, and the
// tasks' counts add up to the connection's.
func TestSwitchConnAttributesEveryByteOnce(t *testing.T) {
	peer, c := tcpPair(t)
	srv := NewServer(ServerTypeHTTPProxy, "h", nil)
	sc := NewClientSwitchConn(c)
	br := bufio.NewReader(sc)

	// Two "requests" arrive together; the reader reads both at once.
	peer.Write([]byte("first\nsecond\n"))
	line1, _ := br.ReadString('\n') // read with no task: waits for one
	t1 := srv.NewTask(time.Time{}, "", tcpDetail())
	sc.SetTask(t1)
	sc.Write([]byte("reply-one"))
	sc.Release(br.Buffered()) // "second\n" is the next task's
	t2 := srv.NewTask(time.Time{}, "", tcpDetail())
	sc.SetTask(t2)
	line2, _ := br.ReadString('\n')
	peer.Write([]byte("third"))
	buf := make([]byte, 5)
	io.ReadFull(br, buf)
	sc.Write([]byte("reply-2"))
	sc.Release(br.Buffered())

	if line1 != "first\n" || line2 != "second\n" || string(buf) != "third" {
		t.Fatalf("read %q %q %q", line1, line2, buf)
	}
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"task 1 read", t1.Counters.ClientReadBytes.Load(), 6},
		{"task 1 written", t1.Counters.ClientWriteBytes.Load(), 9},
		{"task 2 read", t2.Counters.ClientReadBytes.Load(), 7 + 5},
		{"task 2 written", t2.Counters.ClientWriteBytes.Load(), 7},
		{"connection read", sc.BytesRead(), 18},
		{"connection written", sc.BytesWritten(), 16},
		{"remote counters untouched", t1.Counters.RemoteReadBytes.Load() + t2.Counters.RemoteWriteBytes.Load(), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if sc.Task() != nil {
		t.Errorf("Task() after Release = %v, want nil", sc.Task())
	}
}

func TestRemoteSwitchConnCountsRemote(t *testing.T) {
	peer, c := tcpPair(t)
	task := NewServer(ServerTypeHTTPProxy, "h", nil).NewTask(time.Time{}, "", tcpDetail())
	sc := NewRemoteSwitchConn(c)
	sc.SetTask(task)
	sc.Write([]byte("abc"))
	peer.Write([]byte("de"))
	io.ReadFull(sc, make([]byte, 2))
	if task.Counters.RemoteWriteBytes.Load() != 3 || task.Counters.RemoteReadBytes.Load() != 2 || task.Counters.ClientReadBytes.Load() != 0 {
		t.Errorf("counters %d %d %d", task.Counters.RemoteWriteBytes.Load(), task.Counters.RemoteReadBytes.Load(), task.Counters.ClientReadBytes.Load())
	}
}
