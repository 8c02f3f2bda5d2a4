package tasklog

// Reason is why a task ended: the reason key, g3's ServerTaskError. Its
// [Reason.String] is the CamelCase word on the wire ("ClosedByClient") and
// its [Reason.Text] is g3's human text ("closed by client"), which g3 uses as
// the message of the finished record. The zero value means unset, which a
// finished record rejects.
type Reason uint8

// The reasons of g3proxy's ServerTaskError, in g3's order.
const (
	ReasonInternalServerError         Reason = iota + 1 // "internal server error"
	ReasonInternalAdapterError                          // "internal adapter error"
	ReasonInternalResolverError                         // "internal resolver error"
	ReasonInternalTLSClientError                        // "internal tls client error"
	ReasonEscaperNotUsable                              // "escaper not usable"
	ReasonForbiddenByRule                               // "forbidden by rule"; see [ForbiddenRule]
	ReasonInvalidClientProtocol                         // "invalid client protocol"
	ReasonUnimplementedProtocol                         // "unimplemented protocol"
	ReasonClientTCPReadFailed                           // "tcp read from client"
	ReasonClientTCPWriteFailed                          // "tcp write to client"
	ReasonClientUDPRecvFailed                           // "udp recv from client"
	ReasonClientUDPSendFailed                           // "udp send to client"
	ReasonClientAuthFailed                              // "client authentication failed"
	ReasonClientAppTimeout                              // "client app timeout"
	ReasonClientAppError                                // "client app error"
	ReasonUpstreamNotResolved                           // "upstream not resolved"
	ReasonUpstreamNotConnected                          // "upstream not connected"
	ReasonUpstreamNotAvailable                          // "upstream not available"
	ReasonInvalidUpstreamProtocol                       // "invalid upstream protocol"
	ReasonUpstreamReadFailed                            // "read from upstream"
	ReasonUpstreamWriteFailed                           // "write to upstream"
	ReasonUpstreamTLSHandshakeTimeout                   // "upstream tls handshake timeout"
	ReasonUpstreamTLSHandshakeFailed                    // "upstream tls handshake failed"
	ReasonUpstreamNotNegotiated                         // "upstream not negotiated"
	ReasonUpstreamAppUnavailable                        // "upstream app unavailable"
	ReasonUpstreamAppTimeout                            // "upstream app timeout"
	ReasonUpstreamAppError                              // "upstream app error"
	ReasonClosedByUpstream                              // "closed by upstream"
	ReasonClosedByClient                                // "closed by client"
	ReasonClosedEarlyByClient                           // "closed early by client"
	ReasonCanceledAsUserBlocked                         // "canceled as user blocked"
	ReasonCanceledAsServerQuit                          // "canceled as server quit"
	ReasonIdle                                          // "idle"
	ReasonInterceptionError                             // "interception error"
	ReasonFinished                                      // "finished"
	ReasonUnclassifiedError                             // "unclassified error"
	reasonEnd
)

var reasonWords = enumWords{kind: "Reason", what: "reason", words: []string{
	"",
	"InternalServerError", "InternalAdapterError", "InternalResolverError", "InternalTlsClientError",
	"EscaperNotUsable", "ForbiddenByRule", "InvalidClientProtocol", "UnimplementedProtocol",
	"ClientTcpReadFailed", "ClientTcpWriteFailed", "ClientUdpRecvFailed", "ClientUdpSendFailed",
	"ClientAuthFailed", "ClientAppTimeout", "ClientAppError",
	"UpstreamNotResolved", "UpstreamNotConnected", "UpstreamNotAvailable", "InvalidUpstreamProtocol",
	"UpstreamReadFailed", "UpstreamWriteFailed", "UpstreamTlsHandshakeTimeout", "UpstreamTlsHandshakeFailed",
	"UpstreamNotNegotiated", "UpstreamAppUnavailable", "UpstreamAppTimeout", "UpstreamAppError",
	"ClosedByUpstream", "ClosedByClient", "ClosedEarlyByClient",
	"CanceledAsUserBlocked", "CanceledAsServerQuit", "Idle", "InterceptionError",
	"Finished", "UnclassifiedError",
}}

var reasonTexts = [...]string{
	"",
	"internal server error", "internal adapter error", "internal resolver error", "internal tls client error",
	"escaper not usable", "forbidden by rule", "invalid client protocol", "unimplemented protocol",
	"tcp read from client", "tcp write to client", "udp recv from client", "udp send to client",
	"client authentication failed", "client app timeout", "client app error",
	"upstream not resolved", "upstream not connected", "upstream not available", "invalid upstream protocol",
	"read from upstream", "write to upstream", "upstream tls handshake timeout", "upstream tls handshake failed",
	"upstream not negotiated", "upstream app unavailable", "upstream app timeout", "upstream app error",
	"closed by upstream", "closed by client", "closed early by client",
	"canceled as user blocked", "canceled as server quit", "idle", "interception error",
	"finished", "unclassified error",
}

// String returns g3's CamelCase word for r ("ClosedByClient"), or
// "Reason(N)" for the unset value and for values outside the defined set.
func (r Reason) String() string { return reasonWords.str(uint8(r)) }

// Text returns g3's human text for r ("closed by client"), the message g3
// prints on a finished record; the unset value and values outside the
// defined set return the same as [Reason.String]. It does not allocate for
// defined values.
func (r Reason) Text() string {
	if r.IsValid() {
		return reasonTexts[r]
	}
	return r.String()
}

// IsValid reports whether r is one of the defined reasons.
func (r Reason) IsValid() bool { return reasonWords.valid(uint8(r)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (r Reason) MarshalText() ([]byte, error) { return reasonWords.marshal(uint8(r)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// CamelCase words and empty text, which means unset.
func (r *Reason) UnmarshalText(b []byte) error {
	v, err := reasonWords.unmarshal(b)
	if err == nil {
		*r = Reason(v)
	}
	return err
}

// ParseReason returns the reason named by g3's exact CamelCase word s
// ("ClosedByClient"). Human texts and any other text are an error that
// quotes s.
func ParseReason(s string) (Reason, error) {
	v, err := reasonWords.parse([]byte(s))
	return Reason(v), err
}

// ForbiddenRule is the rule behind [ReasonForbiddenByRule]. g3 prints it
// only in the message ("forbidden by rule: target ip blocked"), never as a
// key: use [ForbiddenRule.Message] for a finished record's message. The
// zero value means unset.
type ForbiddenRule uint8

// The sub-reasons of g3proxy's ForbiddenByRule.
const (
	ForbiddenMethodUnavailable ForbiddenRule = iota + 1 // "method unavailable"
	ForbiddenClientIPBlocked                            // "client ip blocked"
	ForbiddenRateLimited                                // "request rate limited"
	ForbiddenProtoBanned                                // "proxy request type banned"
	ForbiddenDestDenied                                 // "target dest denied"
	ForbiddenIPBlocked                                  // "target ip blocked"
	ForbiddenFullyLoaded                                // "fully loaded"
	ForbiddenUABlocked                                  // "http ua blocked"
	ForbiddenUserBlocked                                // "user blocked"
	forbiddenEnd
)

var forbiddenWords = enumWords{kind: "ForbiddenRule", what: "forbidden rule", words: []string{
	"", "MethodUnavailable", "ClientIpBlocked", "RateLimited", "ProtoBanned", "DestDenied",
	"IpBlocked", "FullyLoaded", "UaBlocked", "UserBlocked",
}}

var forbiddenTexts = [...]string{
	"", "method unavailable", "client ip blocked", "request rate limited", "proxy request type banned",
	"target dest denied", "target ip blocked", "fully loaded", "http ua blocked", "user blocked",
}

var forbiddenMessages = func() (m [len(forbiddenTexts)]string) {
	for i := 1; i < len(m); i++ {
		m[i] = reasonTexts[ReasonForbiddenByRule] + ": " + forbiddenTexts[i]
	}
	return m
}()

// String returns g3's CamelCase name for f ("IpBlocked"), or
// "ForbiddenRule(N)" for the unset value and values outside the set.
func (f ForbiddenRule) String() string { return forbiddenWords.str(uint8(f)) }

// Text returns g3's human text for f ("target ip blocked").
func (f ForbiddenRule) Text() string {
	if f.IsValid() {
		return forbiddenTexts[f]
	}
	return f.String()
}

// Message returns the whole message g3 prints for a task forbidden by f:
// "forbidden by rule: target ip blocked". It does not allocate for defined
// values.
func (f ForbiddenRule) Message() string {
	if f.IsValid() {
		return forbiddenMessages[f]
	}
	return reasonTexts[ReasonForbiddenByRule] + ": " + f.String()
}

// IsValid reports whether f is one of the defined rules.
func (f ForbiddenRule) IsValid() bool { return forbiddenWords.valid(uint8(f)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (f ForbiddenRule) MarshalText() ([]byte, error) { return forbiddenWords.marshal(uint8(f)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts the exact
// CamelCase names and empty text, which means unset.
func (f *ForbiddenRule) UnmarshalText(b []byte) error {
	v, err := forbiddenWords.unmarshal(b)
	if err == nil {
		*f = ForbiddenRule(v)
	}
	return err
}

// ParseForbiddenRule returns the rule named by its exact CamelCase name s
// ("IpBlocked"). Any other text is an error that quotes s.
func ParseForbiddenRule(s string) (ForbiddenRule, error) {
	v, err := forbiddenWords.parse([]byte(s))
	return ForbiddenRule(v), err
}
