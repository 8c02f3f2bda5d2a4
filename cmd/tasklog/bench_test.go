package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// benchInput is n lines: g3's finished TcpConnect and HttpForward
// records, and its Escape and Resolve records, in one form.
func benchInput(b *testing.B, formats []string, n int) string {
	b.Helper()
	var recs []string
	for _, l := range g3Lines(b) {
		if strings.Contains(l.text, "hostile") || strings.Contains(l.text, "\n") {
			continue
		}
		for _, f := range formats {
			if l.format == f {
				recs = append(recs, l.text)
			}
		}
	}
	if len(recs) == 0 {
		b.Fatalf("no lines of %v", formats)
	}
	var sb strings.Builder
	for i := range n {
		rec := recs[i%len(recs)]
		if f := formats[0]; f == "rfc3164-cee" || f == "json" {
			rec = rec[strings.Index(rec, "{"):] // the JSON line alone
		}
		sb.WriteString(rec)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// benchCommand runs a subcommand over in, b.N times, and reports records
// a second.
func benchCommand(b *testing.B, in string, args ...string) {
	lines := strings.Count(in, "\n")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		code := run(context.Background(), args, strings.NewReader(in), io.Discard, io.Discard)
		if code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkValidateJSON(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"json", "rfc3164-cee"}, 20000), "validate")
}
func BenchmarkStatsJSON(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"json", "rfc3164-cee"}, 20000), "stats", "-json")
}
func BenchmarkValidateText(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"rfc3164"}, 20000), "validate")
}
func BenchmarkStatsText(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"rfc3164"}, 20000), "stats", "-json")
}
func BenchmarkValidateSD(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"rfc5424"}, 20000), "validate")
}
func BenchmarkValidateStdout(b *testing.B) {
	benchCommand(b, benchInput(b, []string{"stdout"}, 20000), "validate")
}
