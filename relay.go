package tasklog

import (
	"errors"
	"net"
	"os"
	"time"
)

// Relay copies bytes both ways between the task's client and remote
// connections until both directions have ended, and returns the reason and
// error for [Task.Finish]. It wraps client and remote with
// [Task.WrapClient] and [Task.WrapRemote] (already wrapped connections are
// used as they are) and copies with a loop of its own that keeps
// splice(2) on Linux and adds to the counters after every syscall, so
// every record, Periodic ones included, shows the bytes relayed up to the
// moment it is written.
//
// A tunnel ends the way g3proxy's relay ends it. When one side ends its
// stream gracefully (EOF), Relay writes that side's shutdown record
// ([Task.ClientShutdown] or [Task.UpstreamShutdown]), half-closes the other
// side with CloseWrite and keeps copying the other direction. When that
// direction then ends gracefully too, the task is done: Relay returns
// [ReasonFinished] and a nil error, and there is exactly one shutdown
// record. When a copy fails, before or after a shutdown, Relay closes both
// connections and maps the first error with [ReasonFor], on the side that
// failed. If idle is positive and no byte moves either way for between
// idle and 1.5*idle, Relay ends the task with [ReasonIdle] and [ErrIdle];
// it uses read deadlines for that, and leaves them set.
//
// A connection that cannot half-close (no CloseWrite, as a wrapper that
// replays bytes a bufio.Reader read past a CONNECT head) is closed fully
// instead, so that its peer sees the end of the stream rather than wait
// for its own timeout: what that peer still had to send is lost, and the
// other direction, ended by that close, counts as ended gracefully.
//
// Relay marks the task Relaying before it starts. It returns when both
// copies have returned; it closes neither connection on a clean end. On a
// task that has finished already it relays nothing (its bytes could no
// longer be logged) and returns [ErrTaskFinished].
func (t *Task) Relay(client, remote net.Conn, idle time.Duration) (Reason, error) {
	if t.Finished() {
		return 0, ErrTaskFinished
	}
	c, r := t.WrapClient(client), t.WrapRemote(remote)
	t.Relaying()

	type result struct {
		up    bool // client to remote
		wrote bool // err came from the write side
		err   error
	}
	results := make(chan result, 2)
	go func() { w, err := t.pump(r, c, idle); results <- result{true, w, err} }()
	go func() { w, err := t.pump(c, r, idle); results <- result{false, w, err} }()

	var reason Reason
	var firstErr error
	shut := false
	closedFully := false // a side without CloseWrite was closed instead
	for i := 0; i < 2; i++ {
		res := <-results
		if firstErr != nil {
			continue // already failing: the other copy's error is a consequence
		}
		if res.err != nil && closedFully {
			res.err = nil // ended by our own close of a side that cannot half-close
		}
		if res.err == nil {
			// A graceful end of one direction: pass the FIN on, or close
			// a side that cannot half-close. Only the first gets a
			// record, as in g3.
			dst := c
			if res.up {
				dst = r
			}
			if errors.Is(dst.CloseWrite(), ErrUnsupported) && i == 0 {
				_ = dst.Close()
				closedFully = true
			}
			if !shut {
				shut = true
				if res.up {
					t.ClientShutdown()
				} else {
					t.UpstreamShutdown()
				}
			}
			continue
		}
		if res.err == ErrIdle {
			reason, firstErr = ReasonIdle, ErrIdle
		} else {
			// Client to remote reads the client and writes the remote;
			// remote to client the other way round.
			side, op := SideClient, opRead
			if res.wrote {
				side, op = SideUpstream, opWrite
			}
			if !res.up {
				side = SideClient + SideUpstream - side
			}
			reason, firstErr = reasonFor(res.err, side, op), res.err
		}
		_ = client.Close()
		_ = remote.Close()
	}
	if firstErr == nil {
		reason = ReasonFinished
	}
	return reason, firstErr
}

// pump copies src to dst until EOF (nil) or an error, counting live, and
// says whether the error came from writing dst. With an idle timeout it
// reads under a deadline of half the timeout; a window that times out is
// idle only if no byte moved in either direction, and two idle windows in
// a row make [ErrIdle].
func (t *Task) pump(dst, src *Conn, idle time.Duration) (wrote bool, err error) {
	if idle <= 0 {
		_, wrote, err = countedCopy(dst.Conn, dst.wr, src.Conn, src.rd)
		return wrote, err
	}
	window := idle / 2
	quiet := 0
	for {
		before := t.bytesMoved()
		_ = src.SetReadDeadline(time.Now().Add(window))
		_, wrote, err = countedCopy(dst.Conn, dst.wr, src.Conn, src.rd)
		if err == nil || wrote || !errors.Is(err, os.ErrDeadlineExceeded) {
			return wrote, err
		}
		if t.bytesMoved() != before {
			quiet = 0
			continue
		}
		if quiet++; quiet >= 2 {
			return false, ErrIdle
		}
	}
}

// ErrTaskFinished is returned by [Task.Relay] on a task that has already
// written its finished record.
var ErrTaskFinished = errors.New("tasklog: the task has finished")

// Finished reports whether [Task.Finish] has run.
func (t *Task) Finished() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

func (t *Task) bytesMoved() uint64 {
	c := &t.Counters
	return c.ClientReadBytes.Load() + c.ClientWriteBytes.Load() + c.RemoteReadBytes.Load() + c.RemoteWriteBytes.Load()
}
