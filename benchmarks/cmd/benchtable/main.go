// Command benchtable measures every approach of the benchmarks module
// interleaved, and prints the Markdown tables of tasklog's README with
// the performance goals checked on the same run.
//
// Each round runs every approach for a few milliseconds of CPU time, in an
// order that rotates from round to round; each approach's ratio to the
// floor is taken within the round, and the table reports the median over
// the rounds with its spread (the lowest and highest per-round ratio). A
// slow phase of a shared machine then slows the floor and the others
// alike, where a plain `go test -bench -count N` can put them in
// different phases.
//
//	cd benchmarks && go run ./cmd/benchtable            # 60 rounds, about a minute
//	cd benchmarks && go run ./cmd/benchtable -rounds 5  # a quick look
//	cd benchmarks && go run ./cmd/benchtable -tables drivers,throughput
//
// -tables picks the tables (approaches, scaling, drivers, throughput,
// parallel; all by default); the goals are those of the tables run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/proxylog/tasklog/benchmarks"
)

func main() {
	rounds := flag.Int("rounds", 60, "rounds of the interleaved measurement")
	window := flag.Duration("window", 4*time.Millisecond, "CPU time of one approach in one round")
	tables := flag.String("tables", strings.Join(allTables, ","), "the tables to measure, comma separated")
	flag.Parse()
	want, err := pickTables(*tables)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if err := run(os.Stdout, *rounds, *window, want); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// goal is one performance goal, checked against the run.
type goal struct {
	what   string
	figure string
	met    bool
}

// allTables are the tables benchtable can measure, in the order it prints
// them.
var allTables = []string{"approaches", "scaling", "drivers", "throughput", "parallel"}

// pickTables parses -tables.
func pickTables(list string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		known := false
		for _, a := range allTables {
			known = known || a == t
		}
		if !known {
			return nil, fmt.Errorf("-tables: unknown table %q (known: %s)", t, strings.Join(allTables, ", "))
		}
		want[t] = true
	}
	return want, nil
}

func run(w io.Writer, rounds int, window time.Duration, tables map[string]bool) error {
	fmt.Fprintf(w, "Measured on: %s/%s, %d CPUs, GOMAXPROCS %d, %s; %d interleaved rounds of %v per approach; CPU time per record.\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), rounds, window)
	var goals []goal
	for _, f := range benchmarks.Families() {
		if !tables["approaches"] {
			break
		}
		approaches := f.All()
		res := benchmarks.Interleave(f, approaches, rounds, window)
		fmt.Fprintf(w, "%s\n\n| approach | ns/record | x floor (median) | spread | allocs | B | same bytes |\n|---|---:|---:|---:|---:|---:|---|\n", f.Name)
		for i, r := range res {
			same := "yes"
			if !approaches[i].SameBytes {
				same = "no: " + approaches[i].Differs
			}
			fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f-%.2f | %.0f | %.0f | %s |\n",
				r.Name, r.NsPerOp, r.Ratio, r.RatioMin, r.RatioMax, r.AllocsPerOp, r.BytesPerOp, same)
		}
		fmt.Fprintln(w)
		goals = append(goals, familyGoals(f.Name, res)...)
	}

	if tables["scaling"] {
		scalingTable(w, rounds, window)
	}
	if tables["drivers"] {
		dg, err := driverTable(w, rounds, window)
		if err != nil {
			return err
		}
		goals = append(goals, dg...)
	}
	if tables["throughput"] {
		tg, err := throughputTable(w, 10000, max(rounds/4, 3))
		if err != nil {
			return err
		}
		goals = append(goals, tg...)
	}
	if tables["parallel"] {
		f := benchmarks.Families()[0]
		med, lo, hi := benchmarks.ParallelSpeedup(f, f.All()[2], max(rounds/3, 3), 4*window)
		fmt.Fprintf(w, "Two goroutines on two cores, tasklog.Log through NewCore: %.2fx the throughput of one (spread %.2f-%.2f, wall time).\n\n", med, lo, hi)
		goals = append(goals, goal{"two goroutines at least 1.8x one", fmt.Sprintf("%.2fx", med), med >= 1.8})
	}

	fmt.Fprintf(w, "Goals\n\n| goal | this run | met |\n|---|---:|:---:|\n")
	missed := 0
	for _, g := range goals {
		met := "yes"
		if !g.met {
			met = "**no**"
			missed++
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", g.what, g.figure, met)
	}
	if missed > 0 {
		fmt.Fprintf(w, "\n%d goals missed in this run.\n", missed)
	}
	return nil
}

// scalingTable measures tasklog.Log against both floors as records grow.
func scalingTable(w io.Writer, rounds int, window time.Duration) {
	fmt.Fprintf(w, "Scaling: tasklog.Log through NewCore against both floors, as records grow\n\n| record | floor ns | honest floor ns | tasklog ns | x floor | x honest floor |\n|---|---:|---:|---:|---:|---:|\n")
	for _, f := range benchmarks.ScalingFamilies() {
		res := benchmarks.Interleave(f, f.Scaling(), max(rounds/3, 3), window)
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", f.Name, res[0].NsPerOp, res[1].NsPerOp, res[2].NsPerOp,
			res[2].Ratio, res[2].NsPerOp/res[1].NsPerOp)
	}
	fmt.Fprintln(w)
}

// keptUpBurst is how many records the drivers table's first measurement
// logs before it waits for the writers: a burst they absorb, far below
// the quarter of the default queue (1,024) past which Core.Write formats.
const keptUpBurst = 256

// driverTable measures each driver's cost on the logging goroutine
// against NewCore's JSON, interleaved, on the thread's own CPU time: once
// in bursts the writers keep up with, once flat out.
func driverTable(w io.Writer, rounds int, window time.Duration) ([]goal, error) {
	var goals []goal
	for _, burst := range []int{keptUpBurst, 0} {
		g, err := driverRegime(w, rounds, window, burst)
		if err != nil {
			return nil, err
		}
		goals = append(goals, g...)
	}
	return goals, nil
}

// driverRegime is one of driverTable's measurements.
func driverRegime(w io.Writer, rounds int, window time.Duration, burst int) ([]goal, error) {
	d, err := benchmarks.NewDrivers(burst)
	if err != nil {
		return nil, err
	}
	f := benchmarks.Families()[0]
	res := benchmarks.InterleaveThreadSameN(f, d.Approaches, rounds, window)
	total, dropped := d.Stats()
	if err := d.Close(); err != nil {
		return nil, err
	}
	regime, when := fmt.Sprintf("in bursts of %d records, each delivered before the next (the writers keep up, and Core.Write hands the records over unformatted)", burst), "writers keeping up"
	if burst == 0 {
		regime, when = "flat out, the floor's window of records at once (the writers fall behind; once a quarter of the queue waits, Core.Write formats the records itself for the drivers that send a record a system call, syslog and the journal, while the writers of stdout, JSON and fluentd format all theirs)", "flat out"
	}
	fmt.Fprintf(w, "Drivers, %s: a TcpConnect record's cost on the goroutine that logs it (that thread's CPU time: formatting and the hand-over to the queue; the drivers' writers deliver on their own goroutines), every approach logging as many records a round as the floor, %s\n\n| driver | ns/record | x NewCore JSON (median) | spread | allocs | B |\n|---|---:|---:|---:|---:|---:|\n", when, regime)
	var goals []goal
	for i, r := range res {
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f-%.2f | %.0f | %.0f |\n", r.Name, r.NsPerOp, r.Ratio, r.RatioMin, r.RatioMax, r.AllocsPerOp, r.BytesPerOp)
		if i == 0 {
			continue
		}
		if burst > 0 {
			goals = append(goals, goal{"driver " + r.Name + ", writers keeping up: at most 1.5x NewCore JSON on the logging goroutine", fmt.Sprintf("%.2fx", r.Ratio), r.Ratio <= 1.5})
		}
		goals = append(goals, goal{"driver " + r.Name + ", " + when + ": allocates nothing", fmt.Sprintf("%.2f allocs", r.AllocsPerOp), r.AllocsPerOp < 0.01})
	}
	fmt.Fprintf(w, "\nThe writers delivered %d of %d records; the queue dropped the rest (a record that found it full unformatted).\n\n", total-dropped, total)
	if burst > 0 {
		goals = append(goals, goal{"drivers, " + when + ": nothing dropped", fmt.Sprintf("%d of %d dropped", dropped, total), dropped == 0})
	}
	return goals, nil
}

// throughputTable measures each driver's delivery rate against a
// straight writer of the same bytes, the two taking turns.
func throughputTable(w io.Writer, n, rounds int) ([]goal, error) {
	res, err := benchmarks.Throughput(n, rounds)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "Driver throughput: %d rounds, in each %d TcpConnect records from one goroutine into a receiver in this process that drains the socket or pipe, and one goroutine writing the same bytes straight to the same kind of socket or pipe, the two taking turns (wall time, first record to last arrival; medians over the rounds, x straight the median of each round's ratio, spread its lowest and highest). Dropped: records the driver counted as dropped; lost: records sent that never arrived (a UDP receiver that could not keep up), the driver's and the straight writer's, all rounds.\n\n| driver | records/s | straight records/s | x straight | spread | dropped | lost | straight lost |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", rounds, n)
	var goals []goal
	for _, r := range res {
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.2f | %.2f-%.2f | %d | %d | %d |\n", r.Name, r.Driver, r.Straight, r.Ratio, r.Low, r.High, r.Dropped, r.DriverLost, r.Lost)
		goals = append(goals, goal{"driver " + r.Name + ": at least 0.8x a straight writer, nothing dropped or lost",
			fmt.Sprintf("%.2fx, %d dropped, %d lost", r.Ratio, r.Dropped, r.DriverLost), r.Ratio >= 0.8 && r.Dropped == 0 && r.DriverLost == 0})
	}
	fmt.Fprintln(w)
	return goals, nil
}

func find(res []benchmarks.Result, prefix string) benchmarks.Result {
	for _, r := range res {
		if strings.HasPrefix(r.Name, prefix) {
			return r
		}
	}
	panic("no approach " + prefix)
}

func familyGoals(fam string, res []benchmarks.Result) []goal {
	log, finish := find(res, "3."), find(res, "5.")
	gs := []goal{
		{fam + ": tasklog.Log at most 1.5x the floor", fmt.Sprintf("%.2fx", log.Ratio), log.Ratio <= 1.5},
		{fam + ": tasklog.Log allocates nothing", fmt.Sprintf("%.2f allocs", log.AllocsPerOp), log.AllocsPerOp < 0.01},
		{fam + ": Task.Finish at most 1.8x the floor", fmt.Sprintf("%.2fx", finish.Ratio), finish.Ratio <= 1.8},
		{fam + ": Task.Finish allocates nothing", fmt.Sprintf("%.2f allocs", finish.AllocsPerOp), finish.AllocsPerOp < 0.01},
	}
	zl := find(res, "11.")
	gs = append(gs, goal{fam + ": at least 1.3x faster than lean zerolog", fmt.Sprintf("%.2fx", zl.Ratio/log.Ratio), zl.Ratio/log.Ratio >= 1.3})
	for _, p := range []string{"7.", "8.", "9.", "10."} {
		peer := find(res, p)
		x := peer.Ratio / log.Ratio
		gs = append(gs, goal{fam + ": at least 3x faster than " + peer.Name[len(p)+1:], fmt.Sprintf("%.2fx", x), x >= 3})
	}
	return gs
}
