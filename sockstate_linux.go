package tasklog

import (
	"net"
	"syscall"
	"unsafe"
)

// tcpClosed reports whether the kernel has closed c's TCP connection
// (state TCP_CLOSE: it received a reset, or both sides are done), read from
// TCP_INFO. ok is false when c is not a TCP socket or the state cannot be
// read. Relay uses it to tell which side of a spliced copy failed.
func tcpClosed(c net.Conn) (closed, ok bool) {
	if w, isConn := c.(*Conn); isConn {
		c = w.Conn
	}
	sc, isSys := c.(syscall.Conn)
	if !isSys {
		return false, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	const tcpClose = 7 // TCP_CLOSE in include/net/tcp_states.h
	var info [104]byte // struct tcp_info; tcpi_state is its first byte
	size := uint32(len(info))
	var errno syscall.Errno
	ctlErr := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
	})
	if ctlErr != nil || errno != 0 || size < 1 {
		return false, false
	}
	return info[0] == tcpClose, true
}
