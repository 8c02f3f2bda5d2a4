package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

const tailUsage = `usage: tasklog tail [-f] [-reason R,...] [-user U] [-type T] [-min-total D] [-color auto|always|never] [FILE...]

Prints one aligned line per record (standard input when no FILE, or "-"):
for a task its type, server, reason (or event), target, user, total_time
and byte counters; for Escape and Resolve records their type, reason or
error, target and message. Lines that are not g3 records are reported on
standard error. With -f it keeps reading each FILE as it grows (and from
the start again when it is truncated or replaced), until interrupted.

Filters, all of which must match: -reason (a record's reason or, for a
running task, its event; a comma-separated list), -user, -type (a log
type, task type or escape type), -min-total (a duration such as 250ms:
records whose total_time is at least that).
`

type tailFilter struct {
	reasons  map[string]bool
	user     string
	typ      string
	minTotal time.Duration
}

func (f *tailFilter) match(l *line, res g3schema.Result) bool {
	if len(f.reasons) > 0 {
		r, ok := l.get("reason")
		if !ok {
			r, _ = l.get("task_event")
		}
		if !f.reasons[r] {
			return false
		}
	}
	if f.user != "" {
		if u, _ := l.get("user"); u != f.user {
			return false
		}
	}
	if f.typ != "" && f.typ != res.LogType && f.typ != res.Type {
		return false
	}
	if f.minTotal > 0 {
		v, ok := l.get("total_time")
		if !ok {
			return false
		}
		d, err := tasklog.ParseDuration(v)
		if err != nil || d < f.minTotal {
			return false
		}
	}
	return true
}

// runTail is "tasklog tail". It stops at the end of its input, or with
// -f when ctx is done.
func runTail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	follow := fs.Bool("f", false, "follow each FILE as it grows")
	reasons := fs.String("reason", "", "only records with one of these reasons or events (comma-separated)")
	user := fs.String("user", "", "only records of this user")
	typ := fs.String("type", "", "only records of this log type, task type or escape type")
	minTotal := fs.String("min-total", "", "only records whose total_time is at least this (250ms, 1.5s)")
	color := fs.String("color", "auto", "colour the output: auto (on a terminal, unless NO_COLOR is set), always, never")
	fs.Usage = func() { fmt.Fprint(stderr, tailUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	filter := tailFilter{user: *user, typ: *typ}
	if *reasons != "" {
		filter.reasons = map[string]bool{}
		for _, r := range strings.Split(*reasons, ",") {
			filter.reasons[strings.TrimSpace(r)] = true
		}
	}
	if *minTotal != "" {
		d, err := time.ParseDuration(strings.ReplaceAll(*minTotal, "µ", "u"))
		if err != nil || d < 0 {
			fmt.Fprintf(stderr, "tasklog tail: -min-total: invalid duration %q (want 250ms, 1.5s)\n", *minTotal)
			return 2
		}
		filter.minTotal = d
	}
	var colored bool
	switch *color {
	case "auto":
		colored = isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	case "always":
		colored = true
	case "never":
	default:
		fmt.Fprintf(stderr, "tasklog tail: -color: invalid value %q (want auto, always or never)\n", *color)
		return 2
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	tp := tailPrinter{w: out, color: colored, filter: &filter, stderr: stderr}
	if !*follow {
		srcs, err := openSources(fs.Args(), stdin)
		if err != nil {
			fmt.Fprintln(stderr, "tasklog tail:", err)
			return 2
		}
		defer closeSources(srcs)
		if err := scanAll(srcs, &progress{}, tp.print); err != nil {
			out.Flush()
			fmt.Fprintln(stderr, "tasklog tail:", err)
			return 2
		}
		return 0
	}
	if len(fs.Args()) == 0 || slices.Contains(fs.Args(), "-") {
		fmt.Fprintln(stderr, "tasklog tail: -f follows files; standard input cannot be followed")
		return 2
	}
	if err := followFiles(ctx, fs.Args(), func(l *line) { tp.print(l); out.Flush() }); err != nil {
		out.Flush()
		fmt.Fprintln(stderr, "tasklog tail:", err)
		return 2
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type tailPrinter struct {
	w      *bufio.Writer
	color  bool
	filter *tailFilter
	stderr io.Writer
}

const (
	ansiReset  = "\033[0m"
	ansiRed    = "\033[31m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiCyan   = "\033[36m"
	ansiDim    = "\033[2m"
)

func (p *tailPrinter) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// cut shortens s to n characters, the last one "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, c := 0, 0
	for i = range s {
		if c == n-1 {
			return s[:i] + "…"
		}
		c++
	}
	return s
}

// pad left-aligns s in n columns (padding counted in runes).
func pad(s string, n int) string {
	c := len([]rune(s))
	if c >= n {
		return s
	}
	return s + strings.Repeat(" ", n-c)
}

func (p *tailPrinter) print(l *line) {
	if l.err != nil {
		fmt.Fprintf(p.stderr, "%s:%d: not a g3 record: %v\n", l.src.name, l.no, l.err)
		return
	}
	res := g3schema.Check(l.fields, nil)
	if !p.filter.match(l, res) {
		return
	}
	get := func(k string) string { v, _ := l.get(k); return display(v) }
	var b strings.Builder
	switch res.LogType {
	case "Task":
		state := get("reason")
		code := ansiGreen
		if state == "" {
			state, code = get("task_event"), ansiDim
		} else if !successReasons[state] {
			code = ansiRed
		}
		target := get("upstream")
		if _, ok := l.get("uri"); ok {
			target = get("uri")
		} else if _, ok := l.get("initial_peer"); ok {
			target = get("initial_peer")
		}
		b.WriteString(pad(get("task_type"), 12) + " " + pad(get("server_name"), 10) + " ")
		b.WriteString(p.paint(code, pad(state, 24)) + " " + pad(cut(target, 60), 44))
		if u := get("user"); u != "" {
			b.WriteString(" user=" + u)
		}
		if t := get("total_time"); t != "" {
			b.WriteString(" total=" + pad(t, 10))
		}
		for _, k := range []string{"c_rd_bytes", "c_wr_bytes", "r_rd_bytes", "r_wr_bytes"} {
			if _, ok := l.get(k); ok {
				b.WriteString(" " + k + "=" + get(k))
			}
		}
	case "Escape":
		reason := get("reason")
		if reason == "" {
			reason = get("tls_application")
		}
		b.WriteString(p.paint(ansiYellow, pad("Escape", 8)) + " " + pad(get("escape_type"), 12) + " " + pad(reason, 18))
		b.WriteString(" " + pad(get("upstream"), 22) + " task " + get("task_id") + ": " + get("msg"))
	case "Resolve":
		b.WriteString(p.paint(ansiCyan, pad("Resolve", 8)) + " " + pad(get("error_type"), 12) + " " + pad(get("error_subtype"), 18))
		b.WriteString(" " + pad(get("query_type"), 4) + " " + pad(get("domain"), 12) + " " + get("msg"))
	default:
		fmt.Fprintf(p.stderr, "%s:%d: no log type: not a g3 record\n", l.src.name, l.no)
		return
	}
	b.WriteByte('\n')
	p.w.WriteString(b.String())
}

// followFiles reads each file to its end, then keeps reading what is
// appended to it, polling, until ctx is done. A file that shrinks was
// truncated and is read again from its start; a file replaced by another
// (log rotation) is reopened. Only complete lines are handed over.
func followFiles(ctx context.Context, names []string, each func(*line)) error {
	type followed struct {
		src     *source
		f       *os.File
		fi      os.FileInfo
		off     int64
		pending []byte
		no      int
	}
	var fs []*followed
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			for _, x := range fs {
				x.f.Close()
			}
			return err
		}
		fi, _ := f.Stat()
		fs = append(fs, &followed{src: &source{name: n}, f: f, fi: fi})
	}
	defer func() {
		for _, x := range fs {
			x.f.Close()
		}
	}()
	buf := make([]byte, 256<<10)
	var fields []g3schema.Field
	emit := func(x *followed, b []byte) {
		x.no++
		if len(b) == 0 {
			return
		}
		l := line{src: x.src, no: x.no}
		if len(b) > g3line.MaxLine {
			l.text, l.err = string(b[:64]), fmt.Errorf("line longer than %d MiB: not a g3 record", g3line.MaxLine>>20)
			l.tooLong = true
		} else {
			l.text = unsafe.String(&b[0], len(b))
			l.form, fields, l.err = g3line.Parse(l.text, fields)
			l.fields = fields
		}
		each(&l)
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		progressed := false
		for _, x := range fs {
			for {
				n, err := x.f.Read(buf)
				if n > 0 {
					progressed = true
					x.off += int64(n)
					data := buf[:n]
					for {
						i := bytes.IndexByte(data, '\n')
						if i < 0 {
							if len(x.pending) <= g3line.MaxLine {
								x.pending = append(x.pending, data...)
							}
							break
						}
						if len(x.pending) > 0 {
							x.pending = append(x.pending, data[:i]...)
							emit(x, x.pending)
							x.pending = x.pending[:0]
						} else {
							emit(x, data[:i])
						}
						data = data[i+1:]
					}
				}
				if errors.Is(err, io.EOF) || n == 0 {
					break
				}
				if err != nil {
					return fmt.Errorf("%s: %w", x.src.name, err)
				}
			}
			// Truncated or replaced?
			if fi, err := os.Stat(x.src.name); err == nil {
				switch {
				case !os.SameFile(fi, x.fi):
					if f, err := os.Open(x.src.name); err == nil {
						x.f.Close()
						x.f, x.fi, x.off, x.pending, x.no = f, fi, 0, x.pending[:0], 0
						progressed = true
					}
				case fi.Size() < x.off:
					if _, err := x.f.Seek(0, io.SeekStart); err == nil {
						x.off, x.pending, x.no = 0, x.pending[:0], 0
						progressed = true
					}
				}
			}
		}
		if progressed {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
