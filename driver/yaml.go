package driver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseYAML reads the task log's configuration from g3proxy's log
// configuration, as g3proxy reads it: see [ParseYAMLLog]. Relative file
// names (certificates) are taken from the current directory.
func ParseYAML(data []byte) (Config, error) {
	return ParseYAMLLog(data, "task", "")
}

// ParseYAMLFile reads the configuration of logType from a g3proxy
// configuration file (its log: block, or a file holding only that block);
// relative file names in it are taken from the file's folder, as g3proxy
// takes them from its configuration folder.
func ParseYAMLFile(path, logType string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("tasklog/driver: %w", err)
	}
	return ParseYAMLLog(data, logType, filepath.Dir(path))
}

// ParseYAMLLog returns the Config g3proxy gives the log of logType
// ("task", "escape", "resolve" or "audit") for a log configuration, read
// with g3's own rules (g3proxy/src/config/log.rs, lib/g3-daemon
// log/event/config.rs, lib/g3-syslog yaml.rs, lib/g3-fluentd
// config/yaml.rs and lib/g3-yaml). data is g3proxy's log: block, with or
// without its log: key (a whole g3proxy configuration is fine: only its
// log: block is read):
//
//   - a driver name: discard, syslog, fluentd, journal or stdout (and
//     tasklog's own json and cee) for every log type;
//   - a map with default (a log config), syslog or fluentd (that driver's
//     config, as the default), and task, escape, resolve and audit (a log
//     config for that log type). A log config is a driver name or a map
//     with one of the driver keys journal, syslog and fluentd (the last
//     one wins; none is discard) and async_channel_size (channel_size),
//     async_thread_number (thread_number) and io_error_sampling_offset.
//
// Keys are matched as g3 matches them: any case, '-' and '_' alike. Values
// take g3's forms: booleans as true/false, yes/no, on/off, 1/0; integers
// as numbers or strings; durations as "1h 30m", "500ms", "1d" or a number
// of seconds; socket addresses as IP:PORT, "$VAR" (an environment
// variable holding one) or "@HOST:PORT" (looked up once, at parse time);
// certificates and keys as PEM text or file names.
//
// tasklog adds one syslog key, rfc5424_strict (a boolean, with
// format_rfc5424; see SyslogConfig.RFC5424Strict).
//
// What g3 rejects is rejected, and what tasklog cannot honour is an error
// that says so; nothing is accepted and ignored. An error names the key,
// with its path in the block, and the value. Relative file names are taken
// from confDir ("" means the current directory).
func ParseYAMLLog(data []byte, logType, confDir string) (Config, error) {
	switch logType {
	case "task", "escape", "resolve", "audit":
	default:
		return Config{}, fmt.Errorf("tasklog/driver: log type %q: want task, escape, resolve or audit", logType)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("tasklog/driver: log config: %w", err)
	}
	p := &yparser{dir: confDir}
	if len(doc.Content) == 0 {
		return Config{Driver: "discard"}, nil
	}
	n := doc.Content[0]
	path := "log"
	if n.Kind == yaml.MappingNode {
		if v := mapValue(n, "log"); v != nil {
			n = v
		}
	}
	var def, own *Config
	switch kindOf(n) {
	case "null":
	case "string":
		c, err := p.driverName(path, n)
		if err != nil {
			return Config{}, err
		}
		def = &c
	case "map":
		err := p.eachKey(path, n, logBlockKeys, func(key, k string, v *yaml.Node) error {
			var c Config
			var err error
			switch k {
			case "default":
				c, err = p.logConfig(key, v)
			case "syslog":
				c.Driver = "syslog"
				c.Syslog, err = p.syslog(key, v)
			case "fluentd":
				c.Driver = "fluentd"
				c.Fluentd, err = p.fluentd(key, v)
			default: // task, escape, resolve, audit
				c, err = p.logConfig(key, v)
				if err == nil && k == logType {
					own = &c
				}
				return err
			}
			if err == nil {
				def = &c
			}
			return err
		})
		if err != nil {
			return Config{}, err
		}
	default:
		return Config{}, p.errorf(path, n, "want a driver name or a map")
	}
	switch {
	case own != nil:
		return *own, nil
	case def != nil:
		return *def, nil
	}
	return Config{Driver: "discard"}, nil
}

var (
	logBlockKeys  = []string{"default", "syslog", "fluentd", "task", "escape", "resolve", "audit"}
	logConfigKeys = []string{"journal", "syslog", "fluentd", "async_channel_size", "channel_size",
		"async_thread_number", "thread_number", "io_error_sampling_offset"}
	syslogKeys = []string{"target_unix", "backend_unix", "target_udp", "backend_udp", "target", "backend",
		"format_rfc5424", "use_cee_log_syntax", "use_cls", "cee_event_flag", "cee_cookie", "emit_hostname", "append_report_ts", "rfc5424_strict"}
	fluentdKeys = []string{"address", "addr", "bind_ip", "bind", "shared_key", "username", "password", "hostname",
		"tcp_keepalive", "tls", "tls_client", "tls_name", "connect_timeout", "connect_delay", "write_timeout", "flush_interval"}
	tlsClientKeys = []string{"protocol", "min_tls_version", "tls_version_min", "max_tls_version", "tls_version_max",
		"ciphers", "disable_sni", "certificate", "cert", "private_key", "key", "cert_pair", "tlcp_cert_pair",
		"ca_certificate", "ca_cert", "server_auth_certificate", "server_auth_cert", "no_default_ca_certificate",
		"no_default_ca_cert", "handshake_timeout", "negotiation_timeout", "no_session_cache", "disable_session_cache",
		"session_cache_disabled", "use_builtin_session_cache", "session_cache_lru_max_sites",
		"session_cache_each_capacity", "session_cache_each_cap", "supported_groups", "use_ocsp_stapling",
		"enable_sct", "enable_grease", "permute_extensions", "insecure"}
)

// yparser reads g3's YAML values; dir is where relative file names start.
type yparser struct{ dir string }

// errorf returns an error naming the key's path and, for a scalar, its
// value, once.
func (p *yparser) errorf(path string, v *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return fmt.Errorf("tasklog/driver: log config: %s: %q: %s", path, v.Value, msg)
	}
	return fmt.Errorf("tasklog/driver: log config: %s: %s", path, msg)
}

// kindOf names a node's type as g3's YAML parser (yaml-rust) sees it.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return kindOf(n.Alias)
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean"
		case "!!int":
			return "integer"
		case "!!float":
			return "real"
		}
		return "string"
	}
	return "document"
}

// normKey is g3_yaml::key::normalize: lower case, '-' as '_'.
func normKey(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

// mapValue returns the value of key k (normalized) in mapping n, or nil.
func mapValue(n *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if normKey(n.Content[i].Value) == k {
			return n.Content[i+1]
		}
	}
	return nil
}

// eachKey calls fn for every key of the mapping n in order, with the key
// as written and normalized; a key outside known is an error that
// suggests the nearest known one.
func (p *yparser) eachKey(path string, n *yaml.Node, known []string, fn func(key, k string, v *yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		if kindOf(kn) != "string" {
			return p.errorf(path, kn, "a key must be a string")
		}
		k := normKey(kn.Value)
		key := path + "." + kn.Value
		found := false
		for _, w := range known {
			if w == k {
				found = true
				break
			}
		}
		if !found {
			msg := "unknown key"
			if s := nearest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return fmt.Errorf("tasklog/driver: log config: %s: %s", key, msg)
		}
		if err := fn(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

// nearest returns the known key closest to k within two edits, or "".
func nearest(k string, known []string) string {
	best, bestD := "", 3
	for _, w := range known {
		if d := editDistance(k, w); d < bestD {
			best, bestD = w, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// driverName is g3's LogConfig::with_driver_name: the exact names, with
// the driver's defaults (the bare syslog name has facility user).
func (p *yparser) driverName(path string, n *yaml.Node) (Config, error) {
	c := Config{Driver: n.Value}
	switch n.Value {
	case "syslog":
		c.Syslog.Facility = ptrTo(FacilityUser)
	case "discard", "fluentd", "journal", "stdout":
	case "json", "cee": // tasklog's own
	default:
		msg := "unknown driver (want discard, syslog, fluentd, journal or stdout, or tasklog's json or cee)"
		if s := nearest(strings.ToLower(n.Value), []string{"discard", "syslog", "fluentd", "journal", "stdout", "json", "cee"}); s != "" {
			msg += fmt.Sprintf("; did you mean %s? (names are lower case)", s)
		}
		return c, p.errorf(path, n, "%s", msg)
	}
	return c, nil
}

// logConfig is g3's LogConfig::parse_yaml.
func (p *yparser) logConfig(path string, n *yaml.Node) (Config, error) {
	switch kindOf(n) {
	case "string":
		return p.driverName(path, n)
	case "map":
	default:
		return Config{}, p.errorf(path, n, "want a driver name or a map")
	}
	c := Config{Driver: "discard"}
	err := p.eachKey(path, n, logConfigKeys, func(key, k string, v *yaml.Node) error {
		var err error
		switch k {
		case "journal":
			c.Driver = "journal" // g3 reads nothing under it
		case "syslog":
			c.Driver = "syslog"
			c.Syslog, err = p.syslog(key, v)
		case "fluentd":
			c.Driver = "fluentd"
			c.Fluentd, err = p.fluentd(key, v)
		case "async_channel_size", "channel_size":
			var n uint64
			if n, err = p.uint(key, v, 64); err == nil {
				if n == 0 || n > 1<<24 {
					return p.errorf(key, v, "tasklog's queue holds 1 to %d records", 1<<24)
				}
				c.Options.QueueSize = int(n)
			}
		case "async_thread_number", "thread_number":
			var n uint64
			if n, err = p.uint(key, v, 64); err == nil {
				if n == 0 || n > 64 {
					return p.errorf(key, v, "tasklog runs 1 to 64 writers")
				}
				c.Options.Writers = int(n)
			}
		case "io_error_sampling_offset":
			var n uint64
			if n, err = p.uint(key, v, 64); err == nil {
				if n > maxErrorSamplingShift {
					return p.errorf(key, v, "want at most %d", maxErrorSamplingShift)
				}
				c.Options.ErrorSampling = int(n)
				if n == 0 {
					c.Options.ErrorSampling = -1 // every error, not the default
				}
			}
		}
		return err
	})
	return c, err
}

// syslog is g3's SyslogBuilder::parse_yaml: a map, or nothing for the
// defaults; facility daemon either way.
func (p *yparser) syslog(path string, n *yaml.Node) (SyslogConfig, error) {
	c := SyslogConfig{Facility: ptrTo(FacilityDaemon)}
	switch kindOf(n) {
	case "null":
		return c, nil
	case "map":
	default:
		return c, p.errorf(path, n, "want a map")
	}
	err := p.eachKey(path, n, syslogKeys, func(key, k string, v *yaml.Node) error {
		var err error
		switch k {
		case "target_unix", "backend_unix":
			err = p.syslogUnix(key, v, &c)
		case "target_udp", "backend_udp":
			err = p.syslogUDP(key, v, &c)
		case "target", "backend":
			if kindOf(v) != "map" {
				return p.errorf(key, v, "want a map with udp or unix")
			}
			err = p.eachKey(key, v, []string{"udp", "unix"}, func(key, k string, v *yaml.Node) error {
				if k == "udp" {
					return p.syslogUDP(key, v, &c)
				}
				return p.syslogUnix(key, v, &c)
			})
		case "format_rfc5424":
			err = p.rfc5424(key, v, &c)
		case "use_cee_log_syntax", "use_cls":
			c.CEE, err = p.bool(key, v)
		case "cee_event_flag", "cee_cookie":
			var s string
			if s, err = p.str(key, v); err == nil {
				for i := 0; i < len(s); i++ {
					if s[i] >= 0x80 {
						return p.errorf(key, v, "want an ASCII string")
					}
				}
				c.CEEEventFlag = s
			}
		case "emit_hostname":
			c.EmitHostname, err = p.bool(key, v)
		case "append_report_ts":
			c.AppendReportTS, err = p.bool(key, v)
		case "rfc5424_strict": // tasklog's extension: SyslogConfig.RFC5424Strict
			c.RFC5424Strict, err = p.bool(key, v)
		}
		return err
	})
	if err == nil && c.RFC5424Strict && !c.RFC5424 {
		return c, p.errorf(path+".rfc5424_strict", nil, "true, but format_rfc5424 is not set: strict applies to RFC 5424 only")
	}
	if err == nil && c.CEEEventFlag == "" && c.CEE {
		c.CEEEventFlag = ceeEventFlag
	}
	return c, err
}

// syslogUnix reads target_unix: an absolute path, or a map with one.
func (p *yparser) syslogUnix(path string, v *yaml.Node, c *SyslogConfig) error {
	var file string
	var err error
	switch kindOf(v) {
	case "string":
		file, err = p.absPath(path, v)
	case "map":
		err = p.eachKey(path, v, []string{"path"}, func(key, _ string, v *yaml.Node) error {
			var err error
			file, err = p.absPath(key, v)
			return err
		})
		if err == nil && file == "" {
			err = p.errorf(path, nil, "no path has been set")
		}
	default:
		err = p.errorf(path, v, "want a path or a map with path")
	}
	if err == nil {
		c.UnixPath, c.UDPAddr, c.BindIP = file, "", netip.Addr{}
	}
	return err
}

// syslogUDP reads target_udp: IP:PORT, or a map with address (IP:PORT,
// $VAR or @HOST:PORT) and bind_ip.
func (p *yparser) syslogUDP(path string, v *yaml.Node, c *SyslogConfig) error {
	switch kindOf(v) {
	case "string":
		ap, err := p.sockAddr(path, v, false)
		if err == nil {
			c.UDPAddr, c.UnixPath, c.BindIP = ap.String(), "", netip.Addr{}
		}
		return err
	case "map":
	default:
		return p.errorf(path, v, "want IP:PORT or a map with address")
	}
	var addr netip.AddrPort
	var bind netip.Addr
	err := p.eachKey(path, v, []string{"address", "addr", "bind_ip", "bind"}, func(key, k string, v *yaml.Node) error {
		var err error
		if k == "address" || k == "addr" {
			addr, err = p.sockAddr(key, v, true)
		} else {
			bind, err = p.ip(key, v)
		}
		return err
	})
	if err == nil && !addr.IsValid() {
		err = p.errorf(path, nil, "no target address has been set")
	}
	if err == nil {
		c.UDPAddr, c.UnixPath, c.BindIP = addr.String(), "", bind
	}
	return err
}

// rfc5424 reads format_rfc5424: a map with enterprise_id and message_id,
// an enterprise id, or a message id.
func (p *yparser) rfc5424(path string, v *yaml.Node, c *SyslogConfig) error {
	var eid int64
	var mid string
	var err error
	switch kindOf(v) {
	case "map":
		err = p.eachKey(path, v, []string{"enterprise_id", "message_id"}, func(key, k string, v *yaml.Node) error {
			var err error
			if k == "enterprise_id" {
				eid, err = p.int(key, v, 32)
			} else {
				mid, err = p.str(key, v)
			}
			return err
		})
	case "integer":
		eid, err = p.int(path, v, 32)
	case "string":
		mid = v.Value
	default:
		err = p.errorf(path, v, "want a map with enterprise_id and message_id, an enterprise id or a message id")
	}
	if err == nil {
		c.RFC5424, c.EnterpriseID, c.MessageID = true, int32(eid), mid
	}
	return err
}

// fluentd is g3's FluentdClientConfig::parse_yaml: a map, a server
// address, or nothing for the defaults.
func (p *yparser) fluentd(path string, n *yaml.Node) (FluentdConfig, error) {
	var c FluentdConfig
	switch kindOf(n) {
	case "null":
		return c, nil
	case "string":
		ap, err := p.sockAddr(path, n, true)
		c.Address = ap.String()
		return c, err
	case "map":
	default:
		return c, p.errorf(path, n, "want a map or an address")
	}
	var tlsName string
	var tlsNode *yaml.Node
	var tlsPath string
	err := p.eachKey(path, n, fluentdKeys, func(key, k string, v *yaml.Node) error {
		var err error
		switch k {
		case "address", "addr":
			var ap netip.AddrPort
			ap, err = p.sockAddr(key, v, true)
			c.Address = ap.String()
		case "bind_ip", "bind":
			c.BindIP, err = p.ip(key, v)
		case "shared_key":
			c.SharedKey, err = p.str(key, v)
		case "username":
			c.Username, err = p.str(key, v)
		case "password":
			c.Password, err = p.str(key, v)
		case "hostname":
			c.Hostname, err = p.str(key, v)
		case "tcp_keepalive":
			c.KeepAlive, err = p.keepAlive(key, v)
		case "tls", "tls_client":
			tlsNode, tlsPath = v, key
		case "tls_name":
			tlsName, err = p.host(key, v)
		case "connect_timeout":
			c.ConnectTimeout, err = p.duration(key, v)
		case "connect_delay":
			c.ConnectDelay, err = p.duration(key, v)
		case "write_timeout":
			c.WriteTimeout, err = p.duration(key, v)
		case "flush_interval":
			c.FlushInterval, err = p.duration(key, v)
		}
		return err
	})
	if err != nil {
		return c, err
	}
	if tlsNode != nil {
		if c.TLS, c.TLSHandshakeTimeout, c.TLSDisableSNI, err = p.tlsClient(tlsPath, tlsNode); err != nil {
			return c, err
		}
		// As g3: the name to verify is tls_name, else the server's IP,
		// wherever tls_name stands.
		c.TLS.ServerName = tlsName
	}
	return c, nil
}

// keepAlive is g3's as_tcp_keepalive_config: a map (enable, idle_time,
// probe_interval, probe_count; off unless enable says so), a boolean, or
// an idle time that turns it on.
func (p *yparser) keepAlive(path string, v *yaml.Node) (*net.KeepAliveConfig, error) {
	ka := &net.KeepAliveConfig{Enable: false, Idle: 60 * time.Second, Interval: -1, Count: -1}
	var err error
	switch kindOf(v) {
	case "map":
		err = p.eachKey(path, v, []string{"enable", "idle_time", "probe_interval", "probe_count"}, func(key, k string, v *yaml.Node) error {
			var err error
			switch k {
			case "enable":
				ka.Enable, err = p.bool(key, v)
			case "idle_time":
				ka.Idle, err = p.duration(key, v)
			case "probe_interval":
				ka.Interval, err = p.duration(key, v)
			case "probe_count":
				var n uint64
				if n, err = p.uint(key, v, 32); err == nil {
					if n > math.MaxInt32 {
						return p.errorf(key, v, "too many probes")
					}
					ka.Count = int(n)
				}
			}
			return err
		})
	case "boolean":
		ka.Enable, err = p.bool(path, v)
	default:
		ka.Enable = true
		ka.Idle, err = p.duration(path, v)
	}
	return ka, err
}

// tlsClient reads g3's tls_client map into a crypto/tls configuration,
// with the handshake timeout and whether SNI is off, which crypto/tls
// configures elsewhere.
func (p *yparser) tlsClient(path string, v *yaml.Node) (*tls.Config, time.Duration, bool, error) {
	cfg := &tls.Config{}
	timeout := 10 * time.Second // g3's default handshake timeout
	var noSNI, noDefaultCA bool
	var cas []*x509.Certificate
	var certPEM, keyPEM []byte
	var pair *tls.Certificate
	cacheOff, cacheCap := false, 0
	if kindOf(v) != "map" {
		return nil, 0, false, p.errorf(path, v, "want a map (an empty one, {}, for the defaults)")
	}
	err := p.eachKey(path, v, tlsClientKeys, func(key, k string, v *yaml.Node) error {
		var err error
		switch k {
		case "protocol":
			var ver uint16
			if ver, err = p.tlsProtocol(key, v); err == nil {
				cfg.MinVersion, cfg.MaxVersion = ver, ver
			}
		case "min_tls_version", "tls_version_min":
			cfg.MinVersion, err = p.tlsVersion(key, v)
		case "max_tls_version", "tls_version_max":
			cfg.MaxVersion, err = p.tlsVersion(key, v)
		case "ciphers":
			cfg.CipherSuites, err = p.ciphers(key, v)
		case "disable_sni":
			noSNI, err = p.bool(key, v)
		case "certificate", "cert":
			certPEM, err = p.pemData(key, v, "CERTIFICATE", true)
		case "private_key", "key":
			keyPEM, err = p.pemData(key, v, "PRIVATE KEY", false)
		case "cert_pair":
			var c *tls.Certificate
			if c, err = p.certPair(key, v); err == nil {
				pair = c
			}
		case "tlcp_cert_pair":
			err = p.errorf(key, nil, "TLCP (tongsuo's Chinese national TLS) is not available in Go's crypto/tls")
		case "ca_certificate", "ca_cert", "server_auth_certificate", "server_auth_cert":
			var data []byte
			if data, err = p.pemData(key, v, "CERTIFICATE", true); err == nil {
				cas = nil
				for rest := data; ; {
					var b *pem.Block
					if b, rest = pem.Decode(rest); b == nil {
						break
					}
					c, perr := x509.ParseCertificate(b.Bytes)
					if perr != nil {
						return p.errorf(key, nil, "invalid certificate: %v", perr)
					}
					cas = append(cas, c)
				}
			}
		case "no_default_ca_certificate", "no_default_ca_cert":
			noDefaultCA, err = p.bool(key, v)
		case "handshake_timeout", "negotiation_timeout":
			timeout, err = p.duration(key, v)
			timeout = max(timeout, 100*time.Millisecond) // g3's minimum
		case "no_session_cache", "disable_session_cache", "session_cache_disabled":
			cacheOff, err = p.bool(key, v)
		case "use_builtin_session_cache":
			_, err = p.bool(key, v) // crypto/tls has one kind of session cache
		case "session_cache_lru_max_sites":
			_, err = p.uint(key, v, 64) // one server: one site, as in g3's client for one site
		case "session_cache_each_capacity", "session_cache_each_cap":
			var n uint64
			if n, err = p.uint(key, v, 64); err == nil {
				cacheCap = int(min(n, 1<<20))
			}
		case "supported_groups":
			var s string
			if s, err = p.str(key, v); err == nil {
				cfg.CurvePreferences, err = p.groups(key, v, s)
			}
		case "use_ocsp_stapling", "enable_sct":
			var on bool
			if on, err = p.bool(key, v); err == nil && !on {
				err = p.errorf(key, v, "Go's crypto/tls always asks for it; it cannot be turned off")
			}
		case "enable_grease", "permute_extensions":
			var on bool
			if on, err = p.bool(key, v); err == nil && on {
				err = p.errorf(key, v, "Go's crypto/tls does not offer it")
			}
		case "insecure":
			cfg.InsecureSkipVerify, err = p.bool(key, v)
		}
		return err
	})
	if err != nil {
		return nil, 0, false, err
	}
	if (certPEM == nil) != (keyPEM == nil) {
		return nil, 0, false, p.errorf(path, nil, "a client certificate needs both certificate and private_key")
	}
	if certPEM != nil {
		if pair != nil {
			return nil, 0, false, p.errorf(path, nil, "found duplicate client certificate config (certificate and cert_pair)")
		}
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, 0, false, p.errorf(path, nil, "client certificate: %v", err)
		}
		pair = &c
	}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{*pair}
	}
	if cas != nil || noDefaultCA {
		pool := x509.NewCertPool()
		if !noDefaultCA {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys
			}
		}
		for _, c := range cas {
			pool.AddCert(c)
		}
		cfg.RootCAs = pool
	}
	if !cacheOff {
		if cacheCap == 0 {
			cacheCap = 16
		}
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(cacheCap)
	}
	return cfg, timeout, noSNI, nil
}

func (p *yparser) certPair(path string, v *yaml.Node) (*tls.Certificate, error) {
	if kindOf(v) != "map" {
		return nil, p.errorf(path, v, "want a map with certificate and private_key")
	}
	var certPEM, keyPEM []byte
	err := p.eachKey(path, v, []string{"certificate", "cert", "private_key", "key"}, func(key, k string, v *yaml.Node) error {
		var err error
		if k == "certificate" || k == "cert" {
			certPEM, err = p.pemData(key, v, "CERTIFICATE", true)
		} else {
			keyPEM, err = p.pemData(key, v, "PRIVATE KEY", false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if certPEM == nil || keyPEM == nil {
		return nil, p.errorf(path, nil, "a certificate pair needs both certificate and private_key")
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, p.errorf(path, nil, "%v", err)
	}
	return &c, nil
}

// pemData reads PEM text given inline (it starts with "--") or from a
// file; certificates may come as a list of either.
func (p *yparser) pemData(path string, v *yaml.Node, what string, list bool) ([]byte, error) {
	if list && kindOf(v) == "list" {
		var all []byte
		for i, e := range v.Content {
			b, err := p.pemData(fmt.Sprintf("%s[%d]", path, i), e, what, false)
			if err != nil {
				return nil, err
			}
			all = append(all, b...)
		}
		return all, nil
	}
	if kindOf(v) != "string" {
		return nil, p.errorf(path, v, "want PEM text or a file name")
	}
	data := []byte(v.Value)
	if !strings.HasPrefix(strings.TrimLeft(v.Value, " \t\r\n"), "--") {
		name := v.Value
		if !filepath.IsAbs(name) && p.dir != "" {
			name = filepath.Join(p.dir, name)
		}
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return nil, p.errorf(path, v, "%v", err)
		}
	}
	b, _ := pem.Decode(data)
	if b == nil || !strings.Contains(b.Type, what) {
		return nil, p.errorf(path, nil, "no PEM %s found", strings.ToLower(what))
	}
	return data, nil
}

var tlsVersions = map[string]uint16{
	"1.0": tls.VersionTLS10, "tls10": tls.VersionTLS10, "tls1.0": tls.VersionTLS10, "tls1_0": tls.VersionTLS10,
	"1.1": tls.VersionTLS11, "tls11": tls.VersionTLS11, "tls1.1": tls.VersionTLS11, "tls1_1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12, "tls12": tls.VersionTLS12, "tls1.2": tls.VersionTLS12, "tls1_2": tls.VersionTLS12,
	"1.3": tls.VersionTLS13, "tls13": tls.VersionTLS13, "tls1.3": tls.VersionTLS13, "tls1_3": tls.VersionTLS13,
}

// tlsVersion is g3's as_tls_version: a string such as "tls1.2" or "1.2",
// or a number such as 1.2.
func (p *yparser) tlsVersion(path string, v *yaml.Node) (uint16, error) {
	switch kindOf(v) {
	case "string", "real":
		if ver, ok := tlsVersions[strings.ToLower(v.Value)]; ok {
			return ver, nil
		}
	}
	return 0, p.errorf(path, v, "want a TLS version: 1.0, 1.1, 1.2 or 1.3 (or tls1.2, ...)")
}

// tlsProtocol is g3's OpensslProtocol: one TLS version to use.
func (p *yparser) tlsProtocol(path string, v *yaml.Node) (uint16, error) {
	if kindOf(v) == "string" {
		s := strings.ToLower(v.Value)
		switch s {
		case "ssl3", "ssl30", "ssl3.0", "ssl3_0":
			return 0, p.errorf(path, v, "SSL 3.0 is not available in Go's crypto/tls")
		case "tlcp", "tlcp1.1", "tlcp1_1":
			return 0, p.errorf(path, v, "TLCP is not available in Go's crypto/tls")
		case "tls1":
			s = "tls1.0"
		}
		if ver, ok := tlsVersions[s]; ok && strings.HasPrefix(s, "tls") {
			return ver, nil
		}
	}
	return 0, p.errorf(path, v, "unknown protocol (want tls1, tls1.1, tls1.2 or tls1.3)")
}

// opensslCiphers maps OpenSSL's names of the TLS 1.2 suites crypto/tls
// implements to its IDs.
var opensslCiphers = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// ciphers reads OpenSSL cipher names, "A:B" or a list.
func (p *yparser) ciphers(path string, v *yaml.Node) ([]uint16, error) {
	var names []string
	switch kindOf(v) {
	case "string":
		names = strings.Split(v.Value, ":")
	case "list":
		for i, e := range v.Content {
			if kindOf(e) != "string" {
				return nil, p.errorf(fmt.Sprintf("%s[%d]", path, i), e, "want a cipher name")
			}
			names = append(names, e.Value)
		}
	default:
		return nil, p.errorf(path, v, "want cipher names, A:B or a list")
	}
	var ids []uint16
	for _, name := range names {
		if strings.HasPrefix(name, "TLS_") {
			return nil, p.errorf(path, v, "%s: Go's crypto/tls does not let TLS 1.3 suites be chosen", name)
		}
		id, ok := opensslCiphers[name]
		if !ok {
			return nil, p.errorf(path, v, "%s: not a cipher suite Go's crypto/tls implements", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

var opensslGroups = map[string]tls.CurveID{
	"x25519": tls.X25519, "p-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"p-384": tls.CurveP384, "secp384r1": tls.CurveP384, "p-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"x25519mlkem768": tls.X25519MLKEM768,
}

func (p *yparser) groups(path string, v *yaml.Node, s string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, g := range strings.Split(s, ":") {
		id, ok := opensslGroups[strings.ToLower(g)]
		if !ok {
			return nil, p.errorf(path, v, "%s: not a group Go's crypto/tls implements", g)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// str is g3's as_string: a string, or a number as written.
func (p *yparser) str(path string, v *yaml.Node) (string, error) {
	switch kindOf(v) {
	case "string", "integer", "real":
		return v.Value, nil
	}
	return "", p.errorf(path, v, "want a string")
}

// bool is g3's as_bool.
func (p *yparser) bool(path string, v *yaml.Node) (bool, error) {
	switch kindOf(v) {
	case "boolean":
		return v.Value == "true" || v.Value == "True" || v.Value == "TRUE", nil
	case "integer":
		n, err := strconv.ParseInt(v.Value, 0, 64)
		return n != 0, err
	case "string":
		switch strings.ToLower(v.Value) {
		case "on", "true", "yes", "1":
			return true, nil
		case "off", "false", "no", "0":
			return false, nil
		}
	}
	return false, p.errorf(path, v, "want a boolean: true or false (yes/no, on/off, 1/0)")
}

// uint is g3's as_u32, as_u64, as_usize: a number or a string of digits.
func (p *yparser) uint(path string, v *yaml.Node, bits int) (uint64, error) {
	switch kindOf(v) {
	case "integer", "string":
		s := v.Value
		base := 10
		if kindOf(v) == "integer" {
			base = 0
		}
		if n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), base, bits); err == nil {
			return n, nil
		}
	}
	return 0, p.errorf(path, v, "want a whole number from 0 to %d", uint64(1)<<bits-1)
}

// int is g3's as_i32 and the like.
func (p *yparser) int(path string, v *yaml.Node, bits int) (int64, error) {
	switch kindOf(v) {
	case "integer", "string":
		base := 10
		if kindOf(v) == "integer" {
			base = 0
		}
		if n, err := strconv.ParseInt(v.Value, base, bits); err == nil {
			return n, nil
		}
	}
	return 0, p.errorf(path, v, "want a whole number from %d to %d", -int64(1)<<(bits-1), int64(1)<<(bits-1)-1)
}

// duration is g3's humanize::as_duration: "1h 30m", "500ms", "1d" (units
// ns, us, ms, s, m, h, d, each after a whole number), a plain number of
// seconds as a string or a number, or a fraction of seconds as a number.
func (p *yparser) duration(path string, v *yaml.Node) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, p.errorf(path, v, "%s (want a duration such as 10s, 1h 30m or 500ms)", why)
	}
	switch kindOf(v) {
	case "integer":
		n, err := strconv.ParseUint(v.Value, 0, 64)
		if err != nil {
			return bad("not a whole number of seconds")
		}
		return secs(float64(n), bad)
	case "real":
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad("not a number of seconds")
		}
		return secs(f, bad)
	case "string":
	default:
		return bad("not a duration")
	}
	s := strings.TrimSpace(v.Value)
	if s == "" {
		return bad("empty")
	}
	if s == "0" {
		return 0, nil
	}
	var total uint64
	for i := 0; i < len(s); {
		j := i
		var n uint64
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			d := uint64(s[j] - '0')
			if n > (math.MaxUint64-d)/10 {
				return bad("too long")
			}
			n = n*10 + d
			j++
		}
		if j == i {
			return bad("a unit without a number")
		}
		k := j
		for k < len(s) && (s[k] < '0' || s[k] > '9') {
			k++
		}
		if k == j {
			// A number without a unit: g3 reads the whole string as
			// seconds if it is one number, and refuses it otherwise.
			if i == 0 {
				return secs(float64(n), bad)
			}
			return bad("a number without a unit")
		}
		unit, ok := map[string]uint64{"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9}[strings.TrimSpace(s[j:k])]
		if !ok {
			return bad(fmt.Sprintf("unknown unit %q (ns, us, ms, s, m, h, d)", strings.TrimSpace(s[j:k])))
		}
		if n != 0 && unit > math.MaxUint64/n || total > math.MaxUint64-n*unit {
			return bad("too long")
		}
		total += n * unit
		i = k
	}
	if total > math.MaxInt64 {
		return bad("longer than Go's time.Duration holds (292 years)")
	}
	return time.Duration(total), nil
}

func secs(f float64, bad func(string) (time.Duration, error)) (time.Duration, error) {
	if f*1e9 >= math.MaxInt64 {
		return bad("longer than Go's time.Duration holds (292 years)")
	}
	return time.Duration(f * 1e9), nil
}

// sockAddr is g3's as_sockaddr (IP:PORT) and, with env, as_env_sockaddr:
// also "$VAR", an environment variable holding IP:PORT, and "@HOST:PORT",
// looked up now and required to give one address.
func (p *yparser) sockAddr(path string, v *yaml.Node, env bool) (netip.AddrPort, error) {
	if kindOf(v) != "string" {
		return netip.AddrPort{}, p.errorf(path, v, "want IP:PORT")
	}
	s := v.Value
	if env {
		if name, ok := strings.CutPrefix(s, "$"); ok {
			val, set := os.LookupEnv(name)
			if !set {
				return netip.AddrPort{}, p.errorf(path, v, "the environment variable %s is not set", name)
			}
			ap, err := netip.ParseAddrPort(val)
			if err != nil || ap.Addr().Zone() != "" {
				return netip.AddrPort{}, p.errorf(path, v, "the environment variable %s holds %q, not IP:PORT", name, val)
			}
			return ap, nil
		}
		if hostPort, ok := strings.CutPrefix(s, "@"); ok {
			host, port, err := net.SplitHostPort(hostPort)
			if err != nil {
				return netip.AddrPort{}, p.errorf(path, v, "want @HOST:PORT: %v", err)
			}
			pn, err := strconv.ParseUint(port, 10, 16)
			if err != nil {
				return netip.AddrPort{}, p.errorf(path, v, "invalid port %q", port)
			}
			var addrs []netip.Addr
			if a, err := netip.ParseAddr(host); err == nil {
				addrs = []netip.Addr{a}
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				addrs, err = lookupHost(ctx, host)
				cancel()
				if err != nil {
					return netip.AddrPort{}, p.errorf(path, v, "%v", err)
				}
			}
			if len(addrs) != 1 {
				return netip.AddrPort{}, p.errorf(path, v, "%s resolved to %d addresses, want one", host, len(addrs))
			}
			return netip.AddrPortFrom(addrs[0], uint16(pn)), nil
		}
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Addr().Zone() != "" {
		want := "IP:PORT (a host name needs @HOST:PORT)"
		if !env {
			want = "IP:PORT (a host name or $VAR needs the map form's address)"
		}
		return netip.AddrPort{}, p.errorf(path, v, "want %s", want)
	}
	return ap, nil
}

// lookupHost resolves "@HOST:PORT" addresses, as g3 does with the
// system's resolver; tests replace it, so that they resolve nothing.
var lookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, err
}

// ip is g3's as_ipaddr.
func (p *yparser) ip(path string, v *yaml.Node) (netip.Addr, error) {
	if kindOf(v) == "string" {
		if a, err := netip.ParseAddr(v.Value); err == nil && a.Zone() == "" {
			return a, nil
		}
	}
	return netip.Addr{}, p.errorf(path, v, "want an IP address")
}

// absPath is g3's as_absolute_path.
func (p *yparser) absPath(path string, v *yaml.Node) (string, error) {
	if kindOf(v) == "string" && filepath.IsAbs(v.Value) {
		return v.Value, nil
	}
	return "", p.errorf(path, v, "want an absolute path")
}

// host is g3's as_host: an IP address or a domain name.
func (p *yparser) host(path string, v *yaml.Node) (string, error) {
	if kindOf(v) != "string" || v.Value == "" {
		return "", p.errorf(path, v, "want a host name or an IP address")
	}
	for i := 0; i < len(v.Value); i++ {
		if c := v.Value[i]; c >= 0x80 || c <= ' ' || c == '/' {
			return "", p.errorf(path, v, "want an ASCII host name (write an internationalized name in its xn-- form)")
		}
	}
	return strings.ToLower(v.Value), nil
}
