// Command benchtable turns one `go test -bench . -benchmem` run of the
// benchmarks module into the Markdown tables of tasklog's README: ns/op,
// allocs/op and the ratio to the byte-append floor for each record, the
// parallel speed-up, relay throughput, and the performance goals checked
// against the same run.
//
//	cd benchmarks && go run ./cmd/benchtable             # runs the benchmarks (a few minutes)
//	cd benchmarks && go run ./cmd/benchtable -in out.txt # formats a saved run
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "", "read a saved `go test -bench` output instead of running the benchmarks")
	bench := flag.String("bench", ".", "the -bench pattern when running")
	benchtime := flag.String("benchtime", "1s", "the -benchtime when running")
	flag.Parse()
	var raw []byte
	var err error
	if *in != "" {
		raw, err = os.ReadFile(*in)
	} else {
		fmt.Fprintln(os.Stderr, "benchtable: running go test -bench", *bench, "(a few minutes)...")
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", *bench, "-benchmem", "-benchtime", *benchtime, ".")
		cmd.Stderr = os.Stderr
		raw, err = cmd.Output()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	run, err := parse(bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	write(os.Stdout, run)
}

// result is one benchmark line.
type result struct {
	family, name    string // "TcpConnect", "3_Field_tuned_encoder"
	ns, mbs         float64
	allocs, bytesOp float64
}

// run is one parsed `go test -bench` output.
type run struct {
	header  []string // goos, goarch, cpu
	procs   int
	results []result
}

func (r *run) get(family, prefix string) (result, bool) {
	for _, x := range r.results {
		if x.family == family && strings.HasPrefix(x.name, prefix) {
			return x, true
		}
	}
	return result{}, false
}

func parse(rd io.Reader) (*run, error) {
	r := &run{}
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line := sc.Text()
		for _, h := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(line, h) {
				r.header = append(r.header, line)
			}
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		full := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(full, '-'); i > 0 {
			if p, err := strconv.Atoi(full[i+1:]); err == nil {
				r.procs = p
				full = full[:i]
			}
		}
		res := result{family: full}
		if i := strings.IndexByte(full, '/'); i > 0 {
			res.family, res.name = full[:i], full[i+1:]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad benchmark line %q", line)
			}
			switch f[i+1] {
			case "ns/op":
				res.ns = v
			case "MB/s":
				res.mbs = v
			case "allocs/op":
				res.allocs = v
			case "B/op":
				res.bytesOp = v
			}
		}
		r.results = append(r.results, res)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.results) == 0 {
		return nil, fmt.Errorf("no benchmark results in the input")
	}
	return r, nil
}

func write(w io.Writer, r *run) {
	fmt.Fprintf(w, "Measured on: %s; GOMAXPROCS %d; %s.\n", strings.Join(r.header, ", "), r.procs, runtime.Version())
	families := []string{}
	seen := map[string]bool{}
	for _, x := range r.results {
		if !seen[x.family] {
			seen[x.family] = true
			families = append(families, x.family)
		}
	}
	for _, fam := range families {
		switch fam {
		case "TcpConnect", "HttpForward", "Parallel":
			recordTable(w, r, fam)
		case "Relay":
			relayTable(w, r)
		default:
			plainTable(w, r, fam)
		}
	}
	goals(w, r)
}

func label(name string) string {
	if i := strings.IndexByte(name, '_'); i > 0 {
		if _, err := strconv.Atoi(name[:i]); err == nil {
			return name[:i] + ". " + strings.ReplaceAll(name[i+1:], "_", " ")
		}
	}
	return strings.ReplaceAll(name, "_", " ")
}

func recordTable(w io.Writer, r *run, fam string) {
	floor, hasFloor := r.get(fam, "1_")
	fmt.Fprintf(w, "\n%s\n\n| approach | ns/op | allocs/op | B/op | x floor |", fam)
	if fam == "Parallel" {
		fmt.Fprint(w, " throughput x one goroutine |")
	}
	fmt.Fprint(w, "\n|---|---:|---:|---:|---:|")
	if fam == "Parallel" {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, x := range r.results {
		if x.family != fam {
			continue
		}
		ratio := "-"
		if hasFloor && floor.ns > 0 {
			ratio = fmt.Sprintf("%.2f", x.ns/floor.ns)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %s |", label(x.name), x.ns, x.allocs, x.bytesOp, ratio)
		if fam == "Parallel" {
			if single, ok := r.get("TcpConnect", x.name); ok && x.ns > 0 {
				fmt.Fprintf(w, " %.2f |", single.ns/x.ns)
			} else {
				fmt.Fprint(w, " - |")
			}
		}
		fmt.Fprintln(w)
	}
}

func relayTable(w io.Writer, r *run) {
	bare, _ := r.get("Relay", "bare")
	fmt.Fprint(w, "\nRelay (64 MiB per op over loopback TCP)\n\n| copy | MB/s | allocs/op | x bare |\n|---|---:|---:|---:|\n")
	for _, x := range r.results {
		if x.family == "Relay" {
			ratio := "-"
			if bare.mbs > 0 {
				ratio = fmt.Sprintf("%.2f", x.mbs/bare.mbs)
			}
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %s |\n", label(x.name), x.mbs, x.allocs, ratio)
		}
	}
}

func plainTable(w io.Writer, r *run, fam string) {
	fmt.Fprintf(w, "\n%s\n\n| benchmark | ns/op | allocs/op | B/op |\n|---|---:|---:|---:|\n", fam)
	for _, x := range r.results {
		if x.family == fam {
			name := x.name
			if name == "" {
				name = fam
			}
			fmt.Fprintf(w, "| %s | %.1f | %.0f | %.0f |\n", label(name), x.ns, x.allocs, x.bytesOp)
		}
	}
}

// goal is one of the performance goals, checked on this run.
type goal struct {
	text string
	ok   bool
	have string
}

func goals(w io.Writer, r *run) {
	var gs []goal
	for _, fam := range []string{"TcpConnect", "HttpForward"} {
		floor, ok1 := r.get(fam, "1_")
		finish, ok2 := r.get(fam, "2_")
		field, ok3 := r.get(fam, "3_")
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		gs = append(gs,
			goal{fam + ": Task.Finish within 1.5x of the floor", finish.ns <= 1.5*floor.ns, fmt.Sprintf("%.2fx", finish.ns/floor.ns)},
			goal{fam + ": Field (tuned) within 1.5x of the floor", field.ns <= 1.5*floor.ns, fmt.Sprintf("%.2fx", field.ns/floor.ns)},
			goal{fam + ": Task.Finish allocates nothing", finish.allocs == 0, fmt.Sprintf("%.0f allocs/op", finish.allocs)},
			goal{fam + ": Field (tuned) at most zap's 1 allocation", field.allocs <= 1, fmt.Sprintf("%.0f allocs/op", field.allocs)})
		for _, peer := range []string{"5_", "6_", "7_", "8_"} {
			if p, ok := r.get(fam, peer); ok {
				gs = append(gs, goal{fmt.Sprintf("%s: Field (tuned) at least 3x faster than %s", fam, label(p.name)),
					p.ns >= 3*field.ns, fmt.Sprintf("%.2fx", p.ns/field.ns)})
			}
		}
		if z, ok := r.get(fam, "9_"); ok {
			gs = append(gs, goal{fam + ": Field (tuned) faster than zerolog", field.ns < z.ns, fmt.Sprintf("%.2fx", z.ns/field.ns)})
		}
	}
	if single, ok := r.get("TcpConnect", "3_"); ok {
		if par, ok := r.get("Parallel", "3_"); ok {
			gs = append(gs, goal{fmt.Sprintf("parallel throughput (%d procs) at least 1.7x one goroutine", r.procs),
				single.ns >= 1.7*par.ns, fmt.Sprintf("%.2fx", single.ns/par.ns)})
		}
	}
	if bare, ok := r.get("Relay", "bare"); ok {
		if wr, ok := r.get("Relay", "counting"); ok {
			gs = append(gs, goal{"relay through the counting wrappers within 10% of bare io.Copy",
				wr.mbs >= 0.9*bare.mbs, fmt.Sprintf("%.1f%% of bare", 100*wr.mbs/bare.mbs)})
		}
	}
	sort.SliceStable(gs, func(i, j int) bool { return !gs[i].ok && gs[j].ok })
	fmt.Fprint(w, "\nGoals, checked on this run\n\n| goal | this run | met |\n|---|---:|:---:|\n")
	for _, g := range gs {
		met := "yes"
		if !g.ok {
			met = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", g.text, g.have, met)
	}
}
