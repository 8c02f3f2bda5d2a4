package tasklog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// g3Keys lists, per task type and event, the keys g3proxy's code writes
// after task_type, task_id, task_event, stage, start_at and user, in g3's
// order. It is transcribed from the slog::info! calls of bytedance/g3
// g3proxy/src/log/task/{tcp_connect,http_forward,ftp_over_http,
// udp_associate,udp_connect}.rs (log_created, log_connected, log_periodic,
// log_partial_shutdown, log), not from tasklog's output. Only TcpConnect has
// shutdown events.
var g3Keys = map[TaskType]map[Event]string{
	TaskTypeTCPConnect: {
		EventCreated:          "server_addr client_addr upstream wait_time",
		EventConnected:        "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend wait_time ready_time",
		EventPeriodic:         "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend wait_time ready_time total_time c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
		EventClientShutdown:   "server_addr client_addr upstream escaper next_bound_addr next_peer_addr next_expire wait_time ready_time total_time c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
		EventUpstreamShutdown: "server_addr client_addr upstream escaper next_bound_addr next_peer_addr next_expire wait_time ready_time total_time c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
		EventFinished:         "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend reason wait_time ready_time total_time c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
	},
	TaskTypeHTTPForward: {
		EventCreated:   "server_addr client_addr upstream pipeline_wait method uri user_agent wait_time",
		EventConnected: "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend pipeline_wait reuse_connection method uri user_agent wait_time ready_time",
		EventPeriodic:  "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend pipeline_wait reuse_connection method uri user_agent rsp_status origin_status wait_time ready_time total_time dur_req_send_hdr dur_req_send_all dur_rsp_recv_hdr dur_rsp_recv_all c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
		EventFinished:  "server_addr client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire tcp_connect_tries tcp_connect_spend reason pipeline_wait reuse_connection method uri user_agent rsp_status origin_status wait_time ready_time dur_req_send_hdr dur_req_send_all dur_rsp_recv_hdr dur_rsp_recv_all total_time c_rd_bytes c_wr_bytes r_rd_bytes r_wr_bytes",
	},
	TaskTypeFTPOverHTTP: {
		EventCreated:   "server_addr client_addr upstream method uri user_agent wait_time",
		EventConnected: "server_addr client_addr upstream escaper next_bind_ip next_expire ftp_c_bound_addr ftp_c_peer_addr ftp_c_connect_tries ftp_c_connect_spend method uri user_agent rsp_status wait_time ready_time ftp_c_rd_bytes ftp_c_wr_bytes",
		EventPeriodic:  "server_addr client_addr upstream escaper next_bind_ip next_expire ftp_c_bound_addr ftp_c_peer_addr ftp_c_connect_tries ftp_c_connect_spend ftp_d_bound_addr ftp_d_peer_addr ftp_d_connect_tries ftp_d_connect_spend method uri user_agent rsp_status wait_time ready_time total_time c_rd_bytes c_wr_bytes ftp_c_rd_bytes ftp_c_wr_bytes ftp_d_rd_bytes ftp_d_wr_bytes",
		EventFinished:  "server_addr client_addr upstream escaper next_bind_ip next_expire ftp_c_bound_addr ftp_c_peer_addr ftp_c_connect_tries ftp_c_connect_spend ftp_d_bound_addr ftp_d_peer_addr ftp_d_connect_tries ftp_d_connect_spend reason method uri user_agent rsp_status wait_time ready_time total_time c_rd_bytes c_wr_bytes ftp_c_rd_bytes ftp_c_wr_bytes ftp_d_rd_bytes ftp_d_wr_bytes",
	},
	TaskTypeUDPAssociate: {
		EventCreated:   "tcp_server_addr tcp_client_addr wait_time",
		EventConnected: "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr initial_peer escaper wait_time ready_time c_rd_bytes c_rd_packets",
		EventPeriodic:  "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr initial_peer escaper wait_time ready_time total_time c_rd_bytes c_rd_packets c_wr_bytes c_wr_packets r_rd_bytes r_rd_packets r_wr_bytes r_wr_packets",
		EventFinished:  "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr initial_peer escaper reason wait_time ready_time total_time c_rd_bytes c_rd_packets c_wr_bytes c_wr_packets r_rd_bytes r_rd_packets r_wr_bytes r_wr_packets",
	},
	TaskTypeUDPConnect: {
		EventCreated:   "tcp_server_addr tcp_client_addr wait_time",
		EventConnected: "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire wait_time ready_time c_rd_bytes c_rd_packets",
		EventPeriodic:  "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire wait_time ready_time total_time c_rd_bytes c_rd_packets c_wr_bytes c_wr_packets r_rd_bytes r_rd_packets r_wr_bytes r_wr_packets",
		EventFinished:  "tcp_server_addr tcp_client_addr udp_listen_addr udp_client_addr upstream escaper next_bind_ip next_bound_addr next_peer_addr next_expire reason wait_time ready_time total_time c_rd_bytes c_rd_packets c_wr_bytes c_wr_packets r_rd_bytes r_rd_packets r_wr_bytes r_wr_packets",
	},
}

// g3Head are the keys before the per-event ones: server_type and
// server_name come from g3's task logger (log/task/mod.rs), the rest open
// every slog::info! call.
const g3Head = "server_type server_name task_type task_id task_event stage start_at user "

// goldenCase is one task type's pair of fixtures: every value set, and only
// the required ones, with the JSON each key must carry, worked out by hand
// from g3's wire formats (lib/g3-slog-types) for the values below.
type goldenCase struct {
	full, empty         func() *TaskLog
	fullWant, emptyWant map[string]string
}

var shared = TaskLog{
	ServerType: ServerTypeHTTPProxy, ServerName: "http-in", TaskID: testID, Stage: StageRelaying,
	StartAt: testStart, User: "alice", Escaper: "direct", Reason: ReasonClosedByClient,
	WaitTime: 23456, ReadyTime: 13456789, TotalTime: 2345678901,
}

var sharedWant = map[string]string{
	"server_type": `"HttpProxy"`, "server_name": `"http-in"`, "task_id": `"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"`,
	"stage": `"Relaying"`, "start_at": `"2026-11-24T10:30:01.123456Z"`, "user": `"alice"`,
	"escaper": `"direct"`, "reason": `"ClosedByClient"`, "wait_time": `"23.456µs"`,
	"ready_time": `"13.457ms"`, "total_time": `"2.346s"`,
}

// emptyShared has the required shared keys only; reason and total_time,
// required on a finished record, are added by the test for that event.
var emptyShared = TaskLog{
	ServerType: ServerTypeSOCKSProxy, ServerName: "s", TaskID: testID, Stage: StageCreated, StartAt: testStart,
}

var emptySharedWant = map[string]string{
	"server_type": `"SocksProxy"`, "server_name": `"s"`, "task_id": `"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a"`,
	"stage": `"Created"`, "start_at": `"2026-11-24T10:30:01.123456Z"`, "escaper": `""`,
	"reason": `"Finished"`, "total_time": `"1.000ns"`,
}

func withShared(base TaskLog, d Detail) func() *TaskLog {
	return func() *TaskLog { r := base; r.Detail = d; return &r }
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var fullTCP = TCPConnect{
	ServerAddr: ap("10.0.0.1:3128"), ClientAddr: ap("[2001:db8::7]:53211"), Upstream: "example.com:443",
	NextBindIP: netip.MustParseAddr("192.0.2.10"), NextBoundAddr: ap("192.0.2.10:40000"),
	NextPeerAddr: ap("93.184.216.34:443"), NextExpire: testStart.Add(time.Hour),
	ConnectTries: 2, ConnectSpend: 1234567,
	ClientReadBytes: 517, ClientWriteBytes: 4810, RemoteReadBytes: 4811, RemoteWriteBytes: 518,
}

var fullTCPWant = map[string]string{
	"task_type": `"TcpConnect"`, "server_addr": `"10.0.0.1:3128"`, "client_addr": `"[2001:db8::7]:53211"`,
	"upstream": `"example.com:443"`, "next_bind_ip": `"192.0.2.10"`, "next_bound_addr": `"192.0.2.10:40000"`,
	"next_peer_addr": `"93.184.216.34:443"`, "next_expire": `"2026-11-24T11:30:01.123456Z"`,
	"tcp_connect_tries": `2`, "tcp_connect_spend": `"1.235ms"`,
	"c_rd_bytes": `517`, "c_wr_bytes": `4810`, "r_rd_bytes": `4811`, "r_wr_bytes": `518`,
}

var emptyTCPWant = map[string]string{
	"task_type": `"TcpConnect"`, "server_addr": `"127.0.0.1:1"`, "client_addr": `"127.0.0.1:2"`,
	"tcp_connect_tries": `0`, "c_rd_bytes": `0`, "c_wr_bytes": `0`, "r_rd_bytes": `0`, "r_wr_bytes": `0`,
}

var goldenCases = map[TaskType]goldenCase{
	TaskTypeTCPConnect: {
		full:     func() *TaskLog { d := fullTCP; return withShared(shared, &d)() },
		fullWant: merge(sharedWant, fullTCPWant),
		empty: func() *TaskLog {
			return withShared(emptyShared, &TCPConnect{ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2")})()
		},
		emptyWant: merge(emptySharedWant, emptyTCPWant),
	},
	TaskTypeHTTPForward: {
		full: func() *TaskLog {
			return withShared(shared, &HTTPForward{
				TCPConnect: fullTCP, PipelineWait: 5, ReuseConnection: true, Method: "GET",
				URI: "HTTP://bob:s3cret@h.example?q=1#frag", UserAgent: "curl/8.5.0",
				RspStatus: 502, OriginStatus: 503,
				ReqSendHdr: 1000, ReqSendAll: 999999, RspRecvHdr: 1001500, RspRecvAll: 3600 * time.Second,
			})()
		},
		fullWant: merge(sharedWant, fullTCPWant, map[string]string{
			"task_type": `"HttpForward"`, "pipeline_wait": `"5.000ns"`, "reuse_connection": `true`,
			"method": `"GET"`, "uri": `"http://bob:xyz@h.example/?q=1"`, "user_agent": `"curl/8.5.0"`,
			"rsp_status": `502`, "origin_status": `503`, "dur_req_send_hdr": `"1.000µs"`,
			"dur_req_send_all": `"999.999µs"`, "dur_rsp_recv_hdr": `"1.002ms"`, "dur_rsp_recv_all": `"3600.000s"`,
		}),
		empty: func() *TaskLog {
			return withShared(emptyShared, &HTTPForward{
				TCPConnect: TCPConnect{ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2")},
				Method:     "GET", URI: "/",
			})()
		},
		emptyWant: merge(emptySharedWant, emptyTCPWant, map[string]string{
			"task_type": `"HttpForward"`, "reuse_connection": `false`, "method": `"GET"`, "uri": `"/"`,
			"rsp_status": `0`, "origin_status": `0`,
		}),
	},
	TaskTypeFTPOverHTTP: {
		full: withShared(shared, &FTPOverHTTP{
			ServerAddr: ap("127.0.0.1:8080"), ClientAddr: ap("127.0.0.1:50001"), Upstream: "ftp.example:21",
			NextBindIP: netip.MustParseAddr("::1"), NextExpire: testStart,
			Control: FTPConn{BoundAddr: ap("[::1]:40001"), PeerAddr: ap("[::1]:21"), ConnectTries: 1, ConnectSpend: 2000, ReadBytes: 300, WriteBytes: 80},
			Data:    FTPConn{BoundAddr: ap("[::1]:40002"), PeerAddr: ap("[::1]:20000"), ConnectTries: 3, ConnectSpend: 1500 * time.Millisecond, ReadBytes: 10000, WriteBytes: 7},
			Method:  "GET", URI: "ftp://anon:me@ftp.example/pub/f.txt", UserAgent: "curl",
			RspStatus: 200, ClientReadBytes: 90, ClientWriteBytes: 10200,
		}),
		fullWant: merge(sharedWant, map[string]string{
			"task_type": `"FtpOverHttp"`, "server_addr": `"127.0.0.1:8080"`, "client_addr": `"127.0.0.1:50001"`,
			"upstream": `"ftp.example:21"`, "next_bind_ip": `"::1"`, "next_expire": `"2026-11-24T10:30:01.123456Z"`,
			"ftp_c_bound_addr": `"[::1]:40001"`, "ftp_c_peer_addr": `"[::1]:21"`, "ftp_c_connect_tries": `1`,
			"ftp_c_connect_spend": `"2.000µs"`, "ftp_c_rd_bytes": `300`, "ftp_c_wr_bytes": `80`,
			"ftp_d_bound_addr": `"[::1]:40002"`, "ftp_d_peer_addr": `"[::1]:20000"`, "ftp_d_connect_tries": `3`,
			"ftp_d_connect_spend": `"1.500s"`, "ftp_d_rd_bytes": `10000`, "ftp_d_wr_bytes": `7`,
			"method": `"GET"`, "uri": `"ftp://anon:xyz@ftp.example/pub/f.txt"`, "user_agent": `"curl"`,
			"rsp_status": `200`, "c_rd_bytes": `90`, "c_wr_bytes": `10200`,
		}),
		empty: withShared(emptyShared, &FTPOverHTTP{
			ServerAddr: ap("127.0.0.1:1"), ClientAddr: ap("127.0.0.1:2"), Method: "GET", URI: "ftp://h/",
		}),
		emptyWant: merge(emptySharedWant, map[string]string{
			"task_type": `"FtpOverHttp"`, "server_addr": `"127.0.0.1:1"`, "client_addr": `"127.0.0.1:2"`,
			"ftp_c_connect_tries": `0`, "ftp_c_rd_bytes": `0`, "ftp_c_wr_bytes": `0`,
			"ftp_d_connect_tries": `0`, "ftp_d_rd_bytes": `0`, "ftp_d_wr_bytes": `0`,
			"method": `"GET"`, "uri": `"ftp://h/"`, "rsp_status": `0`, "c_rd_bytes": `0`, "c_wr_bytes": `0`,
		}),
	},
	TaskTypeUDPAssociate: {
		full: withShared(shared, &UDPAssociate{
			TCPServerAddr: ap("127.0.0.1:1080"), TCPClientAddr: ap("127.0.0.1:50002"),
			UDPListenAddr: ap("127.0.0.1:40003"), UDPClientAddr: ap("127.0.0.1:50003"), InitialPeer: "[::1]:53",
			UDPCounters: UDPCounters{1, 2, 3, 4, 5, 6, 7, 8},
		}),
		fullWant: merge(sharedWant, udpCountersWant(1), map[string]string{
			"task_type": `"UdpAssociate"`, "tcp_server_addr": `"127.0.0.1:1080"`, "tcp_client_addr": `"127.0.0.1:50002"`,
			"udp_listen_addr": `"127.0.0.1:40003"`, "udp_client_addr": `"127.0.0.1:50003"`, "initial_peer": `"[::1]:53"`,
		}),
		empty: withShared(emptyShared, &UDPAssociate{TCPServerAddr: ap("127.0.0.1:1"), TCPClientAddr: ap("127.0.0.1:2")}),
		emptyWant: merge(emptySharedWant, udpCountersWant(0), map[string]string{
			"task_type": `"UdpAssociate"`, "tcp_server_addr": `"127.0.0.1:1"`, "tcp_client_addr": `"127.0.0.1:2"`,
		}),
	},
	TaskTypeUDPConnect: {
		full: withShared(shared, &UDPConnect{
			TCPServerAddr: ap("127.0.0.1:1080"), TCPClientAddr: ap("127.0.0.1:50004"),
			UDPListenAddr: ap("127.0.0.1:40004"), UDPClientAddr: ap("127.0.0.1:50005"), Upstream: "dns.example:53",
			NextBindIP: netip.MustParseAddr("127.0.0.1"), NextBoundAddr: ap("127.0.0.1:40005"),
			NextPeerAddr: ap("127.0.0.53:53"), NextExpire: testStart.Add(time.Minute),
			UDPCounters: UDPCounters{11, 12, 13, 14, 15, 16, 17, 18},
		}),
		fullWant: merge(sharedWant, udpCountersWant(11), map[string]string{
			"task_type": `"UdpConnect"`, "tcp_server_addr": `"127.0.0.1:1080"`, "tcp_client_addr": `"127.0.0.1:50004"`,
			"udp_listen_addr": `"127.0.0.1:40004"`, "udp_client_addr": `"127.0.0.1:50005"`, "upstream": `"dns.example:53"`,
			"next_bind_ip": `"127.0.0.1"`, "next_bound_addr": `"127.0.0.1:40005"`, "next_peer_addr": `"127.0.0.53:53"`,
			"next_expire": `"2026-11-24T10:31:01.123456Z"`,
		}),
		empty: withShared(emptyShared, &UDPConnect{TCPServerAddr: ap("127.0.0.1:1"), TCPClientAddr: ap("127.0.0.1:2")}),
		emptyWant: merge(emptySharedWant, udpCountersWant(0), map[string]string{
			"task_type": `"UdpConnect"`, "tcp_server_addr": `"127.0.0.1:1"`, "tcp_client_addr": `"127.0.0.1:2"`,
		}),
	},
}

// udpCountersWant: the eight counters in UDPCounters' field order, from
// first (0 for all zero).
func udpCountersWant(first int) map[string]string {
	m := map[string]string{}
	for i, k := range []string{"c_rd_bytes", "c_rd_packets", "c_wr_bytes", "c_wr_packets", "r_rd_bytes", "r_rd_packets", "r_wr_bytes", "r_wr_packets"} {
		n := 0
		if first != 0 {
			n = first + i
		}
		m[k] = jsonInt(n)
	}
	return m
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// rawFields parses a line into its keys' raw JSON values, failing on a
// repeated key.
func rawFields(t *testing.T, line string) map[string]string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("line does not open an object: %s", line)
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("bad line %s: %v", line, err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("bad value of %s in %s: %v", key, line, err)
		}
		if _, dup := out[key]; dup {
			t.Fatalf("key %s written twice: %s", key, line)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			t.Fatal(err)
		}
		out[key] = buf.String()
	}
	return out
}

var allEvents = []Event{EventCreated, EventConnected, EventPeriodic, EventClientShutdown, EventUpstreamShutdown, EventFinished}

// TestG3KeySetsAndValues checks every task type and event, once with
// every value set and once with only the required ones, against g3Keys and
// the hand-made values: the line must carry exactly the keys g3 writes for
// that event (less those g3 leaves out as none), each with its value.
func TestG3KeySetsAndValues(t *testing.T) {
	for typ, gc := range goldenCases {
		for _, ev := range allEvents {
			list, ok := g3Keys[typ][ev]
			if !ok {
				continue // no such event for this type: TestShutdownOnlyForTcpConnect
			}
			for _, variant := range []string{"full", "empty"} {
				name := typ.String() + "/" + ev.String() + "/" + variant
				rec, want := gc.full(), gc.fullWant
				if variant == "empty" {
					rec, want = gc.empty(), merge(gc.emptyWant)
					if ev == EventFinished {
						rec.Reason, rec.TotalTime = ReasonFinished, 1
					} else {
						delete(want, "reason")
						delete(want, "total_time")
					}
				}
				rec.Event = ev
				wantMsg := `""`
				if ev == EventFinished {
					wantMsg = `"` + rec.Reason.Text() + `"`
				}
				if err := rec.Validate(); err != nil {
					t.Errorf("%s: Validate() = %v", name, err)
					continue
				}
				expect := map[string]string{"msg": wantMsg, "task_event": `"` + ev.String() + `"`}
				for _, k := range strings.Fields(g3Head + list) {
					if v, ok := want[k]; ok && k != "task_event" {
						expect[k] = v
					}
				}
				for _, enc := range testEncoders() {
					msg := ""
					if ev == EventFinished {
						msg = rec.Reason.Text()
					}
					got := rawFields(t, logLineWith(t, enc.new(), msg, Field(rec)))
					delete(got, "report_ts")
					compareFields(t, name+"/"+enc.name, got, expect)
				}
			}
		}
	}
}

func compareFields(t *testing.T, name string, got, want map[string]string) {
	t.Helper()
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !wok:
			t.Errorf("%s: unexpected key %s = %s", name, k, g)
		case !gok:
			t.Errorf("%s: missing key %s, want %s", name, k, w)
		case g != w:
			t.Errorf("%s: %s = %s, want %s", name, k, g, w)
		}
	}
}

// An unset Event is a finished record and says so, as g3 always writes
// task_event.
func TestUnsetEventWritesFinished(t *testing.T) {
	rec := goldenCases[TaskTypeTCPConnect].full()
	rec.Event = 0
	got := rawFields(t, logLine(t, "m", Field(rec)))
	if got["task_event"] != `"Finished"` {
		t.Errorf("task_event = %s, want \"Finished\"", got["task_event"])
	}
	if got["reason"] != `"ClosedByClient"` {
		t.Errorf("reason = %s, want the finished record's", got["reason"])
	}
}

// Only TcpConnect has shutdown records in g3; on another type the event is
// the author's mistake: reported, with the rest of the record written.
func TestShutdownOnlyForTcpConnect(t *testing.T) {
	for typ, gc := range goldenCases {
		if typ == TaskTypeTCPConnect {
			continue
		}
		rec := gc.full()
		rec.Event = EventClientShutdown
		err := rec.Validate()
		if err == nil || !strings.Contains(err.Error(), "task_event: ClientShutdown is an event of TcpConnect tasks only") {
			t.Errorf("%v: Validate() = %v, want the task_event error", typ, err)
		}
		got := rawFields(t, logLine(t, "", Field(rec)))
		if _, ok := got["task_event"]; ok {
			t.Errorf("%v: task_event written as %s", typ, got["task_event"])
		}
		if got["task_type"] == "" || got[ErrorKey] == "" {
			t.Errorf("%v: want the other keys and %s, got %v", typ, ErrorKey, got)
		}
	}
}

// Strings from the wire that are not valid UTF-8 keep their key, with each
// bad byte written as \ufffd, and make no error key.
func TestInvalidUTF8KeepsKeys(t *testing.T) {
	rec := goldenCases[TaskTypeHTTPForward].full()
	rec.User = "al\xffice"
	d := rec.Detail.(*HTTPForward)
	d.Method = "G\xfeT"
	d.UserAgent = "curl\xc3"
	d.Upstream = "ex\xe9mple.com:443"
	d.URI = "http://h/\xff"
	if err := rec.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil: wire values are not the author's mistakes", err)
	}
	want := map[string]string{
		"user": `"al\ufffdice"`, "method": `"G\ufffdT"`, "user_agent": `"curl\ufffd"`,
		"upstream": `"ex\ufffdmple.com:443"`, "uri": `"http://h/%FF"`,
	}
	for _, enc := range testEncoders() {
		got := rawFields(t, logLineWith(t, enc.new(), "m", Field(rec)))
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %s, want %s", enc.name, k, got[k], v)
			}
		}
		if _, bad := got[ErrorKey]; bad {
			t.Errorf("%s: error key written: %s", enc.name, got[ErrorKey])
		}
	}
}

// noneRecorder is an ObjectEncoder that also records the keys g3 writes as
// none (fluentd's nil).
type noneRecorder struct {
	*zapcore.MapObjectEncoder
	none []string
}

func (n *noneRecorder) AddNone(key string) { n.none = append(n.none, key) }

// A record with only its required values tells a NoneAdder every other key
// of its event: the written keys and the none keys are g3's key set.
func TestNoneKeysCompleteG3KeySet(t *testing.T) {
	for typ, gc := range goldenCases {
		for ev, list := range g3Keys[typ] {
			rec := gc.empty()
			rec.Event = ev
			if ev == EventFinished {
				rec.Reason, rec.TotalTime = ReasonFinished, 1
			}
			enc := &noneRecorder{MapObjectEncoder: zapcore.NewMapObjectEncoder()}
			if err := rec.MarshalLogObject(enc); err != nil {
				t.Fatalf("%v %v: %v", typ, ev, err)
			}
			var got []string
			for k := range enc.Fields {
				got = append(got, k)
			}
			for _, k := range enc.none {
				if _, dup := enc.Fields[k]; dup {
					t.Errorf("%v %v: %s both written and none", typ, ev, k)
				}
				got = append(got, k)
			}
			want := strings.Fields(g3Head + list)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%v %v: written+none keys\n got %v\nwant %v", typ, ev, got, want)
			}
		}
	}
}

// AppendJSONString escapes as zap does, but for \b and \f, which it writes
// as serde_json does (g3's JSON); encoding/json reads the same string back.
func TestAppendJSONStringMatchesZap(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\n\r\t\x01\x7f", "\b\f\x08x\x0c", "é日本", "bad\xffbyte", "\u2028"} {
		enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{})
		buf, _ := enc.EncodeEntry(zapcore.Entry{}, []zapcore.Field{zap.String("k", s)})
		want := strings.TrimSuffix(strings.TrimPrefix(buf.String(), `{"k":`), "}\n")
		want = strings.NewReplacer(`\u0008`, `\b`, `\u000c`, `\f`).Replace(want)
		got := AppendJSONString(nil, s)
		if string(got) != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != strings.ToValidUTF8(s, "\ufffd") {
			t.Errorf("AppendJSONString(%q) reads back as %q, %v", s, back, err)
		}
	}
}
