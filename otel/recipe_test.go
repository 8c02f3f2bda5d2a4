package otel

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/syslogreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// TestCollectorRecipe runs docs/recipes/otelcol/collector.yaml in a
// Collector built in this process (otelcol.NewCollector, the file and env
// config providers), sends the records through tasklog's syslog
// (rfc5424_strict), fluentd and OTLP drivers, and reads the exporters'
// files back: every record of every stream, with its keys.
func TestCollectorRecipe(t *testing.T) {
	out := t.TempDir()
	ports := map[string]string{
		"TASKLOG_SYSLOG_RFC5424": addr(nettest.FreePort(t, "udp")), "TASKLOG_SYSLOG_RFC3164": addr(nettest.FreePort(t, "udp")),
		"TASKLOG_FLUENTD": addr(nettest.FreePort(t, "tcp")), "TASKLOG_OTLP_GRPC": addr(nettest.FreePort(t, "tcp")),
		"TASKLOG_OTLP_HTTP": addr(nettest.FreePort(t, "tcp")), "TASKLOG_OUT": out,
	}
	for k, v := range ports {
		t.Setenv(k, v)
	}
	recipe, err := filepath.Abs("../docs/recipes/otelcol/collector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "tasklog-recipe", Version: "test"},
		Factories: func() (otelcol.Factories, error) {
			var f otelcol.Factories
			var err error
			if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory(),
				syslogreceiver.NewFactory(), fluentforwardreceiver.NewFactory()); err != nil {
				return f, err
			}
			f.Telemetry = otelconftelemetry.NewFactory()
			f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](fileexporter.NewFactory())
			return f, err
		},
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"file:" + recipe},
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
			DefaultScheme:     "env",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	defer func() {
		col.Shutdown()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("collector: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the collector did not stop")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for col.GetState() != otelcol.StateRunning {
		if time.Now().After(deadline) || col.GetState() == otelcol.StateClosed {
			t.Fatalf("the collector did not start: state %v", col.GetState())
		}
		time.Sleep(20 * time.Millisecond)
	}

	now := time.Now().Truncate(time.Microsecond)
	send := func(core *driver.Core, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		logAllAt(t, core, now)
	}
	send(driver.NewSyslog(driver.SyslogConfig{Ident: "g3proxy", UDPAddr: ports["TASKLOG_SYSLOG_RFC5424"], RFC5424: true, RFC5424Strict: true}, driver.Options{}))
	send(driver.NewFluentd(driver.FluentdConfig{Address: ports["TASKLOG_FLUENTD"], Tag: "g3proxy.Task"}, driver.Options{}))
	send(New(Config{Endpoint: ports["TASKLOG_OTLP_GRPC"], Protocol: ProtocolGRPC, Insecure: true}, driver.Options{}))

	wants := want(t)
	n := len(records())
	for _, file := range []string{"syslog.json", "fluentd.json", "otlp.json"} {
		lrs := readOTLPFile(t, filepath.Join(out, file), n)
		keys := 0
		for i, lr := range lrs {
			attrs := lr.Attributes().AsRaw()
			got := map[string]string{}
			switch file {
			case "syslog.json":
				sd, _ := attrs["structured_data"].(map[string]any)
				params, _ := sd["g3proxy@0"].(map[string]any)
				for k, v := range params {
					got[k] = text(v)
				}
				got["msg"], _ = attrs["message"].(string)
			case "otlp.json":
				for k, v := range attrs {
					got[k] = text(v)
				}
				got["msg"] = lr.Body().AsString()
			default:
				for k, v := range attrs {
					if v != nil && k != "fluent.tag" {
						got[k] = text(v)
					}
				}
			}
			for k, v := range wants[i] {
				if g, ok := got[k]; !ok || g != text(v) {
					t.Errorf("%s record %d: %s = %q, want %q", file, i, k, g, text(v))
					continue
				}
				keys++
			}
		}
		t.Logf("%s: %d records, %d keys equal to tasklog's", file, len(lrs), keys)
	}
}

// readOTLPFile waits for n log records in a file exporter's file (OTLP
// JSON, one request a line) and returns them in order.
func readOTLPFile(t *testing.T, path string, n int) []plog.LogRecord {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out []plog.LogRecord
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 16<<20)
			var u plog.JSONUnmarshaler
			for sc.Scan() {
				ld, err := u.UnmarshalLogs(sc.Bytes())
				if err != nil {
					f.Close()
					t.Fatalf("%s: %v", path, err)
				}
				for i := 0; i < ld.ResourceLogs().Len(); i++ {
					sl := ld.ResourceLogs().At(i).ScopeLogs()
					for j := 0; j < sl.Len(); j++ {
						for k := 0; k < sl.At(j).LogRecords().Len(); k++ {
							out = append(out, sl.At(j).LogRecords().At(k))
						}
					}
				}
			}
			f.Close()
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) != n {
				t.Fatalf("%s: %d log records, want %d", path, len(out), n)
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}
