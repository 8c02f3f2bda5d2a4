package socks5

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// ClientAssociate performs a SOCKS5 handshake on ctrl (with username and
// password when user is not empty) and a UDP ASSOCIATE request, and returns
// the server's UDP relay address. The association lasts until ctrl closes.
func ClientAssociate(ctrl net.Conn, user, pass string) (netip.AddrPort, error) {
	method := byte(methodNone)
	if user != "" {
		method = methodUserPwd
	}
	if _, err := ctrl.Write([]byte{version5, 1, method}); err != nil {
		return netip.AddrPort{}, err
	}
	var rep [2]byte
	if _, err := io.ReadFull(ctrl, rep[:]); err != nil {
		return netip.AddrPort{}, err
	}
	if rep[1] != method {
		return netip.AddrPort{}, errors.New("socks5: authentication method refused")
	}
	if user != "" {
		msg := append([]byte{1, byte(len(user))}, user...)
		msg = append(append(msg, byte(len(pass))), pass...)
		if _, err := ctrl.Write(msg); err != nil {
			return netip.AddrPort{}, err
		}
		if _, err := io.ReadFull(ctrl, rep[:]); err != nil || rep[1] != 0 {
			return netip.AddrPort{}, errors.New("socks5: authentication failed")
		}
	}
	if _, err := ctrl.Write(appendAddr([]byte{version5, cmdUDP, 0}, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))); err != nil {
		return netip.AddrPort{}, err
	}
	var head [4]byte
	if _, err := io.ReadFull(ctrl, head[:]); err != nil {
		return netip.AddrPort{}, err
	}
	if head[1] != repSucceeded {
		return netip.AddrPort{}, fmt.Errorf("socks5: UDP ASSOCIATE refused with code %d", head[1])
	}
	addr, err := readAddr(ctrl, head[3])
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.ParseAddrPort(addr)
}

// PackUDP returns a SOCKS5 UDP datagram carrying payload to dst.
func PackUDP(dst netip.AddrPort, payload []byte) []byte {
	return append(appendAddr([]byte{0, 0, 0}, dst), payload...)
}

// UnpackUDP splits a SOCKS5 UDP datagram into its peer and payload.
func UnpackUDP(b []byte) (string, []byte, error) { return parseUDPHeader(b) }
