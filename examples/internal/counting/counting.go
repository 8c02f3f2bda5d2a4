// Package counting counts the bytes that cross connections, so the
// examples' tests and load suite can compare a task record's counters with
// what the client and the origin saw on the wire.
package counting

import (
	"net"
	"sync/atomic"
)

// Conn counts what is read from and written to the connection it wraps.
type Conn struct {
	net.Conn
	Rd, Wr *atomic.Int64
}

// NewConn returns c counting into counters of its own.
func NewConn(c net.Conn) *Conn { return &Conn{Conn: c, Rd: new(atomic.Int64), Wr: new(atomic.Int64)} }

// Read reads and counts.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.Rd.Add(int64(n))
	return n, err
}

// Write writes and counts.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.Wr.Add(int64(n))
	return n, err
}

// Listener counts, across all its connections, every byte read and
// written, and the connections it accepted.
type Listener struct {
	net.Listener
	Rd, Wr, Conns atomic.Int64
}

// Accept accepts a connection that counts into the listener's counters.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.Conns.Add(1)
	return &Conn{Conn: c, Rd: &l.Rd, Wr: &l.Wr}, nil
}
