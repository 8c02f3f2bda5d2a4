package tasklog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Side says where an error came from, for [ReasonFor].
type Side uint8

const (
	// SideClient: an operation on the client's connection.
	SideClient Side = iota + 1
	// SideUpstream: an operation on the upstream connection, dialing it
	// included.
	SideUpstream
	// SideUpstreamTLS: the TLS handshake with the upstream.
	SideUpstreamTLS
)

// ErrIdle is the error [Task.Relay] returns when neither side sent anything
// for the idle timeout; [ReasonFor] maps it to [ReasonIdle].
var ErrIdle = errors.New("tasklog: idle timeout")

// ReasonFor maps an error a Go proxy sees on one side of a task to the g3
// reason a finished record should carry:
//
//   - nil: [ReasonFinished], for a completed layer-7 task;
//   - context.Canceled (the server's context, canceled at shutdown, a
//     dial included): [ReasonCanceledAsServerQuit]; a deadline is not a
//     cancellation but a timeout (below);
//   - [ErrIdle]: [ReasonIdle];
//   - *net.DNSError: [ReasonUpstreamNotResolved];
//   - a failed dial (a *net.OpError with Op "dial"), refused or timed out
//     (the dialer's timeout or its context's deadline):
//     [ReasonUpstreamNotConnected];
//   - TLS failures (certificate, alert, record header errors) on the
//     upstream: [ReasonUpstreamTLSHandshakeFailed], or
//     [ReasonUpstreamTLSHandshakeTimeout] for a timeout with SideUpstreamTLS;
//   - timeouts and expired deadlines (connection deadlines,
//     context.DeadlineExceeded, net/http's response-header timeout):
//     [ReasonClientAppTimeout] or [ReasonUpstreamAppTimeout];
//   - io.EOF, io.ErrUnexpectedEOF and net.ErrClosed: [ReasonClosedByClient]
//     or [ReasonClosedByUpstream];
//   - other failed reads and writes (ECONNRESET, EPIPE, ...): on the client
//     [ReasonClientTCPReadFailed] or [ReasonClientTCPWriteFailed] (UDP:
//     [ReasonClientUDPRecvFailed], [ReasonClientUDPSendFailed]), on the
//     upstream [ReasonUpstreamReadFailed] or [ReasonUpstreamWriteFailed];
//     read or write is taken from the *net.OpError (EPIPE means a write);
//   - anything else: [ReasonUnclassifiedError].
func ReasonFor(err error, side Side) Reason {
	return reasonFor(err, side, opUnknown)
}

type ioOp uint8

const (
	opUnknown ioOp = iota
	opRead
	opWrite
)

func reasonFor(err error, side Side, op ioOp) Reason {
	if err == nil {
		return ReasonFinished
	}
	if errors.Is(err, ErrIdle) {
		return ReasonIdle
	}
	// Only a cancellation is the server's own doing. A deadline is a
	// timeout of one side, whoever set it: net's dial and read timeouts
	// and net/http's response-header timeout all match
	// context.DeadlineExceeded through their Is methods.
	if errors.Is(err, context.Canceled) {
		return ReasonCanceledAsServerQuit
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ReasonUpstreamNotResolved
	}
	var opErr *net.OpError
	isOp := errors.As(err, &opErr)
	if isOp && opErr.Op == "dial" {
		return ReasonUpstreamNotConnected
	}
	timeout := errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
	if side == SideUpstreamTLS || (side == SideUpstream && isTLSError(err)) {
		if timeout {
			return ReasonUpstreamTLSHandshakeTimeout
		}
		if side == SideUpstreamTLS || isTLSError(err) {
			return ReasonUpstreamTLSHandshakeFailed
		}
	}
	if timeout {
		if side == SideClient {
			return ReasonClientAppTimeout
		}
		return ReasonUpstreamAppTimeout
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		if side == SideClient {
			return ReasonClosedByClient
		}
		return ReasonClosedByUpstream
	}
	if op == opUnknown && isOp {
		switch opErr.Op {
		case "read":
			op = opRead
		case "write":
			op = opWrite
		}
	}
	if op == opUnknown && errors.Is(err, syscall.EPIPE) {
		op = opWrite
	}
	var errno syscall.Errno
	if op == opUnknown && !isOp && !errors.As(err, &errno) {
		return ReasonUnclassifiedError
	}
	udp := isOp && len(opErr.Net) >= 3 && opErr.Net[:3] == "udp"
	switch {
	case side == SideClient && udp && op == opWrite:
		return ReasonClientUDPSendFailed
	case side == SideClient && udp:
		return ReasonClientUDPRecvFailed
	case side == SideClient && op == opWrite:
		return ReasonClientTCPWriteFailed
	case side == SideClient:
		return ReasonClientTCPReadFailed
	case op == opWrite:
		return ReasonUpstreamWriteFailed
	default:
		return ReasonUpstreamReadFailed
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		alert   tls.AlertError
		header  tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &alert) || errors.As(err, &header) || errors.As(err, &verify) ||
		errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}
