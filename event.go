package tasklog

// Event is what triggered a record: the task_event key. The zero value
// means unset, which g3 reads as [EventFinished]; an unset event is left out
// of the line. The event also decides which keys a record carries (see
// [TaskLog]).
type Event uint8

// The task events of g3proxy.
const (
	EventCreated          Event = iota + 1 // "Created": the task was created
	EventConnected                         // "Connected": the upstream is connected
	EventPeriodic                          // "Periodic": a periodic record of a running task
	EventClientShutdown                    // "ClientShutdown": the client shut down its side first
	EventUpstreamShutdown                  // "UpstreamShutdown": the upstream shut down its side first
	EventFinished                          // "Finished": the task ended
	eventEnd
)

var eventWords = enumWords{kind: "Event", what: "task event", words: []string{
	"", "Created", "Connected", "Periodic", "ClientShutdown", "UpstreamShutdown", "Finished",
}}

// String returns g3's word for e, or "Event(N)" for the unset value and for
// values outside the defined set.
func (e Event) String() string { return eventWords.str(uint8(e)) }

// IsValid reports whether e is one of the defined events.
func (e Event) IsValid() bool { return eventWords.valid(uint8(e)) }

// IsFinished reports whether a record with this event is the task's final
// record: e is unset or [EventFinished].
func (e Event) IsFinished() bool { return e == 0 || e == EventFinished }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (e Event) MarshalText() ([]byte, error) { return eventWords.marshal(uint8(e)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (e *Event) UnmarshalText(b []byte) error {
	v, err := eventWords.unmarshal(b)
	if err == nil {
		*e = Event(v)
	}
	return err
}

// ParseEvent returns the event named by g3's exact word s ("Periodic").
// Any other text is an error that quotes s.
func ParseEvent(s string) (Event, error) {
	v, err := eventWords.parse([]byte(s))
	return Event(v), err
}
