package main

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/proxylog/tasklog"
	"github.com/proxylog/tasklog/examples/internal/httpproxy"
	"github.com/proxylog/tasklog/internal/dnstest"
	"github.com/proxylog/tasklog/resolver"
)

// escapeAndResolve checks the Escape and Resolve logs under load: n
// CONNECTs to a refused port each leave exactly one Escape record with
// their task's id, and n CONNECTs to each of a name the loopback DNS server
// answers NXDOMAIN, SERVFAIL and REFUSED each leave UpstreamNotResolved
// and a Resolve record for each of their two queries, in g3's words.
func escapeAndResolve(c config, r *report, dns *dnstest.Server, closedAddr string) {
	n := max(c.tunnels/100, 20)
	escapes, resolves := &records{}, &records{}
	res := &resolver.Resolver{Name: "default", Servers: []netip.AddrPort{dns.Addr},
		Logger: zap.New(resolves).With(tasklog.ResolveLoggerFields("loadtest")...)}
	p, addr, tasks := startProxy(httpproxy.Config{Resolver: res, EscapeLogger: zap.New(escapes).With(tasklog.EscapeLoggerFields("loadtest")...)})
	defer p.Shutdown()

	targets := []struct{ host, subtype string }{{"", ""}, {"nx.example", "NOTFOUND"}, {"fail.example", "SERVFAIL"}, {"refused.example", "REFUSED"}}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.concurrency)
	for _, tg := range targets {
		target := closedAddr
		if tg.host != "" {
			target = tg.host + ":443"
		}
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if conn, _, _, err := connectOnly(addr, target); err == nil {
					conn.Close()
				}
			}()
		}
	}
	wg.Wait()
	finished := tasks.finished(4*n, 20*time.Second)

	// Every refused task: one Escape record with its id; the others none.
	byTask := map[any]int{}
	escapes.mu.Lock()
	for _, m := range escapes.all {
		if m["escape_type"] == "TcpConnect" && m["reason"] == "ConnectFailed" {
			byTask[m["task_id"]]++
		}
	}
	nEscapes := len(escapes.all)
	escapes.mu.Unlock()
	refused, notResolved, oneEach := 0, 0, 0
	for _, m := range finished {
		switch m["reason"] {
		case "UpstreamNotConnected":
			refused++
			if byTask[m["task_id"]] == 1 {
				oneEach++
			}
		case "UpstreamNotResolved":
			notResolved++
		}
	}
	r.check("Escape and Resolve logs", fmt.Sprintf("%d CONNECTs to a refused port", n),
		refused == n && oneEach == n && nEscapes == n,
		fmt.Sprintf("%d UpstreamNotConnected, %d with exactly one Escape record of their task_id, %d Escape records", refused, oneEach, nEscapes))

	// Every failed resolution: a Resolve record per query, in g3's words.
	resolves.mu.Lock()
	bySub := map[string]int{}
	for i, m := range resolves.all {
		if m["error_type"] == "ServerError" && resolves.msgs[i] == tasklog.ResolveErrorText(tasklog.ResolveErrorServer, mustSubtype(fmt.Sprint(m["error_subtype"])), "") {
			bySub[fmt.Sprint(m["domain"], " ", m["error_subtype"])]++
		}
	}
	nResolves := len(resolves.all)
	resolves.mu.Unlock()
	ok := notResolved == 3*n && nResolves == 3*2*n
	for _, tg := range targets[1:] {
		ok = ok && bySub[tg.host+" "+tg.subtype] == 2*n
	}
	r.check("Escape and Resolve logs", fmt.Sprintf("%d CONNECTs to each of NXDOMAIN, SERVFAIL and REFUSED names", n), ok,
		fmt.Sprintf("%d UpstreamNotResolved, %d Resolve records (NOTFOUND %d, SERVFAIL %d, REFUSED %d; 2 a task, A and AAAA) in %v",
			notResolved, nResolves, bySub["nx.example NOTFOUND"], bySub["fail.example SERVFAIL"], bySub["refused.example REFUSED"],
			time.Since(start).Round(time.Millisecond)))
}

func mustSubtype(s string) tasklog.ResolveErrorSubtype {
	v, _ := tasklog.ParseResolveErrorSubtype(s)
	return v
}
