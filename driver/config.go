package driver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config chooses a driver and configures it. Fill it in Go, or read
// g3proxy's YAML with [ParseYAML], then [Config.Build] the Core.
type Config struct {
	// Driver is one of "discard", "stdout" (g3's text format), "json"
	// (tasklog's JSON lines), "syslog", "fluentd" or "journal".
	Driver string
	// Ident is the program name the syslog, fluentd and journal drivers
	// write (their Ident, unless set there); use "g3proxy" to look like
	// g3proxy to a pipeline that filters on it.
	Ident   string
	Syslog  SyslogConfig
	Fluentd FluentdConfig
	Journal JournalConfig
	// Output is where stdout and json write; default os.Stdout.
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
	return nil, fmt.Errorf("tasklog/driver: unknown driver %q (want discard, stdout, json, syslog, fluentd or journal)", c.Driver)
}

// ParseYAML reads a g3proxy log configuration, so an operator can copy
// the log: block of their g3proxy configuration: either the value of a
// logger's log config (a driver name such as "syslog", or a map with one
// driver key, syslog, fluentd, journal, stdout or discard, and the async
// keys async_channel_size, async_thread_number and
// io_error_sampling_offset), or g3proxy's whole log: block, whose task
// (else default) entry is taken. Keys are g3's (with '-' and '_' alike);
// an unknown key or a bad value is an error naming it.
func ParseYAML(data []byte) (Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("tasklog/driver: %w", err)
	}
	if len(root.Content) == 0 {
		return Config{Driver: "discard"}, nil
	}
	n := root.Content[0]
	if n.Kind == yaml.MappingNode {
		for _, k := range []string{"task", "default"} {
			if v := lookup(n, k); v != nil {
				n = v
				break
			}
		}
	}
	return parseLogConfig(n)
}

func normKey(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

// lookup returns the value of key k in mapping n, or nil.
func lookup(n *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if normKey(n.Content[i].Value) == k {
			return n.Content[i+1]
		}
	}
	return nil
}

// eachKey calls fn for every key of mapping n, with the key normalized.
func eachKey(n *yaml.Node, what string, fn func(key string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("tasklog/driver: %s: want a map, got %q", what, n.Value)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if err := fn(normKey(k), n.Content[i+1]); err != nil {
			return fmt.Errorf("tasklog/driver: %s: key %s: %w", what, k, err)
		}
	}
	return nil
}

func parseLogConfig(n *yaml.Node) (Config, error) {
	var c Config
	if n.Kind == yaml.ScalarNode {
		c.Driver = strings.ToLower(n.Value)
		switch c.Driver {
		case "syslog":
			// g3's bare driver name builds its syslog logger with the
			// builder's default facility, user; only the map form's
			// parser sets daemon (lib/g3-syslog lib.rs, yaml.rs).
			c.Syslog.Facility = ptrTo(FacilityUser)
			return c, nil
		case "discard", "stdout", "json", "fluentd", "journal":
			return c, nil
		}
		return c, fmt.Errorf("tasklog/driver: unknown driver %q", n.Value)
	}
	err := eachKey(n, "log config", func(k string, v *yaml.Node) error {
		var err error
		switch k {
		case "discard", "stdout", "json":
			c.Driver = k
		case "journal":
			c.Driver = k
		case "syslog":
			c.Driver = k
			c.Syslog, err = parseSyslog(v)
		case "fluentd":
			c.Driver = k
			c.Fluentd, err = parseFluentd(v)
		case "async_channel_size":
			c.Options.QueueSize, err = yamlInt(v, 1, 1<<24)
		case "async_thread_number":
			c.Options.Writers, err = yamlInt(v, 1, 64)
		case "io_error_sampling_offset":
			c.Options.ErrorSampling, err = yamlInt(v, 0, maxErrorSamplingShift)
			if err == nil && c.Options.ErrorSampling == 0 {
				c.Options.ErrorSampling = -1 // 0 means "every error", not the default
			}
		default:
			err = errors.New("unknown key")
		}
		return err
	})
	if err == nil && c.Driver == "" {
		err = errors.New("tasklog/driver: log config names no driver (syslog, fluentd, journal, stdout, discard)")
	}
	return c, err
}

func parseSyslog(n *yaml.Node) (SyslogConfig, error) {
	var c SyslogConfig
	unix := func(v *yaml.Node) error {
		if v.Kind == yaml.ScalarNode {
			c.UnixPath = v.Value
			return nil
		}
		return eachKey(v, "target_unix", func(k string, v *yaml.Node) error {
			if k != "path" {
				return errors.New("unknown key")
			}
			c.UnixPath = v.Value
			return nil
		})
	}
	udp := func(v *yaml.Node) error {
		if v.Kind == yaml.ScalarNode {
			c.UDPAddr = v.Value
			return nil
		}
		return eachKey(v, "target_udp", func(k string, v *yaml.Node) error {
			switch k {
			case "address":
				c.UDPAddr = v.Value
			case "bind_ip":
				if _, err := parseIP(v.Value); err != nil {
					return err
				}
				// Accepted for compatibility; the kernel picks the source.
			default:
				return errors.New("unknown key")
			}
			return nil
		})
	}
	err := eachKey(n, "syslog", func(k string, v *yaml.Node) error {
		var err error
		switch k {
		case "target_unix", "backend_unix":
			err = unix(v)
		case "target_udp", "backend_udp":
			err = udp(v)
		case "target", "backend":
			err = eachKey(v, "target", func(k string, v *yaml.Node) error {
				switch k {
				case "udp":
					return udp(v)
				case "unix":
					return unix(v)
				}
				return errors.New("unknown key")
			})
		case "format_rfc5424":
			c.RFC5424 = true
			switch {
			case v.Kind == yaml.ScalarNode && v.Tag == "!!int":
				var id int
				id, err = yamlInt(v, -1<<31, 1<<31-1)
				c.EnterpriseID = int32(id)
			case v.Kind == yaml.ScalarNode:
				c.MessageID = v.Value
			default:
				err = eachKey(v, "format_rfc5424", func(k string, v *yaml.Node) error {
					switch k {
					case "enterprise_id":
						id, err := yamlInt(v, -1<<31, 1<<31-1)
						c.EnterpriseID = int32(id)
						return err
					case "message_id":
						c.MessageID = v.Value
						return nil
					}
					return errors.New("unknown key")
				})
			}
		case "use_cee_log_syntax", "use_cls":
			c.CEE, err = yamlBool(v)
		case "cee_event_flag", "cee_cookie":
			c.CEEEventFlag = v.Value
		case "emit_hostname":
			c.EmitHostname, err = yamlBool(v)
		case "append_report_ts":
			c.AppendReportTS, err = yamlBool(v)
		default:
			err = errors.New("unknown key")
		}
		return err
	})
	return c, err
}

func parseFluentd(n *yaml.Node) (FluentdConfig, error) {
	var c FluentdConfig
	err := eachKey(n, "fluentd", func(k string, v *yaml.Node) error {
		var err error
		switch k {
		case "address", "addr":
			c.Address = v.Value
			if _, _, err = net.SplitHostPort(v.Value); err != nil {
				c.Address = net.JoinHostPort(v.Value, "24224") // g3's default port
				err = nil
			}
		case "bind_ip", "bind":
			_, err = parseIP(v.Value) // accepted; the kernel picks the source
		case "shared_key":
			c.SharedKey = v.Value
		case "username":
			c.Username = v.Value
		case "password":
			c.Password = v.Value
		case "hostname":
			c.Hostname = v.Value
		case "tcp_keepalive", "flush_interval":
			// Accepted: Go's dialer keeps TCP keepalive on, and records are
			// written as they come, with no buffer to flush.
		case "tls_client":
			c.TLS, err = parseTLSClient(v)
		case "tls_name":
			if c.TLS == nil {
				c.TLS = &tls.Config{}
			}
			c.TLS.ServerName = v.Value
		case "connect_timeout":
			c.ConnectTimeout, err = yamlDuration(v)
		case "connect_delay":
			c.ConnectDelay, err = yamlDuration(v)
		case "write_timeout":
			c.WriteTimeout, err = yamlDuration(v)
		case "retry_queue_len":
			c.RetryQueueLen, err = yamlInt(v, 0, 1<<20)
		default:
			err = errors.New("unknown key")
		}
		return err
	})
	return c, err
}

// parseTLSClient reads g3's tls_client: true, an empty map, or a map with
// ca_certificate (a PEM file) and no_verify.
func parseTLSClient(v *yaml.Node) (*tls.Config, error) {
	cfg := &tls.Config{}
	if v.Kind == yaml.ScalarNode {
		on, err := yamlBool(v)
		if err != nil || !on {
			return nil, err
		}
		return cfg, nil
	}
	err := eachKey(v, "tls_client", func(k string, v *yaml.Node) error {
		switch k {
		case "ca_certificate", "ca_cert", "server_auth_certificate":
			pem, err := os.ReadFile(v.Value)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("no PEM certificate in %s", v.Value)
			}
			cfg.RootCAs = pool
		case "no_verify":
			off, err := yamlBool(v)
			cfg.InsecureSkipVerify = off
			return err
		default:
			return errors.New("unknown key (tasklog reads ca_certificate and no_verify)")
		}
		return nil
	})
	return cfg, err
}

func parseIP(s string) (net.IP, error) {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("invalid IP address %q", s)
	}
	return ip, nil
}

func yamlInt(v *yaml.Node, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want an integer from %d to %d, got %q", lo, hi, v.Value)
	}
	return n, nil
}

func yamlBool(v *yaml.Node) (bool, error) {
	var b bool
	if err := v.Decode(&b); err != nil {
		return false, fmt.Errorf("want a boolean, got %q", v.Value)
	}
	return b, nil
}

// yamlDuration reads "10s", "100ms" or a number of seconds.
func yamlDuration(v *yaml.Node) (time.Duration, error) {
	if d, err := time.ParseDuration(v.Value); err == nil && d >= 0 {
		return d, nil
	}
	if f, err := strconv.ParseFloat(v.Value, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("want a duration such as 10s or 100ms, got %q", v.Value)
}

// ParseTarget reads the -log flag of the example programs:
//
//	json                     tasklog's JSON lines on stdout (the default)
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
	case "json", "stdout", "journal", "discard":
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
