package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/g3schema"
)

const statsUsage = `usage: tasklog stats [-json] [-top N] [FILE...]

Summarises g3 log records (standard input when no FILE, or "-"), in any
form "tasklog validate" reads: records by log type, task type, event,
server, reason, user and escaper; bytes in and out and the p50, p90, p99
and max of total_time, ready_time and wait_time over finished task
records; the most used upstreams and the ones that fail most.

Reasons are counted on every record that carries one: finished task
records, and the Escape records of TcpConnect and UdpSendto. A task
"fails" when its reason is other than Finished, ClosedByClient,
ClosedByUpstream and Idle. Times come from a streaming sketch (within 1%
of a value of the data); users, servers, escapers and upstreams are
counted in bounded memory (Space-Saving, 10000 keys each): the output
says "approximate" if a list outgrew that and its counts are upper
bounds. Memory does not grow with the input.
`

// successReasons are the reasons of a task that did not fail.
var successReasons = map[string]bool{"Finished": true, "ClosedByClient": true, "ClosedByUpstream": true, "Idle": true}

const topCap = 10000

type statsAcc struct {
	records, unreadable, invalid   int
	byLogType, byTaskType, byEvent counts
	byReason                       counts
	byServer, byUser, byEscaper    *topK
	upstreams, failing             *topK
	finished                       int
	bytes                          map[string]uint64
	times                          map[string]*sketch
}

var counterKeys = []string{"c_rd_bytes", "c_wr_bytes", "r_rd_bytes", "r_wr_bytes"}
var timeKeys = []string{"total_time", "ready_time", "wait_time"}

func newStatsAcc() *statsAcc {
	s := &statsAcc{
		byLogType: counts{}, byTaskType: counts{}, byEvent: counts{}, byReason: counts{},
		byServer: newTopK(topCap), byUser: newTopK(topCap), byEscaper: newTopK(topCap),
		upstreams: newTopK(topCap), failing: newTopK(topCap),
		bytes: map[string]uint64{}, times: map[string]*sketch{},
	}
	for _, k := range timeKeys {
		s.times[k] = new(sketch)
	}
	return s
}

// counts counts keys that share the reader's buffer. Its values are
// pointers so that counting a seen key never assigns to the map: an
// assignment would store the caller's key, buffer and all, in place of
// the copy (Go updates a string key on assignment).
type counts map[string]*int

func (m counts) inc(key string) {
	if p, ok := m[key]; ok {
		*p++
		return
	}
	n := 1
	m[strings.Clone(key)] = &n
}

func (m counts) plain() map[string]int {
	out := make(map[string]int, len(m))
	for k, p := range m {
		out[k] = *p
	}
	return out
}

func (s *statsAcc) add(l *line) {
	s.records++
	if l.err != nil {
		s.unreadable++
		return
	}
	bad := false
	res := g3schema.Check(l.fields, func(g3schema.Problem) { bad = true })
	if bad {
		s.invalid++
	}
	lt := res.LogType
	if lt == "" {
		lt = "unknown"
	}
	s.byLogType.inc(lt)
	if reason, ok := l.get("reason"); ok {
		s.byReason.inc(reason)
	}
	if res.LogType != "Task" {
		return
	}
	if t, ok := l.get("task_type"); ok {
		s.byTaskType.inc(t)
	}
	event, _ := l.get("task_event")
	s.byEvent.inc(event)
	if v, ok := l.get("server_name"); ok {
		s.byServer.add(v)
	}
	if event != "Finished" {
		return
	}
	s.finished++
	if v, ok := l.get("user"); ok {
		s.byUser.add(v)
	}
	if v, ok := l.get("escaper"); ok && v != "" {
		s.byEscaper.add(v)
	}
	up, ok := l.get("upstream")
	if !ok {
		up, ok = l.get("initial_peer")
	}
	if ok {
		s.upstreams.add(up)
		if r, _ := l.get("reason"); !successReasons[r] {
			s.failing.add(up)
		}
	}
	for _, k := range counterKeys {
		if v, ok := l.get(k); ok {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				s.bytes[k] += n
			}
		}
	}
	for _, k := range timeKeys {
		if v, ok := l.get(k); ok {
			if d, err := tasklog.ParseDuration(v); err == nil {
				s.times[k].add(d)
			}
		}
	}
}

// statsJSON is what -json prints.
type statsJSON struct {
	Records    int                      `json:"records"`
	Unreadable int                      `json:"unreadable"`
	Invalid    int                      `json:"invalid"`
	ByLogType  map[string]int           `json:"by_log_type"`
	ByTaskType map[string]int           `json:"by_task_type"`
	ByEvent    map[string]int           `json:"by_event"`
	ByReason   map[string]int           `json:"by_reason"`
	ByServer   countList                `json:"by_server"`
	ByUser     countList                `json:"by_user"`
	ByEscaper  countList                `json:"by_escaper"`
	Finished   int                      `json:"finished_tasks"`
	Bytes      map[string]uint64        `json:"bytes"`
	Times      map[string]quantilesJSON `json:"times"`
	Upstreams  countList                `json:"top_upstreams"`
	Failing    countList                `json:"top_failing_upstreams"`
}

type countList struct {
	Approximate bool        `json:"approximate"`
	Top         []countJSON `json:"top"`
}

type countJSON struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

type quantilesJSON struct {
	Count uint64 `json:"count"`
	P50   string `json:"p50"`
	P90   string `json:"p90"`
	P99   string `json:"p99"`
	Max   string `json:"max"`
}

func list(t *topK, n int) countList {
	cl := countList{Approximate: !t.exact(), Top: []countJSON{}}
	for _, e := range t.top(n) {
		cl.Top = append(cl.Top, countJSON{Key: e.key, Count: e.count})
	}
	return cl
}

func (s *statsAcc) result(top int) statsJSON {
	out := statsJSON{
		Records: s.records, Unreadable: s.unreadable, Invalid: s.invalid,
		ByLogType: s.byLogType.plain(), ByTaskType: s.byTaskType.plain(), ByEvent: s.byEvent.plain(), ByReason: s.byReason.plain(),
		ByServer: list(s.byServer, top), ByUser: list(s.byUser, top), ByEscaper: list(s.byEscaper, top),
		Finished: s.finished, Bytes: map[string]uint64{}, Times: map[string]quantilesJSON{},
		Upstreams: list(s.upstreams, top), Failing: list(s.failing, top),
	}
	for _, k := range counterKeys {
		out.Bytes[k] = s.bytes[k]
	}
	for _, k := range timeKeys {
		sk := s.times[k]
		q := quantilesJSON{Count: sk.n}
		if sk.n > 0 {
			q.P50, q.P90, q.P99 = fmtDur(sk.quantile(0.5)), fmtDur(sk.quantile(0.9)), fmtDur(sk.quantile(0.99))
			q.Max = fmtDur(sk.max)
		}
		out.Times[k] = q
	}
	return out
}

func fmtDur(d time.Duration) string { return tasklog.FormatDuration(d) }

// runStats is "tasklog stats".
func runStats(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	top := fs.Int("top", 10, "how many users, servers, escapers and upstreams to list (-1: all kept)")
	fs.Usage = func() { fmt.Fprint(stderr, statsUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	srcs, err := openSources(fs.Args(), stdin)
	if err != nil {
		fmt.Fprintln(stderr, "tasklog stats:", err)
		return 2
	}
	defer closeSources(srcs)
	acc := newStatsAcc()
	if err := scanAll(srcs, newProgress(stderr), acc.add); err != nil {
		fmt.Fprintln(stderr, "tasklog stats:", err)
		return 2
	}
	res := acc.result(*top)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "tasklog stats:", err)
			return 2
		}
		return 0
	}
	printStats(out, &res)
	return 0
}

func printStats(w io.Writer, r *statsJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "records\t%d\t(%d unreadable, %d invalid)\n", r.Records, r.Unreadable, r.Invalid)
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(tw, "\n%s\t\n", title)
		for _, e := range sortedCounts(m) {
			fmt.Fprintf(tw, "  %s\t%d\n", display(e.Key), e.Count)
		}
	}
	listSection := func(title string, cl countList) {
		if len(cl.Top) == 0 {
			return
		}
		if cl.Approximate {
			title += " (approximate)"
		}
		fmt.Fprintf(tw, "\n%s\t\n", title)
		for _, e := range cl.Top {
			fmt.Fprintf(tw, "  %s\t%d\n", display(e.Key), e.Count)
		}
	}
	section("log type", r.ByLogType)
	section("task type", r.ByTaskType)
	section("task event", r.ByEvent)
	section("reason", r.ByReason)
	listSection("server", r.ByServer)
	listSection("user (finished tasks)", r.ByUser)
	listSection("escaper (finished tasks)", r.ByEscaper)
	if r.Finished > 0 {
		fmt.Fprintf(tw, "\nfinished tasks\t%d\n", r.Finished)
		fmt.Fprintf(tw, "  bytes from clients (c_rd_bytes)\t%d\n", r.Bytes["c_rd_bytes"])
		fmt.Fprintf(tw, "  bytes to clients (c_wr_bytes)\t%d\n", r.Bytes["c_wr_bytes"])
		fmt.Fprintf(tw, "  bytes from upstreams (r_rd_bytes)\t%d\n", r.Bytes["r_rd_bytes"])
		fmt.Fprintf(tw, "  bytes to upstreams (r_wr_bytes)\t%d\n", r.Bytes["r_wr_bytes"])
		fmt.Fprintf(tw, "\ntime\tcount\tp50\tp90\tp99\tmax\n")
		for _, k := range timeKeys {
			q := r.Times[k]
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", k, q.Count, q.P50, q.P90, q.P99, q.Max)
		}
	}
	listSection("top upstreams (finished tasks)", r.Upstreams)
	listSection("top failing upstreams", r.Failing)
	tw.Flush()
}

// sortedCounts lists m most first, ties by key.
func sortedCounts(m map[string]int) []countJSON {
	out := make([]countJSON, 0, len(m))
	for k, n := range m {
		out = append(out, countJSON{Key: k, Count: uint64(n)})
	}
	slices.SortFunc(out, func(a, b countJSON) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}
