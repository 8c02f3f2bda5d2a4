package otel

import (
	"strings"
	"testing"
	"time"
)

func TestParseYAMLLog(t *testing.T) {
	const full = `
log:
  default: syslog
  task:
    otlp:
      endpoint: 127.0.0.1:4318
      protocol: grpc
      insecure: yes
      headers: {x-api-key: s3cret}
      timeout: 5s
      batch_size: 100
      service_name: edge
      resource: {deployment.environment: prod}
    async_channel_size: 100
  escape:
    fluentd: {address: 127.0.0.1:24224}
`
	c, err := ParseYAMLLog([]byte(full), "task", "")
	if err != nil {
		t.Fatal(err)
	}
	o := c.OTLP
	if o == nil || o.Endpoint != "127.0.0.1:4318" || o.Protocol != ProtocolGRPC || !o.Insecure || o.Headers["x-api-key"] != "s3cret" ||
		o.Timeout != 5*time.Second || o.BatchSize != 100 || o.ServiceName != "edge" || len(o.Resource) != 1 || c.Options.QueueSize != 100 {
		t.Errorf("task: %+v %+v", o, c.Options)
	}
	core, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	core.Close()
	for lt, want := range map[string]string{"escape": "fluentd", "resolve": "syslog"} {
		c, err := ParseYAMLLog([]byte(full), lt, "")
		if err != nil || c.OTLP != nil || c.Driver.Driver != want {
			t.Errorf("%s: %+v %v, want package driver's %s", lt, c, err, want)
		}
	}
	// otlp under default, without the log: key.
	c, err = ParseYAMLLog([]byte("default:\n  otlp: {endpoint: 'collector:4318'}\n"), "resolve", "")
	if err != nil || c.OTLP == nil || c.OTLP.Endpoint != "collector:4318" {
		t.Errorf("default otlp: %+v %v", c, err)
	}
	// A configuration without otlp reads as package driver reads it.
	c, err = ParseYAMLLog([]byte("log: journal\n"), "task", "")
	if err != nil || c.OTLP != nil || c.Driver.Driver != "journal" {
		t.Errorf("journal: %+v %v", c, err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"task:\n  otlp: {endpont: x:1}\n", "log.task.otlp.endpont: unknown key"},
		{"task:\n  otlp: {protocol: udp}\n", `log.task.otlp.protocol: "udp": want http/protobuf or grpc`},
		{"task:\n  otlp: {insecure: maybe}\n", `log.task.otlp.insecure: "maybe": want a boolean`},
		{"task:\n  otlp: {timeout: soon}\n", `log.task.otlp.timeout: "soon"`},
		{"task:\n  otlp: {insecure: true, tls_client: {server_name: x}}\n", "insecure and tls_client are both set"},
		{"task:\n  otlp: {tls_client: {ca_certificate: /nonexistent.pem}}\n", "log.task.otlp.tls_client.ca_certificate"},
		{"task:\n  otlp: {}\n  colour: blue\n", "log.task.colour: unknown key beside otlp"},
		{"task:\n  otlp: 5\n", `log.task.otlp: "5": want a map`},
		{"task:\n  syslog: {target_udpp: x}\n", "target_udpp"},
	} {
		_, err := ParseYAMLLog([]byte(tc.yaml), "task", "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.yaml, err, tc.want)
		}
	}
}
