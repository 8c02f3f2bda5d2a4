package tasklog

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
)

// Conn is a net.Conn that counts the bytes read from and written to it
// into a task's [Counters]. Get one from [Task.WrapClient] or
// [Task.WrapRemote].
//
// It counts live and keeps the fast path: io.Copy between two wrapped
// *net.TCPConn still uses splice(2) on Linux (see [Conn.ReadFrom]), and
// every byte is counted as soon as a syscall has moved it. CloseWrite and
// CloseRead reach the wrapped connection. A Conn is as safe for concurrent use as the
// connection it wraps.
type Conn struct {
	net.Conn
	rd, wr *atomic.Uint64
	task   *Task
}

// WrapClient returns c counting into the task's ClientReadBytes and
// ClientWriteBytes. It allocates the wrapper; a c that is already a *Conn
// of this task is returned as it is.
func (t *Task) WrapClient(c net.Conn) *Conn {
	return t.wrap(c, &t.Counters.ClientReadBytes, &t.Counters.ClientWriteBytes)
}

// WrapRemote returns c counting into the task's RemoteReadBytes and
// RemoteWriteBytes. It allocates the wrapper; a c that is already a *Conn
// of this task is returned as it is.
func (t *Task) WrapRemote(c net.Conn) *Conn {
	return t.wrap(c, &t.Counters.RemoteReadBytes, &t.Counters.RemoteWriteBytes)
}

func (t *Task) wrap(c net.Conn, rd, wr *atomic.Uint64) *Conn {
	if cc, ok := c.(*Conn); ok && cc.task == t && cc.rd == rd {
		return cc
	}
	return &Conn{Conn: c, rd: rd, wr: wr, task: t}
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Read reads from the wrapped connection and counts what it read.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rd.Add(uint64(n))
	return n, err
}

// Write writes to the wrapped connection and counts what it wrote.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.wr.Add(uint64(n))
	return n, err
}

// ReadFrom implements [io.ReaderFrom], so io.Copy(conn, r) counts live:
// every byte is added to the counters as soon as it is read from r and as
// soon as it is written here, so a record written during a long transfer
// shows what has crossed so far. Between two TCP connections (r a *Conn or
// a *net.TCPConn) on Linux it moves the bytes with splice(2), as io.Copy
// would, through syscall.RawConn so both sockets stay in Go's poller and
// keep their deadlines; otherwise it copies through a pooled 32 KiB
// buffer. When r is a *Conn, its read counter counts too.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	var srcRd *atomic.Uint64
	if rc, ok := r.(*Conn); ok {
		r, srcRd = rc.Conn, rc.rd
	}
	n, _, err := countedCopy(c.Conn, c.wr, r, srcRd)
	return n, err
}

// WriteTo implements [io.WriterTo], so io.Copy(w, conn) counts live: it
// copies the connection into w as [Conn.ReadFrom] does, counting what it
// reads here (and, when w is a *Conn, what w writes).
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	if wc, ok := w.(*Conn); ok {
		return wc.ReadFrom(c)
	}
	n, _, err := countedCopy(w, nil, c.Conn, c.rd)
	return n, err
}

// ErrUnsupported is returned by CloseWrite and CloseRead of a wrapped
// connection that cannot half-close.
var ErrUnsupported = errors.New("tasklog: the wrapped connection cannot half-close")

// CloseWrite shuts down the writing side of the wrapped connection (a
// *net.TCPConn, *net.UnixConn or *tls.Conn), so the peer reads EOF.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return ErrUnsupported
}

// CloseRead shuts down the reading side of the wrapped connection.
func (c *Conn) CloseRead() error {
	if cr, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return cr.CloseRead()
	}
	return ErrUnsupported
}

// PacketConn is a net.PacketConn that counts bytes and packets into a
// task's [Counters]. Get one from [Task.WrapClientPacket] or
// [Task.WrapRemotePacket]. Over a *net.UDPConn it also offers the
// allocation-free ReadFromUDPAddrPort and WriteToUDPAddrPort. A PacketConn
// is as safe for concurrent use as the connection it wraps.
type PacketConn struct {
	net.PacketConn
	rdBytes, rdPackets, wrBytes, wrPackets *atomic.Uint64
}

// WrapClientPacket returns pc counting into the task's client counters:
// ClientReadBytes and ClientReadPackets for each datagram read,
// ClientWriteBytes and ClientWritePackets for each one written.
func (t *Task) WrapClientPacket(pc net.PacketConn) *PacketConn {
	c := &t.Counters
	return &PacketConn{pc, &c.ClientReadBytes, &c.ClientReadPackets, &c.ClientWriteBytes, &c.ClientWritePackets}
}

// WrapRemotePacket returns pc counting into the task's remote counters.
func (t *Task) WrapRemotePacket(pc net.PacketConn) *PacketConn {
	c := &t.Counters
	return &PacketConn{pc, &c.RemoteReadBytes, &c.RemoteReadPackets, &c.RemoteWriteBytes, &c.RemoteWritePackets}
}

func (c *PacketConn) countRead(n int, err error) {
	if err == nil || n > 0 {
		c.rdBytes.Add(uint64(n))
		c.rdPackets.Add(1)
	}
}

func (c *PacketConn) countWrite(n int, err error) {
	if err == nil {
		c.wrBytes.Add(uint64(n))
		c.wrPackets.Add(1)
	}
}

// ReadFrom reads one datagram and counts it.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	c.countRead(n, err)
	return n, addr, err
}

// WriteTo writes one datagram and counts it when it was sent.
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	c.countWrite(n, err)
	return n, err
}

// ReadFromUDPAddrPort reads one datagram from a wrapped *net.UDPConn and
// counts it; other connections fall back to ReadFrom.
func (c *PacketConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	if u, ok := c.PacketConn.(*net.UDPConn); ok {
		n, ap, err := u.ReadFromUDPAddrPort(p)
		c.countRead(n, err)
		return n, ap, err
	}
	n, addr, err := c.ReadFrom(p)
	if ua, ok := addr.(*net.UDPAddr); ok {
		return n, ua.AddrPort(), err
	}
	return n, netip.AddrPort{}, err
}

// WriteToUDPAddrPort writes one datagram through a wrapped *net.UDPConn and
// counts it; other connections fall back to WriteTo.
func (c *PacketConn) WriteToUDPAddrPort(p []byte, ap netip.AddrPort) (int, error) {
	if u, ok := c.PacketConn.(*net.UDPConn); ok {
		n, err := u.WriteToUDPAddrPort(p, ap)
		c.countWrite(n, err)
		return n, err
	}
	return c.WriteTo(p, net.UDPAddrFromAddrPort(ap))
}
