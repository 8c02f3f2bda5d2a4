package driver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
)

// A batch of datagrams goes out in order, each its own datagram; one too
// large for a datagram in the middle costs only itself (DropTooLarge), and
// the records after it still go.
func TestDatagramBatchKeepsOrderAndIsolatesTooLarge(t *testing.T) {
	l, path := unixgramListener(t)
	core, err := NewSyslog(SyslogConfig{Ident: "g3proxy", UnixPath: path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	s := core.q.sinks[0].(*datagramSink)
	huge := []byte(strings.Repeat("x", 4<<20)) // more than a unix datagram carries
	recs := [][]byte{[]byte("r0"), []byte("r1"), huge, []byte("r3"), []byte("r4")}
	s.deliverBatch(recs) // the writer is idle: nothing was logged
	for _, want := range []string{"r0", "r1", "r3", "r4"} {
		if got := readDatagram(t, l); got != want {
			t.Fatalf("received %.20q, want %q", got, want)
		}
	}
	st := core.Stats()
	if st.Passed != 4 || st.DropTooLarge != 1 || st.Bytes != 8 {
		t.Errorf("stats %+v, want 4 passed (8 bytes) and 1 too large", st)
	}
}

// The journal's batch reaches journald's socket in order, one datagram a
// record.
func TestJournalBatchKeepsOrder(t *testing.T) {
	l, path := unixgramListener(t)
	core := NewJournal(JournalConfig{Ident: "g3proxy", Path: path}, Options{})
	defer core.Close()
	s := core.q.sinks[0].(*journalSink)
	var recs [][]byte
	for i := 0; i < 50; i++ {
		recs = append(recs, []byte(fmt.Sprintf("MESSAGE=%d\n", i)))
	}
	// Read while the batch goes: a unix socket queues only a few datagrams.
	got := make(chan []string, 1)
	go func() {
		var ds []string
		buf := make([]byte, 256)
		for len(ds) < 50 {
			l.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := l.ReadFrom(buf)
			if err != nil {
				break
			}
			ds = append(ds, string(buf[:n]))
		}
		got <- ds
	}()
	s.deliverBatch(recs)
	ds := <-got
	for i := range 50 {
		if want := fmt.Sprintf("MESSAGE=%d\n", i); i >= len(ds) || ds[i] != want {
			t.Fatalf("datagrams %q: number %d is not %q", ds, i, want)
		}
	}
	if st := core.Stats(); st.Passed != 50 {
		t.Errorf("stats %+v, want 50 passed", st)
	}
	l.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := l.ReadFrom(make([]byte, 64)); err == nil {
		t.Error("a datagram more than the records")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("reading past the records: %v", err)
	}
}

// A batch written to an io.Writer counts its records and every byte,
// a batch larger than the writer keeps for the next included.
func TestWriterBatchCountsBytes(t *testing.T) {
	var out strings.Builder
	core := NewStdout(&out, Options{})
	defer core.Close()
	s := core.q.sinks[0].(*writerSink)
	for _, size := range []int{10, 100 << 10} { // the second outgrows the kept buffer
		recs := [][]byte{[]byte(strings.Repeat("a", size) + "\n"), []byte(strings.Repeat("b", size) + "\n")}
		before := core.Stats()
		s.deliverBatch(recs) // the writer is idle: nothing was logged
		st := core.Stats()
		if got, want := st.Bytes-before.Bytes, uint64(2*(size+1)); got != want || st.Passed-before.Passed != 2 {
			t.Errorf("records of %d bytes: counted %d passed, %d bytes; want 2, %d", size, st.Passed-before.Passed, got, want)
		}
	}
	if out.Len() != 2*11+2*(100<<10+1) {
		t.Errorf("wrote %d bytes", out.Len())
	}
}

// fluentd's batch goes in one write, in order, counted record by record;
// a batch the server cannot take waits in the retry queue, each record on
// its own (the oldest dropped past RetryQueueLen), and is counted when
// the writers stop.
func TestFluentdBatchWritesOnceAndKeepsOnFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	core, err := NewFluentd(FluentdConfig{Address: l.Addr().String(), RetryQueueLen: 2, ConnectDelay: time.Hour},
		Options{ErrorOutput: discardErrors})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	s := core.q.sinks[0].(*fluentdSink)
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 6)
		_, err = io.ReadFull(c, buf)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf)
		c.Read(buf) // until the sink closes
	}()
	s.deliverBatch([][]byte{[]byte("a"), []byte("bb"), []byte("ccc")})
	if g := <-got; g != "abbccc" {
		t.Fatalf("the server read %q, want %q", g, "abbccc")
	}
	if st := core.Stats(); st.Passed != 3 || st.Bytes != 6 {
		t.Errorf("stats %+v, want 3 passed, 6 bytes", st)
	}
	l.Close()
	s.drop(errors.New("test: the server went away"))
	s.deliverBatch([][]byte{[]byte("d"), []byte("e"), []byte("f")})
	if len(s.retry) != 2 || string(s.retry[0]) != "e" || string(s.retry[1]) != "f" {
		t.Errorf("retry queue %q, want the newest two, e and f", s.retry)
	}
	s.drain()
	if st := core.Stats(); st.DropPeerUnreachable != 3 {
		t.Errorf("stats %+v, want d dropped for the queue's length and e, f when drained", st)
	}
}

// countingWriter holds its first write until gate closes, then records
// how many lines each write carried.
type countingWriter struct {
	heldWriter
	mu    sync.Mutex
	lines []int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.heldWriter.Write(p)
	w.mu.Lock()
	w.lines = append(w.lines, bytes.Count(p, []byte("\n")))
	w.mu.Unlock()
	return len(p), nil
}

// A batch of records the writer renders is bounded by maxBatchBytes as
// records formatted by Write are: each counts as deferredSize bytes, its
// size before rendering being unknown. Counted as 0 bytes, 300 waiting
// records went in batches of maxBatch, each grown past the sink's kept
// buffer and allocated anew.
func TestBatchOfDeferredRecordsIsBounded(t *testing.T) {
	w := &countingWriter{heldWriter: heldWriter{gate: make(chan struct{}), entered: make(chan struct{})}}
	core := NewStdout(w, Options{QueueSize: 4096, ErrorOutput: discardErrors})
	logger := zap.New(core)
	logger.Info("first", tasklog.Field(record()))
	<-w.entered // the writer holds the first record, blocked
	const n = 300
	for i := 0; i < n; i++ {
		logger.Info("m", tasklog.Field(record()), zap.Int("i", i))
	}
	if got := len(core.q.ch); got != n {
		t.Fatalf("%d records wait, want %d", got, n)
	}
	close(w.gate)
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	total, most := 0, 0
	for _, l := range w.lines {
		total += l
		most = max(most, l)
	}
	if total != n+1 {
		t.Fatalf("wrote %d records in writes of %v, want %d", total, w.lines, n+1)
	}
	if want := maxBatchBytes / deferredSize; most != want {
		t.Errorf("writes of %v records: the largest is %d, want %d", w.lines, most, want)
	}
	if st := core.Stats(); st.Passed != n+1 || st.Dropped() != 0 {
		t.Errorf("stats %+v", st)
	}
}
