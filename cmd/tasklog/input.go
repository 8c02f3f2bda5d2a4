package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/proxylog/tasklog/internal/g3line"
)

// A source is one input: a file, or standard input ("-").
type source struct {
	name string
	r    io.Reader
	size int64 // -1 when unknown (a pipe)
	f    *os.File
}

// openSources opens every named file, or standard input when there are
// none. It fails on the first file it cannot open.
func openSources(names []string, stdin io.Reader) ([]*source, error) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var out []*source
	for _, n := range names {
		if n == "-" {
			out = append(out, &source{name: "-", r: stdin, size: -1})
			continue
		}
		f, err := os.Open(n)
		if err != nil {
			closeSources(out)
			return nil, err
		}
		size := int64(-1)
		if fi, err := f.Stat(); err == nil {
			if fi.IsDir() {
				f.Close()
				closeSources(out)
				return nil, fmt.Errorf("%s: is a directory", n)
			}
			if fi.Mode().IsRegular() {
				size = fi.Size()
			}
		}
		out = append(out, &source{name: n, r: f, size: size, f: f})
	}
	return out, nil
}

func closeSources(srcs []*source) {
	for _, s := range srcs {
		if s.f != nil {
			s.f.Close()
		}
	}
}

// lineReader reads lines of any length: a line longer than g3line.MaxLine
// is reported as too long and skipped without being held in memory.
type lineReader struct {
	br      *bufio.Reader
	long    []byte
	lineNo  int
	read    int64 // bytes consumed
	tooLong bool  // the last line returned was cut at MaxLine
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line without its newline. The slice is valid
// until the next call. At the end it returns io.EOF; a last line without
// a newline is returned first.
func (lr *lineReader) next() ([]byte, error) {
	lr.tooLong = false
	lr.long = lr.long[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		lr.read += int64(len(chunk))
		switch {
		case err == nil:
			lr.lineNo++
			if len(lr.long) == 0 {
				return chunk[:len(chunk)-1], nil
			}
			if !lr.tooLong {
				lr.long = append(lr.long, chunk[:len(chunk)-1]...)
			}
			return lr.long, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if !lr.tooLong {
				if len(lr.long)+len(chunk) > g3line.MaxLine {
					lr.tooLong = true
					lr.long = append(lr.long[:0], chunk[:min(len(chunk), 64)]...)
				} else {
					lr.long = append(lr.long, chunk...)
				}
			}
		case errors.Is(err, io.EOF):
			if len(chunk) == 0 && len(lr.long) == 0 {
				return nil, io.EOF
			}
			lr.lineNo++
			if !lr.tooLong {
				lr.long = append(lr.long, chunk...)
			}
			return lr.long, nil
		default:
			return nil, err
		}
	}
}

// A progress shows how far the reading of a large file is, on a terminal.
type progress struct {
	w       io.Writer
	enabled bool
	last    time.Time
	shown   bool
}

// newProgress shows progress on w only if it is a terminal.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, enabled: isTerminal(w)}
}

// update redraws the bar at most ten times a second.
func (p *progress) update(src *source, read int64, records int) {
	if !p.enabled || src.size <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = now, true
	const width = 30
	frac := float64(read) / float64(src.size)
	frac = min(frac, 1)
	bar := bytes.Repeat([]byte{'#'}, int(frac*width))
	bar = append(bar, bytes.Repeat([]byte{'.'}, width-len(bar))...)
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%% %s records", src.name, bar, frac*100, strconv.Itoa(records))
}

// done clears the bar.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
