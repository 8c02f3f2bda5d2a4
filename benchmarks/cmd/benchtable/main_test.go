package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/proxylog/tasklog/benchmarks
cpu: AMD EPYC
BenchmarkTcpConnect/1_floor_byte_append-2         	 3122013	       400.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkTcpConnect/2_Task.Finish_tuned-2         	 1000000	      500 ns/op	       0 B/op	       0 allocs/op
BenchmarkTcpConnect/3_Field_tuned_encoder-2       	 1219012	       1000 ns/op	      64 B/op	       1 allocs/op
BenchmarkTcpConnect/5_hand_zap_fields-2           	  445224	      2500 ns/op	    2016 B/op	      13 allocs/op
BenchmarkTcpConnect/9_zerolog_hand_fields-2       	  802004	      1500 ns/op	     160 B/op	       7 allocs/op
BenchmarkParallel/3_Field_tuned_encoder-2         	 1859876	       500 ns/op	      64 B/op	       1 allocs/op
BenchmarkTaskCreate-2                             	 2389137	       483.3 ns/op	     768 B/op	       3 allocs/op
BenchmarkRelay/bare_io.Copy-2                     	      20	  37842700 ns/op	2000.00 MB/s	  683902 B/op	       3 allocs/op
BenchmarkRelay/counting_wrappers-2                	      20	  39297927 ns/op	1900.00 MB/s	  315667 B/op	       4 allocs/op
PASS
`

func TestParseAndWrite(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.results) != 9 || r.procs != 2 {
		t.Fatalf("%d results, %d procs", len(r.results), r.procs)
	}
	var out bytes.Buffer
	write(&out, r)
	got := out.String()
	for _, want := range []string{
		"| 1. floor byte append | 400 | 0 | 0 | 1.00 |",
		"| 3. Field tuned encoder | 1000 | 1 | 64 | 2.50 |",
		"| 3. Field tuned encoder | 500 | 1 | 64 | - | 2.00 |", // parallel: 2x one goroutine
		"| counting wrappers | 1900 | 4 | 0.95 |",
		"| TcpConnect: Field (tuned) within 1.5x of the floor | 2.50x | **no** |",
		"| TcpConnect: Task.Finish within 1.5x of the floor | 1.25x | yes |",
		"| TcpConnect: Field (tuned) at least 3x faster than 5. hand zap fields | 2.50x | **no** |",
		"| TcpConnect: Field (tuned) faster than zerolog | 1.50x | yes |",
		"| parallel throughput (2 procs) at least 1.7x one goroutine | 2.00x | yes |",
		"| relay through the counting wrappers within 10% of bare io.Copy | 95.0% of bare | yes |",
		"cpu: AMD EPYC",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestParseRejectsEmpty(t *testing.T) {
	if _, err := parse(strings.NewReader("PASS\n")); err == nil {
		t.Error("parse of an output without results succeeded")
	}
}
