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
// finished record with the reason its script provokes; the refused
// connect has one Escape record with its task_id, and the name that does
// not resolve a Resolve record for each query.
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
	var finished, escapes, resolves []map[string]any
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
			if m["daemon_name"] != "tasklog-demo" || m["tasklogError"] != nil {
				t.Errorf("record %v", m)
			}
			switch m["log_type"] {
			case "Escape":
				escapes = append(escapes, m)
				continue
			case "Resolve":
				resolves = append(resolves, m)
				continue
			case "Task":
			default:
				t.Errorf("record of log type %v", m["log_type"])
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
		{"TcpConnect", "UpstreamNotResolved"},
		{"HttpForward", "ClientTcpWriteFailed"},
		{"HttpForward", "Finished"},
		{"UdpAssociate", "ClosedByClient"},
	}
	if len(finished) != len(want) || summaries != len(want)+len(escapes)+len(resolves) {
		t.Fatalf("%d finished records and %d summaries, want %d and %d", len(finished), summaries, len(want), len(want)+len(escapes)+len(resolves))
	}
	if len(escapes) != 1 || escapes[0]["task_id"] != finished[2]["task_id"] || escapes[0]["reason"] != "ConnectFailed" ||
		escapes[0]["msg"] != "connect failed: connection refused" {
		t.Errorf("Escape records %v, want one for task 3's refused connect", escapes)
	}
	if len(resolves) != 2 {
		t.Errorf("%d Resolve records, want the A and AAAA queries of task 4", len(resolves))
	}
	for _, r := range resolves {
		if r["domain"] != "nx.example" || r["error_type"] != "ServerError" || r["error_subtype"] != "NOTFOUND" {
			t.Errorf("Resolve record %v", r)
		}
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
