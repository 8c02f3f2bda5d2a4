package otel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/credentials"

	"github.com/proxylog/tasklog/driver"
)

// The protocols Config.Protocol takes, as OTEL_EXPORTER_OTLP_PROTOCOL
// names them.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// DefaultBatchSize is how many records one export carries at most.
const DefaultBatchSize = 512

// Config configures [New]: where and how the records are exported.
type Config struct {
	// Endpoint is the receiver's host:port. Default localhost:4318 for
	// HTTP, localhost:4317 for gRPC.
	Endpoint string
	// Protocol is ProtocolHTTP (the default) or ProtocolGRPC.
	Protocol string
	// URLPath is the HTTP path; default /v1/logs.
	URLPath string
	// Insecure sends without TLS (plain HTTP, or gRPC without TLS). With
	// it unset, TLS is used, with TLS as the client configuration (nil:
	// the system's roots).
	Insecure bool
	TLS      *tls.Config
	// Headers go with every export (an API key, a tenant).
	Headers map[string]string
	// Timeout bounds one export; default 10s. A failed or timed-out
	// export drops its records, counted as DropPeerUnreachable: the
	// driver does not retry, as g3's drivers do not.
	Timeout time.Duration
	// BatchSize is the most records one export carries; default
	// DefaultBatchSize. A writer exports what it holds as soon as the
	// queue is empty, so records wait no longer than the export before.
	BatchSize int
	// ServiceName is the resource's service.name. Default: the
	// daemon_name of the first record (g3's daemon group name), or this
	// program's name when it has none.
	ServiceName string
	// HostName is the resource's host.name; default os.Hostname.
	HostName string
	// Resource adds attributes to the resource (deployment.environment,
	// service.instance.id, ...).
	Resource []attribute.KeyValue
}

// New returns a driver.Core that exports each record as an OpenTelemetry
// log record over OTLP (HTTP or gRPC), through the OpenTelemetry Go SDK's
// exporters. Like every driver it collects the record's keys on the
// logging goroutine (no allocation once warm), never blocks it (a full
// queue drops and counts), and keeps driver.Core's Stats and Close
// guarantees. The mapping, key by key, is in the module's README:
// timestamp and observed timestamp, severity, body = the message, event
// name = log_type, and one attribute per key with g3's value forms
// (durations as g3's strings, counters as integers); resource
// service.name, process.pid and host.name.
func New(cfg Config, opts driver.Options) (*driver.Core, error) {
	switch cfg.Protocol {
	case "":
		cfg.Protocol = ProtocolHTTP
	case ProtocolHTTP, ProtocolGRPC:
	default:
		return nil, fmt.Errorf("tasklog/otel: protocol %q: want %s or %s", cfg.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "localhost:4318"
		if cfg.Protocol == ProtocolGRPC {
			cfg.Endpoint = "localhost:4317"
		}
	}
	if cfg.Insecure && cfg.TLS != nil {
		return nil, errors.New("tasklog/otel: Insecure and TLS are both set")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.HostName == "" {
		cfg.HostName, _ = os.Hostname()
	}
	// Build one exporter now, so that a bad configuration is an error
	// here rather than a drop per record.
	if _, err := newExporter(cfg); err != nil {
		return nil, err
	}
	return driver.NewRecordCore("otlp", opts, func(o *driver.Outcomes) driver.RecordSink {
		ctx, cancel := context.WithCancel(context.Background())
		return &otlpSink{cfg: cfg, o: o, ctx: ctx, cancel: cancel}
	}), nil
}

// exporter is what both OTLP exporters are.
type exporter interface {
	Export(ctx context.Context, records []sdklog.Record) error
	Shutdown(ctx context.Context) error
}

func newExporter(cfg Config) (exporter, error) {
	ctx := context.Background()
	if cfg.Protocol == ProtocolGRPC {
		o := []otlploggrpc.Option{otlploggrpc.WithEndpoint(cfg.Endpoint), otlploggrpc.WithTimeout(cfg.Timeout),
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false})}
		if cfg.Insecure {
			o = append(o, otlploggrpc.WithInsecure())
		} else if cfg.TLS != nil {
			o = append(o, otlploggrpc.WithTLSCredentials(credentials.NewTLS(cfg.TLS)))
		}
		if len(cfg.Headers) > 0 {
			o = append(o, otlploggrpc.WithHeaders(cfg.Headers))
		}
		e, err := otlploggrpc.New(ctx, o...)
		if err != nil {
			return nil, fmt.Errorf("tasklog/otel: grpc exporter: %w", err)
		}
		return e, nil
	}
	o := []otlploghttp.Option{otlploghttp.WithEndpoint(cfg.Endpoint), otlploghttp.WithTimeout(cfg.Timeout),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false})}
	if cfg.URLPath != "" {
		o = append(o, otlploghttp.WithURLPath(cfg.URLPath))
	}
	if cfg.Insecure {
		o = append(o, otlploghttp.WithInsecure())
	} else if cfg.TLS != nil {
		o = append(o, otlploghttp.WithTLSClientConfig(cfg.TLS))
	}
	if len(cfg.Headers) > 0 {
		o = append(o, otlploghttp.WithHeaders(cfg.Headers))
	}
	e, err := otlploghttp.New(ctx, o...)
	if err != nil {
		return nil, fmt.Errorf("tasklog/otel: http exporter: %w", err)
	}
	return e, nil
}

// otlpSink is one writer's: its records go through an SDK Logger (which
// adds the resource and scope) into collector, and out in batches through
// its exporter. Only its writer goroutine calls Deliver and Drain.
type otlpSink struct {
	cfg Config
	o   *driver.Outcomes

	provider *sdklog.LoggerProvider
	logger   log.Logger
	exp      exporter
	col      collector
	bytes    int // encoded size of the records held

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	once   sync.Once
}

// collector is the SDK Processor that keeps each emitted record for the
// sink's next export.
type collector struct{ held []sdklog.Record }

func (c *collector) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collector) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.held = append(c.held, r.Clone())
	return nil
}
func (c *collector) Shutdown(context.Context) error   { return nil }
func (c *collector) ForceFlush(context.Context) error { return nil }

// start builds the provider on the first record, whose daemon_name may
// name the service.
func (s *otlpSink) start(rec *driver.Record) error {
	name := s.cfg.ServiceName
	if name == "" {
		for _, f := range rec.Fields {
			if f.Key == "daemon_name" && f.Kind == driver.FieldString && f.Str != "" {
				name = f.Str
			}
		}
	}
	if name == "" {
		name = filepath.Base(os.Args[0])
	}
	attrs := append([]attribute.KeyValue{
		attribute.String("service.name", name),
		attribute.Int("process.pid", os.Getpid()),
		attribute.String("host.name", s.cfg.HostName),
	}, s.cfg.Resource...)
	exp, err := newExporter(s.cfg)
	if err != nil {
		return err
	}
	s.exp = exp
	// Every key of a record is unique (the encoder writes each once), so
	// the SDK's de-duplication, a map per record, is skipped.
	s.provider = sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attrs...)), sdklog.WithProcessor(&s.col),
		sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1), sdklog.WithAllowKeyDuplication())
	s.logger = s.provider.Logger("github.com/proxylog/tasklog/otel")
	return nil
}

func (s *otlpSink) Deliver(rec *driver.Record, size int) {
	if s.o.Abandoned() || s.ctx.Err() != nil {
		s.o.Drop(1)
		return
	}
	if s.provider == nil {
		if err := s.start(rec); err != nil {
			s.o.Report(err)
			s.o.Drop(1)
			return
		}
	}
	s.logger.Emit(s.ctx, toLogRecord(rec))
	s.bytes += size
	if len(s.col.held) >= s.cfg.BatchSize || s.o.Idle() {
		s.flush()
	}
}

// flush exports what the sink holds and reports it.
func (s *otlpSink) flush() {
	n := len(s.col.held)
	if n == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	err := s.exp.Export(ctx, s.col.held)
	cancel()
	if err != nil {
		if s.ctx.Err() == nil {
			s.o.Report(fmt.Errorf("export to %s: %w", s.cfg.Endpoint, err))
		}
		s.o.Drop(n)
	} else {
		s.o.Pass(n, s.bytes)
	}
	clear(s.col.held)
	s.col.held, s.bytes = s.col.held[:0], 0
}

// Drain drops what is still held when the writers have stopped; Deliver
// exports whenever the queue empties, so this is only what a failed
// start left.
func (s *otlpSink) Drain() {
	s.o.Drop(len(s.col.held))
	s.col.held = nil
	s.shutdown()
}

// Close cancels an export in progress and shuts the exporter down.
func (s *otlpSink) Close() {
	s.cancel()
	s.shutdown()
}

func (s *otlpSink) shutdown() {
	s.once.Do(func() {
		s.cancel()
		go func() { // bounded by the canceled context; never blocks Close
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if s.provider != nil {
				_ = s.provider.Shutdown(ctx)
			}
			if s.exp != nil {
				_ = s.exp.Shutdown(ctx)
			}
		}()
	})
}

// toLogRecord maps a record: timestamps, severity, body = the message,
// event name = log_type, one attribute per key.
func toLogRecord(rec *driver.Record) log.Record {
	var r log.Record
	r.SetTimestamp(rec.Time)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(severity(rec.Level))
	r.SetSeverityText(rec.Level.CapitalString())
	r.SetBody(attribute.StringValue(rec.Message))
	attrs := make([]attribute.KeyValue, 0, len(rec.Fields))
	for i := range rec.Fields {
		f := &rec.Fields[i]
		switch f.Kind {
		case driver.FieldString:
			if f.Key == "log_type" {
				r.SetEventName(f.Str)
			}
			attrs = append(attrs, attribute.String(f.Key, f.Str))
		case driver.FieldUint:
			if f.Uint() > math.MaxInt64 {
				// OTLP's integers are int64: above that, the digits.
				attrs = append(attrs, attribute.String(f.Key, strconv.FormatUint(f.Uint(), 10)))
			} else {
				attrs = append(attrs, attribute.Int64(f.Key, int64(f.Uint())))
			}
		case driver.FieldInt:
			attrs = append(attrs, attribute.Int64(f.Key, f.Int()))
		case driver.FieldBool:
			attrs = append(attrs, attribute.Bool(f.Key, f.Bool()))
		case driver.FieldFloat:
			attrs = append(attrs, attribute.Float64(f.Key, f.Float()))
		case driver.FieldNone:
			// g3's none: left out, as its JSON leaves it out.
		}
	}
	r.AddAttributes(attrs...)
	return r
}

func severity(l zapcore.Level) log.Severity {
	switch {
	case l <= zapcore.DebugLevel:
		return log.SeverityDebug
	case l == zapcore.InfoLevel:
		return log.SeverityInfo
	case l == zapcore.WarnLevel:
		return log.SeverityWarn
	case l == zapcore.ErrorLevel:
		return log.SeverityError
	}
	return log.SeverityFatal
}

func attributeString(k, v string) attribute.KeyValue { return attribute.String(k, v) }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
