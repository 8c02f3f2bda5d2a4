//go:build linux && (amd64 || arm64)

package driver

import (
	"net"
	"testing"
)

// sendmmsg sends a batch with one call: to a connected UDP socket and, by
// address, from an unbound unix socket.
func TestBatchSenderSends(t *testing.T) {
	recs := [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var s batchSender
	if n, bytes := s.send(c, recs); n != 3 || bytes != 6 {
		t.Errorf("UDP: sent %d records, %d bytes; want 3, 6", n, bytes)
	}
	for _, want := range []string{"a", "bb", "ccc"} {
		if got := readDatagram(t, pc); got != want {
			t.Errorf("UDP: received %q, want %q", got, want)
		}
	}

	l, path := unixgramListener(t)
	u, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	var us batchSender
	if n, bytes := us.send(u, recs); n != 3 || bytes != 6 {
		t.Errorf("unix: sent %d records, %d bytes; want 3, 6", n, bytes)
	}
	for _, want := range []string{"a", "bb", "ccc"} {
		if got := readDatagram(t, l); got != want {
			t.Errorf("unix: received %q, want %q", got, want)
		}
	}
}
