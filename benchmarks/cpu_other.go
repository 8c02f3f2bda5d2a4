//go:build !linux

package benchmarks

// threadCPU falls back to the process's CPU time where a thread's is not
// at hand.
var threadCPU = cpuNow
