package tasklog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var (
	testID    = uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a")
	testStart = time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC)
)

// fixedClock pins zap's entry time, so report_ts is the same on every run.
type fixedClock struct{}

func (fixedClock) Now() time.Time                         { return testStart.Add(3 * time.Second) }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a core.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestLogger returns a logger writing g3-shaped JSON lines (without the
// pid key, which changes between runs) into the returned buffer.
func newTestLogger(enc zapcore.Encoder) (*zap.Logger, *lockedBuffer) {
	if enc == nil {
		enc = zapcore.NewJSONEncoder(EncoderConfig())
	}
	buf := &lockedBuffer{}
	core := zapcore.NewCore(enc, zapcore.AddSync(buf), zap.InfoLevel)
	return zap.New(core, zap.WithClock(fixedClock{})), buf
}

// logLine writes one entry and returns its line without the newline.
func logLine(t *testing.T, msg string, fields ...zap.Field) string {
	t.Helper()
	return logLineWith(t, nil, msg, fields...)
}

// logLineWith is logLine through enc (nil: zap's JSON encoder).
func logLineWith(t *testing.T, enc zapcore.Encoder, msg string, fields ...zap.Field) string {
	t.Helper()
	logger, buf := newTestLogger(enc)
	logger.Info(msg, fields...)
	line := buf.String()
	if len(line) == 0 || line[len(line)-1] != '\n' {
		t.Fatalf("log line %q does not end in a newline", line)
	}
	line = line[:len(line)-1]
	if !json.Valid([]byte(line)) {
		t.Fatalf("log line is not valid JSON: %s", line)
	}
	return line
}

// decode parses a JSON line, keeping numbers exact.
func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	return m
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// The fixtures: one fully filled finished record of each sub-type.

func tcpConnectRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeHTTPProxy, ServerName: "http-in", TaskID: testID, Event: EventFinished,
		Stage: StageRelaying, StartAt: testStart, User: "alice", Escaper: "direct",
		Reason: ReasonClosedByClient, WaitTime: 23456, ReadyTime: 13456789, TotalTime: 2345678901,
		Detail: &TCPConnect{
			ServerAddr: ap("10.0.0.1:3128"), ClientAddr: ap("[2001:db8::7]:53211"), Upstream: "example.com:443",
			NextBindIP: netip.MustParseAddr("192.0.2.10"), NextBoundAddr: ap("192.0.2.10:40000"),
			NextPeerAddr: ap("93.184.216.34:443"), NextExpire: testStart.Add(time.Hour),
			ConnectTries: 2, ConnectSpend: 1234567,
			ClientReadBytes: 517, ClientWriteBytes: 4810, RemoteReadBytes: 4810, RemoteWriteBytes: 517,
		},
	}
}

func httpForwardRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeHTTPProxy, ServerName: "http-in", TaskID: testID, Event: EventFinished,
		Stage: StageFinished, StartAt: testStart, User: "bob", Escaper: "direct",
		Reason: ReasonFinished, WaitTime: 999999500, ReadyTime: 1000500, TotalTime: 1001500,
		Detail: &HTTPForward{
			TCPConnect: TCPConnect{
				ServerAddr: ap("127.0.0.1:8080"), ClientAddr: ap("127.0.0.1:50000"), Upstream: "h.example:80",
				NextPeerAddr: ap("127.0.0.2:80"), ConnectTries: 1, ConnectSpend: 999,
				ClientReadBytes: 120, ClientWriteBytes: 2048, RemoteReadBytes: 2048, RemoteWriteBytes: 120,
			},
			PipelineWait: 5, ReuseConnection: true, Method: "GET",
			URI: "http://bob:s3cret@h.example/p?q=\x01", UserAgent: "curl/8.5.0",
			RspStatus: 200, OriginStatus: 200,
			ReqSendHdr: 1000, ReqSendAll: 999999, RspRecvHdr: 1234567, RspRecvAll: 3600 * time.Second,
		},
	}
}

func ftpOverHTTPRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeHTTPProxy, ServerName: "http-in", TaskID: testID,
		Stage: StageFinished, StartAt: testStart, Reason: ReasonFinished, TotalTime: 1500 * time.Millisecond,
		Detail: &FTPOverHTTP{
			ServerAddr: ap("127.0.0.1:8080"), ClientAddr: ap("127.0.0.1:50001"), Upstream: "ftp.example:21",
			NextBindIP: netip.MustParseAddr("::1"), NextExpire: testStart,
			Control: FTPConn{BoundAddr: ap("[::1]:40001"), PeerAddr: ap("[::1]:21"), ConnectTries: 1, ConnectSpend: 2000, ReadBytes: 300, WriteBytes: 80},
			Data:    FTPConn{BoundAddr: ap("[::1]:40002"), PeerAddr: ap("[::1]:20000"), ConnectTries: 1, ReadBytes: 10000},
			Method:  "GET", URI: "ftp://anon:me@ftp.example/pub/f.txt", URIMaxChars: 20,
			UserAgent: "curl", RspStatus: 200, ClientReadBytes: 90, ClientWriteBytes: 10200,
		},
	}
}

func udpAssociateRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeSOCKSProxy, ServerName: "socks", TaskID: testID, Event: EventFinished,
		Stage: StageRelaying, StartAt: testStart, User: "carol", Escaper: "direct",
		Reason: ReasonClosedByClient, WaitTime: 1000, ReadyTime: 2000, TotalTime: 3000,
		Detail: &UDPAssociate{
			TCPServerAddr: ap("127.0.0.1:1080"), TCPClientAddr: ap("127.0.0.1:50002"),
			UDPListenAddr: ap("127.0.0.1:40003"), UDPClientAddr: ap("127.0.0.1:50003"),
			InitialPeer: "[::1]:53",
			UDPCounters: UDPCounters{
				ClientReadBytes: 1, ClientReadPackets: 2, ClientWriteBytes: 3, ClientWritePackets: 4,
				RemoteReadBytes: 5, RemoteReadPackets: 6, RemoteWriteBytes: 7, RemoteWritePackets: 8,
			},
		},
	}
}

func udpConnectRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeSOCKSProxy, ServerName: "socks", TaskID: testID, Event: EventFinished,
		Stage: StageRelaying, StartAt: testStart, Reason: ReasonIdle, TotalTime: 60 * time.Second,
		Detail: &UDPConnect{
			TCPServerAddr: ap("127.0.0.1:1080"), TCPClientAddr: ap("127.0.0.1:50004"),
			UDPListenAddr: ap("127.0.0.1:40004"), UDPClientAddr: ap("127.0.0.1:50005"),
			Upstream:   "dns.example:53",
			NextBindIP: netip.MustParseAddr("127.0.0.1"), NextBoundAddr: ap("127.0.0.1:40005"),
			NextPeerAddr: ap("127.0.0.53:53"), NextExpire: testStart.Add(time.Minute),
			UDPCounters: UDPCounters{ClientReadBytes: 40, ClientReadPackets: 1, RemoteReadBytes: 120, RemoteReadPackets: 1,
				ClientWriteBytes: 120, ClientWritePackets: 1, RemoteWriteBytes: 40, RemoteWritePackets: 1},
		},
	}
}

// minimalRecord has only the required keys of a finished TcpConnect.
func minimalRecord() *TaskLog {
	return &TaskLog{
		ServerType: ServerTypeTCPStream, ServerName: "s", TaskID: testID, Stage: StageConnecting,
		StartAt: testStart, Reason: ReasonUpstreamNotConnected, TotalTime: 1,
		Detail: &TCPConnect{ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2"), Upstream: "10.9.9.9:22"},
	}
}

// withRawPeriodic sets the periodic interval without WithPeriodic's floor,
// for tests that race records against each other.
func withRawPeriodic(d time.Duration) ServerOption { return func(s *Server) { s.periodic = d } }
