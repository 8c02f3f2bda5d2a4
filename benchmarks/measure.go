package benchmarks

import (
	"io"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Result is one approach's figures from an interleaved run.
type Result struct {
	Name               string
	NsPerOp            float64 // median over the rounds of CPU time per record
	Ratio              float64 // median over the rounds of NsPerOp / the floor's, same round
	RatioMin, RatioMax float64 // the spread of that per-round ratio
	AllocsPerOp        float64
	BytesPerOp         float64
}

// cpuNow is the process's CPU time (user + system), which a busy
// neighbour on a shared machine does not inflate the way it inflates
// wall time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type prepared struct {
	setup, run func(int)
	n          int
	gc         bool
}

// Interleave measures approaches round by round: in each round every
// approach runs for about window (CPU time), in an order that rotates
// from round to round, so that a slow phase of the machine hits them all
// alike; ratios to the first approach (the floor) are taken within each
// round, and the medians over the rounds reported.
func Interleave(f Family, approaches []Approach, rounds int, window time.Duration) []Result {
	return interleave(f, approaches, rounds, window, cpuNow)
}

// InterleaveThread is Interleave measuring only the CPU time of the
// thread the calling goroutine is locked to for the run: what each record
// costs the goroutine that logs it, leaving out the goroutines it hands
// work to (a driver's writers). Where the system cannot tell a thread's
// CPU time it measures the process's, as Interleave.
func InterleaveThread(f Family, approaches []Approach, rounds int, window time.Duration) []Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return interleave(f, approaches, rounds, window, threadCPU)
}

// InterleaveThreadSameN is InterleaveThread with every approach logging,
// in every round, as many records as the first (the floor) does in
// window: for approaches whose cost depends on how many records they log
// together (a driver's queue hands records over until a quarter of it
// waits), so that each is measured at the same load.
func InterleaveThreadSameN(f Family, approaches []Approach, rounds int, window time.Duration) []Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return interleaveN(f, approaches, rounds, window, threadCPU, true)
}

func interleave(f Family, approaches []Approach, rounds int, window time.Duration, cpuNow func() time.Duration) []Result {
	return interleaveN(f, approaches, rounds, window, cpuNow, false)
}

func interleaveN(f Family, approaches []Approach, rounds int, window time.Duration, cpuNow func() time.Duration, sameN bool) []Result {
	rec := f.Record()
	ps := make([]prepared, len(approaches))
	res := make([]Result, len(approaches))
	for i, a := range approaches {
		setup, run := a.Make(rec, io.Discard, RealClock)
		n := 0
		if sameN && i > 0 {
			n = ps[0].n
		} else {
			n = calibrate(setup, run, window)
		}
		ps[i] = prepared{setup: setup, run: run, n: n, gc: a.Setup}
		res[i] = Result{Name: a.Name}
		res[i].AllocsPerOp, res[i].BytesPerOp = allocs(setup, run, ps[i].n)
	}
	ns := make([][]float64, len(approaches))
	ratios := make([][]float64, len(approaches))
	for r := 0; r < rounds; r++ {
		cur := make([]float64, len(approaches))
		for k := range approaches {
			i := (k + r) % len(approaches)
			p := ps[i]
			p.setup(p.n)
			if p.gc {
				runtime.GC()
			}
			t0 := cpuNow()
			p.run(p.n)
			cur[i] = float64(cpuNow()-t0) / float64(p.n)
		}
		for i := range approaches {
			ns[i] = append(ns[i], cur[i])
			ratios[i] = append(ratios[i], cur[i]/cur[0])
		}
	}
	for i := range res {
		res[i].NsPerOp = median(ns[i])
		res[i].Ratio = median(ratios[i])
		res[i].RatioMin, res[i].RatioMax = minMax(ratios[i])
	}
	return res
}

// calibrate finds how many records fill about one window.
func calibrate(setup, run func(int), window time.Duration) int {
	n := 8
	for {
		setup(n)
		t0 := time.Now()
		run(n)
		d := time.Since(t0)
		if d >= window/2 || n >= 1<<22 {
			if d <= 0 {
				return n
			}
			return max(1, int(float64(n)*float64(window)/float64(d)))
		}
		n *= 2
	}
}

// allocs measures a run of n after one of the same size, so that pools,
// free lists and buffers are warm: what an approach allocates in a
// program that has been logging for a while.
func allocs(setup, run func(int), n int) (float64, float64) {
	setup(n)
	run(n)
	setup(n)
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	run(n)
	runtime.ReadMemStats(&b)
	return float64(b.Mallocs-a.Mallocs) / float64(n), float64(b.TotalAlloc-a.TotalAlloc) / float64(n)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(v []float64) (lo, hi float64) {
	for i, x := range v {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	return lo, hi
}

// ParallelSpeedup measures, round by round, the throughput of two
// goroutines writing records through approach a at once against one
// goroutine alone (wall time: the point is the second core), and returns
// the median and spread of the per-round ratio.
func ParallelSpeedup(f Family, a Approach, rounds int, window time.Duration) (med, lo, hi float64) {
	rec := f.Record()
	setup, run := a.Make(rec, io.Discard, RealClock)
	n := calibrate(setup, run, window)
	// Each goroutine gets its own setup/run pair, sharing nothing but the
	// core they write to is the approach's own: a fresh one per goroutine
	// would measure two loggers, not one.
	setup2, run2 := a.Make(rec, io.Discard, RealClock)
	var ratios []float64
	for r := 0; r < rounds; r++ {
		setup(n)
		t0 := time.Now()
		run(n)
		one := time.Since(t0)
		setup(n)
		setup2(n)
		var wg sync.WaitGroup
		wg.Add(2)
		t0 = time.Now()
		go func() { defer wg.Done(); run(n) }()
		go func() { defer wg.Done(); run2(n) }()
		wg.Wait()
		two := time.Since(t0)
		ratios = append(ratios, 2*float64(one)/float64(two))
	}
	lo, hi = minMax(ratios)
	return median(ratios), lo, hi
}
