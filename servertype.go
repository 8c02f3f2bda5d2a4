package tasklog

// ServerType is the kind of g3proxy server that accepted a task: the
// server_type key. The zero value means unset, which a record rejects; the
// other values print as g3's exact words ("HttpProxy", "SocksProxy", ...).
// ServerType is a plain value and safe for concurrent use.
type ServerType uint8

// The server types of g3proxy.
const (
	ServerTypeHTTPProxy     ServerType = iota + 1 // "HttpProxy"
	ServerTypeSOCKSProxy                          // "SocksProxy"
	ServerTypeTCPStream                           // "TcpStream"
	ServerTypeTLSStream                           // "TlsStream"
	ServerTypeSNIProxy                            // "SniProxy"
	ServerTypeHTTPRProxy                          // "HttpRProxy"
	ServerTypeTCPTProxy                           // "TcpTProxy"
	ServerTypeIntelliProxy                        // "IntelliProxy"
	ServerTypeDummyClose                          // "DummyClose"
	ServerTypePlainTCPPort                        // "PlainTcpPort"
	ServerTypePlainTLSPort                        // "PlainTlsPort"
	ServerTypeNativeTLSPort                       // "NativeTlsPort"
	ServerTypePlainQUICPort                       // "PlainQuicPort"
	serverTypeEnd
)

var serverTypeWords = enumWords{kind: "ServerType", what: "server type", words: []string{
	"",
	"HttpProxy", "SocksProxy", "TcpStream", "TlsStream", "SniProxy", "HttpRProxy", "TcpTProxy",
	"IntelliProxy", "DummyClose", "PlainTcpPort", "PlainTlsPort", "NativeTlsPort", "PlainQuicPort",
}}

// String returns g3's word for t, or "ServerType(N)" for the unset value and
// for values outside the defined set. It does not allocate for defined values.
func (t ServerType) String() string { return serverTypeWords.str(uint8(t)) }

// IsValid reports whether t is one of the defined server types.
func (t ServerType) IsValid() bool { return serverTypeWords.valid(uint8(t)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (t ServerType) MarshalText() ([]byte, error) { return serverTypeWords.marshal(uint8(t)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words (case-sensitive) and empty text, which means unset.
func (t *ServerType) UnmarshalText(b []byte) error {
	v, err := serverTypeWords.unmarshal(b)
	if err == nil {
		*t = ServerType(v)
	}
	return err
}

// ParseServerType returns the server type named by g3's exact word s
// ("HttpProxy"). Any other text, the empty string included, is an error
// that quotes s.
func ParseServerType(s string) (ServerType, error) {
	v, err := serverTypeWords.parse([]byte(s))
	return ServerType(v), err
}

// TaskType is the sub-type of a task record: the task_type key, which
// decides the meaning of the keys that are not shared. A record takes it
// from its [Detail]. The zero value means unset.
type TaskType uint8

// The task types of g3proxy.
const (
	TaskTypeTCPConnect   TaskType = iota + 1 // "TcpConnect"
	TaskTypeHTTPForward                      // "HttpForward"
	TaskTypeFTPOverHTTP                      // "FtpOverHttp"
	TaskTypeUDPAssociate                     // "UdpAssociate"
	TaskTypeUDPConnect                       // "UdpConnect"
	taskTypeEnd
)

var taskTypeWords = enumWords{kind: "TaskType", what: "task type", words: []string{
	"", "TcpConnect", "HttpForward", "FtpOverHttp", "UdpAssociate", "UdpConnect",
}}

// String returns g3's word for t, or "TaskType(N)" for the unset value and
// for values outside the defined set.
func (t TaskType) String() string { return taskTypeWords.str(uint8(t)) }

// IsValid reports whether t is one of the defined task types.
func (t TaskType) IsValid() bool { return taskTypeWords.valid(uint8(t)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (t TaskType) MarshalText() ([]byte, error) { return taskTypeWords.marshal(uint8(t)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (t *TaskType) UnmarshalText(b []byte) error {
	v, err := taskTypeWords.unmarshal(b)
	if err == nil {
		*t = TaskType(v)
	}
	return err
}

// ParseTaskType returns the task type named by g3's exact word s
// ("TcpConnect"). Any other text is an error that quotes s.
func ParseTaskType(s string) (TaskType, error) {
	v, err := taskTypeWords.parse([]byte(s))
	return TaskType(v), err
}
