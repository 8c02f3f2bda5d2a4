//go:build linux && (amd64 || arm64)

package driver

import (
	"net"
	"syscall"
	"unsafe"
)

// mmsghdr is struct mmsghdr of linux on 64-bit machines.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// batchSender sends several datagrams with one sendmmsg call. Its arrays
// are its writer's own, reused from batch to batch.
type batchSender struct {
	hdrs []mmsghdr
	iovs []syscall.Iovec
	// The connection's raw form, kept while it is the same connection,
	// and the sending function with its state: made once, so that a batch
	// allocates nothing.
	conn    net.Conn
	rc      syscall.RawConn
	write   func(fd uintptr) bool
	pending int // records to send in this call
	sent    int // records sent
}

// send sends recs, in order, on the connected datagram socket c, as many
// as the socket takes now, and returns how many went and their bytes. It
// returns 0 when the first cannot go (the caller's one-record path then
// finds out why) or c is not a socket it can reach.
func (s *batchSender) send(c net.Conn, recs [][]byte) (n, bytes int) {
	if len(recs) == 0 {
		return 0, 0
	}
	if c != s.conn {
		sc, ok := c.(syscall.Conn)
		if !ok {
			return 0, 0
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return 0, 0
		}
		s.conn, s.rc = c, rc
	}
	if s.write == nil {
		s.write = s.sendmmsg
	}
	if cap(s.hdrs) < len(recs) {
		s.hdrs, s.iovs = make([]mmsghdr, len(recs)), make([]syscall.Iovec, len(recs))
	}
	s.hdrs, s.iovs = s.hdrs[:len(recs)], s.iovs[:len(recs)]
	clear(s.hdrs)
	for i, r := range recs {
		if len(r) == 0 {
			recs = recs[:i] // an empty datagram goes on the one-record path
			break
		}
		s.iovs[i].Base = &r[0]
		s.iovs[i].SetLen(len(r))
		s.hdrs[i].hdr.Iov = &s.iovs[i]
		s.hdrs[i].hdr.Iovlen = 1
	}
	if len(recs) == 0 {
		return 0, 0
	}
	s.pending, s.sent = len(recs), 0
	werr := s.rc.Write(s.write)
	clear(s.iovs) // the records go back to the free list
	if werr != nil {
		return 0, 0
	}
	for _, r := range recs[:s.sent] {
		bytes += len(r)
	}
	return s.sent, bytes
}

// sendmmsg is the function send hands the connection: one sendmmsg call
// for s.pending records; false asks the poller to wait for the socket.
func (s *batchSender) sendmmsg(fd uintptr) bool {
	r, _, errno := syscall.Syscall6(sysSendmmsg, fd, uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(s.pending),
		syscall.MSG_DONTWAIT, 0, 0)
	if errno == syscall.EAGAIN {
		return false // wait until the socket takes more, or the deadline
	}
	if errno == 0 {
		s.sent = int(r)
	}
	return true
}
