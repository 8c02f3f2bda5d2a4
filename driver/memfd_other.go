//go:build !linux || !(amd64 || arm64)

package driver

// sysMemfdCreate is 0 where tasklog does not know the memfd_create
// syscall: records too large for one journald datagram are dropped.
const sysMemfdCreate = 0
