package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

const validateUsage = `usage: tasklog validate [-q] [FILE...]

Checks every line (standard input when no FILE, or "-") against g3's
schema for its log type (Task, Escape, Resolve), task type and event: the
keys it must carry, keys that do not belong to it, and every value's
format. A line may be a JSON object, a syslog message (RFC 3164 or 5424,
as received or as rsyslog files it) with g3's text, structured data or
@cee: body, or g3's stdout line. Blank lines are skipped.

It prints one line per bad record, FILE:LINE: KEY: problem (value), with
"; " between the problems of one record, and a summary on standard error.
Exit status: 0 when every record is valid, 1 when some are not, 2 when an
input could not be read.
`

// runValidate is "tasklog validate".
func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "print only the summary")
	fs.Usage = func() { fmt.Fprint(stderr, validateUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	srcs, err := openSources(fs.Args(), stdin)
	if err != nil {
		fmt.Fprintln(stderr, "tasklog validate:", err)
		return 2
	}
	defer closeSources(srcs)

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	sum := validateSummary{byType: map[string]int{}}
	var msg strings.Builder
	err = scanAll(srcs, newProgress(stderr), func(l *line) {
		sum.records++
		if l.err != nil {
			sum.invalid++
			sum.unreadable++
			if !*quiet {
				fmt.Fprintf(out, "%s:%d: line: %s\n", l.src.name, l.no, l.err)
			}
			return
		}
		msg.Reset()
		res := g3schema.Check(l.fields, func(p g3schema.Problem) {
			if msg.Len() > 0 {
				msg.WriteString("; ")
			}
			msg.WriteString(problemText(p))
		})
		sum.forms[l.form]++
		if msg.Len() == 0 {
			sum.byType[res.LogType]++
			return
		}
		sum.invalid++
		if !*quiet {
			fmt.Fprintf(out, "%s:%d: %s\n", l.src.name, l.no, msg.String())
		}
	})
	out.Flush()
	fmt.Fprintln(stderr, sum.String())
	if err != nil {
		fmt.Fprintln(stderr, "tasklog validate:", err)
		return 2
	}
	if sum.invalid > 0 {
		return 1
	}
	return 0
}

// problemText is "KEY: problem (value)".
func problemText(p g3schema.Problem) string {
	s := p.Key + ": " + p.Problem
	if p.HasVal {
		s += " (" + quoteShort(p.Value) + ")"
	}
	return s
}

// quoteShort quotes v, cut to 80 characters.
func quoteShort(v string) string {
	const max = 80
	if utf8.RuneCountInString(v) > max {
		n := 0
		for i := range v {
			if n == max {
				v = v[:i]
				break
			}
			n++
		}
		return strconv.Quote(v) + "…"
	}
	return strconv.Quote(v)
}

type validateSummary struct {
	records, invalid, unreadable int
	byType                       map[string]int
	forms                        [8]int
}

func (s *validateSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tasklog validate: %d records, %d valid, %d invalid", s.records, s.records-s.invalid, s.invalid)
	if s.unreadable > 0 {
		fmt.Fprintf(&b, " (%d unreadable)", s.unreadable)
	}
	var parts []string
	for _, t := range g3schema.LogTypes {
		if n := s.byType[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
	}
	if len(parts) > 0 {
		b.WriteString("; valid: " + strings.Join(parts, ", "))
	}
	parts = parts[:0]
	for f, n := range s.forms {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", g3line.Form(f), n))
		}
	}
	if len(parts) > 0 {
		b.WriteString("; forms: " + strings.Join(parts, ", "))
	}
	return b.String()
}

// display returns s as is when every character prints on one line, else
// Go-quoted, so that a hostile value cannot break a table or a terminal.
func display(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
