package tasklog

import (
	"io"
	"testing"
	"time"
)

// trickle moves a few bytes each way through a relay fixture, one step at
// a time, and remembers when each step started and when it was delivered,
// so a record written at time T can be checked against what had crossed.
type trickle struct {
	steps []trickleStep
}

type trickleStep struct {
	started, delivered time.Time
	up, down           uint64 // cumulative bytes client->upstream, upstream->client after this step
}

const trickleUp, trickleDown = 2, 3

func (tr *trickle) step(t *testing.T, f *relayFixture) {
	t.Helper()
	var prev trickleStep
	if n := len(tr.steps); n > 0 {
		prev = tr.steps[n-1]
	}
	s := trickleStep{started: time.Now(), up: prev.up + trickleUp, down: prev.down + trickleDown}
	if _, err := f.upstream.Write([]byte("abc")[:trickleDown]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(f.client, make([]byte, trickleDown)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Write([]byte("xy")[:trickleUp]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(f.upstream, make([]byte, trickleUp)); err != nil {
		t.Fatal(err)
	}
	s.delivered = time.Now()
	tr.steps = append(tr.steps, s)
}

// bounds returns the fewest and the most bytes each way that can have
// been counted by time at: every step delivered before it (less a little
// for the clock read that stamps a record after its counters are copied),
// and at most every step started before it.
func (tr *trickle) bounds(at time.Time) (loUp, loDown, hiUp, hiDown uint64) {
	for _, s := range tr.steps {
		if s.delivered.Before(at.Add(-5 * time.Millisecond)) {
			loUp, loDown = s.up, s.down
		}
		if s.started.Before(at) {
			hiUp, hiDown = s.up, s.down
		}
	}
	return
}

// A tunnel that trickles a few bytes every 50 ms, with a Periodic record
// every 100 ms: every record shows the bytes relayed up to the moment it
// was written, growing record by record, not zero until the tunnel ends.
func TestRelayCountsLiveForPeriodicRecords(t *testing.T) {
	f := newRelay(t, 0, WithPeriodic(100*time.Millisecond))
	var tr trickle
	for i := 0; i < 12; i++ {
		tr.step(t, f)
		time.Sleep(50 * time.Millisecond)
	}
	f.client.CloseWrite()
	f.upstream.CloseWrite()
	f.wait(t)

	var last uint64
	periodic, grew := 0, 0
	for _, e := range f.logs.All() {
		m := e.ContextMap()
		if m["task_event"] != "Periodic" {
			continue
		}
		periodic++
		loUp, loDown, hiUp, hiDown := tr.bounds(e.Time)
		for _, c := range []struct {
			key    string
			lo, hi uint64
		}{
			{"c_rd_bytes", loUp, hiUp}, {"r_wr_bytes", loUp, hiUp},
			{"r_rd_bytes", loDown, hiDown}, {"c_wr_bytes", loDown, hiDown},
		} {
			if got := m[c.key].(uint64); got < c.lo || got > c.hi {
				t.Errorf("Periodic record %d at %v: %s = %d, want between %d and %d (the bytes relayed by then)",
					periodic, e.Time.Format("15:04:05.000"), c.key, got, c.lo, c.hi)
			}
		}
		got := m["c_wr_bytes"].(uint64)
		if got < last {
			t.Errorf("Periodic record %d: c_wr_bytes went down from %d to %d", periodic, last, got)
		}
		if got > last {
			grew++
		}
		last = got
	}
	if periodic < 5 || grew < periodic-1 {
		t.Errorf("%d Periodic records, %d of them with more bytes than the one before; want at least 5, growing", periodic, grew)
	}
}

// FinishAll at shutdown records the exact bytes relayed so far.
func TestFinishAllRecordsBytesRelayedSoFar(t *testing.T) {
	f := newRelay(t, 0)
	var tr trickle
	for i := 0; i < 5; i++ {
		tr.step(t, f)
	}
	// A relay goroutine adds to a counter just after its write returns,
	// so the peer can read the bytes a moment before they are counted:
	// wait for the counters to catch up (CI once saw r_wr_bytes 8 of 10).
	last := tr.steps[len(tr.steps)-1]
	c := &f.task.Counters
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c.ClientReadBytes.Load() == last.up && c.RemoteWriteBytes.Load() == last.up &&
			c.RemoteReadBytes.Load() == last.down && c.ClientWriteBytes.Load() == last.down {
			break
		}
	}
	if n := f.srv.FinishAll(ReasonCanceledAsServerQuit, nil); n != 1 {
		t.Fatalf("FinishAll finished %d tasks, want 1", n)
	}
	m := f.finished(t)
	for key, want := range map[string]uint64{"c_rd_bytes": last.up, "r_wr_bytes": last.up, "r_rd_bytes": last.down, "c_wr_bytes": last.down} {
		if m[key] != want {
			t.Errorf("%s = %v, want %d", key, m[key], want)
		}
	}
	if m["reason"] != "CanceledAsServerQuit" {
		t.Errorf("reason %v", m["reason"])
	}
	f.client.Close()
	f.upstream.Close()
	f.wait(t)
}

// io.Copy through the wrappers counts live too, splice or not.
func TestConnCopyCountsLive(t *testing.T) {
	for _, name := range []string{"splice", "buffered"} {
		t.Run(name, func(t *testing.T) {
			srcPeer, src := tcpPair(t)
			dst, dstPeer := tcpPair(t)
			task := NewServer(ServerTypeHTTPProxy, "h", nil).NewTask(time.Time{}, "", tcpDetail())
			var from io.Reader = task.WrapClient(src)
			if name == "buffered" {
				from = struct{ io.Reader }{from} // hides WriteTo: io.Copy uses the buffered path of ReadFrom
			}
			to := task.WrapRemote(dst)
			done := make(chan error, 1)
			go func() { _, err := io.Copy(to, from); done <- err }()
			for i := 1; i <= 5; i++ {
				srcPeer.Write([]byte("hello"))
				if _, err := io.ReadFull(dstPeer, make([]byte, 5)); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(2 * time.Second)
				for task.Counters.RemoteWriteBytes.Load() != uint64(5*i) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if got := task.Counters.RemoteWriteBytes.Load(); got != uint64(5*i) {
					t.Fatalf("after %d writes: r_wr_bytes %d while the copy runs, want %d", i, got, 5*i)
				}
				if name == "splice" {
					if got := task.Counters.ClientReadBytes.Load(); got != uint64(5*i) {
						t.Fatalf("after %d writes: c_rd_bytes %d while the copy runs, want %d", i, got, 5*i)
					}
				}
			}
			srcPeer.CloseWrite()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			task.Finish(ReasonFinished, nil)
		})
	}
}

func TestWithPeriodicFloor(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{0, 0}, {-time.Second, 0}, {1, MinPeriodic}, {MinPeriodic - 1, MinPeriodic},
		{MinPeriodic, MinPeriodic}, {time.Minute, time.Minute},
	} {
		if got := NewServer(ServerTypeHTTPProxy, "h", nil, WithPeriodic(tt.in)).Periodic(); got != tt.want {
			t.Errorf("WithPeriodic(%v): Periodic() = %v, want %v", tt.in, got, tt.want)
		}
	}
}
