package driver

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxylog/tasklog"
)

// What the writer formats from a snapshot is, byte for byte, what format
// wrote for the entry when it was logged, even when the program changes
// its task record right after (a periodic record reused, counters moving
// on); and a snapshot takes the common entries.
func TestSnapshotMatchesFormat(t *testing.T) {
	formats := deferringFormats(t)
	formats["fluentd"] = &fluentdFormatter{tag: "g3proxy.Task"}
	formats["json"] = newJSONFormatter(tasklog.EncoderConfig())
	formats["cee"] = newCEEFormatter(false, false)
	for name, f := range formats {
		t.Run(name, func(t *testing.T) { testSnapshotMatchesFormat(t, f) })
	}
}

func testSnapshotMatchesFormat(t *testing.T, base formatter) {
	rng := rand.New(rand.NewSource(17))
	taken := 0
	var s snapshot
	const n = 2000
	for i := 0; i < n; i++ {
		var ctx, fields []zapcore.Field
		for k := rng.Intn(2); k > 0; k-- {
			ctx = append(ctx, randomField(rng))
		}
		for k := rng.Intn(4); k > 0; k-- {
			fields = append(fields, randomField(rng))
		}
		f := base.with(ctx)
		ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: g3bytesTime, Message: randomText(rng)}
		want, err := f.format(nil, ent, fields)
		if err != nil {
			t.Fatal(err)
		}
		ent, ok := f.(snapshotter).snapshots(ent)
		if !ok {
			t.Fatal("a formatter that snapshots refused an entry with a time")
		}
		if !s.take(fields) {
			s.release()
			continue
		}
		taken++
		for _, fl := range fields { // the program moves on
			if r, isRec := fl.Interface.(*tasklog.TaskLog); isRec {
				r.ServerName += "-changed"
				r.TotalTime++
				switch d := r.Detail.(type) {
				case *tasklog.TCPConnect:
					if d != nil {
						d.ClientReadBytes++
						d.Upstream = "changed:1"
					}
				case *tasklog.HTTPForward:
					if d != nil {
						d.URI += "/changed"
					}
				case *tasklog.UDPAssociate:
					if d != nil {
						d.ClientReadPackets++
					}
				}
			}
		}
		got, err := f.format(nil, ent, s.view())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("entry %d (fields %v): from the snapshot\n%q\nwhen logged\n%q", i, fields, got, want)
		}
		s.release()
		if s.n != 0 || s.rec != (tasklog.TaskLog{}) {
			t.Fatal("release kept the record")
		}
	}
	if taken < n/4 {
		t.Errorf("only %d of %d entries were taken: the test does not exercise snapshots", taken, n)
	}
	t.Logf("%d of %d entries taken", taken, n)
}

// A snapshot copies task records by value, which holds only while they
// and their details hold values: no pointer, slice, map, channel or
// function but the record's Detail (which take copies too), times (whose
// location is immutable) and addresses (whose zone is interned).
func TestSnapshotTypesHoldValues(t *testing.T) {
	allowed := map[reflect.Type]bool{
		reflect.TypeFor[time.Time]():      true,
		reflect.TypeFor[netip.Addr]():     true,
		reflect.TypeFor[netip.AddrPort](): true,
		reflect.TypeFor[tasklog.Detail](): true,
		reflect.TypeFor[time.Duration]():  true,
	}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		if allowed[typ] {
			return
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				walk(path+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		case reflect.Array:
			walk(path+"[]", typ.Elem())
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
			t.Errorf("%s is a %s: a snapshot's copy would share it with the program", path, typ.Kind())
		}
	}
	for _, v := range []any{tasklog.TaskLog{}, tasklog.TCPConnect{}, tasklog.HTTPForward{}, tasklog.FTPOverHTTP{},
		tasklog.UDPAssociate{}, tasklog.UDPConnect{}} {
		walk(reflect.TypeOf(v).Name(), reflect.TypeOf(v))
	}
}

// failingFormatter snapshots every entry and fails to format any.
type failingFormatter struct{ snapshotsAll }

func (f failingFormatter) format(b []byte, _ zapcore.Entry, _ []zapcore.Field) ([]byte, error) {
	return b, errors.New("test: cannot format")
}
func (f failingFormatter) with([]zapcore.Field) formatter { return f }

// A record the writer cannot format (a bug: Write hands over only what
// formats) is counted as DropFormatFailed and reported, and the counters
// still balance.
func TestWriterFormatFailureIsCounted(t *testing.T) {
	var errs bytes.Buffer
	core := newCore("test", failingFormatter{}, Options{ErrorOutput: zapcore.AddSync(&errs)}, newWriterSinks(io.Discard))
	if err := core.Write(zapcore.Entry{Message: "m"}, []zapcore.Field{zap.String("k", "v")}); err != nil {
		t.Fatalf("Write: %v (the record was handed over: its error shows later)", err)
	}
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}
	s := core.Stats()
	if s.Total != 1 || s.DropFormatFailed != 1 || s.Passed+s.Dropped() != s.Total {
		t.Errorf("stats %+v: want the record counted as format failed", s)
	}
	if !strings.Contains(errs.String(), "format on the writer: test: cannot format") {
		t.Errorf("error output %q: want the format error", errs.String())
	}
}
