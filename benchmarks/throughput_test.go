package benchmarks

import (
	"net"
	"strings"
	"testing"
	"time"
)

// The UDP receiver counts every datagram of a burst, each on its own,
// whatever the reads take at once, and keeps the first.
func TestUDPReceiverCountsEachDatagram(t *testing.T) {
	rc, addr, err := udpReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.closer.Close()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200 // far fewer than the socket buffer holds
	size := 0
	for i := 0; i < n; i++ {
		d := "d" + strings.Repeat("x", i)
		size += len(d)
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := waitFor(func() int64 { return rc.dgrams.Load() }, n, time.Now())
	if got != n || rc.bytes.Load() != int64(size) {
		t.Errorf("counted %d datagrams of %d bytes, want %d of %d", got, rc.bytes.Load(), n, size)
	}
	if first := <-rc.first; string(first) != "d" {
		t.Errorf("first datagram %q", first)
	}
}

// Throughput names what it cannot measure.
func TestThroughputNeedsRecordsAndRounds(t *testing.T) {
	for _, c := range [][2]int{{0, 3}, {10, 0}} {
		if _, err := Throughput(c[0], c[1]); err == nil || !strings.Contains(err.Error(), "need at least one") {
			t.Errorf("Throughput(%d, %d): %v", c[0], c[1], err)
		}
	}
}
