package tasklog

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Relay copies bytes both ways between the task's client and remote
// connections until both directions have ended, and returns the reason and
// error for [Task.Finish]. It wraps client and remote with
// [Task.WrapClient] and [Task.WrapRemote] (already wrapped connections are
// used as they are), so io.Copy keeps splice(2) and the counters are
// exact.
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
// Relay marks the task Relaying before it starts. It returns when both
// copies have returned; it closes neither connection on a clean end.
func (t *Task) Relay(client, remote net.Conn, idle time.Duration) (Reason, error) {
	c, r := t.WrapClient(client), t.WrapRemote(remote)
	t.Relaying()

	type result struct {
		up  bool // client to remote
		err error
	}
	results := make(chan result, 2)
	go func() { results <- result{true, t.pump(r, c, idle)} }()
	go func() { results <- result{false, t.pump(c, r, idle)} }()

	var reason Reason
	var firstErr error
	shut := false
	for i := 0; i < 2; i++ {
		res := <-results
		if firstErr != nil {
			continue // already failing: the other copy's error is a consequence
		}
		if res.err == nil {
			// A graceful end of one direction: pass the FIN on. Only the
			// first gets a record, as in g3.
			if res.up {
				_ = r.CloseWrite()
			} else {
				_ = c.CloseWrite()
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
			side, op := copyErrorSide(res.err, res.up, c, r)
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

// pump copies src to dst until EOF (nil) or an error. With an idle timeout
// it reads under a deadline of half the timeout; a window that times out
// is idle only if no byte moved in either direction, and two idle windows
// in a row make [ErrIdle]. (The other direction may be inside a spliced
// chunk whose bytes are counted when its own window ends, so one quiet
// window alone is not proof.)
func (t *Task) pump(dst, src *Conn, idle time.Duration) error {
	if idle <= 0 {
		_, err := io.Copy(dst, src)
		return err
	}
	window := idle / 2
	quiet := 0
	for {
		before := t.bytesMoved()
		_ = src.SetReadDeadline(time.Now().Add(window))
		_, err := dst.ReadFrom(src)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if t.bytesMoved() != before {
			quiet = 0
			continue
		}
		if quiet++; quiet >= 2 {
			return ErrIdle
		}
	}
}

// copyErrorSide says which connection an io.Copy error belongs to. In the
// client-to-remote copy (up) reads are on the client and writes on the
// remote, and the other way round. A plain "read" or "write" op says which.
// The splice path reports both as "readfrom", so then the socket the
// kernel has closed (reset) is the one that failed; where the state cannot
// be read, EPIPE means the write failed and anything else the read.
func copyErrorSide(err error, up bool, client, remote net.Conn) (Side, ioOp) {
	readSide, writeSide := SideUpstream, SideClient
	src, dst := remote, client
	if up {
		readSide, writeSide = SideClient, SideUpstream
		src, dst = client, remote
	}
	op := opRead
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		switch opErr.Op {
		case "write":
			op = opWrite
		case "read":
			op = opRead
		default:
			dstClosed, okDst := tcpClosed(dst)
			srcClosed, okSrc := tcpClosed(src)
			switch {
			case okDst && okSrc && dstClosed && !srcClosed:
				op = opWrite
			case okDst && okSrc && srcClosed && !dstClosed:
				op = opRead
			case errors.Is(err, syscall.EPIPE):
				op = opWrite
			}
		}
	}
	if op == opWrite {
		return writeSide, opWrite
	}
	return readSide, opRead
}

func (t *Task) bytesMoved() uint64 {
	c := &t.Counters
	return c.ClientReadBytes.Load() + c.ClientWriteBytes.Load() + c.RemoteReadBytes.Load() + c.RemoteWriteBytes.Load()
}
