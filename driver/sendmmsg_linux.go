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
	// to is the address of an unconnected socket's datagrams (journald's);
	// nil for a connected socket.
	to    *syscall.RawSockaddrUnix
	toLen uint32
}

// sendTo makes s address its datagrams to the unix socket at path, as
// Go's net package addresses it (a leading '@' names an abstract socket).
func (s *batchSender) sendTo(path string) {
	var sa syscall.RawSockaddrUnix
	if len(path) >= len(sa.Path) {
		return // too long for a socket address: the one-record path says so
	}
	sa.Family = syscall.AF_UNIX
	for i := 0; i < len(path); i++ {
		sa.Path[i] = int8(path[i])
	}
	n := uint32(2 + len(path) + 1)
	if len(path) > 0 && path[0] == '@' {
		sa.Path[0] = 0
		n-- // an abstract name has no terminating NUL
	}
	s.to, s.toLen = &sa, n
}

// send sends recs, in order, on the datagram socket c (connected, or to
// the address sendTo set), as many
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
		if s.to != nil {
			s.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(s.to))
			s.hdrs[i].hdr.Namelen = s.toLen
		}
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
