package tasklog

import (
	"errors"
	"strconv"
)

// enumWords is the table behind one enum type: index 0 is the unset value
// and has no word; every other index holds g3's exact word on the wire.
type enumWords struct {
	kind  string   // Go type name, for String of unknown values: "Stage(200)"
	what  string   // lower-case noun for errors: "unknown stage"
	words []string // words[0] == ""
}

func (t *enumWords) valid(v uint8) bool { return v != 0 && int(v) < len(t.words) }

func (t *enumWords) str(v uint8) string {
	if t.valid(v) {
		return t.words[v]
	}
	return t.kind + "(" + strconv.Itoa(int(v)) + ")"
}

// marshal returns the word for v, nil for the unset value and an error for
// a value outside the table.
func (t *enumWords) marshal(v uint8) ([]byte, error) {
	if v == 0 {
		return nil, nil
	}
	if !t.valid(v) {
		return nil, errors.New("tasklog: invalid " + t.what + " " + t.str(v))
	}
	return []byte(t.words[v]), nil
}

// lookup finds the exact word; it does not allocate.
func (t *enumWords) lookup(b []byte) (uint8, bool) {
	for i := 1; i < len(t.words); i++ {
		if string(b) == t.words[i] {
			return uint8(i), true
		}
	}
	return 0, false
}

// unmarshal accepts an exact word, or empty text for the unset value.
func (t *enumWords) unmarshal(b []byte) (uint8, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return t.parse(b)
}

// parse accepts only an exact word.
func (t *enumWords) parse(b []byte) (uint8, error) {
	if v, ok := t.lookup(b); ok {
		return v, nil
	}
	return 0, errors.New("tasklog: unknown " + t.what + " " + strconv.Quote(string(b)))
}
