package tasklog

// The words of the Escape record's enum keys, each g3's exact word on the
// wire. Every type's zero value means unset, which a record rejects; each
// is a plain value, safe for concurrent use, and follows [Stage]: String,
// IsValid, MarshalText, UnmarshalText and a Parse function.

// EscapeType is escape_type: which kind of attempt an Escape record reports.
type EscapeType uint8

// The values of EscapeType.
const (
	EscapeTypeTCPConnect   EscapeType = iota + 1 // "TcpConnect": a TCP connect
	EscapeTypeTLSHandshake                       // "TlsHandshake": a TLS handshake with the next hop
	EscapeTypeUDPSendto                          // "UdpSendto": a UDP send or receive
	escapeTypeEnd
)

var escapeTypeWords = enumWords{kind: "EscapeType", what: "escape type", words: []string{
	"", "TcpConnect", "TlsHandshake", "UdpSendto",
}}

// String returns g3's word for v, or "EscapeType(N)" for the unset value and
// for values outside the defined set.
func (v EscapeType) String() string { return escapeTypeWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v EscapeType) IsValid() bool { return escapeTypeWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v EscapeType) MarshalText() ([]byte, error) { return escapeTypeWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *EscapeType) UnmarshalText(b []byte) error {
	w, err := escapeTypeWords.unmarshal(b)
	if err == nil {
		*v = EscapeType(w)
	}
	return err
}

// ParseEscapeType returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseEscapeType(text string) (EscapeType, error) {
	w, err := escapeTypeWords.parse([]byte(text))
	return EscapeType(w), err
}

// TCPConnectError is the reason key of a TcpConnect Escape record: g3's TcpConnectError::brief (g3proxy/src/module/tcp_connect/error.rs).
type TCPConnectError uint8

// The values of TCPConnectError.
const (
	TCPConnectErrorMethodUnavailable           TCPConnectError = iota + 1 // "MethodUnavailable": the method is not available
	TCPConnectErrorEscaperNotUsable                                       // "EscaperNotUsable": the escaper is not usable
	TCPConnectErrorResolveFailed                                          // "ResolveFailed": resolving the upstream failed
	TCPConnectErrorSetupSocketFailed                                      // "SetupSocketFailed": setting up the local socket failed
	TCPConnectErrorConnectFailed                                          // "ConnectFailed": the connect failed
	TCPConnectErrorTimeoutByRule                                          // "TimeoutByRule": the connect timed out by rule
	TCPConnectErrorNoAddressConnected                                     // "NoAddressConnected": no address could be connected
	TCPConnectErrorForbiddenAddressFamily                                 // "ForbiddenAddressFamily": the address family is forbidden
	TCPConnectErrorForbiddenRemoteAddress                                 // "ForbiddenRemoteAddress": the remote address is forbidden
	TCPConnectErrorProxyProtocolEncodeError                               // "ProxyProtocolEncodeError": encoding the PROXY protocol header failed
	TCPConnectErrorProxyProtocolWriteFailed                               // "ProxyProtocolWriteFailed": writing the PROXY protocol header failed
	TCPConnectErrorNegotiationReadFailed                                  // "NegotiationReadFailed": reading the next proxy's answer failed
	TCPConnectErrorNegotiationWriteFailed                                 // "NegotiationWriteFailed": writing to the next proxy failed
	TCPConnectErrorNegotiationRejected                                    // "NegotiationRejected": the next proxy refused
	TCPConnectErrorNegotiationPeerTimeout                                 // "NegotiationPeerTimeout": the next proxy did not answer in time
	TCPConnectErrorNegotiationProtocolErr                                 // "NegotiationProtocolErr": the next proxy broke its protocol
	TCPConnectErrorInternalServerError                                    // "InternalServerError": an internal error
	TCPConnectErrorInternalTLSClientError                                 // "InternalTlsClientError": an internal TLS client error
	TCPConnectErrorPeerTLSHandshakeTimeout                                // "PeerTlsHandshakeTimeout": the peer's TLS handshake timed out
	TCPConnectErrorPeerTLSHandshakeFailed                                 // "PeerTlsHandshakeFailed": the peer's TLS handshake failed
	TCPConnectErrorUpstreamTLSHandshakeTimeout                            // "UpstreamTlsHandshakeTimeout": the upstream's TLS handshake timed out
	TCPConnectErrorUpstreamTLSHandshakeFailed                             // "UpstreamTlsHandshakeFailed": the upstream's TLS handshake failed
	tcpConnectErrorEnd
)

var tcpConnectErrorWords = enumWords{kind: "TCPConnectError", what: "tcp connect error", words: []string{
	"", "MethodUnavailable", "EscaperNotUsable", "ResolveFailed", "SetupSocketFailed", "ConnectFailed", "TimeoutByRule", "NoAddressConnected", "ForbiddenAddressFamily", "ForbiddenRemoteAddress", "ProxyProtocolEncodeError", "ProxyProtocolWriteFailed", "NegotiationReadFailed", "NegotiationWriteFailed", "NegotiationRejected", "NegotiationPeerTimeout", "NegotiationProtocolErr", "InternalServerError", "InternalTlsClientError", "PeerTlsHandshakeTimeout", "PeerTlsHandshakeFailed", "UpstreamTlsHandshakeTimeout", "UpstreamTlsHandshakeFailed",
}}

// String returns g3's word for v, or "TCPConnectError(N)" for the unset value and
// for values outside the defined set.
func (v TCPConnectError) String() string { return tcpConnectErrorWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v TCPConnectError) IsValid() bool { return tcpConnectErrorWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v TCPConnectError) MarshalText() ([]byte, error) { return tcpConnectErrorWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *TCPConnectError) UnmarshalText(b []byte) error {
	w, err := tcpConnectErrorWords.unmarshal(b)
	if err == nil {
		*v = TCPConnectError(w)
	}
	return err
}

// ParseTCPConnectError returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseTCPConnectError(text string) (TCPConnectError, error) {
	w, err := tcpConnectErrorWords.parse([]byte(text))
	return TCPConnectError(w), err
}

// UDPSendtoError is the reason key of a UdpSendto Escape record (g3proxy/src/log/escape/udp_sendto.rs).
type UDPSendtoError uint8

// The values of UDPSendtoError.
const (
	UDPSendtoErrorNoListenSocket           UDPSendtoError = iota + 1 // "NoListenSocket": no socket to send from
	UDPSendtoErrorRecvFailed                                         // "RecvFailed": a receive failed
	UDPSendtoErrorSendFailed                                         // "SendFailed": a send failed
	UDPSendtoErrorBatchSendFailed                                    // "BatchSendFailed": a batch send failed
	UDPSendtoErrorInvalidPacket                                      // "InvalidPacket": an invalid packet
	UDPSendtoErrorAddressNotSupported                                // "AddressNotSupported": the address is not supported
	UDPSendtoErrorDomainNotResolved                                  // "DomainNotResolved": the domain was not resolved
	UDPSendtoErrorForbiddenTargetIPAddress                           // "ForbiddenTargetIpAddress": the target IP is forbidden
	UDPSendtoErrorRemoteSessionClosed                                // "RemoteSessionClosed": the remote session closed
	UDPSendtoErrorRemoteSessionError                                 // "RemoteSessionError": the remote session failed
	UDPSendtoErrorInternalServerError                                // "InternalServerError": an internal error
	udpSendtoErrorEnd
)

var udpSendtoErrorWords = enumWords{kind: "UDPSendtoError", what: "udp sendto error", words: []string{
	"", "NoListenSocket", "RecvFailed", "SendFailed", "BatchSendFailed", "InvalidPacket", "AddressNotSupported", "DomainNotResolved", "ForbiddenTargetIpAddress", "RemoteSessionClosed", "RemoteSessionError", "InternalServerError",
}}

// String returns g3's word for v, or "UDPSendtoError(N)" for the unset value and
// for values outside the defined set.
func (v UDPSendtoError) String() string { return udpSendtoErrorWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v UDPSendtoError) IsValid() bool { return udpSendtoErrorWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v UDPSendtoError) MarshalText() ([]byte, error) { return udpSendtoErrorWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *UDPSendtoError) UnmarshalText(b []byte) error {
	w, err := udpSendtoErrorWords.unmarshal(b)
	if err == nil {
		*v = UDPSendtoError(w)
	}
	return err
}

// ParseUDPSendtoError returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseUDPSendtoError(text string) (UDPSendtoError, error) {
	w, err := udpSendtoErrorWords.parse([]byte(text))
	return UDPSendtoError(w), err
}

// TLSApplication is the tls_application key of a TlsHandshake Escape record: what the TLS connection was for.
type TLSApplication uint8

// The values of TLSApplication.
const (
	TLSApplicationHTTPForward TLSApplication = iota + 1 // "HttpForward": forwarding HTTP
	TLSApplicationHTTPProxy                             // "HttpProxy": an HTTP proxy as the next hop
	TLSApplicationTCPStream                             // "TcpStream": a TCP stream
	tlsApplicationEnd
)

var tlsApplicationWords = enumWords{kind: "TLSApplication", what: "tls application", words: []string{
	"", "HttpForward", "HttpProxy", "TcpStream",
}}

// String returns g3's word for v, or "TLSApplication(N)" for the unset value and
// for values outside the defined set.
func (v TLSApplication) String() string { return tlsApplicationWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v TLSApplication) IsValid() bool { return tlsApplicationWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v TLSApplication) MarshalText() ([]byte, error) { return tlsApplicationWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *TLSApplication) UnmarshalText(b []byte) error {
	w, err := tlsApplicationWords.unmarshal(b)
	if err == nil {
		*v = TLSApplication(w)
	}
	return err
}

// ParseTLSApplication returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseTLSApplication(text string) (TLSApplication, error) {
	w, err := tlsApplicationWords.parse([]byte(text))
	return TLSApplication(w), err
}
