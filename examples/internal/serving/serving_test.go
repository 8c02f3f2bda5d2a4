package serving

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // "" for success, "help" for flag.ErrHelp, else part of the error
	}{
		{nil, ""},
		{[]string{"-periodic", "10s"}, ""},
		{[]string{"-h"}, "help"},
		{[]string{"stray"}, `unexpected arguments ["stray"]`},
		{[]string{"-periodic", "1s", "x", "y"}, `unexpected arguments ["x" "y"]`},
		{[]string{"-periodic", "-1s"}, "-periodic must not be negative"},
		{[]string{"-idle", "-5m"}, "-idle must not be negative"},
		{[]string{"-nosuch"}, "flag provided but not defined"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Duration("periodic", 0, "")
		fs.Duration("idle", time.Minute, "")
		err := ParseFlags(fs, tt.args, "periodic", "idle")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.want == "help" && !errors.Is(err, flag.ErrHelp):
			t.Errorf("%q: %v, want flag.ErrHelp", tt.args, err)
		case tt.want != "" && tt.want != "help" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
}
