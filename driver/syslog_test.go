package driver

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The formats of g3's syslog driver, worked out by hand from
// lib/g3-syslog (format/rfc3164.rs, rfc5424.rs, cee.rs) for the record of
// record(): priority 29 (daemon, notice for info), Rust's escape_debug for
// strings, unset keys left out.
func TestSyslogFormats(t *testing.T) {
	local := testTime.Local().Format("Jan _2 15:04:05")
	pid := strconv.Itoa(os.Getpid())
	json := `{"daemon_name":"g3proxy","log_type":"Task","pid":4242,"server_type":"HttpProxy","server_name":"http","task_type":"TcpConnect","task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a","task_event":"Finished","stage":"Relaying","start_at":"2026-11-24T10:30:01.123456Z","user":"al\"ice","escaper":"direct","reason":"ClosedByClient","ready_time":"13.457ms","total_time":"2.346s","server_addr":"10.0.0.1:3128","client_addr":"[2001:db8::7]:53211","upstream":"example.com:443","tcp_connect_tries":1,"c_rd_bytes":517,"c_wr_bytes":4810,"r_rd_bytes":4810,"r_wr_bytes":517`
	tests := []struct {
		name string
		cfg  SyslogConfig
		want string
	}{
		{"rfc3164 text", SyslogConfig{},
			"<29>" + local + " g3proxy[" + pid + `]: closed by client, daemon_name="g3proxy", log_type="Task", pid=4242, server_type="HttpProxy", server_name="http", task_type="TcpConnect", task_id="5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a", task_event="Finished", stage="Relaying", start_at="2026-11-24T10:30:01.123456Z", user="al\"ice", escaper="direct", reason="ClosedByClient", ready_time="13.457ms", total_time="2.346s", server_addr="10.0.0.1:3128", client_addr="[2001:db8::7]:53211", upstream="example.com:443", tcp_connect_tries=1, c_rd_bytes=517, c_wr_bytes=4810, r_rd_bytes=4810, r_wr_bytes=517`},
		{"rfc3164 text report_ts", SyslogConfig{AppendReportTS: true, Facility: ptr(FacilityLocal0)},
			"<133>" + local + " g3proxy[" + pid + `]: closed by client, daemon_name="g3proxy", log_type="Task", pid=4242, server_type="HttpProxy", server_name="http", task_type="TcpConnect", task_id="5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a", task_event="Finished", stage="Relaying", start_at="2026-11-24T10:30:01.123456Z", user="al\"ice", escaper="direct", reason="ClosedByClient", ready_time="13.457ms", total_time="2.346s", server_addr="10.0.0.1:3128", client_addr="[2001:db8::7]:53211", upstream="example.com:443", tcp_connect_tries=1, c_rd_bytes=517, c_wr_bytes=4810, r_rd_bytes=4810, r_wr_bytes=517, report_ts=1795516204`},
		{"rfc3164 cee", SyslogConfig{CEE: true},
			"<29>" + local + " g3proxy[" + pid + "]: @cee:" + json + `,"msg":"closed by client"}`},
		{"rfc3164 cee report_ts and cookie", SyslogConfig{CEE: true, AppendReportTS: true, CEEEventFlag: "@json:"},
			"<29>" + local + " g3proxy[" + pid + "]: @json:" + json + `,"report_ts":1795516204,"msg":"closed by client"}`},
		{"rfc5424 sd", SyslogConfig{RFC5424: true, EnterpriseID: 32473, MessageID: "TASK"},
			"<29>1 2026-11-24T10:30:04.987654Z - g3proxy " + pid + ` TASK [g3proxy@32473 daemon_name="g3proxy" log_type="Task" pid="4242" server_type="HttpProxy" server_name="http" task_type="TcpConnect" task_id="5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a" task_event="Finished" stage="Relaying" start_at="2026-11-24T10:30:01.123456Z" user="al\"ice" escaper="direct" reason="ClosedByClient" ready_time="13.457ms" total_time="2.346s" server_addr="10.0.0.1:3128" client_addr="[2001:db8::7\]:53211" upstream="example.com:443" tcp_connect_tries="1" c_rd_bytes="517" c_wr_bytes="4810" r_rd_bytes="4810" r_wr_bytes="517"] closed by client`},
		{"rfc5424 cee", SyslogConfig{RFC5424: true, CEE: true},
			"<29>1 2026-11-24T10:30:04.987654Z - g3proxy " + pid + " - @cee:" + json + `,"msg":"closed by client"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, path := unixgramListener(t)
			tt.cfg.Ident, tt.cfg.UnixPath = "g3proxy", path
			core, err := NewSyslog(tt.cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer core.Close()
			logRecord(t, core, "closed by client", record())
			if got := readDatagram(t, l); got != tt.want {
				t.Errorf("datagram\n got %s\nwant %s", got, tt.want)
			}
			if s := core.Stats(); s.Total != 1 || s.Passed != 1 || s.Bytes != uint64(len(tt.want)) || s.Dropped() != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Rust's char::escape_debug, as g3 writes strings in its text formats.
func TestEscapeDebug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`a"d"` + "\ta", `a\"d\"\ta`},    // g3's own test
		{"时间\t\"Time\"", `时间\t\"Time\"`}, // g3's own test
		{"it's\\", `it\'s\\`},
		{"\x00\x01\n\r\x7f", `\0\u{1}\n\r\u{7f}`},
		{"bad\xffbyte", "bad\ufffdbyte"},
		{"a]b", "a]b"},
	} {
		if got := string(appendEscapeDebug(nil, tt.in, false)); got != tt.want {
			t.Errorf("escape_debug(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := string(appendEscapeDebug(nil, "[::1]:2", true)); got != `[::1\]:2` {
		t.Errorf("structured data value: %s", got)
	}
}

// A dead syslog daemon costs drops, counted, and a reconnect is tried no
// sooner than ReconnectInterval; after it the records arrive again.
func TestSyslogReconnects(t *testing.T) {
	noLeak(t)
	l, path := unixgramListener(t)
	core, err := NewSyslog(SyslogConfig{UnixPath: path, ReconnectInterval: 200 * time.Millisecond}, Options{ErrorOutput: discardErrors})
	if err != nil {
		t.Fatal(err)
	}
	logRecord(t, core, "one", record())
	readDatagram(t, l)
	l.Close()
	os.Remove(path)
	logRecord(t, core, "lost", record()) // the daemon is gone
	logRecord(t, core, "lost too", record())
	l2, err := listenAt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	time.Sleep(250 * time.Millisecond)
	logRecord(t, core, "back", record())
	if got := readDatagram(t, l2); !strings.Contains(got, "]: back,") {
		t.Errorf("after the restart: %s", got)
	}
	core.Close()
	s := core.Stats()
	if s.Total != 4 || s.Passed != 2 || s.DropPeerUnreachable != 2 || s.Passed+s.Dropped() != s.Total {
		t.Errorf("stats %+v, want 4 total, 2 passed, 2 dropped as peer unreachable", s)
	}
}
