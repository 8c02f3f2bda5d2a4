package tasklog

import (
	"errors"
	"log/slog"
)

// keyed is a record whose keys one walk writes: the Escape and Resolve
// records. Their MarshalLogObject and Validate call encode directly, so
// that its recEnc stays on the stack; LogValue, which allocates anyway,
// shares logValueKeyed.
type keyed interface {
	encode(e *recEnc)
}

// logValueKeyed returns r's keys as a slog group, with ErrorKey and the
// validation error for a bad record.
func logValueKeyed(r keyed, size int) slog.Value {
	w := &slogWriter{attrs: make([]slog.Attr, 0, size)}
	e := recEnc{w: w}
	r.encode(&e)
	if e.bad {
		v := recEnc{w: nopWriter{}, collect: true}
		r.encode(&v)
		w.attrs = append(w.attrs, slog.String(ErrorKey, errors.Join(v.errs...).Error()))
	}
	return slog.GroupValue(w.attrs...)
}
