// Package benchmarks measures tasklog against the other ways a Go proxy
// could write g3proxy's task records, side by side in one run. It is its
// own module so that the library's go.mod keeps only zap and uuid.
package benchmarks

import (
	"net/netip"
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
