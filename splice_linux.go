package tasklog

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// spliceMax is how much one splice(2) asks to move, and the pipe's size.
const spliceMax = 1 << 20

const (
	spliceMove     = 0x1 // SPLICE_F_MOVE
	spliceNonblock = 0x2 // SPLICE_F_NONBLOCK
)

// splicer moves bytes socket -> pipe -> socket. The sockets stay in Go's
// poller: each splice runs inside syscall.RawConn's Read or Write, which
// waits for readiness (and honours deadlines) when the kernel says EAGAIN.
// The callbacks are method values made once, so a copy allocates nothing
// per syscall.
type splicer struct {
	pr, pw   int // the pipe
	pending  int // bytes in the pipe
	n        int
	err      error
	eof      bool
	readFn   func(uintptr) bool
	writeFn  func(uintptr) bool
	srcCount *atomic.Uint64
	dstCount *atomic.Uint64
}

// spliceCopy is countedCopy's splice path; ok is false when the
// connections are not both TCP or no pipe can be had, and nothing moved.
func spliceCopy(dst io.Writer, dstWr *atomic.Uint64, src io.Reader, srcRd *atomic.Uint64) (total int64, ok, wrote bool, err error) {
	d, ok1 := dst.(*net.TCPConn)
	s, ok2 := src.(*net.TCPConn)
	if !ok1 || !ok2 {
		return 0, false, false, nil
	}
	drc, err1 := d.SyscallConn()
	src2, err2 := s.SyscallConn()
	if err1 != nil || err2 != nil {
		return 0, false, false, nil
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return 0, false, false, nil
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	// A larger pipe moves more per syscall; the default 64 KiB also works.
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), syscall.F_SETPIPE_SZ, spliceMax)

	sp := &splicer{pr: p[0], pw: p[1], srcCount: srcRd, dstCount: dstWr}
	sp.readFn, sp.writeFn = sp.read, sp.write
	for {
		sp.err = nil
		if err := src2.Read(sp.readFn); err != nil {
			return total, true, false, opError("read", s, unwrapRaw(err))
		}
		if sp.err != nil {
			return total, true, false, opError("read", s, os.NewSyscallError("splice", sp.err))
		}
		if sp.eof {
			return total, true, false, nil
		}
		for sp.pending > 0 {
			sp.n, sp.err = 0, nil
			err := drc.Write(sp.writeFn)
			total += int64(sp.n)
			if err != nil {
				return total, true, true, opError("write", d, unwrapRaw(err))
			}
			if sp.err != nil {
				return total, true, true, opError("write", d, os.NewSyscallError("splice", sp.err))
			}
		}
	}
}

// unwrapRaw takes the cause out of the *net.OpError ("raw-read",
// "raw-write") that syscall.RawConn returns, for a deadline or a closed
// connection.
func unwrapRaw(err error) error {
	if oe, ok := err.(*net.OpError); ok {
		return oe.Err
	}
	return err
}

// read splices what the socket has into the pipe; false asks the poller
// to wait for the socket to become readable.
func (sp *splicer) read(fd uintptr) bool {
	for {
		n, err := syscall.Splice(int(fd), nil, sp.pw, nil, spliceMax, spliceMove|spliceNonblock)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			sp.err = err
		case n == 0:
			sp.eof = true
		default:
			sp.pending += int(n)
			add(sp.srcCount, int(n))
		}
		return true
	}
}

// write splices the pipe into the socket until the pipe is empty; false
// asks the poller to wait for the socket to become writable.
func (sp *splicer) write(fd uintptr) bool {
	for sp.pending > 0 {
		n, err := syscall.Splice(sp.pr, nil, int(fd), nil, sp.pending, spliceMove|spliceNonblock)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			sp.err = err
			return true
		}
		sp.pending -= int(n)
		sp.n += int(n)
		add(sp.dstCount, int(n))
	}
	return true
}
