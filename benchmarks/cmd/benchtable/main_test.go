package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A short run prints every table and checks every goal.
func TestRunPrintsTablesAndGoals(t *testing.T) {
	if testing.Short() {
		t.Skip("measures")
	}
	var out bytes.Buffer
	all, err := pickTables(strings.Join(allTables, ","))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(&out, 2, 200*time.Microsecond, all); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"TcpConnect\n", "HttpForward\n", "| 1. floor", "| 12. zerolog naive", "Scaling", "IPv6 everywhere",
		"Two goroutines", "Drivers, writers keeping up: ", "Drivers, flat out: ", "| journal, unix |", "at most 1.5x NewCore JSON on the logging goroutine", "Driver throughput", "| stdout text, pipe |", "at least 0.8x a straight writer", "Goals", "tasklog.Log at most 1.5x the floor", "at least 3x faster than zap.Any struct"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// -tables runs only the tables it names, and names the unknown one.
func TestPickTables(t *testing.T) {
	want, err := pickTables("drivers, parallel")
	if err != nil || len(want) != 2 || !want["drivers"] || !want["parallel"] {
		t.Errorf("pickTables = %v, %v", want, err)
	}
	if _, err := pickTables("drivers,speed"); err == nil || !strings.Contains(err.Error(), `"speed"`) {
		t.Errorf("an unknown table: %v", err)
	}
	var out bytes.Buffer
	if err := run(&out, 2, 200*time.Microsecond, map[string]bool{"parallel": true}); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "Two goroutines") || strings.Contains(s, "Drivers, ") || strings.Contains(s, "| 1. floor") {
		t.Errorf("-tables parallel printed:\n%s", s)
	}
}
