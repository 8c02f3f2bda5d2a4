// Package dnstest runs a DNS server of the tests' own on loopback (UDP and
// TCP on one port), so that no test resolves a name through the system's
// resolver. It answers by name:
//
//   - ok.example: A 127.0.0.1, AAAA ::1; v4.example: A 127.0.0.1 only;
//   - nx.example (and any name not listed): NXDOMAIN;
//   - fail.example: SERVFAIL; refused.example: REFUSED;
//   - empty.example: no error and no address;
//   - slow.example: never answered;
//   - big.example: truncated over UDP, A 127.0.0.9 over TCP.
package dnstest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server is a running DNS server; Addr is its loopback address.
type Server struct {
	Addr netip.AddrPort
	udp  net.PacketConn
	tcp  net.Listener
	wg   sync.WaitGroup
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Skipf("no DNS server on loopback: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New runs a server until Close, for programs (the demo, the load suite).
func New() (*Server, error) {
	// The UDP port the system picks may be taken for TCP by another
	// program: try a few ports before giving up.
	var s *Server
	for try := 0; ; try++ {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s = &Server{udp: udp, Addr: udp.LocalAddr().(*net.UDPAddr).AddrPort()}
		if s.tcp, err = net.Listen("tcp", s.Addr.String()); err == nil {
			break
		}
		udp.Close()
		if try == 9 {
			return nil, fmt.Errorf("dnstest: no port free for both UDP and TCP in 10 tries: %w", err)
		}
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if out := answer(buf[:n], true); out != nil {
			s.udp.WriteTo(out, from)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err == nil {
			q := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, q); err == nil {
				if out := answer(q, false); out != nil {
					c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
				}
			}
		}
		c.Close()
	}
}

func answer(q []byte, udp bool) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(q); err != nil || len(m.Questions) != 1 {
		return nil
	}
	question := m.Questions[0]
	r := dnsmessage.Message{Header: dnsmessage.Header{ID: m.Header.ID, Response: true, RecursionAvailable: true}, Questions: m.Questions}
	a := func(ip string) {
		h := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 60}
		addr := netip.MustParseAddr(ip)
		if addr.Is4() && question.Type == dnsmessage.TypeA {
			h.Type = dnsmessage.TypeA
			r.Answers = append(r.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AResource{A: addr.As4()}})
		}
		if addr.Is6() && question.Type == dnsmessage.TypeAAAA {
			h.Type = dnsmessage.TypeAAAA
			r.Answers = append(r.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AAAAResource{AAAA: addr.As16()}})
		}
	}
	switch question.Name.String() {
	case "ok.example.":
		a("127.0.0.1")
		a("::1")
	case "v4.example.":
		a("127.0.0.1")
	case "fail.example.":
		r.Header.RCode = dnsmessage.RCodeServerFailure
	case "refused.example.":
		r.Header.RCode = dnsmessage.RCodeRefused
	case "empty.example.":
	case "slow.example.":
		return nil
	case "big.example.":
		if udp {
			r.Header.Truncated = true
		} else {
			a("127.0.0.9")
		}
	default:
		r.Header.RCode = dnsmessage.RCodeNameError
	}
	out, _ := r.Pack()
	return out
}
