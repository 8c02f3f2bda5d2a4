//go:build !linux || !(amd64 || arm64)

package driver

import "net"

// batchSender sends one datagram at a time where tasklog does not know
// sendmmsg: send returns 0 and the one-record path sends each.
type batchSender struct{}

func (*batchSender) send(net.Conn, [][]byte) (n, bytes int) { return 0, 0 }
