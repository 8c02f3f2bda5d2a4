package driver

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Config
		err  string
	}{
		{in: "json", want: Config{Driver: "json"}},
		{in: "cee", want: Config{Driver: "cee"}},
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
		{Driver: "discard"}, {Driver: "stdout"}, {Driver: "json"}, {Driver: "cee"},
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
