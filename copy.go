package tasklog

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// countedCopy copies src to dst until src ends (nil) or a read or write
// fails, adding every byte to srcRd as soon as it is read and to dstWr as
// soon as it is written (either may be nil), so a record written at any
// moment shows the bytes relayed up to then. Between two TCP connections on
// Linux it moves the bytes with splice(2) through a pipe, never into user
// memory; elsewhere it copies through a pooled 32 KiB buffer. wrote says
// whether err came from writing dst (else it came from reading src,
// deadlines included).
func countedCopy(dst io.Writer, dstWr *atomic.Uint64, src io.Reader, srcRd *atomic.Uint64) (n int64, wrote bool, err error) {
	if n, ok, wrote, err := spliceCopy(dst, dstWr, src, srcRd); ok {
		return n, wrote, err
	}
	return bufferedCopy(dst, dstWr, src, srcRd)
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func bufferedCopy(dst io.Writer, dstWr *atomic.Uint64, src io.Reader, srcRd *atomic.Uint64) (int64, bool, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			add(srcRd, n)
			m, werr := dst.Write(buf[:n])
			add(dstWr, m)
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, true, werr
			}
		}
		if rerr == io.EOF {
			return total, false, nil
		}
		if rerr != nil {
			return total, false, rerr
		}
	}
}

func add(c *atomic.Uint64, n int) {
	if c != nil && n > 0 {
		c.Add(uint64(n))
	}
}

// opError wraps a splice error in a *net.OpError of op on c, as net does
// for its own reads and writes.
func opError(op string, c net.Conn, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
