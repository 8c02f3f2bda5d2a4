package main

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

// A line is one line of input as the subcommands see it. Its strings
// (line, and the fields' keys and values) share the reader's buffer and
// are valid only during the callback: keep a copy (strings.Clone) of any
// you retain.
type line struct {
	src     *source
	no      int
	text    string
	form    g3line.Form
	fields  []g3schema.Field
	err     error // the line could not be read as a record
	tooLong bool
}

// get returns the value of key, "" and false when the record has none.
func (l *line) get(key string) (string, bool) {
	for i := range l.fields {
		if l.fields[i].Key == key {
			return l.fields[i].Val, l.fields[i].Type != g3schema.Null
		}
	}
	return "", false
}

// scanAll reads every line of srcs and hands each non-blank one to each.
// It returns the first read error, naming its source.
func scanAll(srcs []*source, prog *progress, each func(*line)) error {
	var l line
	var fields []g3schema.Field
	records := 0
	defer prog.done()
	for _, src := range srcs {
		lr := newLineReader(src.r)
		for {
			b, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", src.name, err)
			}
			if len(b) == 0 {
				continue
			}
			l = line{src: src, no: lr.lineNo, tooLong: lr.tooLong}
			if l.tooLong {
				l.text = string(b)
				l.err = fmt.Errorf("line longer than %d MiB: not a g3 record", g3line.MaxLine>>20)
			} else {
				l.text = unsafe.String(&b[0], len(b))
				l.form, fields, l.err = g3line.Parse(l.text, fields)
				l.fields = fields
			}
			each(&l)
			records++
			prog.update(src, lr.read, records)
		}
	}
	return nil
}
