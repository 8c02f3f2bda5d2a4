package driver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxylog/tasklog/internal/nettest"
)

// Cases taken from g3's parsers at commit 7d237e22 (g3proxy/src/config/
// log.rs, lib/g3-daemon/src/log/event/config.rs, lib/g3-syslog/src/yaml.rs
// and backend/yaml.rs and format/yaml.rs, lib/g3-fluentd/src/config/
// yaml.rs, lib/g3-yaml/src/value/* and humanize/time.rs): what each loads
// to, or that it is rejected, and for a rejection what the error names.
func TestParseYAMLAsG3Does(t *testing.T) {
	t.Setenv("TASKLOG_TEST_SYSLOG", "127.0.0.1:5140")
	type check func(t *testing.T, c Config)
	driver := func(want string) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Driver != want {
				t.Errorf("driver %q, want %q", c.Driver, want)
			}
		}
	}
	facility := func(want Facility) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Driver != "syslog" || c.Syslog.Facility == nil || *c.Syslog.Facility != want {
				t.Errorf("%+v: want syslog with facility %d", c, want)
			}
		}
	}
	udp := func(addr, bind string) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Syslog.UDPAddr != addr || c.Syslog.UnixPath != "" || (bind == "") == c.Syslog.BindIP.IsValid() ||
				(bind != "" && c.Syslog.BindIP != netip.MustParseAddr(bind)) {
				t.Errorf("syslog %+v: want UDP %s bound to %q", c.Syslog, addr, bind)
			}
		}
	}
	unix := func(path string) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Syslog.UnixPath != path || c.Syslog.UDPAddr != "" {
				t.Errorf("syslog %+v: want unix %s", c.Syslog, path)
			}
		}
	}
	fluent := func(f func(FluentdConfig) bool) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Driver != "fluentd" || !f(c.Fluentd) {
				t.Errorf("fluentd %+v", c.Fluentd)
			}
		}
	}
	opts := func(q, w, e int) check {
		return func(t *testing.T, c Config) {
			t.Helper()
			if c.Options.QueueSize != q || c.Options.Writers != w || c.Options.ErrorSampling != e {
				t.Errorf("options %+v, want queue %d writers %d sampling %d", c.Options, q, w, e)
			}
		}
	}
	tests := []struct {
		name, yaml string
		logType    string // "" is task
		check      check
		err        string // a rejection, and what its error says
	}{
		// The block: scalar, map, under log:, null.
		{name: "scalar syslog: facility user", yaml: "syslog", check: facility(FacilityUser)},
		{name: "scalar under log:", yaml: "log: syslog", check: facility(FacilityUser)},
		{name: "whole g3proxy config", yaml: "runtime:\n  thread_number: 2\nlog: journal\nserver: []\n", check: driver("journal")},
		{name: "null block", yaml: "log:\n", check: driver("discard")},
		{name: "empty", yaml: "", check: driver("discard")},
		{name: "scalar stdout", yaml: "stdout", check: driver("stdout")},
		{name: "scalar fluentd", yaml: "fluentd", check: fluent(func(f FluentdConfig) bool { return f.Address == "" })},
		{name: "json is tasklog's", yaml: "json", check: driver("json")},
		{name: "cee is tasklog's", yaml: "cee", check: driver("cee")},
		{name: "wrong case rejected", yaml: "Syslog", err: `log: "Syslog": unknown driver`},
		{name: "unknown driver", yaml: "kafka", err: `unknown driver`},
		{name: "list rejected", yaml: "[syslog]", err: "want a driver name or a map"},
		// Root entries.
		{name: "default entry", yaml: "default: stdout", check: driver("stdout")},
		{name: "task beats default", yaml: "default: stdout\ntask: journal", check: driver("journal")},
		{name: "escape entry for escape", yaml: "default: stdout\nescape: journal", logType: "escape", check: driver("journal")},
		{name: "escape entry not for task", yaml: "default: stdout\nescape: journal", check: driver("stdout")},
		{name: "resolve entry", yaml: "resolve:\n  syslog: {}\n", logType: "resolve", check: facility(FacilityDaemon)},
		{name: "audit entry", yaml: "audit: discard\ntask: stdout", logType: "audit", check: driver("discard")},
		{name: "root syslog default", yaml: "syslog:\n  target_udp: 127.0.0.1:514\n", check: udp("127.0.0.1:514", "")},
		{name: "root syslog: facility daemon", yaml: "syslog: {}", check: facility(FacilityDaemon)},
		{name: "root fluentd default", yaml: "fluentd: 127.0.0.1:24225", check: fluent(func(f FluentdConfig) bool { return f.Address == "127.0.0.1:24225" })},
		{name: "later default wins", yaml: "syslog: {}\ndefault: stdout", check: driver("stdout")},
		{name: "root key unknown, suggested", yaml: "tsak: stdout", err: "log.tsak: unknown key (did you mean task?)"},
		{name: "root keys any case and dashes", yaml: "Task: stdout", check: driver("stdout")},
		// A log config map.
		{name: "map without driver is discard", yaml: "task:\n  async_channel_size: 10\n", check: driver("discard")},
		{name: "channel_size alias", yaml: "task:\n  syslog:\n  channel_size: 100\n  thread_number: 2\n  io_error_sampling_offset: 0\n", check: opts(100, 2, -1)},
		{name: "sizes as strings", yaml: "task:\n  journal:\n  async_channel_size: \"64\"\n  async-thread-number: '3'\n  io_error_sampling_offset: 16\n", check: opts(64, 3, 16)},
		{name: "journal key with any value", yaml: "task:\n  journal: whatever\n", check: driver("journal")},
		{name: "last driver key wins", yaml: "task:\n  syslog: {}\n  journal: {}\n", check: driver("journal")},
		{name: "stdout as a map key rejected", yaml: "task:\n  stdout: {}\n", err: "task.stdout: unknown key"},
		{name: "discard as a map key rejected", yaml: "task:\n  discard: {}\n", err: "task.discard: unknown key"},
		{name: "sampling over 16", yaml: "task:\n  io_error_sampling_offset: 17\n", err: `io_error_sampling_offset: "17": want at most 16`},
		{name: "negative size", yaml: "task:\n  async_channel_size: -1\n", err: `async_channel_size: "-1": want a whole number`},
		{name: "size as a real", yaml: "task:\n  async_channel_size: 1.5\n", err: `want a whole number`},
		{name: "zero writers", yaml: "task:\n  async_thread_number: 0\n", err: `tasklog runs 1 to 64 writers`},
		{name: "log config as a list", yaml: "task: [1]", err: "task: want a driver name or a map"},
		// syslog.
		{name: "syslog null", yaml: "task:\n  syslog:\n", check: facility(FacilityDaemon)},
		{name: "syslog as a scalar rejected", yaml: "task:\n  syslog: yes\n", err: "task.syslog: \"yes\": want a map"},
		{name: "syslog list rejected", yaml: "task:\n  syslog: [1, 2]\n", err: "task.syslog: want a map"},
		{name: "target_udp map with bind", yaml: "task:\n  syslog:\n    target_udp:\n      address: 127.0.0.1:514\n      bind_ip: 127.0.0.2\n", check: udp("127.0.0.1:514", "127.0.0.2")},
		{name: "target_udp aliases addr and bind", yaml: "task:\n  syslog:\n    backend_udp:\n      addr: '[::1]:514'\n      bind: ::1\n", check: udp("[::1]:514", "::1")},
		{name: "target_udp $ENV", yaml: "task:\n  syslog:\n    target_udp:\n      address: $TASKLOG_TEST_SYSLOG\n", check: udp("127.0.0.1:5140", "")},
		{name: "target_udp @ip:port", yaml: "task:\n  syslog:\n    target_udp:\n      address: '@127.0.0.1:514'\n", check: udp("127.0.0.1:514", "")},
		{name: "target_udp $ENV unset", yaml: "task:\n  syslog:\n    target_udp:\n      address: $TASKLOG_TEST_UNSET\n", err: "TASKLOG_TEST_UNSET is not set"},
		{name: "target_udp string form has no $ENV", yaml: "task:\n  syslog:\n    target_udp: $TASKLOG_TEST_SYSLOG\n", err: "want IP:PORT"},
		{name: "target_udp host name rejected", yaml: "task:\n  syslog:\n    target_udp: localhost:514\n", err: `"localhost:514": want IP:PORT`},
		{name: "target_udp without port", yaml: "task:\n  syslog:\n    target_udp: 127.0.0.1\n", err: "want IP:PORT"},
		{name: "target_udp map needs address", yaml: "task:\n  syslog:\n    target_udp:\n      bind_ip: 127.0.0.1\n", err: "no target address has been set"},
		{name: "target_udp bad bind", yaml: "task:\n  syslog:\n    target_udp:\n      address: 127.0.0.1:514\n      bind_ip: nowhere\n", err: `bind_ip: "nowhere": want an IP address`},
		{name: "target_unix string", yaml: "task:\n  syslog:\n    target_unix: /run/log.sock\n", check: unix("/run/log.sock")},
		{name: "target_unix map", yaml: "task:\n  syslog:\n    backend_unix:\n      path: /dev/log\n", check: unix("/dev/log")},
		{name: "target_unix relative rejected", yaml: "task:\n  syslog:\n    target_unix: log.sock\n", err: `"log.sock": want an absolute path`},
		{name: "target_unix map needs path", yaml: "task:\n  syslog:\n    target_unix: {}\n", err: "no path has been set"},
		{name: "target map udp", yaml: "task:\n  syslog:\n    target:\n      udp: 127.0.0.1:514\n", check: udp("127.0.0.1:514", "")},
		{name: "later target wins", yaml: "task:\n  syslog:\n    target_udp: 127.0.0.1:514\n    target_unix: /dev/log\n", check: unix("/dev/log")},
		{name: "later target wins the other way", yaml: "task:\n  syslog:\n    target_unix: /dev/log\n    target:\n      udp: 127.0.0.1:514\n", check: udp("127.0.0.1:514", "")},
		{name: "target not a map", yaml: "task:\n  syslog:\n    target: udp\n", err: "want a map with udp or unix"},
		{name: "target unknown", yaml: "task:\n  syslog:\n    target:\n      tcp: 127.0.0.1:514\n", err: "target.tcp: unknown key (did you mean udp?)"},
		{name: "format_rfc5424 map", yaml: "task:\n  syslog:\n    format_rfc5424:\n      enterprise_id: '32473'\n      message_id: 7\n", check: func(t *testing.T, c Config) {
			if s := c.Syslog; !s.RFC5424 || s.EnterpriseID != 32473 || s.MessageID != "7" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "format_rfc5424 integer", yaml: "task:\n  syslog:\n    format_rfc5424: 7\n", check: func(t *testing.T, c Config) {
			if s := c.Syslog; !s.RFC5424 || s.EnterpriseID != 7 || s.MessageID != "" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "format_rfc5424 string", yaml: "task:\n  syslog:\n    format_rfc5424: APP\n", check: func(t *testing.T, c Config) {
			if s := c.Syslog; !s.RFC5424 || s.EnterpriseID != 0 || s.MessageID != "APP" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "format_rfc5424 true rejected", yaml: "task:\n  syslog:\n    format_rfc5424: true\n", err: "format_rfc5424: \"true\": want a map"},
		{name: "format_rfc5424 false rejected", yaml: "task:\n  syslog:\n    format_rfc5424: false\n", err: "format_rfc5424: \"false\""},
		{name: "rfc5424_strict (tasklog's)", yaml: "task:\n  syslog:\n    format_rfc5424: 7\n    rfc5424_strict: true\n", check: func(t *testing.T, c Config) {
			if !c.Syslog.RFC5424 || !c.Syslog.RFC5424Strict {
				t.Errorf("%+v", c.Syslog)
			}
		}},
		{name: "rfc5424_strict without format_rfc5424", yaml: "task:\n  syslog:\n    rfc5424_strict: true\n", err: "rfc5424_strict: true, but format_rfc5424 is not set"},
		{name: "rfc5424_strict not a bool", yaml: "task:\n  syslog:\n    format_rfc5424: 7\n    rfc5424_strict: strictly\n", err: "rfc5424_strict: \"strictly\""},
		{name: "enterprise_id overflow", yaml: "task:\n  syslog:\n    format_rfc5424: 4294967296\n", err: "want a whole number from -2147483648"},
		{name: "cee with g3's boolean spellings", yaml: "task:\n  syslog:\n    use_cls: 'On'\n    emit_hostname: 1\n    append_report_ts: 'no'\n    cee_cookie: '@json:'\n", check: func(t *testing.T, c Config) {
			if s := c.Syslog; !s.CEE || !s.EmitHostname || s.AppendReportTS || s.CEEEventFlag != "@json:" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "bad boolean", yaml: "task:\n  syslog:\n    emit_hostname: maybe\n", err: `emit_hostname: "maybe": want a boolean`},
		{name: "cee flag not ascii", yaml: "task:\n  syslog:\n    cee_event_flag: 'ç:'\n", err: "want an ASCII string"},
		{name: "syslog unknown key suggested", yaml: "task:\n  syslog:\n    target_udpp: 127.0.0.1:514\n", err: "task.syslog.target_udpp: unknown key (did you mean target_udp?)"},
		{name: "syslog facility is not g3's", yaml: "task:\n  syslog:\n    facility: local0\n", err: "task.syslog.facility: unknown key"},
		// fluentd.
		{name: "fluentd string", yaml: "task:\n  fluentd: 127.0.0.1:24224\n", check: fluent(func(f FluentdConfig) bool { return f.Address == "127.0.0.1:24224" })},
		{name: "fluentd string $ENV", yaml: "task:\n  fluentd: $TASKLOG_TEST_SYSLOG\n", check: fluent(func(f FluentdConfig) bool { return f.Address == "127.0.0.1:5140" })},
		{name: "fluentd null", yaml: "task:\n  fluentd:\n", check: fluent(func(f FluentdConfig) bool { return f.Address == "" && f.TLS == nil })},
		{name: "fluentd address without port rejected", yaml: "task:\n  fluentd:\n    address: 10.0.0.9\n", err: `"10.0.0.9": want IP:PORT`},
		{name: "fluentd all keys", yaml: `task:
  fluentd:
    addr: 127.0.0.1:24224
    bind: 127.0.0.1
    shared_key: s3cret
    username: alice
    password: 1234
    hostname: edge-1
    tcp_keepalive:
      enable: true
      idle_time: 30s
      probe_interval: 5
      probe_count: "3"
    connect_timeout: 1h 30m
    connect_delay: 1d
    write_timeout: 2
    flush_interval: 0.5
`, check: fluent(func(f FluentdConfig) bool {
			ka := f.KeepAlive
			return f.Address == "127.0.0.1:24224" && f.BindIP == netip.MustParseAddr("127.0.0.1") && f.SharedKey == "s3cret" &&
				f.Username == "alice" && f.Password == "1234" && f.Hostname == "edge-1" &&
				ka != nil && ka.Enable && ka.Idle == 30*time.Second && ka.Interval == 5*time.Second && ka.Count == 3 &&
				f.ConnectTimeout == 90*time.Minute && f.ConnectDelay == 24*time.Hour && f.WriteTimeout == 2*time.Second &&
				f.FlushInterval == 500*time.Millisecond
		})},
		{name: "keepalive map is off unless enabled", yaml: "task:\n  fluentd:\n    tcp_keepalive:\n      idle_time: 30\n", check: fluent(func(f FluentdConfig) bool {
			return f.KeepAlive != nil && !f.KeepAlive.Enable
		})},
		{name: "keepalive as an idle time", yaml: "task:\n  fluentd:\n    tcp_keepalive: 20s\n", check: fluent(func(f FluentdConfig) bool {
			return f.KeepAlive != nil && f.KeepAlive.Enable && f.KeepAlive.Idle == 20*time.Second
		})},
		{name: "retry_queue_len is not g3's", yaml: "task:\n  fluentd:\n    retry_queue_len: 20\n", err: "retry_queue_len: unknown key"},
		{name: "duration fraction string rejected", yaml: "task:\n  fluentd:\n    connect_timeout: '1.5'\n", err: `connect_timeout: "1.5": unknown unit "."`},
		{name: "duration fraction with unit rejected", yaml: "task:\n  fluentd:\n    connect_timeout: 1.5s\n", err: `unknown unit "."`},
		{name: "duration negative", yaml: "task:\n  fluentd:\n    connect_timeout: -1\n", err: `connect_timeout: "-1"`},
		{name: "duration past Go's range", yaml: "task:\n  fluentd:\n    connect_timeout: 200000d\n", err: "longer than Go's time.Duration"},
		{name: "duration overflow", yaml: "task:\n  fluentd:\n    connect_timeout: 300000d\n", err: `"300000d": too long`},
		{name: "duration unit unknown", yaml: "task:\n  fluentd:\n    connect_timeout: 5 minutes\n", err: `unknown unit "minutes"`},
		{name: "duration number string is seconds", yaml: "task:\n  fluentd:\n    connect_delay: '15'\n", check: fluent(func(f FluentdConfig) bool { return f.ConnectDelay == 15*time.Second })},
		{name: "tls_client: true rejected", yaml: "task:\n  fluentd:\n    tls_client: true\n", err: "tls_client: \"true\": want a map"},
		{name: "tls_client null rejected", yaml: "task:\n  fluentd:\n    tls_client:\n", err: "tls_client: want a map"},
		{name: "tls_client empty map", yaml: "task:\n  fluentd:\n    tls: {}\n", check: fluent(func(f FluentdConfig) bool {
			return f.TLS != nil && f.TLS.ServerName == "" && f.TLSHandshakeTimeout == 10*time.Second
		})},
		{name: "tls_name before tls_client", yaml: "task:\n  fluentd:\n    tls_name: Log.Example\n    tls_client: {}\n", check: fluent(func(f FluentdConfig) bool {
			return f.TLS != nil && f.TLS.ServerName == "log.example"
		})},
		{name: "tls_name alone is not TLS", yaml: "task:\n  fluentd:\n    tls_name: log.example\n", check: fluent(func(f FluentdConfig) bool { return f.TLS == nil })},
		{name: "tls keys", yaml: `task:
  fluentd:
    tls_client:
      protocol: tls1.2
      ciphers: ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384
      disable_sni: yes
      insecure: true
      handshake_timeout: 3s
      no_session_cache: true
      supported_groups: X25519:P-256
      use_ocsp_stapling: true
      enable_grease: false
`, check: fluent(func(f FluentdConfig) bool {
			c := f.TLS
			return c != nil && c.MinVersion == tls.VersionTLS12 && c.MaxVersion == tls.VersionTLS12 && len(c.CipherSuites) == 2 &&
				f.TLSDisableSNI && c.InsecureSkipVerify && f.TLSHandshakeTimeout == 3*time.Second && c.ClientSessionCache == nil &&
				len(c.CurvePreferences) == 2
		})},
		{name: "tls versions", yaml: "task:\n  fluentd:\n    tls_client:\n      min_tls_version: 1.2\n      tls_version_max: TLS1_3\n", check: fluent(func(f FluentdConfig) bool {
			return f.TLS.MinVersion == tls.VersionTLS12 && f.TLS.MaxVersion == tls.VersionTLS13
		})},
		{name: "tls bad version", yaml: "task:\n  fluentd:\n    tls_client:\n      min_tls_version: 1.4\n", err: `min_tls_version: "1.4": want a TLS version`},
		{name: "ssl3 cannot be honoured", yaml: "task:\n  fluentd:\n    tls_client:\n      protocol: ssl3\n", err: "SSL 3.0 is not available"},
		{name: "tlcp cannot be honoured", yaml: "task:\n  fluentd:\n    tls_client:\n      tlcp_cert_pair: {}\n", err: "TLCP"},
		{name: "unknown cipher", yaml: "task:\n  fluentd:\n    tls_client:\n      ciphers: [RC4-MD5]\n", err: "RC4-MD5: not a cipher suite"},
		{name: "grease cannot be honoured", yaml: "task:\n  fluentd:\n    tls_client:\n      enable_grease: true\n", err: "does not offer it"},
		{name: "ocsp off cannot be honoured", yaml: "task:\n  fluentd:\n    tls_client:\n      use_ocsp_stapling: false\n", err: "cannot be turned off"},
		{name: "tls unknown key suggested", yaml: "task:\n  fluentd:\n    tls_client:\n      ca_certs: x\n", err: "tls_client.ca_certs: unknown key (did you mean ca_cert?)"},
		{name: "certificate without key", yaml: "task:\n  fluentd:\n    tls_client:\n      certificate: \"" + testCertPEM + "\"\n", err: "needs both certificate and private_key"},
		{name: "ca file missing", yaml: "task:\n  fluentd:\n    tls_client:\n      ca_certificate: /nonexistent/ca.pem\n", err: `ca_certificate: "/nonexistent/ca.pem": open`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt := tt.logType
			if lt == "" {
				lt = "task"
			}
			c, err := ParseYAMLLog([]byte(tt.yaml), lt, "")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseYAMLLog(%q) = %+v, %v; want an error with %q", tt.yaml, c, err, tt.err)
				}
				if strings.Count(err.Error(), "tasklog/driver") != 1 || strings.Contains(err.Error(), "-log") {
					t.Errorf("error %q: the prefix once, and no command-line flag", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseYAMLLog(%q): %v", tt.yaml, err)
			}
			tt.check(t, c)
		})
	}
}

var testCertPEM = strings.ReplaceAll(`-----BEGIN CERTIFICATE-----
MIIBVzCB/qADAgECAgEBMAoGCCqGSM49BAMCMBQxEjAQBgNVBAMTCWxvY2FsaG9z
dDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBQxEjAQBgNVBAMTCWxv
-----END CERTIFICATE-----`, "\n", "\\n")

// A client certificate, a CA list and relative file names are read as g3
// reads them (PEM text, or files from the configuration's folder), and
// the certificate reaches the TLS configuration.
func TestParseYAMLFileTLSFiles(t *testing.T) {
	_, certPEM, keyPEM := nettest.SelfSigned(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client.pem"), []byte(certPEM), 0o600)
	os.WriteFile(filepath.Join(dir, "client.key"), []byte(keyPEM), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(certPEM), 0o600)
	conf := filepath.Join(dir, "g3proxy.yaml")
	os.WriteFile(conf, []byte(`log:
  task:
    fluentd:
      address: 127.0.0.1:24224
      tls_client:
        certificate: client.pem
        private_key: client.key
        ca_certificate: [ca.pem, ca.pem]
        no_default_ca_cert: true
`), 0o600)
	c, err := ParseYAMLFile(conf, "task")
	if err != nil {
		t.Fatal(err)
	}
	if c.Fluentd.TLS == nil || len(c.Fluentd.TLS.Certificates) != 1 || c.Fluentd.TLS.RootCAs == nil {
		t.Errorf("tls %+v", c.Fluentd.TLS)
	}
	if _, err := ParseYAMLLog([]byte("task:\n  fluentd:\n    tls_client:\n      cert_pair:\n        cert: |\n"+indent(certPEM, 10)+"        key: |\n"+indent(keyPEM, 10)), "task", ""); err != nil {
		t.Errorf("inline cert_pair: %v", err)
	}
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(pad + l + "\n")
	}
	return b.String()
}

// bind_ip is honoured: the receiver sees the configured source address.
func TestBindIPIsHonoured(t *testing.T) {
	noLeak(t)
	bind := netip.MustParseAddr("127.0.0.2")
	u := listenUDP(t, "127.0.0.1:0")
	core, err := NewSyslog(SyslogConfig{UDPAddr: u.c.LocalAddr().String(), BindIP: bind}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	u.stop() // read the source address ourselves
	c, err := net.ListenPacket("udp", u.c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logRecord(t, core, "m", record())
	core.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	if _, from, err := c.ReadFrom(buf); err != nil || from.(*net.UDPAddr).AddrPort().Addr() != bind {
		t.Errorf("syslog datagram from %v (%v), want %v", from, err, bind)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fc, err := NewFluentd(FluentdConfig{Address: l.Addr().String(), BindIP: bind}, Options{ErrorOutput: discardErrors})
	if err != nil {
		t.Fatal(err)
	}
	logRecord(t, fc, "m", record())
	l.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	fc.Close()
	if got := conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr(); got != bind {
		t.Errorf("fluentd connection from %v, want %v", got, bind)
	}
}

// disable_sni sends no server name, and the certificate is still checked
// against tls_name: a wrong name fails the handshake.
func TestFluentdTLSWithoutSNI(t *testing.T) {
	noLeak(t)
	cert, certPEM, keyPEM := nettest.SelfSigned(t)
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	sni := make(chan string, 4)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pair},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni <- h.ServerName
			return nil, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &forwardReceiver{conns: map[net.Conn]bool{}}
	r.acceptOn(l)
	defer r.stop()
	for _, tc := range []struct {
		name string
		want int64
	}{{"localhost", 1}, {"other.example", 0}} {
		before := r.count()
		core, err := NewFluentd(FluentdConfig{Address: l.Addr().String(), ConnectDelay: time.Hour,
			TLS: &tls.Config{RootCAs: pool, ServerName: tc.name}, TLSDisableSNI: true}, Options{ErrorOutput: discardErrors})
		if err != nil {
			t.Fatal(err)
		}
		logRecord(t, core, "m", record())
		core.Close()
		if got := <-sni; got != "" {
			t.Errorf("%s: the server saw SNI %q, want none", tc.name, got)
		}
		time.Sleep(50 * time.Millisecond)
		if got := r.count() - before; got != tc.want {
			t.Errorf("tls_name %s: the server got %d records, want %d", tc.name, got, tc.want)
		}
	}
}

// Whatever the bytes, reading a log configuration never panics, and an
// error says where once.
func FuzzParseYAMLLog(f *testing.F) {
	for _, s := range []string{"syslog", "task:\n  syslog:\n    target_udp: 127.0.0.1:514\n", "log:\n  default:\n    fluentd:\n      tls_client:\n        ciphers: [a, b]\n",
		"task:\n  fluentd:\n    connect_timeout: 1h 30m\n", "escape: [1, {a: b}]", "&a [*a]", "task: {fluentd: {tcp_keepalive: {probe_count: '99999999999'}}}"} {
		f.Add([]byte(s), "task")
	}
	// No name is ever looked up with the system's resolver in a test.
	saved := lookupHost
	f.Cleanup(func() { lookupHost = saved })
	lookupHost = func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("no lookups in tests") }
	f.Fuzz(func(t *testing.T, data []byte, logType string) {
		_, err := ParseYAMLLog(data, logType, "testdata")
		if err != nil && strings.Count(err.Error(), "tasklog/driver") != 1 {
			t.Errorf("error %q: want the package prefix once", err)
		}
	})
}
