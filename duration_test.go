package tasklog

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loadDurationOracle reads testdata/durations.tsv, which
// testdata/gen_durations.rs printed with Rust's own format!("{:.3?}").
func loadDurationOracle(t *testing.T) []struct {
	ns   uint64
	want string
} {
	t.Helper()
	f, err := os.Open("testdata/durations.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []struct {
		ns   uint64
		want string
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ns, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad oracle line %q", sc.Text())
		}
		n, err := strconv.ParseUint(ns, 10, 64)
		if err != nil {
			t.Fatalf("bad oracle line %q: %v", sc.Text(), err)
		}
		rows = append(rows, struct {
			ns   uint64
			want string
		}{n, want})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2000 {
		t.Fatalf("oracle has %d rows, want at least 2000", len(rows))
	}
	return rows
}

func TestFormatDurationMatchesRust(t *testing.T) {
	for _, row := range loadDurationOracle(t) {
		d := time.Duration(row.ns)
		if got := FormatDuration(d); got != row.want {
			t.Errorf("FormatDuration(%d) = %q, want %q (Rust)", row.ns, got, row.want)
		}
		if got := string(AppendDuration([]byte("x="), d)); got != "x="+row.want {
			t.Errorf("AppendDuration(x=, %d) = %q, want %q", row.ns, got, "x="+row.want)
		}
	}
}

// printedStep is the value of one unit in the last printed digit.
func printedStep(s string) time.Duration {
	switch {
	case strings.HasSuffix(s, "ns"):
		return 1
	case strings.HasSuffix(s, "µs"):
		return time.Microsecond / 1000
	case strings.HasSuffix(s, "ms"):
		return time.Millisecond / 1000
	default:
		return time.Second / 1000
	}
}

func TestParseDurationRoundTrip(t *testing.T) {
	for _, row := range loadDurationOracle(t) {
		d := time.Duration(row.ns)
		got, err := ParseDuration(row.want)
		if err != nil {
			t.Errorf("ParseDuration(%q) error: %v", row.want, err)
			continue
		}
		diff := got - d
		if diff < 0 {
			diff = -diff
		}
		if half := printedStep(row.want) / 2; diff > half {
			t.Errorf("ParseDuration(%q) = %d, want within %d of %d", row.want, got, half, d)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0ns", 0},
		{"5.000ns", 5},
		{"5ns", 5},
		{"23.456µs", 23456},
		{"23.456us", 23456},
		{"13.457ms", 13457000},
		{"2.346s", 2346000000},
		{"1000.000ms", time.Second},
		{"1.0000005s", 1000000500},
		{"1.0000000005s", 1000000000},     // tie, even stays
		{"1.0000000015s", 1000000002},     // tie, odd rounds up
		{"1.00000000050001s", 1000000001}, // above the tie
		{"1.0000000004999s", 1000000000},  // below the tie
		{"0.5ns", 0},                      // tie to even whole nanoseconds
		{"1.5ns", 2},
		{"007ms", 7 * time.Millisecond},
		{"9223372036.854775807s", math.MaxInt64},
		{"9223372036854775807ns", math.MaxInt64},
		// FormatDuration(math.MaxInt64) rounds past the maximum: it still
		// parses, to the maximum, and so does anything within half of its
		// last digit.
		{"9223372036.855s", math.MaxInt64},
		{"9223372036.8552s", math.MaxInt64},
		{"9223372036.854775808s", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{
		"", "s", "ms", ".5s", "1.s", "1..2s", "-1s", "+1s", " 1s", "1s ", "1 s", "1e3ns",
		"1h", "1m", "1", "1.5", "1μs" /* Greek mu */, "1Ms", "1S", "0x10ns", "1_000ns",
		"9223372036.8553s", "9223372036.856s", "9223372037s", "9223372036854775808ns", "18446744073709551616ns", "99999999999999999999999s",
		"1,5s", "1.2.3s", "\xffs",
	} {
		d, err := ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %d, want an error", in, d)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(in)) || !strings.HasPrefix(err.Error(), "tasklog: ") {
			t.Errorf("ParseDuration(%q) error %q does not quote the input", in, err)
		}
	}
}

func TestFormatDurationNegative(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-1, "-1.000ns"},
		{-1500 * time.Microsecond, "-1.500ms"},
		{math.MinInt64, "-9223372036.855s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1.000ns", "23.456µs", "23.456us", "13.457ms", "2.346s", "1000.000ms",
		"9223372036.854775807s", "1.s", "-1s", "1e3s", "0.00000000000000000005s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %d, negative", s, d)
		}
		// What parses must print and parse back to within half a printed digit.
		out := FormatDuration(d)
		back, err := ParseDuration(out)
		if err != nil {
			t.Fatalf("ParseDuration(FormatDuration(%d) = %q): %v", d, out, err)
		}
		diff := back - d
		if diff < 0 {
			diff = -diff
		}
		if diff > printedStep(out)/2 {
			t.Fatalf("%q -> %d -> %q -> %d: off by %d", s, d, out, back, diff)
		}
	})
}
