package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole demo and checks what it prints: every line is a
// comment, a g3 JSON record or a summary; each scripted task ends in one
// finished record with the reason its script provokes.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	if err := run(ctx, &out, nil); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("demo took %v", d)
	}
	var finished []map[string]any
	periodic, summaries := 0, 0
	inSummary := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "# "):
			inSummary = inSummary || strings.HasPrefix(line, "# summary")
		case inSummary:
			summaries++
		default:
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("not a JSON record: %q", line)
			}
			if m["log_type"] != "Task" || m["daemon_name"] != "tasklog-demo" || m["tasklogError"] != nil {
				t.Errorf("record %v", m)
			}
			switch m["task_event"] {
			case "Finished":
				finished = append(finished, m)
			case "Periodic":
				periodic++
			}
		}
	}
	want := []struct{ taskType, reason string }{
		{"TcpConnect", "Finished"},
		{"HttpForward", "Finished"},
		{"TcpConnect", "UpstreamNotConnected"},
		{"HttpForward", "ClientTcpWriteFailed"},
		{"HttpForward", "Finished"},
		{"UdpAssociate", "ClosedByClient"},
	}
	if len(finished) != len(want) || summaries != len(want) {
		t.Fatalf("%d finished records and %d summaries, want %d", len(finished), summaries, len(want))
	}
	for i, w := range want {
		reason := finished[i]["reason"]
		if i == 0 && reason == "ClientTcpReadFailed" {
			// How a TLS tunnel ends is up to the client and the kernel: a
			// clean close (Finished), or a reset when the client closes
			// with unread TLS data in its buffer.
			reason = "Finished"
		}
		if finished[i]["task_type"] != w.taskType || reason != w.reason {
			t.Errorf("task %d: %v %v, want %s %s", i+1, finished[i]["task_type"], finished[i]["reason"], w.taskType, w.reason)
		}
	}
	if uri := finished[1]["uri"]; uri == nil || !strings.Contains(uri.(string), "bob:xyz@") || strings.Contains(out.String(), "s3cret") {
		t.Errorf("the password was not masked: uri %v", uri)
	}
	if periodic < 2 {
		t.Errorf("%d Periodic records, want at least 2 from the slow transfer", periodic)
	}
}
