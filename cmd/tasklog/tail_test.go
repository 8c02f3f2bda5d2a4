package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func allG3Text(t *testing.T) string {
	var b strings.Builder
	for _, l := range g3Lines(t) {
		if !strings.Contains(l.text, "\n") {
			b.WriteString(l.text + "\n")
		}
	}
	return b.String()
}

// TestTailLinesAndFilters: one aligned line per record, and each filter
// keeps exactly the records it names.
func TestTailLinesAndFilters(t *testing.T) {
	in := allG3Text(t)
	code, out, e := runCmd(t, in, "tail", "-color", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != strings.Count(in, "\n") {
		t.Errorf("%d lines for %d records", len(lines), strings.Count(in, "\n"))
	}
	// Task lines align: the reason column starts at the same place.
	var cols []int
	for _, l := range lines {
		if strings.HasPrefix(l, "TcpConnect ") {
			cols = append(cols, strings.Index(l, "ClosedByClient")+strings.Index(l, "ClientShutdown")+strings.Index(l, "Created")+2)
		}
		if strings.ContainsAny(l, "\x00\x1b\r") {
			t.Errorf("raw control character in %q", l)
		}
	}
	for _, c := range cols {
		if c != cols[0] {
			t.Errorf("TcpConnect lines do not align: %v", cols)
			break
		}
	}
	for _, f := range []struct {
		args []string
		want func(string) bool
	}{
		{[]string{"-reason", "ClosedByClient"}, func(l string) bool { return strings.Contains(l, " ClosedByClient ") }},
		{[]string{"-reason", "ConnectFailed,Finished"}, func(l string) bool {
			return strings.Contains(l, " ConnectFailed ") || strings.Contains(l, " Finished ")
		}},
		{[]string{"-user", "alice"}, func(l string) bool { return strings.Contains(l, "user=alice") }},
		{[]string{"-type", "Resolve"}, func(l string) bool { return strings.HasPrefix(l, "Resolve ") }},
		{[]string{"-type", "UdpAssociate"}, func(l string) bool { return strings.HasPrefix(l, "UdpAssociate ") }},
		{[]string{"-min-total", "2s"}, func(l string) bool {
			return strings.Contains(l, "total=2.346s") || strings.Contains(l, "total=3600.000s")
		}},
	} {
		code, out, e := runCmd(t, in, append([]string{"tail", "-color", "never"}, f.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", f.args, code, e)
		}
		got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			t.Errorf("%v: no lines", f.args)
			continue
		}
		want := 0
		for _, l := range lines {
			if f.want(l) {
				want++
			}
		}
		if len(got) != want {
			t.Errorf("%v: %d lines, want %d:\n%s", f.args, len(got), want, out)
		}
		for _, l := range got {
			if !f.want(l) {
				t.Errorf("%v: line does not match: %s", f.args, l)
			}
		}
	}
	if code, _, e := runCmd(t, in, "tail", "-min-total", "soon"); code != 2 || !strings.Contains(e, `"soon"`) {
		t.Errorf("-min-total soon: exit %d, %q", code, e)
	}
	if code, _, e := runCmd(t, in, "tail", "-color", "purple"); code != 2 || !strings.Contains(e, `"purple"`) {
		t.Errorf("-color purple: exit %d, %q", code, e)
	}
}

// TestTailColour: colour only when asked or on a terminal (a buffer is
// not one).
func TestTailColour(t *testing.T) {
	in := allG3Text(t)
	_, plain, _ := runCmd(t, in, "tail")
	if strings.Contains(plain, "\033[") {
		t.Error("colour written to a non-terminal with -color auto")
	}
	_, col, _ := runCmd(t, in, "tail", "-color", "always")
	if !strings.Contains(col, ansiGreen+"ClosedByClient") || !strings.Contains(col, ansiRed+"UpstreamReadFailed") {
		t.Errorf("-color always: no green success or red failure")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTailFollow: -f prints lines appended to a file (a line written in
// two parts once, when complete), starts over when the file is truncated,
// and follows a file replaced by rotation; it stops when cancelled.
func TestTailFollow(t *testing.T) {
	rec := func(reason string) string {
		return strings.Replace(g3LineOf(t, "tcp-finished", "rfc3164-cee"), `"reason":"ClosedByClient"`, `"reason":"`+reason+`"`, 1) + "\n"
	}
	path := writeFile(t, "follow.log", rec("Finished"))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"tail", "-f", "-color", "never", path}, nil, &out, &errOut) }()
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("waited 5s for %d × %q; have:\n%s%s", n, what, out.String(), errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	waitFor(" Finished ", 1)
	half := rec("Idle")
	appendTo(half[:40])
	time.Sleep(300 * time.Millisecond) // more than one poll
	if strings.Contains(out.String(), "Idle") || errOut.String() != "" {
		t.Fatalf("half a line was handed over:\n%s%s", out.String(), errOut.String())
	}
	appendTo(half[40:])
	waitFor(" Idle ", 1)
	// Truncation: read from the start again.
	if err := os.WriteFile(path, []byte(rec("ClosedByUpstream")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(" ClosedByUpstream ", 1)
	// Rotation: the file is moved away and a new one takes its name.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(rec("UpstreamNotConnected")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(" UpstreamNotConnected ", 1)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tail -f did not stop when cancelled")
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 4:\n%s", n, out.String())
	}
	if code, _, e := runCmd(t, "", "tail", "-f"); code != 2 || !strings.Contains(e, "standard input") {
		t.Errorf("tail -f of standard input: exit %d %q", code, e)
	}
}

// TestProgress: the bar shows how far a file is read, at most ten times
// a second, only for a file of known size, and is cleared at the end.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, enabled: true}
	src := &source{name: "task.json", size: 1000}
	p.update(src, 500, 42)
	p.update(src, 600, 43) // within 100 ms: not redrawn
	if got := b.String(); got != "\rtask.json [###############...............]  50% 42 records" {
		t.Errorf("bar %q", got)
	}
	p.update(&source{name: "-", size: -1}, 10, 1)
	p.last = time.Time{}
	p.update(&source{name: "-", size: -1}, 10, 1) // a pipe: no size, no bar
	b.Reset()
	p.done()
	if b.String() != "\r\033[K" {
		t.Errorf("done wrote %q", b.String())
	}
	if newProgress(&b).enabled {
		t.Error("a progress bar on a buffer")
	}
}
