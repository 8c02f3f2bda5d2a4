package tasklog

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestFormatTimestamp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC), "2026-11-24T10:30:01.123456Z"},
		{time.Date(2026, 11, 24, 10, 30, 1, 999999999, time.UTC), "2026-11-24T10:30:01.999999Z"}, // truncated
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000000Z"},
		{time.Date(2026, 1, 1, 0, 30, 0, 1000, time.FixedZone("CET", 3600)), "2025-12-31T23:30:00.000001Z"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00.000000Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31T23:59:59.999999Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 5000, time.UTC), "10000-01-01T00:00:00.000005Z"},
	}
	for _, tt := range tests {
		if got := FormatTimestamp(tt.in); got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The fast path agrees with the standard library across many instants.
	base := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := int64(0); i < 20000; i++ {
		tm := base.Add(time.Duration(i*i*7919+i*104729) * time.Millisecond).Add(time.Duration(i*7) * time.Nanosecond)
		want := tm.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
		if got := FormatTimestamp(tm); got != want {
			t.Fatalf("FormatTimestamp(%v) = %q, want %q", tm, got, want)
		}
	}
}

func TestFormatTaskID(t *testing.T) {
	id := uuid.MustParse("5B1D9A3E-8C1F-4E2A-9B7D-0F6E5D4C3B2A")
	if got, want := FormatTaskID(id), "5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"; got != want {
		t.Errorf("FormatTaskID = %q, want %q", got, want)
	}
	for i := 0; i < 100; i++ {
		id := uuid.New()
		got := FormatTaskID(id)
		back, err := uuid.Parse(got)
		if len(got) != 32 || err != nil || back != id {
			t.Fatalf("FormatTaskID(%v) = %q (parsed back %v, %v)", id, got, back, err)
		}
	}
}
