package tasklog

// Stage is how far a task got: the stage key. The zero value means unset,
// which a record rejects. Stage is a plain value and safe for concurrent use.
type Stage uint8

// The stages of a g3proxy task, in the order a task passes through them.
const (
	StageCreated    Stage = iota + 1 // "Created": the task has just been created
	StagePreparing                   // "Preparing": preparing internal resources
	StageConnecting                  // "Connecting": connecting to the remote peer
	StageConnected                   // "Connected": just connected to the remote peer
	StageReplying                    // "Replying": telling the client the remote peer is connected
	StageLoggedIn                    // "LoggedIn": logged in to an upstream that needs it
	StageRelaying                    // "Relaying": both sides are up and data is relayed
	StageFinished                    // "Finished": finished without error (layer 7 only)
	stageEnd
)

var stageWords = enumWords{kind: "Stage", what: "stage", words: []string{
	"", "Created", "Preparing", "Connecting", "Connected", "Replying", "LoggedIn", "Relaying", "Finished",
}}

// String returns g3's word for s, or "Stage(N)" for the unset value and for
// values outside the defined set.
func (s Stage) String() string { return stageWords.str(uint8(s)) }

// IsValid reports whether s is one of the defined stages.
func (s Stage) IsValid() bool { return stageWords.valid(uint8(s)) }

// MarshalText implements [encoding.TextMarshaler]. The unset value marshals
// to empty text; a value outside the defined set is an error.
func (s Stage) MarshalText() ([]byte, error) { return stageWords.marshal(uint8(s)) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts g3's exact
// words and empty text, which means unset.
func (s *Stage) UnmarshalText(b []byte) error {
	v, err := stageWords.unmarshal(b)
	if err == nil {
		*s = Stage(v)
	}
	return err
}

// ParseStage returns the stage named by g3's exact word text ("Relaying").
// Any other text is an error that quotes it: tasklog: unknown stage "Relayin".
func ParseStage(text string) (Stage, error) {
	v, err := stageWords.parse([]byte(text))
	return Stage(v), err
}
