package tasklog

import (
	"net"
	"sync/atomic"
)

// SwitchConn is a net.Conn that counts its bytes into whichever task is
// current, for a connection that serves a sequence of tasks: a kept-alive
// HTTP client connection, where each request is its own HttpForward task
// (and g3's wait_time for the next request starts when the proxy begins
// waiting for it), or a reused remote connection (reuse_connection).
// Get one from [NewClientSwitchConn] or [NewRemoteSwitchConn].
//
// Bytes count live into the current task (the client or remote counters,
// by the side the SwitchConn was made for). Bytes moved while no task is
// set wait, and count into the next task given to [SwitchConn.SetTask], so
// a request header read before its task exists is that task's. When a
// task ends, [SwitchConn.Release] takes back the bytes read ahead that the
// task did not use (a bufio.Reader's Buffered bytes, the start of the next
// request) and keeps them for the next task. No byte is lost or counted
// twice at a switch.
//
// Read and Write may run concurrently with each other, as the wrapped
// connection allows; SetTask and Release must not run concurrently with a
// Read (call them between requests, from the goroutine that reads).
type SwitchConn struct {
	net.Conn
	remote bool
	cur    atomic.Pointer[Task]
	// Bytes moved while no task was current, for the next one.
	pendingRead, pendingWrite atomic.Uint64
	totalRead, totalWritten   atomic.Uint64
}

// NewClientSwitchConn returns c counting into the current task's
// ClientReadBytes and ClientWriteBytes. It starts with no task.
func NewClientSwitchConn(c net.Conn) *SwitchConn { return &SwitchConn{Conn: c} }

// NewRemoteSwitchConn returns c counting into the current task's
// RemoteReadBytes and RemoteWriteBytes. It starts with no task.
func NewRemoteSwitchConn(c net.Conn) *SwitchConn { return &SwitchConn{Conn: c, remote: true} }

func (c *SwitchConn) counters(t *Task) (rd, wr *atomic.Uint64) {
	if c.remote {
		return &t.Counters.RemoteReadBytes, &t.Counters.RemoteWriteBytes
	}
	return &t.Counters.ClientReadBytes, &t.Counters.ClientWriteBytes
}

// SetTask makes t the current task: the bytes waiting since the last
// Release (or since the start) count into t, and so does every byte from
// now on. A nil t makes bytes wait, as after Release.
func (c *SwitchConn) SetTask(t *Task) {
	if t == nil {
		c.cur.Store(nil)
		return
	}
	rd, wr := c.counters(t)
	rd.Add(c.pendingRead.Swap(0))
	wr.Add(c.pendingWrite.Swap(0))
	c.cur.Store(t)
}

// Task returns the current task, or nil.
func (c *SwitchConn) Task() *Task { return c.cur.Load() }

// Release ends the current task's counting before the task finishes:
// unread is how many of the bytes read from the connection the task did
// not use (pass a bufio.Reader's Buffered()); they are taken back from the
// task and wait for the next one. unread is capped at what the task was
// given. Without a current task it does nothing: unread bytes are already
// waiting.
func (c *SwitchConn) Release(unread int) {
	t := c.cur.Swap(nil)
	if t == nil || unread <= 0 {
		return
	}
	rd, _ := c.counters(t)
	n := uint64(unread)
	for {
		have := rd.Load()
		if n > have {
			n = have
		}
		if rd.CompareAndSwap(have, have-n) {
			break
		}
	}
	c.pendingRead.Add(n)
}

// BytesRead returns every byte read from the connection so far.
func (c *SwitchConn) BytesRead() uint64 { return c.totalRead.Load() }

// BytesWritten returns every byte written to the connection so far.
func (c *SwitchConn) BytesWritten() uint64 { return c.totalWritten.Load() }

// NetConn returns the wrapped connection.
func (c *SwitchConn) NetConn() net.Conn { return c.Conn }

// Read reads from the wrapped connection and counts what it read.
func (c *SwitchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.totalRead.Add(uint64(n))
		if t := c.cur.Load(); t != nil {
			rd, _ := c.counters(t)
			rd.Add(uint64(n))
		} else {
			c.pendingRead.Add(uint64(n))
		}
	}
	return n, err
}

// Write writes to the wrapped connection and counts what it wrote.
func (c *SwitchConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.totalWritten.Add(uint64(n))
		if t := c.cur.Load(); t != nil {
			_, wr := c.counters(t)
			wr.Add(uint64(n))
		} else {
			c.pendingWrite.Add(uint64(n))
		}
	}
	return n, err
}

// CloseWrite shuts down the writing side of the wrapped connection.
func (c *SwitchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return ErrUnsupported
}
