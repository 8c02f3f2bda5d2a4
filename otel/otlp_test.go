package otel

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog/driver"
	"github.com/proxylog/tasklog/internal/nettest"
)

// TestOTLPReceiver exports the records through New, over OTLP/HTTP and
// OTLP/gRPC, to the Collector's own otlpreceiver and checks what it
// produced, key by key: every attribute with tasklog's value and type,
// the timestamps, severity, body and event name, and the resource.
func TestOTLPReceiver(t *testing.T) {
	host, _ := os.Hostname()
	for _, proto := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(proto, func(t *testing.T) {
			port := nettest.FreePort(t, "tcp")
			name := "http"
			if proto == ProtocolGRPC {
				name = "grpc"
			}
			sink := startReceiver(t, otlpreceiver.NewFactory(), map[string]any{
				"protocols": map[string]any{name: map[string]any{"endpoint": addr(port)}},
			})
			core, err := New(Config{Endpoint: addr(port), Protocol: proto, Insecure: true}, driver.Options{})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Truncate(time.Microsecond)
			before := time.Now()
			logAllAt(t, core, now)
			after := time.Now()
			wants := want(t)
			recs := records()
			lrs := logRecords(t, sink, len(recs))
			res := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes()
			for k, want := range map[string]string{"service.name": "g3proxy", "process.pid": itoa(os.Getpid()), "host.name": host} {
				if v, ok := res.Get(k); !ok || v.AsString() != want {
					t.Errorf("resource %s = %v, want %s", k, v.AsString(), want)
				}
			}
			keys := 0
			for i, lr := range lrs {
				name, w := recs[i].name, wants[i]
				if !lr.Timestamp().AsTime().Equal(now) {
					t.Errorf("%s: timestamp %v, want %v", name, lr.Timestamp().AsTime(), now)
				}
				if ot := lr.ObservedTimestamp().AsTime(); ot.Before(before) || ot.After(after) {
					t.Errorf("%s: observed timestamp %v, not while logging", name, ot)
				}
				if lr.SeverityNumber() != plog.SeverityNumberInfo || lr.SeverityText() != "INFO" {
					t.Errorf("%s: severity %v %q", name, lr.SeverityNumber(), lr.SeverityText())
				}
				if lr.Body().Type() != pcommon.ValueTypeStr || lr.Body().Str() != w["msg"] {
					t.Errorf("%s: body %q, want the message %q", name, lr.Body().AsString(), w["msg"])
				}
				if lr.EventName() != recs[i].logType {
					t.Errorf("%s: event name %q, want the log type %q", name, lr.EventName(), recs[i].logType)
				}
				attrs := lr.Attributes()
				for k, v := range w {
					if k == "msg" {
						continue
					}
					a, ok := attrs.Get(k)
					if !ok {
						t.Errorf("%s: %s missing", name, k)
						continue
					}
					if got := attrText(a); got != text(v) || a.Type() != wantType(v) {
						t.Errorf("%s: %s = %s (%s), want %s (%s)", name, k, got, a.Type(), text(v), wantType(v))
						continue
					}
					keys++
				}
				if attrs.Len() != len(w)-1 {
					t.Errorf("%s: %d attributes, want %d", name, attrs.Len(), len(w)-1)
				}
			}
			if st := core.Stats(); st.Total != uint64(len(recs)) || st.Passed != st.Total {
				t.Errorf("stats %+v", st)
			}
			t.Logf("%d records, %d attributes equal to tasklog's, typed", len(lrs), keys)
		})
	}
}

func itoa(n int) string { return text(n) }

// TestOTLPFaults: with no receiver every record is counted as dropped;
// with a receiver that accepts and never answers, Close returns within
// CloseTimeout (and a little) with every record counted; a bad
// configuration is an error naming the value.
func TestOTLPFaults(t *testing.T) {
	quiet := driver.Options{ErrorOutput: zapcore.AddSync(io.Discard), CloseTimeout: 500 * time.Millisecond}
	for _, proto := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(proto+" no receiver", func(t *testing.T) {
			core, err := New(Config{Endpoint: addr(nettest.FreePort(t, "tcp")), Protocol: proto, Insecure: true, Timeout: 200 * time.Millisecond}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			logAll(t, core)
			if st := core.Stats(); st.Total != uint64(len(records())) || st.Passed != 0 || st.Total != st.Passed+st.Dropped() {
				t.Errorf("stats %+v", st)
			}
		})
		t.Run(proto+" receiver never answers", func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			nettest.AcceptAndHold(t, l)
			core, err := New(Config{Endpoint: l.Addr().String(), Protocol: proto, Insecure: true, Timeout: time.Minute}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records() {
				zap.New(core).With(loggerFields(r.logType)...).Info(r.msg, r.field)
			}
			time.Sleep(100 * time.Millisecond) // the writer is in its export
			start := time.Now()
			err = core.Close()
			if d := time.Since(start); d > 500*time.Millisecond+400*time.Millisecond { // CloseTimeout, closeGrace and slack for a loaded machine
				t.Errorf("Close took %v (CloseTimeout 500ms): %v", d, err)
			}
			if st := core.Stats(); st.Total != uint64(len(records())) || st.Total != st.Passed+st.Dropped() || st.Passed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Protocol: "udp"}, `"udp"`},
		{Config{Insecure: true, TLS: &tls.Config{}}, "Insecure and TLS"},
	} {
		if _, err := New(c.cfg, quiet); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
}

// TestOTLPLargeBatches: a batch size past what the receiver takes in one
// request (the Collector's gRPC limit is 4 MiB) still delivers every
// record: batches also end at 2 MiB.
func TestOTLPLargeBatches(t *testing.T) {
	port := nettest.FreePort(t, "tcp")
	sink := startReceiver(t, otlpreceiver.NewFactory(), map[string]any{
		"protocols": map[string]any{"grpc": map[string]any{"endpoint": addr(port)}},
	})
	const n = 5000
	core, err := New(Config{Endpoint: addr(port), Protocol: ProtocolGRPC, Insecure: true, BatchSize: 100000},
		driver.Options{QueueSize: n + 1, ErrorOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	r := records()[3] // the hostile record, with its 1 KB URI
	l := zap.New(core).With(loggerFields(r.logType)...)
	for range n {
		l.Info(r.msg, r.field)
	}
	core.Close()
	if st := core.Stats(); st.Passed != n || sink.LogRecordCount() != n {
		t.Errorf("passed %d, the receiver got %d, of %d: %+v", st.Passed, sink.LogRecordCount(), n, st)
	}
}

// selfSigned writes a certificate for localhost and 127.0.0.1 and its
// key to dir, and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	cert, certPEM, keyPEM := nettest.SelfSigned(t)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, []byte(certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestOTLPOverTLS: both protocols over TLS to a receiver with a
// certificate the driver is told to trust, from Config and from the
// YAML block's tls_client; a certificate it does not trust delivers
// nothing and counts it.
func TestOTLPOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	for _, proto := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(proto, func(t *testing.T) {
			port := nettest.FreePort(t, "tcp")
			name := map[string]string{ProtocolHTTP: "http", ProtocolGRPC: "grpc"}[proto]
			sink := startReceiver(t, otlpreceiver.NewFactory(), map[string]any{"protocols": map[string]any{name: map[string]any{
				"endpoint": addr(port), "tls": map[string]any{"cert_file": certFile, "key_file": keyFile}}}})
			core, err := New(Config{Endpoint: addr(port), Protocol: proto, TLS: &tls.Config{RootCAs: pool}}, driver.Options{})
			if err != nil {
				t.Fatal(err)
			}
			logAllAt(t, core, time.Now())
			logRecords(t, sink, len(records()))

			yml := "task:\n  otlp:\n    endpoint: " + addr(port) + "\n    protocol: " + proto + "\n    tls_client: {ca_certificate: cert.pem}\n"
			lc, err := ParseYAMLLog([]byte(yml), "task", dir)
			if err != nil {
				t.Fatal(err)
			}
			core, err = lc.Build()
			if err != nil {
				t.Fatal(err)
			}
			logAllAt(t, core, time.Now())
			logRecords(t, sink, 2*len(records()))

			untrusting, err := New(Config{Endpoint: addr(port), Protocol: proto, TLS: &tls.Config{RootCAs: x509.NewCertPool()}, Timeout: time.Second},
				driver.Options{ErrorOutput: zapcore.AddSync(io.Discard)})
			if err != nil {
				t.Fatal(err)
			}
			logAll(t, untrusting)
			if st := untrusting.Stats(); st.Passed != 0 || st.Dropped() != uint64(len(records())) {
				t.Errorf("a certificate not trusted: %+v", st)
			}
		})
	}
}
