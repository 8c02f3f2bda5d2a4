package tasklog

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// goldenHead starts each golden's want: the record's keys in the order of
// g3's source, which Object writes as they are.
const goldenHead = `{"report_ts":1795516204,"msg":`

// g3Line turns a golden's want into the Field line: the logger keys
// server_name and server_type first, then the record's keys last to
// first, then report_ts and msg.
func g3Line(t *testing.T, want string) string {
	t.Helper()
	segs, err := topLevel([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	head, body := segs[:2], segs[2:]
	var out []string
	for _, key := range []string{"server_name", "server_type"} {
		for _, s := range body {
			if segKey(s) == key {
				out = append(out, string(s))
			}
		}
	}
	for i := len(body) - 1; i >= 0; i-- {
		if k := segKey(body[i]); k != "server_name" && k != "server_type" {
			out = append(out, string(body[i]))
		}
	}
	return "{" + strings.Join(out, ",") + "," + string(head[0]) + "," + string(head[1]) + "}"
}

func TestGoldenLines(t *testing.T) {
	tests := []struct {
		name string
		rec  *TaskLog
		want string
	}{
		{"TcpConnect", tcpConnectRecord(), goldenHead + `"closed by client","server_type":"HttpProxy","server_name":"http-in","task_type":"TcpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","user":"alice","escaper":"direct","reason":"ClosedByClient","wait_time":"23.456µs","ready_time":"13.457ms","total_time":"2.346s","server_addr":"10.0.0.1:3128","client_addr":"[2001:db8::7]:53211","upstream":"example.com:443","next_bind_ip":"192.0.2.10","next_bound_addr":"192.0.2.10:40000","next_peer_addr":"93.184.216.34:443","next_expire":"2026-11-24T11:30:01.123456Z","tcp_connect_tries":2,"tcp_connect_spend":"1.235ms","c_rd_bytes":517,"c_wr_bytes":4810,"r_rd_bytes":4810,"r_wr_bytes":517}`},
		{"HttpForward", httpForwardRecord(), goldenHead + `"finished","server_type":"HttpProxy","server_name":"http-in","task_type":"HttpForward","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Finished","start_at":"2026-11-24T10:30:01.123456Z","user":"bob","escaper":"direct","reason":"Finished","wait_time":"1000.000ms","ready_time":"1.000ms","total_time":"1.002ms","server_addr":"127.0.0.1:8080","client_addr":"127.0.0.1:50000","upstream":"h.example:80","next_peer_addr":"127.0.0.2:80","tcp_connect_tries":1,"tcp_connect_spend":"999.000ns","c_rd_bytes":120,"c_wr_bytes":2048,"r_rd_bytes":2048,"r_wr_bytes":120,"pipeline_wait":"5.000ns","reuse_connection":true,"method":"GET","uri":"http://bob:xyz@h.example/p?q=%01","user_agent":"curl/8.5.0","rsp_status":200,"origin_status":200,"dur_req_send_hdr":"1.000µs","dur_req_send_all":"999.999µs","dur_rsp_recv_hdr":"1.235ms","dur_rsp_recv_all":"3600.000s"}`},
		{"FtpOverHttp", ftpOverHTTPRecord(), goldenHead + `"finished","server_type":"HttpProxy","server_name":"http-in","task_type":"FtpOverHttp","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Finished","start_at":"2026-11-24T10:30:01.123456Z","escaper":"","reason":"Finished","total_time":"1.500s","server_addr":"127.0.0.1:8080","client_addr":"127.0.0.1:50001","upstream":"ftp.example:21","next_bind_ip":"::1","next_expire":"2026-11-24T10:30:01.123456Z","ftp_c_bound_addr":"[::1]:40001","ftp_c_peer_addr":"[::1]:21","ftp_c_connect_tries":1,"ftp_c_connect_spend":"2.000µs","ftp_d_bound_addr":"[::1]:40002","ftp_d_peer_addr":"[::1]:20000","ftp_d_connect_tries":1,"method":"GET","uri":"ftp://anon:xyz@ftp.e","user_agent":"curl","rsp_status":200,"c_rd_bytes":90,"c_wr_bytes":10200,"ftp_c_rd_bytes":300,"ftp_c_wr_bytes":80,"ftp_d_rd_bytes":10000,"ftp_d_wr_bytes":0}`},
		{"UdpAssociate", udpAssociateRecord(), goldenHead + `"closed by client","server_type":"SocksProxy","server_name":"socks","task_type":"UdpAssociate","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","user":"carol","escaper":"direct","reason":"ClosedByClient","wait_time":"1.000µs","ready_time":"2.000µs","total_time":"3.000µs","tcp_server_addr":"127.0.0.1:1080","tcp_client_addr":"127.0.0.1:50002","udp_listen_addr":"127.0.0.1:40003","udp_client_addr":"127.0.0.1:50003","initial_peer":"[::1]:53","c_rd_bytes":1,"c_rd_packets":2,"c_wr_bytes":3,"c_wr_packets":4,"r_rd_bytes":5,"r_rd_packets":6,"r_wr_bytes":7,"r_wr_packets":8}`},
		{"UdpConnect", udpConnectRecord(), goldenHead + `"idle","server_type":"SocksProxy","server_name":"socks","task_type":"UdpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","escaper":"","reason":"Idle","total_time":"60.000s","tcp_server_addr":"127.0.0.1:1080","tcp_client_addr":"127.0.0.1:50004","udp_listen_addr":"127.0.0.1:40004","udp_client_addr":"127.0.0.1:50005","upstream":"dns.example:53","next_bind_ip":"127.0.0.1","next_bound_addr":"127.0.0.1:40005","next_peer_addr":"127.0.0.53:53","next_expire":"2026-11-24T10:31:01.123456Z","c_rd_bytes":40,"c_rd_packets":1,"c_wr_bytes":120,"c_wr_packets":1,"r_rd_bytes":120,"r_rd_packets":1,"r_wr_bytes":40,"r_wr_packets":1}`},
		{"Minimal", minimalRecord(), goldenHead + `"upstream not connected","server_type":"TcpStream","server_name":"s","task_type":"TcpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Connecting","start_at":"2026-11-24T10:30:01.123456Z","escaper":"","reason":"UpstreamNotConnected","total_time":"1.000ns","server_addr":"127.0.0.1:1","client_addr":"127.0.0.1:2","upstream":"10.9.9.9:22","tcp_connect_tries":0,"c_rd_bytes":0,"c_wr_bytes":0,"r_rd_bytes":0,"r_wr_bytes":0}`},
	}
	for _, tt := range tests {
		for _, enc := range testEncoders() {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				if err := tt.rec.Validate(); err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if got, want := logLineWith(t, enc.new(), tt.rec.Reason.Text(), Field(tt.rec)), g3Line(t, tt.want); got != want {
					t.Errorf("Field line\n got %s\nwant %s", got, want)
				}
				// Object nests the same keys, in the source's order, under
				// one key, which comes before the entry's.
				inner := strings.TrimPrefix(tt.want, goldenHead+`"`+tt.rec.Reason.Text()+`",`)
				want := `{"task":{` + inner + `,"report_ts":1795516204,"msg":"m"}`
				if got := logLineWith(t, enc.new(), "m", Object("task", tt.rec)); got != want {
					t.Errorf("Object line\n got %s\nwant %s", got, want)
				}
			})
		}
	}
}

type testEncoder struct {
	name string
	new  func() zapcore.Encoder
}

// testEncoders are the encoders every golden line must come out of alike:
// zap's own JSON encoder (the generic Add* path), put in g3's order by
// g3OrderEncoder, and NewEncoder's (the record writes straight into the
// line).
func testEncoders() []testEncoder {
	return []testEncoder{
		{"zap", func() zapcore.Encoder { return newG3OrderEncoder(EncoderConfig()) }},
		{"tasklog", func() zapcore.Encoder { return NewEncoder(EncoderConfig()) }},
	}
}

// costEncoders are zap's own JSON encoder, as it is, and NewEncoder's: what
// a logger costs with each, in allocations and benchmarks.
func costEncoders() []testEncoder {
	return []testEncoder{
		{"zap", func() zapcore.Encoder { return zapcore.NewJSONEncoder(EncoderConfig()) }},
		{"tasklog", func() zapcore.Encoder { return NewEncoder(EncoderConfig()) }},
	}
}

// The encoder's own duration and time settings never leak into the record.
func TestWireFormatIgnoresEncoderConfig(t *testing.T) {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeDuration = zapcore.NanosDurationEncoder
	cfg.EncodeTime = zapcore.EpochNanosTimeEncoder
	logger, buf := newTestLogger(zapcore.NewJSONEncoder(cfg))
	logger.Info("x", Field(tcpConnectRecord()), zap.Duration("other", time.Second))
	m := decode(t, buf.String())
	for key, want := range map[string]string{
		"total_time": "2.346s", "wait_time": "23.456µs", "tcp_connect_spend": "1.235ms",
		"start_at": "2026-11-24T10:30:01.123456Z", "next_expire": "2026-11-24T11:30:01.123456Z",
	} {
		if got := m[key]; got != want {
			t.Errorf("%s = %v, want %q", key, got, want)
		}
	}
	if got := fmt.Sprint(m["other"]); got != "1000000000" {
		t.Errorf("a plain zap.Duration changed: %v", got)
	}
}

// g3 writes reason on the finished record only (log/task/*.rs): a reason
// set on a running task's record is not written, and unset it is no error.
func TestReasonOnRunningRecord(t *testing.T) {
	rec := tcpConnectRecord()
	rec.Event = EventPeriodic
	if m := decode(t, logLine(t, "", Field(rec))); m["reason"] != nil {
		t.Errorf("reason = %v on a Periodic record, want none", m["reason"])
	}
	rec.Reason = 0
	m := decode(t, logLine(t, "", Field(rec)))
	if _, ok := m["reason"]; ok {
		t.Errorf("unset reason written on a Periodic record")
	}
	if _, ok := m[ErrorKey]; ok {
		t.Errorf("unset reason on a Periodic record reported as an error: %v", m[ErrorKey])
	}
}

// unknownDetail is a Detail from outside the package.
type unknownDetail struct{}

func (unknownDetail) TaskType() TaskType { return TaskTypeTCPConnect }
func (unknownDetail) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("custom", "yes")
	enc.AddInt64("n", 7)
	return nil
}

func TestBadRecords(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(r *TaskLog)
		gone    []string // keys of the good record that must be left out
		problem []string // text each bad key's error must hold
	}{
		{"zero record", func(r *TaskLog) { *r = TaskLog{} },
			[]string{"server_type", "server_name", "task_type", "task_id", "stage", "start_at", "reason", "total_time", "server_addr"},
			[]string{"server_type: missing", "server_name: missing", "task_id: missing", "stage: missing",
				"start_at: missing", "reason: missing", "total_time: missing", "task_type: missing"}},
		{"nil detail", func(r *TaskLog) { r.Detail = nil },
			[]string{"task_type", "server_addr", "c_rd_bytes"}, []string{"task_type: missing"}},
		{"typed nil detail", func(r *TaskLog) { r.Detail = (*TCPConnect)(nil) },
			[]string{"server_addr", "c_rd_bytes"}, []string{"detail: nil *TCPConnect"}},
		{"typed nil http detail", func(r *TaskLog) { r.Detail = (*HTTPForward)(nil) },
			[]string{"server_addr"}, []string{"detail: nil *HTTPForward"}},
		{"enums out of range", func(r *TaskLog) { r.ServerType, r.Stage, r.Event, r.Reason = 99, 98, 97, 96 },
			[]string{"server_type", "stage", "task_event", "reason"},
			[]string{"server_type: invalid value ServerType(99)", "stage: invalid value Stage(98)",
				"task_event: invalid value Event(97)", "reason: invalid value Reason(96)"}},
		{"negative durations", func(r *TaskLog) {
			r.WaitTime, r.TotalTime = -1, -time.Second
			r.Detail.(*TCPConnect).ConnectSpend = -time.Millisecond
		}, []string{"wait_time", "total_time", "tcp_connect_spend"},
			[]string{"wait_time: negative duration -1.000ns", "total_time: negative duration -1.000s",
				"tcp_connect_spend: negative duration -1.000ms"}},
		{"missing addresses", func(r *TaskLog) {
			d := r.Detail.(*TCPConnect)
			d.ServerAddr, d.ClientAddr = netip.AddrPort{}, netip.AddrPort{}
		}, []string{"server_addr", "client_addr"},
			[]string{"server_addr: missing", "client_addr: missing"}},
		{"negative tries", func(r *TaskLog) { r.Detail.(*TCPConnect).ConnectTries = -2 },
			[]string{"tcp_connect_tries"}, []string{"tcp_connect_tries: negative count -2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := decode(t, logLine(t, "", Field(tcpConnectRecord())))
			rec := tcpConnectRecord()
			tt.mutate(rec)
			err := rec.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			m := decode(t, logLine(t, "", Field(rec)))
			if fast := decode(t, logLineWith(t, NewEncoder(EncoderConfig()), "", Field(rec))); !reflect.DeepEqual(fast, m) {
				t.Errorf("NewEncoder wrote\n%v\nzap wrote\n%v", fast, m)
			}
			logged, _ := m[ErrorKey].(string)
			if logged != err.Error() {
				t.Errorf("%s = %q, want the Validate error %q", ErrorKey, logged, err)
			}
			for _, p := range tt.problem {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not say %q", err, p)
				}
			}
			gone := map[string]bool{}
			for _, k := range tt.gone {
				gone[k] = true
				if _, ok := m[k]; ok {
					t.Errorf("bad key %s was written: %v", k, m[k])
				}
			}
			// Every other key of the good record survives with its value,
			// except those the mutation itself changed to a valid value.
			for k, v := range good {
				if gone[k] || k == "msg" || tt.name == "zero record" || strings.HasPrefix(tt.name, "nil") || strings.HasPrefix(tt.name, "typed nil") {
					continue
				}
				if !reflect.DeepEqual(m[k], v) {
					t.Errorf("valid key %s = %v, want %v", k, m[k], v)
				}
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key == "" {
				t.Errorf("errors.As(%v, *KeyError) found nothing", err)
			}
		})
	}
}

func TestNilRecord(t *testing.T) {
	var rec *TaskLog
	if err := rec.Validate(); err == nil {
		t.Error("(*TaskLog)(nil).Validate() = nil")
	}
	m := decode(t, logLine(t, "m", Field(rec)))
	if m[ErrorKey] != "tasklog: nil *TaskLog" || len(m) != 3 {
		t.Errorf("Field(nil) wrote %v", m)
	}
	m = decode(t, logLine(t, "m", Object("task", rec)))
	if m["taskError"] != "tasklog: nil *TaskLog" || fmt.Sprint(m["task"]) != "map[]" {
		t.Errorf("Object(task, nil) wrote %v", m)
	}
}

func TestUnknownDetail(t *testing.T) {
	rec := minimalRecord()
	rec.Detail = unknownDetail{}
	if err := rec.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	m := decode(t, logLine(t, "", Field(rec)))
	if m["custom"] != "yes" || fmt.Sprint(m["n"]) != "7" || m["task_type"] != "TcpConnect" {
		t.Errorf("unknown detail wrote %v", m)
	}
	attrs := slogMap(t, rec)
	if attrs["custom"] != "yes" || fmt.Sprint(attrs["n"]) != "7" {
		t.Errorf("unknown detail through slog wrote %v", attrs)
	}
}

// Detail's own MarshalLogObject writes the finished record's sub-type keys.
func TestDetailMarshalLogObject(t *testing.T) {
	enc := zapcore.NewMapObjectEncoder()
	d := tcpConnectRecord().Detail
	if err := d.MarshalLogObject(enc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"server_addr": "10.0.0.1:3128", "client_addr": "[2001:db8::7]:53211", "upstream": "example.com:443",
		"next_bind_ip": "192.0.2.10", "next_bound_addr": "192.0.2.10:40000", "next_peer_addr": "93.184.216.34:443",
		"next_expire": "2026-11-24T11:30:01.123456Z", "tcp_connect_tries": uint64(2), "tcp_connect_spend": "1.235ms",
		"c_rd_bytes": uint64(517), "c_wr_bytes": uint64(4810), "r_rd_bytes": uint64(4810), "r_wr_bytes": uint64(517),
	}
	if !reflect.DeepEqual(enc.Fields, want) {
		t.Errorf("TCPConnect fields\n got %v\nwant %v", enc.Fields, want)
	}
	err := (&UDPConnect{}).MarshalLogObject(zapcore.NewMapObjectEncoder())
	for _, k := range []string{"tcp_server_addr: missing", "tcp_client_addr: missing"} {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("empty UDPConnect error %v does not say %q", err, k)
		}
	}
}

func TestStatusCodes(t *testing.T) {
	for _, tt := range []struct {
		code  int
		ok    bool
		write bool
	}{{0, true, true}, {200, true, true}, {599, true, true}, {99, false, false}, {1000, false, false}, {-1, false, false}} {
		rec := httpForwardRecord()
		rec.Detail.(*HTTPForward).RspStatus = tt.code
		err := rec.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("RspStatus %d: Validate() = %v", tt.code, err)
		}
		_, written := decode(t, logLine(t, "", Field(rec)))["rsp_status"]
		if written != tt.write {
			t.Errorf("RspStatus %d: written = %v, want %v", tt.code, written, tt.write)
		}
	}
}

// The upstream key is written the way g3 prints its UpstreamAddr
// (lib/g3-types/src/net/upstream.rs, lib/g3-slog-types/src/net.rs): left out
// when the host is empty or unspecified, the host alone for port 0, IPs in
// canonical form; a value that is not host:port is kept as the client sent
// it, and never turns into an error key.
func TestUpstreamAsG3PrintsIt(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means the key is left out
	}{
		{"example.com:443", "example.com:443"},
		{"10.0.0.1:80", "10.0.0.1:80"},
		{"[2001:db8::1]:53", "[2001:db8::1]:53"},
		{"[2001:DB8:0::1]:53", "[2001:db8::1]:53"},
		{"h:65535", "h:65535"},
		{"h:0", "h"},
		{"[2001:db8::1]:0", "2001:db8::1"},
		{"10.0.0.1:0", "10.0.0.1"},
		{"example.com", "example.com"},
		{"2001:db8::1", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"h:0443", "h:443"},
		{"", ""},
		{":443", ""},
		{"0.0.0.0:443", ""},
		{"[::]:443", ""},
		{"::", ""},
		{"0.0.0.0", ""},
		// Not host:port: written as given.
		{"h:", "h:"},
		{"h:65536", "h:65536"},
		{"h:8a", "h:8a"},
		{"[10.0.0.1]:80", "[10.0.0.1]:80"},
		{"[:80", "[:80"},
		{"a b:80", "a b:80"},
		{"999.1.1.1:80", "999.1.1.1:80"},
		{"日本.jp:80", "日本.jp:80"},
		{"bad\xffhost:80", "bad\ufffdhost:80"},
		{"q\"uote:80", "q\"uote:80"},
	}
	for _, tt := range tests {
		for _, enc := range testEncoders() {
			rec := minimalRecord()
			rec.Detail.(*TCPConnect).Upstream = tt.in
			if err := rec.Validate(); err != nil {
				t.Errorf("upstream %q: Validate() = %v, want nil", tt.in, err)
			}
			m := decode(t, logLineWith(t, enc.new(), "m", Field(rec)))
			got, ok := m["upstream"]
			switch {
			case tt.want == "" && ok:
				t.Errorf("%s: upstream %q written as %v, want it left out", enc.name, tt.in, got)
			case tt.want != "" && got != tt.want:
				t.Errorf("%s: upstream %q written as %v, want %q", enc.name, tt.in, got, tt.want)
			}
			if _, bad := m[ErrorKey]; bad {
				t.Errorf("%s: upstream %q gave an error key: %v", enc.name, tt.in, m[ErrorKey])
			}
		}
	}
}

func TestConcurrentEncoding(t *testing.T) {
	rec := httpForwardRecord()
	want := logLine(t, "m", Field(rec)) + "\n"
	logger, buf := newTestLogger(nil)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				logger.Info("m", Field(rec))
			}
		}()
	}
	wg.Wait()
	lines := strings.SplitAfter(buf.String(), "\n")
	lines = lines[:len(lines)-1]
	if len(lines) != 2000 {
		t.Fatalf("%d lines, want 2000", len(lines))
	}
	for i, l := range lines {
		if l != want {
			t.Fatalf("line %d differs:\n got %s\nwant %s", i, l, want)
		}
	}
}

func TestFieldAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, enc := range costEncoders() {
		logger := zap.New(zapcore.NewCore(enc.new(), zapcore.AddSync(discard{}), zap.InfoLevel))
		for _, rec := range []*TaskLog{tcpConnectRecord(), httpForwardRecord(), udpAssociateRecord(), ftpOverHTTPRecord()} {
			// zap itself allocates one: the variadic field slice.
			if n := testing.AllocsPerRun(1000, func() { logger.Info(rec.Reason.Text(), Field(rec)) }); n > 1 {
				t.Errorf("%s: %v: logger.Info with Field allocates %v times, want at most zap's 1", enc.name, rec.Detail.TaskType(), n)
			}
		}
	}
	for _, rec := range []*TaskLog{tcpConnectRecord(), httpForwardRecord(), udpAssociateRecord(), ftpOverHTTPRecord()} {
		if n := testing.AllocsPerRun(1000, func() { _ = rec.Validate() }); n != 0 {
			t.Errorf("%v: Validate on a good record allocates %v times", rec.Detail.TaskType(), n)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
