package otel

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.yaml.in/yaml/v3"

	"github.com/proxylog/tasklog/driver"
)

// LogConfig is a log configuration read by ParseYAMLLog: one of package
// driver's drivers, or the OTLP driver.
type LogConfig struct {
	Driver driver.Config // when the log type's driver is one of package driver's
	OTLP   *Config       // when it is otlp:
	// Options are the OTLP driver's queue settings (async_channel_size,
	// async_thread_number, io_error_sampling_offset).
	Options driver.Options
}

// Build returns the Core of the configuration's driver.
func (c LogConfig) Build() (*driver.Core, error) {
	if c.OTLP != nil {
		return New(*c.OTLP, c.Options)
	}
	return c.Driver.Build()
}

// otlpKeys are the keys of an otlp: driver map.
var otlpKeys = []string{"endpoint", "protocol", "url_path", "insecure", "headers", "tls_client", "timeout",
	"batch_size", "service_name", "host_name", "resource"}

// ParseYAMLLog reads g3proxy's log: block as driver.ParseYAMLLog does,
// with one driver key more, tasklog's extension that g3 does not have:
// otlp, a map with
//
//	endpoint: host:port          # default localhost:4318 (HTTP), localhost:4317 (gRPC)
//	protocol: http/protobuf      # or grpc
//	url_path: /v1/logs           # HTTP only
//	insecure: true               # no TLS; else TLS with tls_client
//	tls_client:                  # ca_certificate, certificate, private_key (PEM files), server_name
//	headers: {x-api-key: secret}
//	timeout: 10s                 # one export; a Go duration or seconds
//	batch_size: 512
//	service_name: g3proxy        # default: the records' daemon_name
//	host_name: edge-1
//	resource: {deployment.environment: prod}
//
// beside the queue keys of a log config (async_channel_size,
// async_thread_number, io_error_sampling_offset). It may stand where a
// driver map stands: under default or under a log type. Errors name the
// key's path and value, as package driver's do.
func ParseYAMLLog(data []byte, logType, confDir string) (LogConfig, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return LogConfig{}, fmt.Errorf("tasklog/otel: log config: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		c, err := driver.ParseYAMLLog(data, logType, confDir)
		return LogConfig{Driver: c}, err
	}
	root, path := doc.Content[0], "log"
	if v := mapGet(root, "log"); v != nil {
		root = v
	}
	// The entry that decides: the log type's, else default (g3's rule).
	// A copy of it is kept: the otlp entries are rewritten below.
	var chosen *yaml.Node
	chosenPath := ""
	for _, k := range []string{"default", logType} {
		if v := mapGet(root, k); isOTLP(v) {
			c := *v
			chosen, chosenPath = &c, path+"."+k
		} else if v != nil && k == logType {
			chosen = nil // the log type's own entry wins, and it is not otlp
		}
	}
	// Take every otlp entry out (package driver does not know the key),
	// then let package driver read the rest: its errors stay its own.
	for _, k := range []string{"default", "task", "escape", "resolve", "audit"} {
		if v := mapGet(root, k); isOTLP(v) {
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "discard"}
		}
	}
	rest, err := yaml.Marshal(&doc)
	if err != nil {
		return LogConfig{}, fmt.Errorf("tasklog/otel: log config: %w", err)
	}
	dc, err := driver.ParseYAMLLog(rest, logType, confDir)
	if err != nil {
		return LogConfig{}, err
	}
	if chosen == nil {
		return LogConfig{Driver: dc}, nil
	}
	return parseOTLPEntry(chosenPath, chosen, confDir)
}

// isOTLP reports whether a log config entry is a map with an otlp key.
func isOTLP(v *yaml.Node) bool {
	return v != nil && v.Kind == yaml.MappingNode && mapGet(v, "otlp") != nil
}

func parseOTLPEntry(path string, n *yaml.Node, confDir string) (LogConfig, error) {
	var lc LogConfig
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		kp := path + "." + k
		var err error
		switch norm(k) {
		case "otlp":
			var c Config
			c, err = parseOTLP(kp, v, confDir)
			lc.OTLP = &c
		case "async_channel_size", "channel_size":
			lc.Options.QueueSize, err = intValue(kp, v)
		case "async_thread_number", "thread_number":
			lc.Options.Writers, err = intValue(kp, v)
		case "io_error_sampling_offset":
			lc.Options.ErrorSampling, err = intValue(kp, v)
		default:
			err = fmt.Errorf("tasklog/otel: log config: %s: unknown key beside otlp", kp)
		}
		if err != nil {
			return LogConfig{}, err
		}
	}
	return lc, nil
}

func parseOTLP(path string, n *yaml.Node, confDir string) (Config, error) {
	var c Config
	if n.Kind != yaml.MappingNode {
		return c, fmt.Errorf("tasklog/otel: log config: %s: %q: want a map", path, n.Value)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		kp := path + "." + k
		var err error
		switch norm(k) {
		case "endpoint":
			c.Endpoint, err = str(kp, v)
		case "protocol":
			c.Protocol, err = str(kp, v)
			if err == nil && c.Protocol != ProtocolHTTP && c.Protocol != ProtocolGRPC {
				err = fmt.Errorf("tasklog/otel: log config: %s: %q: want %s or %s", kp, c.Protocol, ProtocolHTTP, ProtocolGRPC)
			}
		case "url_path":
			c.URLPath, err = str(kp, v)
		case "insecure":
			c.Insecure, err = boolValue(kp, v)
		case "headers":
			c.Headers, err = strMap(kp, v)
		case "tls_client":
			c.TLS, err = tlsClient(kp, v, confDir)
		case "timeout":
			c.Timeout, err = duration(kp, v)
		case "batch_size":
			c.BatchSize, err = intValue(kp, v)
		case "service_name":
			c.ServiceName, err = str(kp, v)
		case "host_name":
			c.HostName, err = str(kp, v)
		case "resource":
			var m map[string]string
			if m, err = strMap(kp, v); err == nil {
				for _, key := range slices.Sorted(maps.Keys(m)) {
					c.Resource = append(c.Resource, attribute.String(key, m[key]))
				}
			}
		default:
			err = fmt.Errorf("tasklog/otel: log config: %s: unknown key (want one of %s)", kp, strings.Join(otlpKeys, ", "))
		}
		if err != nil {
			return c, err
		}
	}
	if c.Insecure && c.TLS != nil {
		return c, fmt.Errorf("tasklog/otel: log config: %s: insecure and tls_client are both set", path)
	}
	return c, nil
}

func tlsClient(path string, n *yaml.Node, confDir string) (*tls.Config, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("tasklog/otel: log config: %s: %q: want a map", path, n.Value)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var cert, key string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		kp := path + "." + k
		s, err := str(kp, v)
		if err != nil {
			return nil, err
		}
		switch norm(k) {
		case "ca_certificate", "ca_cert":
			pem, err := readFile(kp, s, confDir)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tasklog/otel: log config: %s: %q: no PEM certificate in it", kp, s)
			}
		case "certificate", "cert":
			cert = s
		case "private_key", "key":
			key = s
		case "server_name", "tls_name":
			cfg.ServerName = s
		default:
			return nil, fmt.Errorf("tasklog/otel: log config: %s: unknown key (want ca_certificate, certificate, private_key or server_name)", kp)
		}
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("tasklog/otel: log config: %s: certificate and private_key go together", path)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(confDir, cert), filepath.Join(confDir, key))
		if err != nil {
			return nil, fmt.Errorf("tasklog/otel: log config: %s: %w", path, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func readFile(path, name, confDir string) ([]byte, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(confDir, name)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("tasklog/otel: log config: %s: %w", path, err)
	}
	return b, nil
}

// norm matches keys as g3 does: any case, '-' and '_' alike.
func norm(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if norm(n.Content[i].Value) == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func str(path string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", fmt.Errorf("tasklog/otel: log config: %s: want a string", path)
	}
	return n.Value, nil
}

func intValue(path string, n *yaml.Node) (int, error) {
	s, err := str(path, n)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("tasklog/otel: log config: %s: %q: want a whole number, 0 or more", path, s)
	}
	return v, nil
}

func boolValue(path string, n *yaml.Node) (bool, error) {
	s, err := str(path, n)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("tasklog/otel: log config: %s: %q: want a boolean", path, s)
}

// duration reads a Go duration ("10s", "1m30s") or a number of seconds.
func duration(path string, n *yaml.Node) (time.Duration, error) {
	s, err := str(path, n)
	if err != nil {
		return 0, err
	}
	if secs, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("tasklog/otel: log config: %s: %q: want a duration (10s, 1m30s) or seconds", path, s)
	}
	return d, nil
}

func strMap(path string, n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("tasklog/otel: log config: %s: want a map", path)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v, err := str(path+"."+n.Content[i].Value, n.Content[i+1])
		if err != nil {
			return nil, err
		}
		m[n.Content[i].Value] = v
	}
	if len(m) == 0 {
		return nil, errors.New("tasklog/otel: log config: " + path + ": an empty map")
	}
	return m, nil
}
