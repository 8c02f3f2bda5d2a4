package main

import (
	"encoding/binary"
	"net"
)

// startDNS runs a DNS server on loopback UDP that answers every query
// with NXDOMAIN: names are resolved by it, never by the system resolver.
func startDNS() net.PacketConn {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			flags := binary.BigEndian.Uint16(resp[2:])
			// QR=1, opcode and RD kept, RA=1, RCODE=3 (NXDOMAIN).
			flags = 0x8000 | flags&0x7900 | 0x0080 | 3
			binary.BigEndian.PutUint16(resp[2:], flags)
			binary.BigEndian.PutUint16(resp[6:], 0)  // no answers
			binary.BigEndian.PutUint16(resp[8:], 0)  // no authority
			binary.BigEndian.PutUint16(resp[10:], 0) // no additional (drops an EDNS OPT)
			// Keep the header and the question only.
			q := 12
			for q < len(resp) && resp[q] != 0 {
				q += int(resp[q]) + 1
			}
			q += 5 // the root label, QTYPE, QCLASS
			if q > len(resp) {
				continue
			}
			pc.WriteTo(resp[:q], from)
		}
	}()
	return pc
}
