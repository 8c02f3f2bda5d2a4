package otel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
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

// maxBatchBytes bounds a batch by the records' encoded size as well: a
// receiver refuses a request past its limit (the Collector's gRPC server
// takes 4 MiB by default), which would drop the whole batch.
const maxBatchBytes = 2 << 20

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
	// DefaultBatchSize. A batch also ends at 2 MiB of records, under the
	// Collector's default request limit. A writer exports what it holds
	// as soon as the queue is empty, so records wait no longer than the
	// export before.
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
	// here rather than a drop per record; each writer builds its own.
	e, err := newExporter(cfg)
	if err != nil {
		return nil, err
	}
	_ = e.Shutdown(context.Background())
	return driver.NewRecordCore("otlp", opts, func(o *driver.Outcomes) driver.RecordSink {
		ctx, cancel := context.WithCancel(context.Background())
		return &otlpSink{cfg: cfg, o: o, ctx: ctx, cancel: cancel}
	}), nil
}

// exporter is what both OTLP exporters are.
type logExporter interface {
	Export(ctx context.Context, records []sdklog.Record) error
	Shutdown(ctx context.Context) error
}

func newExporter(cfg Config) (logExporter, error) {
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
//
// Exports are pipelined: while the queue holds records, a full batch is
// handed to the sink's export goroutine and the writer goes on building
// the next one (at most maxInFlight batches wait or travel). When the
// queue is empty the writer hands over what it holds and waits for every
// export to finish, so that Sync and Close see every record reported.
type otlpSink struct {
	cfg Config
	o   *driver.Outcomes

	provider *sdklog.LoggerProvider
	logger   log.Logger
	exp      logExporter
	col      collector
	bytes    int // encoded size of the records held

	// slots holds a token for each batch waiting for or in export; jobs
	// carries the batches to the export goroutine, which hands their
	// slices back through free.
	slots chan struct{}
	jobs  chan exportJob
	free  chan []sdklog.Record

	attrs []attribute.KeyValue // toLogRecord's scratch, copied by the SDK

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	once   sync.Once
}

// maxInFlight is how many batches may wait for or be in export at once.
const maxInFlight = 2

type exportJob struct {
	records []sdklog.Record
	bytes   int
}

// exportLoop exports the batches handed over and reports each. Once the
// sink is closed it drops what is left and ends: Close has counted every
// record not yet reported by then.
func (s *otlpSink) exportLoop() {
	for {
		select {
		case job := <-s.jobs:
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
			err := s.exp.Export(ctx, job.records)
			cancel()
			if err != nil {
				if s.ctx.Err() == nil {
					s.o.Report(fmt.Errorf("export to %s: %w", s.cfg.Endpoint, err))
				}
				s.o.Drop(len(job.records))
			} else {
				s.o.Pass(len(job.records), job.bytes)
			}
			clear(job.records) // let the records' attributes go
			select {
			case s.free <- job.records[:0]:
			default:
			}
			<-s.slots
		case <-s.ctx.Done():
			for {
				select {
				case job := <-s.jobs:
					s.o.Drop(len(job.records))
					<-s.slots
				default:
					return
				}
			}
		}
	}
}

// waitExports waits until no batch is waiting for or in export, or the
// sink is closed.
func (s *otlpSink) waitExports() {
	n := 0
	defer func() {
		for ; n > 0; n-- {
			<-s.slots
		}
	}()
	for ; n < maxInFlight; n++ {
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
	}
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
	s.slots, s.jobs = make(chan struct{}, maxInFlight), make(chan exportJob, maxInFlight)
	s.free = make(chan []sdklog.Record, maxInFlight+1)
	go s.exportLoop()
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
	var r log.Record
	s.attrs = toLogRecord(&r, rec, s.attrs[:0])
	s.logger.Emit(s.ctx, r)
	s.bytes += size
	switch {
	case s.o.Idle():
		s.flush()
		s.waitExports() // bounded by Timeout, and by Close's cancel
	case len(s.col.held) >= s.cfg.BatchSize || s.bytes >= maxBatchBytes:
		s.flush()
	}
}

// flush hands what the sink holds to the export goroutine, waiting for
// a slot while maxInFlight batches are out; once the sink is closed it
// drops them instead.
func (s *otlpSink) flush() {
	n := len(s.col.held)
	if n == 0 {
		return
	}
	select {
	case s.slots <- struct{}{}:
		s.jobs <- exportJob{records: s.col.held, bytes: s.bytes}
	case <-s.ctx.Done():
		s.o.Drop(n)
	}
	select {
	case s.col.held = <-s.free:
	default:
		s.col.held = make([]sdklog.Record, 0, s.cfg.BatchSize)
	}
	s.bytes = 0
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

// toLogRecord maps a record into r: timestamps, severity, body = the
// message, event name = log_type, one attribute per key. attrs is scratch
// space, returned for reuse.
func toLogRecord(r *log.Record, rec *driver.Record, attrs []attribute.KeyValue) []attribute.KeyValue {
	r.SetTimestamp(rec.Time)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(severity(rec.Level))
	r.SetSeverityText(rec.Level.CapitalString())
	r.SetBody(attribute.StringValue(rec.Message))
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
	r.AddAttributes(attrs...) // copies them
	return attrs
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
