// Package benchmarks measures tasklog against the other ways a Go proxy
// could write g3proxy's task records, side by side in one run. It is its
// own module so that the library's go.mod keeps only zap and uuid.
package benchmarks

import (
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/proxylog/tasklog"
)

var start = time.Date(2026, 11, 24, 10, 30, 1, 123456789, time.UTC)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// tcpRecord is a finished TcpConnect record with 25 keys: the one every
// approach writes.
func tcpRecord() *tasklog.TaskLog {
	return &tasklog.TaskLog{
		ServerType: tasklog.ServerTypeHTTPProxy, ServerName: "http-in",
		TaskID: uuid.MustParse("5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a"), Event: tasklog.EventFinished,
		Stage: tasklog.StageRelaying, StartAt: start, User: "alice", Escaper: "direct",
		Reason: tasklog.ReasonClosedByClient, WaitTime: 23456, ReadyTime: 13456789, TotalTime: 2345678901,
		Detail: &tasklog.TCPConnect{
			ServerAddr: ap("10.0.0.1:3128"), ClientAddr: ap("[2001:db8::7]:53211"), Upstream: "example.com:443",
			NextBindIP: netip.MustParseAddr("192.0.2.10"), NextBoundAddr: ap("192.0.2.10:40000"),
			NextPeerAddr: ap("93.184.216.34:443"), NextExpire: start.Add(time.Hour),
			ConnectTries: 2, ConnectSpend: 1234567,
			ClientReadBytes: 517, ClientWriteBytes: 4810, RemoteReadBytes: 4810, RemoteWriteBytes: 517,
		},
	}
}

// httpRecord is a finished HttpForward record whose URI carries a password
// to mask.
func httpRecord() *tasklog.TaskLog {
	r := tcpRecord()
	r.Reason, r.Stage = tasklog.ReasonFinished, tasklog.StageFinished
	r.Detail = &tasklog.HTTPForward{
		TCPConnect:   *r.Detail.(*tasklog.TCPConnect),
		PipelineWait: 5123, ReuseConnection: true, Method: "GET",
		URI:       "http://bob:s3cret@www.example.com/catalog/items?page=2&sort=price&filter=in-stock",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		RspStatus: 200, OriginStatus: 200,
		ReqSendHdr: 120456, ReqSendAll: 130789, RspRecvHdr: 25123456, RspRecvAll: 31234567,
	}
	return r
}

// longRecord has a 1 KB URI and a 512-byte user agent.
func longRecord() *tasklog.TaskLog {
	r := httpRecord()
	d := r.Detail.(*tasklog.HTTPForward)
	d.URI = "http://www.example.com/" + strings.Repeat("catalog/items/", 72)[:1000]
	d.UserAgent = strings.Repeat("Mozilla/5.0 (X11; Linux x86_64) ", 16)
	return r
}

// nonASCIIRecord has a user of 128 "é" and a user agent in Japanese.
func nonASCIIRecord() *tasklog.TaskLog {
	r := httpRecord()
	r.User = strings.Repeat("é", 128)
	r.Detail.(*tasklog.HTTPForward).UserAgent = strings.Repeat("日本語のブラウザ ", 12)
	return r
}

// quotedRecord has quotes and backslashes in the user, agent and URI.
func quotedRecord() *tasklog.TaskLog {
	r := httpRecord()
	r.User = `al"ice\admin`
	d := r.Detail.(*tasklog.HTTPForward)
	d.UserAgent = `curl/8.5.0 "quoted" \path`
	d.URI = `http://www.example.com/search?q="tasklog"&x=\y`
	return r
}

// ipv6Record has IPv6 addresses everywhere.
func ipv6Record() *tasklog.TaskLog {
	r := httpRecord()
	d := r.Detail.(*tasklog.HTTPForward)
	d.ServerAddr, d.ClientAddr = ap("[2001:db8:1::10]:3128"), ap("[2001:db8:2::7]:53211")
	d.Upstream = "[2001:db8:3::1]:443"
	d.NextBindIP = netip.MustParseAddr("2001:db8:4::1")
	d.NextBoundAddr, d.NextPeerAddr = ap("[2001:db8:4::1]:40000"), ap("[2001:db8:3::1]:443")
	return r
}
