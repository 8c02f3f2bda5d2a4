package main

import (
	"math"
	"slices"
	"strings"
	"time"
)

// sketch is a streaming quantile sketch of durations: logarithmic buckets
// (DDSketch's idea), each value counted in the bucket of
// ceil(log_gamma(ns)), so that any quantile it returns is within 1% of a
// value of the data at that rank. Its memory is fixed: one counter per
// bucket from 1 ns to about 13 days.
type sketch struct {
	counts [sketchBuckets]uint64
	zero   uint64 // durations under 1 ns
	n      uint64
	max    time.Duration
}

const (
	sketchGamma   = 1.02 // bucket width: relative error (gamma-1)/(gamma+1), under 1%
	sketchBuckets = 2560 // log_1.02(2^63 ns) is about 2205
)

var sketchLogGamma = math.Log(sketchGamma)

func (s *sketch) add(d time.Duration) {
	s.n++
	if d > s.max {
		s.max = d
	}
	if d < 1 {
		s.zero++
		return
	}
	i := int(math.Ceil(math.Log(float64(d)) / sketchLogGamma))
	s.counts[min(i, sketchBuckets-1)]++
}

// quantile returns the q-quantile (0 < q <= 1), 0 when empty. It returns
// the bucket's midpoint in relative terms, capped at the largest value
// seen.
func (s *sketch) quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.n)))
	rank = max(rank, 1)
	seen := s.zero
	if seen >= rank {
		return 0
	}
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			v := 2 * math.Pow(sketchGamma, float64(i)) / (1 + sketchGamma)
			return min(time.Duration(v), s.max)
		}
	}
	return s.max
}

// topK counts keys with bounded memory: the Space-Saving algorithm
// (Metwally et al.). It keeps at most cap keys; when full, a new key
// takes the place of the least counted one and inherits its count as its
// error. Any key counted more than n/cap times is kept, and every kept
// key's count exceeds its true count by at most its err. A min-heap on
// the counts finds the least counted key in O(1) and keeps each add
// O(log cap).
type topK struct {
	cap     int
	counts  map[string]*topEntry
	heap    []*topEntry // min-heap by count
	evicted bool
}

type topEntry struct {
	key        string
	count, err uint64
	i          int // index in heap
}

func newTopK(capacity int) *topK {
	return &topK{cap: capacity, counts: make(map[string]*topEntry)}
}

// add counts key once; key may share a reader's buffer (it is copied when
// kept).
func (t *topK) add(key string) {
	if e, ok := t.counts[key]; ok {
		e.count++
		t.down(e.i)
		return
	}
	if len(t.heap) < t.cap {
		e := &topEntry{key: strings.Clone(key), count: 1, i: len(t.heap)}
		t.counts[e.key] = e
		t.heap = append(t.heap, e)
		t.up(e.i)
		return
	}
	least := t.heap[0]
	t.evicted = true
	delete(t.counts, least.key)
	least.key = strings.Clone(key)
	least.err = least.count
	least.count++
	t.counts[least.key] = least
	t.down(0)
}

func (t *topK) less(a, b int) bool { return t.heap[a].count < t.heap[b].count }

func (t *topK) swap(a, b int) {
	t.heap[a], t.heap[b] = t.heap[b], t.heap[a]
	t.heap[a].i, t.heap[b].i = a, b
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *topK) down(i int) {
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.heap) && t.less(l, m) {
			m = l
		}
		if r < len(t.heap) && t.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// exact reports whether every count is exact: no key was ever evicted.
func (t *topK) exact() bool { return !t.evicted }

// top returns the n most counted keys, most first, ties by key; n < 0
// returns all.
func (t *topK) top(n int) []topEntry {
	out := make([]topEntry, 0, len(t.heap))
	for _, e := range t.heap {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b topEntry) int {
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
