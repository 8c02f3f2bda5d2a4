//go:build !linux || !(amd64 || arm64)

package benchmarks

import "net"

// drainMany drains a datagram socket one datagram a call where recvmmsg
// is not at hand.
func (r *receiver) drainMany(c *net.UDPConn) { r.drain(c.Read) }
