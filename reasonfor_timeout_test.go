package tasklog

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// Timeouts are the side's timeout reasons, never CanceledAsServerQuit,
// and only a cancellation is the server quitting. Each case is repeated
// 20 times with real sockets, so a reason that flips half the time
// cannot pass.
func TestReasonForTimeoutsAreNotServerQuit(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// readSilent reads from the silent peer under a short deadline: the
	// same error is the origin's timeout on one side, the client's on the
	// other.
	readSilent := func() error {
		c, err := net.Dial("tcp", silent.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		return err
	}
	tests := []struct {
		name string
		side Side
		want Reason
		err  func() error
	}{
		{"dial timeout (dialer)", SideUpstream, ReasonUpstreamNotConnected, func() error {
			_, err := (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", silent.Addr().String())
			return err
		}},
		{"dial timeout (context deadline)", SideUpstream, ReasonUpstreamNotConnected, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
			defer cancel()
			time.Sleep(time.Microsecond)
			_, err := (&net.Dialer{}).DialContext(ctx, "tcp", silent.Addr().String())
			return err
		}},
		{"dial canceled by the server", SideUpstream, ReasonCanceledAsServerQuit, func() error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := (&net.Dialer{}).DialContext(ctx, "tcp", silent.Addr().String())
			return err
		}},
		{"origin silent (read deadline)", SideUpstream, ReasonUpstreamAppTimeout, readSilent},
		{"origin silent (net/http response-header timeout)", SideUpstream, ReasonUpstreamAppTimeout, func() error {
			tr := &http.Transport{ResponseHeaderTimeout: 10 * time.Millisecond}
			defer tr.CloseIdleConnections()
			_, err := (&http.Client{Transport: tr}).Get("http://" + silent.Addr().String() + "/")
			return err
		}},
		{"client silent (read deadline)", SideClient, ReasonClientAppTimeout, readSilent},
	}
	for _, tt := range tests {
		for i := 0; i < 20; i++ {
			err := tt.err()
			if err == nil {
				t.Fatalf("%s: no error", tt.name)
			}
			if got := ReasonFor(err, tt.side); got != tt.want {
				t.Fatalf("%s, try %d: ReasonFor(%v) = %v, want %v (context.DeadlineExceeded matches: %v)",
					tt.name, i, err, got, tt.want, errors.Is(err, context.DeadlineExceeded))
			}
		}
	}
}
