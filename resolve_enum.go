package tasklog

// The words of the Resolve record's enum keys, each g3's exact word on the
// wire, following [Stage]: String, IsValid, MarshalText, UnmarshalText and a
// Parse function; every zero value means unset.

// QueryType is the query_type key of a Resolve record (lib/g3-resolver query.rs).
type QueryType uint8

// The values of QueryType.
const (
	QueryTypeA    QueryType = iota + 1 // "A": an IPv4 address query
	QueryTypeAAAA                      // "AAAA": an IPv6 address query
	queryTypeEnd
)

var queryTypeWords = enumWords{kind: "QueryType", what: "query type", words: []string{
	"", "A", "AAAA",
}}

// String returns g3's word for v, or "QueryType(N)" for the unset value and
// for values outside the defined set.
func (v QueryType) String() string { return queryTypeWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v QueryType) IsValid() bool { return queryTypeWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v QueryType) MarshalText() ([]byte, error) { return queryTypeWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *QueryType) UnmarshalText(b []byte) error {
	w, err := queryTypeWords.unmarshal(b)
	if err == nil {
		*v = QueryType(w)
	}
	return err
}

// ParseQueryType returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseQueryType(text string) (QueryType, error) {
	w, err := queryTypeWords.parse([]byte(text))
	return QueryType(w), err
}

// RRSource is the rr_source key of a Resolve record: where the failed answer came from (lib/g3-resolver record.rs).
type RRSource uint8

// The values of RRSource.
const (
	RRSourceCache RRSource = iota + 1 // "cache": the resolver's cache
	RRSourceTrash                     // "trash": an expired cache entry
	RRSourceQuery                     // "query": a query to a server
	rrSourceEnd
)

var rrSourceWords = enumWords{kind: "RRSource", what: "rr source", words: []string{
	"", "cache", "trash", "query",
}}

// String returns g3's word for v, or "RRSource(N)" for the unset value and
// for values outside the defined set.
func (v RRSource) String() string { return rrSourceWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v RRSource) IsValid() bool { return rrSourceWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v RRSource) MarshalText() ([]byte, error) { return rrSourceWords.marshal(uint8(v)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *RRSource) UnmarshalText(b []byte) error {
	w, err := rrSourceWords.unmarshal(b)
	if err == nil {
		*v = RRSource(w)
	}
	return err
}

// ParseRRSource returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseRRSource(text string) (RRSource, error) {
	w, err := rrSourceWords.parse([]byte(text))
	return RRSource(w), err
}

// ResolveErrorType is the error_type key of a Resolve record: g3's ResolveError::get_type (lib/g3-resolver error.rs).
type ResolveErrorType uint8

// The values of ResolveErrorType.
const (
	ResolveErrorEmptyDomain ResolveErrorType = iota + 1 // "EmptyDomain": the domain was empty
	ResolveErrorEmptyResult                             // "EmptyResult": the answer held no address
	ResolveErrorServer                                  // "ServerError": the server answered with an error code (error_subtype says which)
	ResolveErrorDriver                                  // "DriverError": the query could not be made or answered (error_subtype says why)
	ResolveErrorLocal                                   // "LocalError": no resolver could take the query (error_subtype says why)
	ResolveErrorUnexpected                              // "UnexpectedError": an unexpected error
	resolveErrorTypeEnd
)

var resolveErrorTypeWords = enumWords{kind: "ResolveErrorType", what: "resolve error type", words: []string{
	"", "EmptyDomain", "EmptyResult", "ServerError", "DriverError", "LocalError", "UnexpectedError",
}}

// String returns g3's word for v, or "ResolveErrorType(N)" for the unset value and
// for values outside the defined set.
func (v ResolveErrorType) String() string { return resolveErrorTypeWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v ResolveErrorType) IsValid() bool { return resolveErrorTypeWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v ResolveErrorType) MarshalText() ([]byte, error) {
	return resolveErrorTypeWords.marshal(uint8(v))
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *ResolveErrorType) UnmarshalText(b []byte) error {
	w, err := resolveErrorTypeWords.unmarshal(b)
	if err == nil {
		*v = ResolveErrorType(w)
	}
	return err
}

// ParseResolveErrorType returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseResolveErrorType(text string) (ResolveErrorType, error) {
	w, err := resolveErrorTypeWords.parse([]byte(text))
	return ResolveErrorType(w), err
}

// ResolveErrorSubtype is the error_subtype key of a Resolve record: g3's ResolveError::get_subtype; the zero value is written as "", the subtype of EmptyDomain, EmptyResult and UnexpectedError.
type ResolveErrorSubtype uint8

// The values of ResolveErrorSubtype.
const (
	ResolveErrorFormErr           ResolveErrorSubtype = iota + 1 // "FORMERR": ServerError: the server claims the query was malformed
	ResolveErrorServFail                                         // "SERVFAIL": ServerError: the server returned a general failure
	ResolveErrorNotFound                                         // "NOTFOUND": ServerError: the server claims the name does not exist (NXDOMAIN)
	ResolveErrorNotImp                                           // "NOTIMP": ServerError: the server does not implement the operation
	ResolveErrorRefused                                          // "REFUSED": ServerError: the server refused the query
	ResolveErrorBadQuery                                         // "BadQuery": DriverError: a malformed query
	ResolveErrorBadName                                          // "BadName": DriverError: a malformed domain name
	ResolveErrorBadFamily                                        // "BadFamily": DriverError: an unsupported address family
	ResolveErrorBadResp                                          // "BadResp": DriverError: a malformed reply
	ResolveErrorConnRefused                                      // "ConnRefused": DriverError: the server refused the connection
	ResolveErrorTimeout                                          // "Timeout": DriverError: the server did not answer in time
	ResolveErrorInternal                                         // "InternalError": DriverError: an internal error
	ResolveErrorNoResolverSet                                    // "NoResolverSet": LocalError: no resolver is set
	ResolveErrorNoResolverRunning                                // "NoResolverRunning": LocalError: no resolver is running
	ResolveErrorDriverTimedOut                                   // "DriverTimedOut": LocalError: the driver timed out
	resolveErrorSubtypeEnd
)

var resolveErrorSubtypeWords = enumWords{kind: "ResolveErrorSubtype", what: "resolve error subtype", words: []string{
	"", "FORMERR", "SERVFAIL", "NOTFOUND", "NOTIMP", "REFUSED", "BadQuery", "BadName", "BadFamily", "BadResp", "ConnRefused", "Timeout", "InternalError", "NoResolverSet", "NoResolverRunning", "DriverTimedOut",
}}

// String returns g3's word for v, or "ResolveErrorSubtype(N)" for the unset value and
// for values outside the defined set.
func (v ResolveErrorSubtype) String() string { return resolveErrorSubtypeWords.str(uint8(v)) }

// IsValid reports whether v is one of the defined values.
func (v ResolveErrorSubtype) IsValid() bool { return resolveErrorSubtypeWords.valid(uint8(v)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (v ResolveErrorSubtype) MarshalText() ([]byte, error) {
	return resolveErrorSubtypeWords.marshal(uint8(v))
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (v *ResolveErrorSubtype) UnmarshalText(b []byte) error {
	w, err := resolveErrorSubtypeWords.unmarshal(b)
	if err == nil {
		*v = ResolveErrorSubtype(w)
	}
	return err
}

// ParseResolveErrorSubtype returns the value named by g3's exact word text. Any other
// text is an error that quotes it.
func ParseResolveErrorSubtype(text string) (ResolveErrorSubtype, error) {
	w, err := resolveErrorSubtypeWords.parse([]byte(text))
	return ResolveErrorSubtype(w), err
}
