package tasklog

import (
	"encoding"
	"fmt"
	"strings"
	"testing"
)

// enumCase drives the shared checks for one enum type through closures, so
// each type is walked from its first value to its unexported end marker.
type enumCase struct {
	name  string
	end   int
	words []string // what String must return for 1..end-1, in order
	str   func(v uint8) string
	valid func(v uint8) bool
	parse func(s string) (uint8, error)
	text  func(v uint8) encoding.TextMarshaler
	fresh func() (encoding.TextUnmarshaler, func() uint8)
}

func enumCases() []enumCase {
	return []enumCase{
		{
			name: "ServerType", end: int(serverTypeEnd),
			words: strings.Fields("HttpProxy SocksProxy TcpStream TlsStream SniProxy HttpRProxy TcpTProxy IntelliProxy DummyClose PlainTcpPort PlainTlsPort NativeTlsPort PlainQuicPort"),
			str:   func(v uint8) string { return ServerType(v).String() },
			valid: func(v uint8) bool { return ServerType(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseServerType(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return ServerType(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x ServerType
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "TaskType", end: int(taskTypeEnd),
			words: strings.Fields("TcpConnect HttpForward FtpOverHttp UdpAssociate UdpConnect"),
			str:   func(v uint8) string { return TaskType(v).String() },
			valid: func(v uint8) bool { return TaskType(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseTaskType(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return TaskType(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x TaskType
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "EscapeType", end: int(escapeTypeEnd),
			words: strings.Fields("TcpConnect TlsHandshake UdpSendto"),
			str:   func(v uint8) string { return EscapeType(v).String() },
			valid: func(v uint8) bool { return EscapeType(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseEscapeType(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return EscapeType(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x EscapeType
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "TCPConnectError", end: int(tcpConnectErrorEnd),
			words: strings.Fields("MethodUnavailable EscaperNotUsable ResolveFailed SetupSocketFailed ConnectFailed TimeoutByRule NoAddressConnected ForbiddenAddressFamily ForbiddenRemoteAddress ProxyProtocolEncodeError ProxyProtocolWriteFailed NegotiationReadFailed NegotiationWriteFailed NegotiationRejected NegotiationPeerTimeout NegotiationProtocolErr InternalServerError InternalTlsClientError PeerTlsHandshakeTimeout PeerTlsHandshakeFailed UpstreamTlsHandshakeTimeout UpstreamTlsHandshakeFailed"),
			str:   func(v uint8) string { return TCPConnectError(v).String() },
			valid: func(v uint8) bool { return TCPConnectError(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseTCPConnectError(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return TCPConnectError(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x TCPConnectError
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "UDPSendtoError", end: int(udpSendtoErrorEnd),
			words: strings.Fields("NoListenSocket RecvFailed SendFailed BatchSendFailed InvalidPacket AddressNotSupported DomainNotResolved ForbiddenTargetIpAddress RemoteSessionClosed RemoteSessionError InternalServerError"),
			str:   func(v uint8) string { return UDPSendtoError(v).String() },
			valid: func(v uint8) bool { return UDPSendtoError(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseUDPSendtoError(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return UDPSendtoError(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x UDPSendtoError
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "TLSApplication", end: int(tlsApplicationEnd),
			words: strings.Fields("HttpForward HttpProxy TcpStream"),
			str:   func(v uint8) string { return TLSApplication(v).String() },
			valid: func(v uint8) bool { return TLSApplication(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseTLSApplication(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return TLSApplication(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x TLSApplication
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "QueryType", end: int(queryTypeEnd),
			words: strings.Fields("A AAAA"),
			str:   func(v uint8) string { return QueryType(v).String() },
			valid: func(v uint8) bool { return QueryType(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseQueryType(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return QueryType(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x QueryType
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "RRSource", end: int(rrSourceEnd),
			words: strings.Fields("cache trash query"),
			str:   func(v uint8) string { return RRSource(v).String() },
			valid: func(v uint8) bool { return RRSource(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseRRSource(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return RRSource(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x RRSource
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "ResolveErrorType", end: int(resolveErrorTypeEnd),
			words: strings.Fields("EmptyDomain EmptyResult ServerError DriverError LocalError UnexpectedError"),
			str:   func(v uint8) string { return ResolveErrorType(v).String() },
			valid: func(v uint8) bool { return ResolveErrorType(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseResolveErrorType(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return ResolveErrorType(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x ResolveErrorType
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "ResolveErrorSubtype", end: int(resolveErrorSubtypeEnd),
			words: strings.Fields("FORMERR SERVFAIL NOTFOUND NOTIMP REFUSED BadQuery BadName BadFamily BadResp ConnRefused Timeout InternalError NoResolverSet NoResolverRunning DriverTimedOut"),
			str:   func(v uint8) string { return ResolveErrorSubtype(v).String() },
			valid: func(v uint8) bool { return ResolveErrorSubtype(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseResolveErrorSubtype(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return ResolveErrorSubtype(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x ResolveErrorSubtype
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "Stage", end: int(stageEnd),
			words: strings.Fields("Created Preparing Connecting Connected Replying LoggedIn Relaying Finished"),
			str:   func(v uint8) string { return Stage(v).String() },
			valid: func(v uint8) bool { return Stage(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseStage(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return Stage(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x Stage
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "Event", end: int(eventEnd),
			words: strings.Fields("Created Connected Periodic ClientShutdown UpstreamShutdown Finished"),
			str:   func(v uint8) string { return Event(v).String() },
			valid: func(v uint8) bool { return Event(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseEvent(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return Event(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x Event
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "Reason", end: int(reasonEnd),
			words: strings.Fields(`InternalServerError InternalAdapterError InternalResolverError InternalTlsClientError
				EscaperNotUsable ForbiddenByRule InvalidClientProtocol UnimplementedProtocol ClientTcpReadFailed
				ClientTcpWriteFailed ClientUdpRecvFailed ClientUdpSendFailed ClientAuthFailed ClientAppTimeout
				ClientAppError UpstreamNotResolved UpstreamNotConnected UpstreamNotAvailable InvalidUpstreamProtocol
				UpstreamReadFailed UpstreamWriteFailed UpstreamTlsHandshakeTimeout UpstreamTlsHandshakeFailed
				UpstreamNotNegotiated UpstreamAppUnavailable UpstreamAppTimeout UpstreamAppError ClosedByUpstream
				ClosedByClient ClosedEarlyByClient CanceledAsUserBlocked CanceledAsServerQuit Idle InterceptionError
				Finished UnclassifiedError`),
			str:   func(v uint8) string { return Reason(v).String() },
			valid: func(v uint8) bool { return Reason(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseReason(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return Reason(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x Reason
				return &x, func() uint8 { return uint8(x) }
			},
		},
		{
			name: "ForbiddenRule", end: int(forbiddenEnd),
			words: strings.Fields("MethodUnavailable ClientIpBlocked RateLimited ProtoBanned DestDenied IpBlocked FullyLoaded UaBlocked UserBlocked"),
			str:   func(v uint8) string { return ForbiddenRule(v).String() },
			valid: func(v uint8) bool { return ForbiddenRule(v).IsValid() },
			parse: func(s string) (uint8, error) { v, err := ParseForbiddenRule(s); return uint8(v), err },
			text:  func(v uint8) encoding.TextMarshaler { return ForbiddenRule(v) },
			fresh: func() (encoding.TextUnmarshaler, func() uint8) {
				var x ForbiddenRule
				return &x, func() uint8 { return uint8(x) }
			},
		},
	}
}

func TestEnumRoundTrip(t *testing.T) {
	for _, c := range enumCases() {
		t.Run(c.name, func(t *testing.T) {
			if got := c.end - 1; got != len(c.words) {
				t.Fatalf("%s has %d values, want %d", c.name, got, len(c.words))
			}
			for v := 1; v < c.end; v++ {
				want := c.words[v-1]
				if got := c.str(uint8(v)); got != want {
					t.Errorf("%s(%d).String() = %q, want %q", c.name, v, got, want)
				}
				if !c.valid(uint8(v)) {
					t.Errorf("%s(%d).IsValid() = false", c.name, v)
				}
				got, err := c.parse(want)
				if err != nil || got != uint8(v) {
					t.Errorf("Parse%s(%q) = %d, %v; want %d", c.name, want, got, err, v)
				}
				b, err := c.text(uint8(v)).MarshalText()
				if err != nil || string(b) != want {
					t.Errorf("%s(%d).MarshalText() = %q, %v; want %q", c.name, v, b, err, want)
				}
				u, val := c.fresh()
				if err := u.UnmarshalText(b); err != nil || val() != uint8(v) {
					t.Errorf("UnmarshalText(%q) = %d, %v; want %d", b, val(), err, v)
				}
			}
		})
	}
}

func TestEnumRejects(t *testing.T) {
	for _, c := range enumCases() {
		t.Run(c.name, func(t *testing.T) {
			first := c.words[0]
			bad := []string{"", strings.ToLower(first), strings.ToUpper(first), " " + first, first + " ",
				first[:len(first)-1], first + "x", "Unknown", "0", "1"}
			for _, s := range bad {
				if s == first {
					continue // a word already all upper or lower case
				}
				v, err := c.parse(s)
				if err == nil {
					t.Errorf("Parse%s(%q) = %d, want an error", c.name, s, v)
					continue
				}
				if want := fmt.Sprintf("%q", s); !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "tasklog: unknown ") {
					t.Errorf("Parse%s(%q) error %q, want it to start with tasklog: unknown and quote the input", c.name, s, err)
				}
				if s == "" {
					continue
				}
				u, val := c.fresh()
				if err := u.UnmarshalText([]byte(s)); err == nil {
					t.Errorf("%s.UnmarshalText(%q) = %d, want an error", c.name, s, val())
				}
			}
			// Unset: empty text both ways; the String form is not a word.
			if b, err := c.text(0).MarshalText(); err != nil || len(b) != 0 {
				t.Errorf("%s(0).MarshalText() = %q, %v; want empty", c.name, b, err)
			}
			u, val := c.fresh()
			if err := u.UnmarshalText(nil); err != nil || val() != 0 {
				t.Errorf("%s.UnmarshalText(empty) = %d, %v; want 0, nil", c.name, val(), err)
			}
			for _, v := range []uint8{0, uint8(c.end), 200, 255} {
				want := fmt.Sprintf("%s(%d)", c.name, v)
				if got := c.str(v); got != want {
					t.Errorf("%s(%d).String() = %q, want %q", c.name, v, got, want)
				}
				if c.valid(v) {
					t.Errorf("%s(%d).IsValid() = true", c.name, v)
				}
				if v == 0 {
					continue
				}
				if b, err := c.text(v).MarshalText(); err == nil {
					t.Errorf("%s(%d).MarshalText() = %q, want an error", c.name, v, b)
				}
			}
		})
	}
}

func TestReasonText(t *testing.T) {
	tests := []struct {
		r    Reason
		want string
	}{
		{ReasonInternalTLSClientError, "internal tls client error"},
		{ReasonClientTCPReadFailed, "tcp read from client"},
		{ReasonClientUDPSendFailed, "udp send to client"},
		{ReasonClientAuthFailed, "client authentication failed"},
		{ReasonUpstreamReadFailed, "read from upstream"},
		{ReasonUpstreamTLSHandshakeFailed, "upstream tls handshake failed"},
		{ReasonClosedByClient, "closed by client"},
		{ReasonCanceledAsServerQuit, "canceled as server quit"},
		{ReasonIdle, "idle"},
		{ReasonFinished, "finished"},
		{ReasonUnclassifiedError, "unclassified error"},
		{0, "Reason(0)"},
		{reasonEnd, fmt.Sprintf("Reason(%d)", reasonEnd)},
	}
	for _, tt := range tests {
		if got := tt.r.Text(); got != tt.want {
			t.Errorf("%v.Text() = %q, want %q", tt.r, got, tt.want)
		}
	}
	// Every text is lower case words, distinct from the others.
	seen := map[string]Reason{}
	for r := Reason(1); r < reasonEnd; r++ {
		text := r.Text()
		if text != strings.ToLower(text) || text == "" {
			t.Errorf("%v.Text() = %q, want lower-case words", r, text)
		}
		if prev, dup := seen[text]; dup {
			t.Errorf("%v and %v share the text %q", prev, r, text)
		}
		seen[text] = r
	}
}

func TestForbiddenRuleMessage(t *testing.T) {
	if got, want := ForbiddenIPBlocked.Message(), "forbidden by rule: target ip blocked"; got != want {
		t.Errorf("ForbiddenIPBlocked.Message() = %q, want %q", got, want)
	}
	if got, want := ForbiddenRateLimited.Text(), "request rate limited"; got != want {
		t.Errorf("ForbiddenRateLimited.Text() = %q, want %q", got, want)
	}
	if got, want := ForbiddenRule(99).Message(), "forbidden by rule: ForbiddenRule(99)"; got != want {
		t.Errorf("ForbiddenRule(99).Message() = %q, want %q", got, want)
	}
}

func TestEventIsFinished(t *testing.T) {
	for e := Event(0); e < eventEnd; e++ {
		want := e == 0 || e == EventFinished
		if got := e.IsFinished(); got != want {
			t.Errorf("%v.IsFinished() = %v, want %v", e, got, want)
		}
	}
}
