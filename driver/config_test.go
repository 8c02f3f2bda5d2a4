package driver

import (
	"strings"
	"testing"
	"time"
)

// g3proxy log blocks, as an operator would copy them, read as g3 reads
// them (lib/g3-syslog/src/yaml.rs, lib/g3-fluentd/src/config/yaml.rs).
func TestParseYAML(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, c Config)
	}{
		{"driver name", "syslog", func(t *testing.T, c Config) {
			if c.Driver != "syslog" {
				t.Errorf("driver %q", c.Driver)
			}
		}},
		{"g3proxy's whole log block, task entry", `
default: discard
task:
  syslog:
    target_udp:
      address: "127.0.0.1:514"
      bind_ip: "127.0.0.1"
    format_rfc5424:
      enterprise_id: 32473
      message_id: "APP01"
    use-cee-log-syntax: true
    cee_event_flag: "@json:"
    emit_hostname: true
    append_report_ts: true
  async_channel_size: 1024
  async_thread_number: 2
  io_error_sampling_offset: 4
`, func(t *testing.T, c Config) {
			s := c.Syslog
			if c.Driver != "syslog" || s.UDPAddr != "127.0.0.1:514" || !s.RFC5424 || s.EnterpriseID != 32473 ||
				s.MessageID != "APP01" || !s.CEE || s.CEEEventFlag != "@json:" || !s.EmitHostname || !s.AppendReportTS {
				t.Errorf("syslog %+v", s)
			}
			if c.Options.QueueSize != 1024 || c.Options.Writers != 2 || c.Options.ErrorSampling != 4 {
				t.Errorf("options %+v", c.Options)
			}
		}},
		{"default entry when no task entry", "default:\n  syslog:\n    target_unix: /run/log.sock\n", func(t *testing.T, c Config) {
			if c.Driver != "syslog" || c.Syslog.UnixPath != "/run/log.sock" {
				t.Errorf("%+v", c)
			}
		}},
		{"target map", "syslog:\n  target:\n    unix:\n      path: /dev/log\n  format_rfc5424: 7\n", func(t *testing.T, c Config) {
			if c.Syslog.UnixPath != "/dev/log" || !c.Syslog.RFC5424 || c.Syslog.EnterpriseID != 7 {
				t.Errorf("%+v", c.Syslog)
			}
		}},
		{"fluentd", `
fluentd:
  address: 127.0.0.1:24224
  shared_key: s3cret
  username: alice
  password: pw
  hostname: edge-1
  connect_timeout: 3s
  connect_delay: 500ms
  write_timeout: 2
  flush_interval: 100ms
  retry_queue_len: 20
  tls_client: true
  tls_name: fluentd.example
`, func(t *testing.T, c Config) {
			f := c.Fluentd
			if c.Driver != "fluentd" || f.Address != "127.0.0.1:24224" || f.SharedKey != "s3cret" || f.Username != "alice" ||
				f.Password != "pw" || f.Hostname != "edge-1" || f.ConnectTimeout != 3*time.Second ||
				f.ConnectDelay != 500*time.Millisecond || f.WriteTimeout != 2*time.Second || f.RetryQueueLen != 20 ||
				f.TLS == nil || f.TLS.ServerName != "fluentd.example" {
				t.Errorf("fluentd %+v", f)
			}
		}},
		{"fluentd address without port", "fluentd:\n  address: 10.0.0.9\n", func(t *testing.T, c Config) {
			if c.Fluentd.Address != "10.0.0.9:24224" {
				t.Errorf("address %q", c.Fluentd.Address)
			}
		}},
		{"journal", "journal: {}\n", func(t *testing.T, c Config) {
			if c.Driver != "journal" {
				t.Errorf("driver %q", c.Driver)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseYAML([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseYAMLErrorsNameTheKey(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"syslog:\n  target_udpp: 1.2.3.4:514\n", "target_udpp: unknown key"},
		{"syslog:\n  emit_hostname: maybe\n", `emit_hostname: want a boolean, got "maybe"`},
		{"fluentd:\n  connect_timeout: soon\n", `connect_timeout: want a duration`},
		{"async_channel_size: -1\nsyslog: {}\n", "async_channel_size: want an integer"},
		{"io_error_sampling_offset: 17\nsyslog: {}\n", "io_error_sampling_offset: want an integer from 0 to 16"},
		{"kafka", `unknown driver "kafka"`},
		{"async_channel_size: 10\n", "names no driver"},
		{"fluentd:\n  tls_client:\n    cipher: x\n", "cipher: unknown key"},
		{"syslog: [1, 2]\n", "syslog: want a map"},
	} {
		_, err := ParseYAML([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseYAML(%q) = %v, want an error with %q", tt.yaml, err, tt.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Config
		err  string
	}{
		{in: "json", want: Config{Driver: "json"}},
		{in: "stdout", want: Config{Driver: "stdout"}},
		{in: "syslog", want: Config{Driver: "syslog"}},
		{in: "syslog:unix:///run/x.sock", want: Config{Driver: "syslog", Syslog: SyslogConfig{UnixPath: "/run/x.sock"}}},
		{in: "syslog:udp://127.0.0.1:514", want: Config{Driver: "syslog", Syslog: SyslogConfig{UDPAddr: "127.0.0.1:514"}}},
		{in: "fluentd:127.0.0.1:24224", want: Config{Driver: "fluentd", Fluentd: FluentdConfig{Address: "127.0.0.1:24224"}}},
		{in: "journal", want: Config{Driver: "journal"}},
		{in: "discard", want: Config{Driver: "discard"}},
		{in: "syslog:tcp://x:1", err: "want syslog"},
		{in: "syslog:udp://nohost", err: "missing port"},
		{in: "fluentd:", err: "want fluentd:HOST:PORT"},
		{in: "json:x", err: "takes no address"},
		{in: "kafka:1", err: "unknown driver"},
	} {
		got, err := ParseTarget(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTarget(%q) = %v, want an error with %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseTarget(%q): %v", tt.in, err)
		case got.Driver != tt.want.Driver || got.Syslog.UnixPath != tt.want.Syslog.UnixPath ||
			got.Syslog.UDPAddr != tt.want.Syslog.UDPAddr || got.Fluentd.Address != tt.want.Fluentd.Address:
			t.Errorf("ParseTarget(%q) = %+v", tt.in, got)
		}
	}
}

// Every driver a Config names builds, and an unknown one is an error.
func TestConfigBuild(t *testing.T) {
	noLeak(t)
	_, sock := unixgramListener(t)
	for _, c := range []Config{
		{Driver: "discard"}, {Driver: "stdout"}, {Driver: "json"},
		{Driver: "syslog", Syslog: SyslogConfig{UnixPath: sock}},
		{Driver: "fluentd", Fluentd: FluentdConfig{Address: "127.0.0.1:1"}},
		{Driver: "journal", Journal: JournalConfig{Path: sock}},
	} {
		c.Options.ErrorOutput = discardErrors
		core, err := c.Build()
		if err != nil {
			t.Errorf("%s: %v", c.Driver, err)
			continue
		}
		core.Close()
	}
	if _, err := (Config{Driver: "kafka"}).Build(); err == nil {
		t.Error("an unknown driver built")
	}
	if _, err := NewSyslog(SyslogConfig{UnixPath: "/x", UDPAddr: "1.2.3.4:5"}, Options{}); err == nil {
		t.Error("a syslog config with two targets built")
	}
}
