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
// It keeps the fast paths of the connection it wraps: its ReadFrom and
// WriteTo delegate to the wrapped connection's (unwrapping another Conn on
// the other side), so io.Copy between two wrapped *net.TCPConn still uses
// splice(2) on Linux, and counts what they report. CloseWrite and CloseRead
// reach the wrapped connection. A Conn is as safe for concurrent use as the
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

// ReadFrom implements [io.ReaderFrom]: it copies r into the connection
// with the wrapped connection's own ReadFrom when it has one (a
// *net.TCPConn splices from another TCP connection), passing the
// connection inside r when r is a *Conn, and counts the bytes as written
// here and, for a *Conn r, as read there. It delegates in chunks of
// 256 KiB, so the counters follow a long transfer while it runs.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	src := r
	var srcRd *atomic.Uint64
	if rc, ok := r.(*Conn); ok {
		src, srcRd = rc.Conn, rc.rd
	}
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		n, err := io.Copy(writerOnly{c.Conn}, src)
		c.wr.Add(uint64(n))
		if srcRd != nil {
			srcRd.Add(uint64(n))
		}
		return n, err
	}
	// Splice in bounded chunks, so that the counters (and the Periodic
	// records that read them) move while a long transfer runs; splice(2)
	// accepts an *io.LimitedReader around a TCP connection.
	lr := &io.LimitedReader{R: src}
	var total int64
	for {
		lr.N = spliceChunk
		n, err := rf.ReadFrom(lr)
		total += n
		c.wr.Add(uint64(n))
		if srcRd != nil {
			srcRd.Add(uint64(n))
		}
		if err != nil || lr.N > 0 { // an error, or EOF before the chunk filled
			return total, err
		}
	}
}

// spliceChunk bounds one delegated ReadFrom: the counters lag a running
// transfer by at most this many bytes.
const spliceChunk = 256 << 10

// WriteTo implements [io.WriterTo]: it copies the connection into w. When
// w is a *Conn, it hands both wrapped connections to w's ReadFrom path
// (splice between TCP connections); otherwise it uses the wrapped
// connection's WriteTo when it has one. It counts what was copied.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	if wc, ok := w.(*Conn); ok {
		return wc.ReadFrom(c)
	}
	var n int64
	var err error
	if wt, ok := c.Conn.(io.WriterTo); ok {
		n, err = wt.WriteTo(w)
	} else {
		n, err = io.Copy(w, readerOnly{c.Conn})
	}
	c.rd.Add(uint64(n))
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

// writerOnly and readerOnly hide every method but one, so io.Copy does
// not loop back into the wrapper.
type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }

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
