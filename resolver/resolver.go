// Package resolver is a DNS client for tasklog's [tasklog.Dialer] that
// sees what g3's resolvers see: the response code of a failed query
// (NXDOMAIN, SERVFAIL, REFUSED, ...), which Go's net.Resolver reports only
// as "no such host" or "server misbehaving". Each failed resolution is
// written to the Resolve log as g3proxy's hickory resolver writes it
// ([tasklog.ResolveLog]), with g3's error words: ServerError with
// NOTFOUND, SERVFAIL, REFUSED, FORMERR or NOTIMP; DriverError with
// Timeout, ConnRefused or BadResp; EmptyResult.
//
// Use it as the Dialer's resolver:
//
//	r := &resolver.Resolver{Name: "main", Servers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")},
//		Logger: zap.New(core).With(tasklog.ResolveLoggerFields("g3proxy")...)}
//	srv := tasklog.NewServer(tasklog.ServerTypeHTTPProxy, "http", logger,
//		tasklog.WithDialer(&tasklog.Dialer{Resolver: r}))
package resolver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/proxylog/tasklog"
)

// DefaultTimeout bounds one query to one server.
const DefaultTimeout = 5 * time.Second

// Resolver sends A and AAAA queries over UDP to its servers, in order,
// the next one when a server does not answer in time, and retries over
// TCP an answer that came back truncated. The zero value has no server:
// set Servers. A Resolver is read only; it is safe for concurrent use.
type Resolver struct {
	// Name is the resolver_name of its Resolve records; default
	// "default".
	Name string
	// Servers are the DNS servers (IP:port).
	Servers []netip.AddrPort
	// BindIP is the source address of the queries (bind_addr); unset
	// lets the kernel choose.
	BindIP netip.Addr
	// Timeout bounds the query to each server; default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a Resolve record for every failed resolution;
	// build it with tasklog.ResolveLoggerFields. Nil writes none.
	Logger *zap.Logger
}

var _ tasklog.Resolver = (*Resolver)(nil)

// queryError is a failed query in g3's words.
type queryError struct {
	typ tasklog.ResolveErrorType
	sub tasklog.ResolveErrorSubtype
}

// LookupNetIP implements [tasklog.Resolver]: network "ip4" queries A
// records, "ip6" AAAA, "ip" both. A failed resolution is a *net.DNSError
// (IsNotFound for NXDOMAIN and an empty answer, IsTimeout for a server
// that did not answer), and a Resolve record.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	var types []dnsmessage.Type
	switch network {
	case "ip4":
		types = []dnsmessage.Type{dnsmessage.TypeA}
	case "ip6":
		types = []dnsmessage.Type{dnsmessage.TypeAAAA}
	case "ip":
		types = []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}
	default:
		return nil, &net.DNSError{Err: "unknown network " + network, Name: host}
	}
	var all []netip.Addr
	var firstErr error
	for _, qt := range types {
		addrs, err := r.lookup(ctx, host, qt)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		all = append(all, addrs...)
	}
	if len(all) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return all, nil
}

// lookup resolves one query type, writing the Resolve record of a failure.
func (r *Resolver) lookup(ctx context.Context, host string, qt dnsmessage.Type) ([]netip.Addr, error) {
	start := time.Now()
	addrs, qe, err := r.query(ctx, host, qt)
	if qe == nil {
		return addrs, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // the caller gave up: not the resolver's failure
	}
	if r.Logger != nil {
		rec := &tasklog.ResolveLog{ResolverType: "hickory", ResolverName: r.name(), BindIP: r.BindIP,
			Servers: r.serverIPs(), ServerPort: r.port(), QueryType: queryType(qt), Duration: time.Since(start),
			RRSource: tasklog.RRSourceQuery, ErrorType: qe.typ, ErrorSubtype: qe.sub, Domain: host}
		tasklog.LogResolve(r.Logger, zap.InfoLevel, rec, errText(err))
	}
	dnsErr := &net.DNSError{Err: tasklog.ResolveErrorText(qe.typ, qe.sub, errText(err)), Name: host}
	switch {
	case qe.sub == tasklog.ResolveErrorNotFound || qe.typ == tasklog.ResolveErrorEmptyResult:
		dnsErr.IsNotFound = true
	case qe.sub == tasklog.ResolveErrorTimeout:
		dnsErr.IsTimeout = true
	}
	return nil, dnsErr
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (r *Resolver) name() string {
	if r.Name == "" {
		return "default"
	}
	return r.Name
}

func (r *Resolver) serverIPs() []netip.Addr {
	ips := make([]netip.Addr, len(r.Servers))
	for i, s := range r.Servers {
		ips[i] = s.Addr()
	}
	return ips
}

// port is g3's server_port: the servers' port when it is not DNS's 53.
func (r *Resolver) port() uint16 {
	if len(r.Servers) > 0 && r.Servers[0].Port() != 53 {
		return r.Servers[0].Port()
	}
	return 0
}

func queryType(qt dnsmessage.Type) tasklog.QueryType {
	if qt == dnsmessage.TypeAAAA {
		return tasklog.QueryTypeAAAA
	}
	return tasklog.QueryTypeA
}

// query asks the servers in turn and returns the addresses, or the
// failure in g3's words with the error behind it.
func (r *Resolver) query(ctx context.Context, host string, qt dnsmessage.Type) ([]netip.Addr, *queryError, error) {
	if host == "" {
		return nil, &queryError{typ: tasklog.ResolveErrorEmptyDomain}, nil
	}
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil {
		return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorBadName}, err
	}
	if len(r.Servers) == 0 {
		return nil, &queryError{tasklog.ResolveErrorLocal, tasklog.ResolveErrorNoResolverSet}, nil
	}
	var qe *queryError
	var lastErr error
	for _, server := range r.Servers {
		addrs, e, err := r.ask(ctx, server, name, qt)
		if e == nil {
			return addrs, nil, nil
		}
		qe, lastErr = e, err
		if ctx.Err() != nil {
			return nil, &queryError{tasklog.ResolveErrorLocal, tasklog.ResolveErrorDriverTimedOut}, ctx.Err()
		}
		if e.sub != tasklog.ResolveErrorTimeout && e.sub != tasklog.ResolveErrorConnRefused {
			break // the server answered: another would say the same
		}
	}
	return nil, qe, lastErr
}

// ask sends one query to one server: UDP, then TCP if the answer was
// truncated.
func (r *Resolver) ask(ctx context.Context, server netip.AddrPort, name dnsmessage.Name, qt dnsmessage.Type) ([]netip.Addr, *queryError, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: name, Type: qt, Class: dnsmessage.ClassINET}},
	}
	packed, err := q.Pack()
	if err != nil {
		return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorBadQuery}, err
	}
	resp, err := r.exchange(ctx, "udp", server, packed, id)
	if err == nil && resp.Header.Truncated {
		resp, err = r.exchange(ctx, "tcp", server, packed, id)
	}
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorTimeout}, err
		case errors.As(err, &oe) && (oe.Op == "read" || oe.Op == "dial"):
			return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorConnRefused}, err
		case errors.Is(err, errBadResp):
			return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorBadResp}, err
		}
		return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorInternal}, err
	}
	switch resp.Header.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, &queryError{tasklog.ResolveErrorServer, tasklog.ResolveErrorNotFound}, nil
	case dnsmessage.RCodeServerFailure:
		return nil, &queryError{tasklog.ResolveErrorServer, tasklog.ResolveErrorServFail}, nil
	case dnsmessage.RCodeRefused:
		return nil, &queryError{tasklog.ResolveErrorServer, tasklog.ResolveErrorRefused}, nil
	case dnsmessage.RCodeFormatError:
		return nil, &queryError{tasklog.ResolveErrorServer, tasklog.ResolveErrorFormErr}, nil
	case dnsmessage.RCodeNotImplemented:
		return nil, &queryError{tasklog.ResolveErrorServer, tasklog.ResolveErrorNotImp}, nil
	default:
		return nil, &queryError{tasklog.ResolveErrorDriver, tasklog.ResolveErrorBadResp}, errors.New("response code " + resp.Header.RCode.String())
	}
	var addrs []netip.Addr
	for _, a := range resp.Answers {
		switch b := a.Body.(type) {
		case *dnsmessage.AResource:
			if qt == dnsmessage.TypeA {
				addrs = append(addrs, netip.AddrFrom4(b.A))
			}
		case *dnsmessage.AAAAResource:
			if qt == dnsmessage.TypeAAAA {
				addrs = append(addrs, netip.AddrFrom16(b.AAAA))
			}
		}
	}
	if len(addrs) == 0 {
		return nil, &queryError{typ: tasklog.ResolveErrorEmptyResult}, nil
	}
	return addrs, nil, nil
}

var errBadResp = errors.New("resolver: malformed DNS reply")

// exchange sends the packed query over network and reads the answer with
// the same id.
func (r *Resolver) exchange(ctx context.Context, network string, server netip.AddrPort, packed []byte, id uint16) (*dnsmessage.Message, error) {
	d := net.Dialer{}
	if r.BindIP.IsValid() {
		if network == "udp" {
			d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.BindIP, 0))
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(r.BindIP, 0))
		}
	}
	c, err := d.DialContext(ctx, network, server.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		c.SetDeadline(deadline)
	}
	if network == "tcp" {
		packed = append(binary.BigEndian.AppendUint16(nil, uint16(len(packed))), packed...)
	}
	if _, err := c.Write(packed); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		var n int
		if network == "tcp" {
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return nil, err
			}
			n = int(binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, buf[:n]); err != nil {
				return nil, err
			}
		} else if n, err = c.Read(buf); err != nil {
			return nil, err
		}
		var m dnsmessage.Message
		if err := m.Unpack(buf[:n]); err != nil {
			return nil, errBadResp
		}
		if m.Header.ID != id || !m.Header.Response {
			if network == "tcp" {
				return nil, errBadResp
			}
			continue // a stray datagram: keep reading until the deadline
		}
		return &m, nil
	}
}
