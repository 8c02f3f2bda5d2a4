// Command tasklog is the operators' tool for g3proxy's logs (and those of
// Go proxies that write them with the tasklog library): it validates
// records against g3's schema, summarises them, follows them, and prints
// the JSON Schema.
//
// Usage:
//
//	tasklog validate [-q] [FILE...]
//	tasklog stats [-json] [-top N] [FILE...]
//	tasklog tail [-f] [-reason R,...] [-user U] [-type T] [-min-total D] [FILE...]
//	tasklog schema [Task|Escape|Resolve]
//
// Each reads standard input when no FILE is named (or "-"). A line may be
// a JSON object (tasklog's JSON line, g3's @cee: body, a fluentd or Vector
// file output's JSON), a syslog message (RFC 3164 or RFC 5424, as
// received or as rsyslog writes it to a file) whose body is g3's text
// form, g3's structured data or @cee: JSON, or g3's stdout driver line;
// the form is detected on each line. "tasklog help COMMAND" prints a
// command's details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/proxylog/tasklog/internal/g3schema"
)

const usage = `usage: tasklog COMMAND [ARGS]

Commands:
  validate  check each record against g3's schema; exit 1 if any is bad
  stats     records by type, reason, user, upstream; bytes; time percentiles
  tail      one aligned line per record, with filters; -f follows files
  schema    print the JSON Schema of a log type (Task, Escape, Resolve)

"tasklog help COMMAND" prints a command's usage.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command with its inputs and outputs given, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "validate":
		return runValidate(rest, stdin, stdout, stderr)
	case "stats":
		return runStats(rest, stdin, stdout, stderr)
	case "tail":
		return runTail(ctx, rest, stdin, stdout, stderr)
	case "schema":
		return runSchema(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) == 1 {
			return run(ctx, []string{rest[0], "-h"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tasklog: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// usageError is the exit status of a flag error: 0 for -h, else 2 (the
// flag package has printed the error and the usage).
func usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

const schemaUsage = `usage: tasklog schema [Task|Escape|Resolve]

Prints the JSON Schema (draft 2020-12) of a log type's records in their
JSON form; with no argument, of all three, as one JSON array. The same
schemas are committed under docs/schema.
`

func runSchema(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, schemaUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	switch fs.NArg() {
	case 0:
		fmt.Fprint(stdout, "[\n")
		for i, lt := range g3schema.LogTypes {
			b, err := g3schema.JSONSchema(lt)
			if err != nil {
				fmt.Fprintln(stderr, "tasklog schema:", err)
				return 2
			}
			if i > 0 {
				fmt.Fprint(stdout, ",\n")
			}
			stdout.Write(b[:len(b)-1])
		}
		fmt.Fprint(stdout, "\n]\n")
		return 0
	case 1:
		b, err := g3schema.JSONSchema(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "tasklog schema:", err)
			return 2
		}
		stdout.Write(b)
		return 0
	}
	fmt.Fprint(stderr, schemaUsage)
	return 2
}
