package driver

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// Config chooses a driver and configures it. Fill it in Go, or read
// g3proxy's YAML with [ParseYAML], then [Config.Build] the Core.
type Config struct {
	// Driver is one of "discard", "stdout" (g3's text format), "json"
	// (tasklog's JSON lines), "cee" (g3's CEE body as JSON lines, byte for
	// byte), "syslog", "fluentd" or "journal".
	Driver string
	// Ident is the program name the syslog, fluentd and journal drivers
	// write (their Ident, unless set there); use "g3proxy" to look like
	// g3proxy to a pipeline that filters on it.
	Ident   string
	Syslog  SyslogConfig
	Fluentd FluentdConfig
	Journal JournalConfig
	CEE     CEEConfig
	// Output is where stdout, json and cee write; default os.Stdout.
	Output io.Writer
	// Options: the queue (g3's async_channel_size, async_thread_number)
	// and IO error sampling (io_error_sampling_offset).
	Options Options
}

// Build returns the Core of c's driver.
func (c Config) Build() (*Core, error) {
	switch strings.ToLower(c.Driver) {
	case "", "discard":
		return NewDiscard(c.Options), nil
	case "stdout":
		return NewStdout(c.Output, c.Options), nil
	case "json":
		return NewJSON(c.Output, c.Options), nil
	case "cee":
		return NewCEE(c.Output, c.CEE, c.Options), nil
	case "syslog":
		s := c.Syslog
		if s.Ident == "" {
			s.Ident = c.Ident
		}
		return NewSyslog(s, c.Options)
	case "fluentd":
		f := c.Fluentd
		if f.Ident == "" {
			f.Ident = c.Ident
		}
		return NewFluentd(f, c.Options)
	case "journal":
		j := c.Journal
		if j.Ident == "" {
			j.Ident = c.Ident
		}
		return NewJournal(j, c.Options), nil
	}
	return nil, fmt.Errorf("tasklog/driver: unknown driver %q (want discard, stdout, json, cee, syslog, fluentd or journal)", c.Driver)
}

// ParseTarget reads the -log flag of the example programs:
//
//	json                     tasklog's JSON lines on stdout (the default)
//	cee                      g3's CEE body as JSON lines on stdout, in g3's key order
//	stdout                   g3's stdout text format
//	syslog                   /dev/log
//	syslog:unix:///PATH      a unix datagram socket
//	syslog:udp://HOST:PORT   UDP
//	fluentd:HOST:PORT        a fluentd forward server
//	journal                  systemd-journald
//	discard                  nothing
func ParseTarget(s string) (Config, error) {
	kind, rest, _ := strings.Cut(s, ":")
	c := Config{Driver: strings.ToLower(kind)}
	switch c.Driver {
	case "json", "cee", "stdout", "journal", "discard":
		if rest != "" {
			return c, fmt.Errorf("tasklog/driver: -log %q: %s takes no address", s, kind)
		}
	case "syslog":
		switch {
		case rest == "":
		case strings.HasPrefix(rest, "unix://"):
			c.Syslog.UnixPath = strings.TrimPrefix(rest, "unix://")
		case strings.HasPrefix(rest, "udp://"):
			c.Syslog.UDPAddr = strings.TrimPrefix(rest, "udp://")
			if _, _, err := net.SplitHostPort(c.Syslog.UDPAddr); err != nil {
				return c, fmt.Errorf("tasklog/driver: -log %q: %w", s, err)
			}
		default:
			return c, fmt.Errorf("tasklog/driver: -log %q: want syslog, syslog:unix:///PATH or syslog:udp://HOST:PORT", s)
		}
	case "fluentd":
		if _, _, err := net.SplitHostPort(rest); err != nil {
			return c, fmt.Errorf("tasklog/driver: -log %q: want fluentd:HOST:PORT: %w", s, err)
		}
		c.Fluentd.Address = rest
	default:
		return c, fmt.Errorf("tasklog/driver: -log %q: unknown driver (want json, stdout, syslog, fluentd, journal or discard)", s)
	}
	return c, nil
}

func ptrTo[T any](v T) *T { return &v }
