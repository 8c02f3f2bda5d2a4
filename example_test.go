package tasklog_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// exampleRecord is a finished CONNECT tunnel with fixed times, so the
// examples print the same line on every run.
func exampleRecord() *tasklog.TaskLog {
	return &tasklog.TaskLog{
		ServerType: tasklog.ServerTypeHTTPProxy,
		ServerName: "http",
		TaskID:     uuid.MustParse("018f3a5c-7b2e-7c41-9d3f-2a6b8e0c1d4f"),
		Event:      tasklog.EventFinished,
		Stage:      tasklog.StageRelaying,
		StartAt:    time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC),
		Escaper:    "direct",
		Reason:     tasklog.ReasonClosedByClient,
		WaitTime:   23456 * time.Nanosecond,
		ReadyTime:  13456789 * time.Nanosecond,
		TotalTime:  2345678901 * time.Nanosecond,
		Detail: &tasklog.TCPConnect{
			ServerAddr:       netip.MustParseAddrPort("127.0.0.1:3128"),
			ClientAddr:       netip.MustParseAddrPort("127.0.0.1:53211"),
			Upstream:         "example.com:443",
			ConnectTries:     1,
			ConnectSpend:     1234567 * time.Nanosecond,
			ClientReadBytes:  517,
			ClientWriteBytes: 4810,
			RemoteReadBytes:  4810,
			RemoteWriteBytes: 517,
		},
	}
}

// exampleLogger writes g3-shaped lines to stdout; the examples drop the
// report_ts key so that their output does not change with the clock.
func exampleLogger() *zap.Logger {
	cfg := tasklog.EncoderConfig()
	cfg.TimeKey = "" // a real logger keeps report_ts
	core := zapcore.NewCore(tasklog.NewEncoder(cfg), zapcore.AddSync(os.Stdout), zap.InfoLevel)
	return zap.New(core)
}

// Field writes the record's keys at the top level, as g3proxy does; the
// message is the reason's human text.
func ExampleField() {
	logger := exampleLogger()
	rec := exampleRecord()
	if ce := logger.Check(zap.InfoLevel, rec.Reason.Text()); ce != nil {
		ce.Write(tasklog.Field(rec))
	}
	// Output:
	// {"server_name":"http","server_type":"HttpProxy","r_wr_bytes":517,"r_rd_bytes":4810,"c_wr_bytes":4810,"c_rd_bytes":517,"tcp_connect_spend":"1.235ms","tcp_connect_tries":1,"upstream":"example.com:443","client_addr":"127.0.0.1:53211","server_addr":"127.0.0.1:3128","total_time":"2.346s","ready_time":"13.457ms","wait_time":"23.456µs","reason":"ClosedByClient","escaper":"direct","start_at":"2026-11-24T10:30:01.123456Z","stage":"Relaying","task_event":"Finished","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_type":"TcpConnect","msg":"closed by client"}
}

// Object nests the record under one key, beside the entry's other fields.
func ExampleObject() {
	logger := exampleLogger()
	rec := exampleRecord()
	rec.Detail = &tasklog.TCPConnect{
		ServerAddr: netip.MustParseAddrPort("127.0.0.1:3128"),
		ClientAddr: netip.MustParseAddrPort("[::1]:53211"),
		Upstream:   "example.com:443",
	}
	logger.Info("tunnel closed", zap.String("component", "edge"), tasklog.Object("task", rec))
	// Output:
	// {"task":{"server_type":"HttpProxy","server_name":"http","task_type":"TcpConnect","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","escaper":"direct","reason":"ClosedByClient","wait_time":"23.456µs","ready_time":"13.457ms","total_time":"2.346s","server_addr":"127.0.0.1:3128","client_addr":"[::1]:53211","upstream":"example.com:443","tcp_connect_tries":0,"c_rd_bytes":0,"c_wr_bytes":0,"r_rd_bytes":0,"r_wr_bytes":0},"component":"edge","msg":"tunnel closed"}
}

// A bad record (here the proxy author forgot the stage and miscounted the
// connect tries) is still written: its valid keys, plus tasklogError naming
// each bad key with its value.
func ExampleField_badRecord() {
	logger := exampleLogger()
	rec := exampleRecord()
	rec.Stage = 0
	rec.Detail.(*tasklog.TCPConnect).ConnectTries = -1
	logger.Info(rec.Reason.Text(), tasklog.Field(rec))
	// Output:
	// {"server_name":"http","server_type":"HttpProxy","tasklogError":"tasklog: stage: missing\ntasklog: tcp_connect_tries: negative count -1","r_wr_bytes":517,"r_rd_bytes":4810,"c_wr_bytes":4810,"c_rd_bytes":517,"tcp_connect_spend":"1.235ms","upstream":"example.com:443","client_addr":"127.0.0.1:53211","server_addr":"127.0.0.1:3128","total_time":"2.346s","ready_time":"13.457ms","wait_time":"23.456µs","reason":"ClosedByClient","escaper":"direct","start_at":"2026-11-24T10:30:01.123456Z","task_event":"Finished","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_type":"TcpConnect","msg":"closed by client"}
}

// With slog, an empty key inlines the record's keys into the entry.
func ExampleTaskLog_LogValue() {
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{} // fixed output for the example
			}
			return a
		},
	})
	rec := exampleRecord()
	slog.New(h).Info(rec.Reason.Text(), slog.Any("", rec))
	// Output:
	// {"msg":"closed by client","server_type":"HttpProxy","server_name":"http","task_type":"TcpConnect","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","escaper":"direct","reason":"ClosedByClient","wait_time":"23.456µs","ready_time":"13.457ms","total_time":"2.346s","server_addr":"127.0.0.1:3128","client_addr":"127.0.0.1:53211","upstream":"example.com:443","tcp_connect_tries":1,"tcp_connect_spend":"1.235ms","c_rd_bytes":517,"c_wr_bytes":4810,"r_rd_bytes":4810,"r_wr_bytes":517}
}

func ExampleParseReason() {
	r, err := tasklog.ParseReason("UpstreamTlsHandshakeFailed")
	fmt.Println(r == tasklog.ReasonUpstreamTLSHandshakeFailed, r, r.Text(), err)
	_, err = tasklog.ParseReason("upstream tls handshake failed")
	fmt.Println(err)
	// Output:
	// true UpstreamTlsHandshakeFailed upstream tls handshake failed <nil>
	// tasklog: unknown reason "upstream tls handshake failed"
}

func ExampleFormatDuration() {
	for _, d := range []time.Duration{
		5 * time.Nanosecond,
		23456 * time.Nanosecond,
		1000500 * time.Nanosecond,   // a tie: rounds to the even digit
		1001500 * time.Nanosecond,   // a tie: rounds to the even digit
		999999500 * time.Nanosecond, // the carry stays in ms
		2345678901 * time.Nanosecond,
	} {
		fmt.Println(tasklog.FormatDuration(d))
	}
	// Output:
	// 5.000ns
	// 23.456µs
	// 1.000ms
	// 1.002ms
	// 1000.000ms
	// 2.346s
}

func ExampleParseDuration() {
	d, err := tasklog.ParseDuration("13.457ms")
	fmt.Println(d, err)
	_, err = tasklog.ParseDuration("13.457 ms")
	fmt.Println(err)
	// Output:
	// 13.457ms <nil>
	// tasklog: invalid duration "13.457 ms": unexpected ' ' in the number
}

func ExampleSanitizeURI() {
	fmt.Println(tasklog.SanitizeURI("http://bob:s3cret@example.com/a\x01b", 0))
	fmt.Println(tasklog.SanitizeURI("http://example.com/日本語", 20))
	// Output:
	// http://bob:xyz@example.com/a%01b
	// http://example.com/日
}

// A logger whose lines a g3proxy pipeline cannot tell from g3proxy's own.
// The example pins the clock and leaves out pid, so its output is fixed; a
// real logger adds tasklog.LoggerFields("g3proxy")...
func ExampleEncoderConfig() {
	core := zapcore.NewCore(tasklog.NewEncoder(tasklog.EncoderConfig()), zapcore.AddSync(os.Stdout), zap.InfoLevel)
	logger := zap.New(core, zap.WithClock(exampleClock{})).
		With(zap.String("daemon_name", "g3proxy"), zap.String("log_type", "Task"))
	defer logger.Sync()
	rec := exampleRecord()
	rec.Event = tasklog.EventPeriodic
	logger.Info("", tasklog.Field(rec))
	// Output:
	// {"server_name":"http","server_type":"HttpProxy","log_type":"Task","daemon_name":"g3proxy","r_wr_bytes":517,"r_rd_bytes":4810,"c_wr_bytes":4810,"c_rd_bytes":517,"tcp_connect_spend":"1.235ms","tcp_connect_tries":1,"upstream":"example.com:443","client_addr":"127.0.0.1:53211","server_addr":"127.0.0.1:3128","total_time":"2.346s","ready_time":"13.457ms","wait_time":"23.456µs","escaper":"direct","start_at":"2026-11-24T10:30:01.123456Z","stage":"Relaying","task_event":"Periodic","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_type":"TcpConnect","report_ts":1795516204,"msg":""}
}

// exampleClock pins zap's entry time, hence report_ts.
type exampleClock struct{}

func (exampleClock) Now() time.Time                         { return time.Unix(1795516204, 0) }
func (exampleClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// A slog program: tasklog's records are slog values, so a record you fill
// logs through any slog handler. The task helper ([tasklog.Server],
// [tasklog.Task]) writes through zap only; a slog program gives it a zap
// logger on the same writer (tasklog.NewEncoder, as in ExampleEncoderConfig),
// so its task lines and the program's other lines go to one place.
func Example_slog() {
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{} // g3's lines have no level; the example drops the time
			}
			return a
		},
	})
	logger := slog.New(h).With("daemon_name", "g3proxy", "log_type", "Task")
	rec := exampleRecord()
	rec.Detail = &tasklog.UDPAssociate{
		TCPServerAddr: netip.MustParseAddrPort("127.0.0.1:1080"),
		TCPClientAddr: netip.MustParseAddrPort("127.0.0.1:40000"),
	}
	rec.Event = tasklog.EventCreated
	logger.Info("", slog.Any("", rec))
	// Output:
	// {"msg":"","daemon_name":"g3proxy","log_type":"Task","server_type":"HttpProxy","server_name":"http","task_type":"UdpAssociate","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","task_event":"Created","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","wait_time":"23.456µs","tcp_server_addr":"127.0.0.1:1080","tcp_client_addr":"127.0.0.1:40000"}
}

// An escaper's failed connect goes to the Escape log, with the task's id,
// and the error's text as the message.
func ExampleEscapeField() {
	logger := exampleLogger()
	rec := &tasklog.EscapeLog{
		EscaperType: "DirectFixed", EscaperName: "direct", TaskID: exampleRecord().TaskID,
		Detail: &tasklog.EscapeTCPConnect{
			Upstream:     "example.com:443",
			NextPeerAddr: netip.MustParseAddrPort("93.184.216.34:443"),
			ConnectTries: 1, ConnectSpend: 1234567,
			Reason: tasklog.TCPConnectErrorConnectFailed,
		},
	}
	tasklog.LogEscape(logger, zap.InfoLevel, "connect failed: connection refused", rec)
	// Output:
	// {"escaper_name":"direct","escaper_type":"DirectFixed","reason":"ConnectFailed","tcp_connect_spend":"1.235ms","tcp_connect_tries":1,"next_peer_addr":"93.184.216.34:443","upstream":"example.com:443","task_id":"018f3a5c7b2e7c419d3f2a6b8e0c1d4f","escape_type":"TcpConnect","msg":"connect failed: connection refused"}
}

// A failed resolution goes to the Resolve log, with g3's text of the error
// as the message.
func ExampleLogResolve() {
	logger := exampleLogger()
	rec := &tasklog.ResolveLog{
		ResolverType: "hickory", ResolverName: "main",
		Servers:   []netip.Addr{netip.MustParseAddr("127.0.0.53")},
		QueryType: tasklog.QueryTypeA, Duration: 1500 * time.Microsecond, RRSource: tasklog.RRSourceQuery,
		ErrorType: tasklog.ResolveErrorServer, ErrorSubtype: tasklog.ResolveErrorNotFound,
		Domain: "nx.example",
	}
	tasklog.LogResolve(logger, zap.InfoLevel, rec, "")
	// Output:
	// {"resolver_name":"main","resolver_type":"hickory","domain":"nx.example","error_subtype":"NOTFOUND","error_type":"ServerError","rr_source":"query","duration":"1.500ms","query_type":"A","server":"127.0.0.53","msg":"server error: server claims domain name not found"}
}
