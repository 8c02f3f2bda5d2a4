//go:build linux && (amd64 || arm64)

package benchmarks

import (
	"net"
	"syscall"
	"unsafe"
)

// recvBatch is how many datagrams drainMany takes with one call, as
// rsyslog's imudp does by default (its BatchSize, 32).
const recvBatch = 32

// mmsghdr is struct mmsghdr of linux on 64-bit machines.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// drainMany drains a datagram socket as rsyslog's imudp does, up to
// recvBatch datagrams with one recvmmsg call, counting each.
func (r *receiver) drainMany(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		r.drain(c.Read)
		return
	}
	bufs := make([][]byte, recvBatch)
	iovs := make([]syscall.Iovec, recvBatch)
	hdrs := make([]mmsghdr, recvBatch)
	for i := range bufs {
		bufs[i] = make([]byte, 64<<10)
		iovs[i].Base = &bufs[i][0]
		iovs[i].SetLen(len(bufs[i]))
		hdrs[i].hdr.Iov = &iovs[i]
		hdrs[i].hdr.Iovlen = 1
	}
	var got int
	var errno syscall.Errno
	read := func(fd uintptr) bool {
		for {
			n, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), recvBatch, syscall.MSG_DONTWAIT, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // the poller waits for more
			}
			got, errno = int(n), e
			return true
		}
	}
	for {
		if err := rc.Read(read); err != nil || errno != 0 {
			return
		}
		for i := 0; i < got; i++ {
			n := int(hdrs[i].n)
			r.once.Do(func() { r.first <- append([]byte(nil), bufs[i][:n]...) })
			r.dgrams.Add(1)
			r.bytes.Add(int64(n))
		}
	}
}
