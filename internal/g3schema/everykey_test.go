package g3schema_test

import (
	"strings"
	"testing"

	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

// badValue is a value of the wrong form for a key of kind k, as a JSON
// line could carry it.
func badValue(k g3schema.Key) g3schema.Field {
	f := g3schema.Field{Key: k.Name, Type: g3schema.String}
	switch k.Kind {
	case g3schema.KindString:
		f.Val, f.Type = "12", g3schema.Number
	case g3schema.KindWord:
		f.Val = "Bogus"
	case g3schema.KindDuration:
		f.Val = "12.3 ms"
	case g3schema.KindTimestamp:
		f.Val = "2026-11-24 10:30:01"
	case g3schema.KindID:
		f.Val = "5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a"
	case g3schema.KindSockAddr:
		f.Val = "10.0.0.1"
	case g3schema.KindIP:
		f.Val = "999.0.0.1"
	case g3schema.KindUint, g3schema.KindU16:
		f.Val = "517"
	case g3schema.KindBool:
		f.Val = "yes"
	case g3schema.KindIPList:
		f.Val = "127.0.0.1 dns.example"
	default: // upstream, host, URI, bind address: g3 leaves them out rather than empty
		f.Val = ""
	}
	return f
}

// TestEveryKeyBroken: in every record g3's formatters write (the CEE
// bodies of the golden set), each key in turn given a value of the wrong
// form is reported, naming that key; each required key left out is
// reported missing; and nothing else is reported.
func TestEveryKeyBroken(t *testing.T) {
	shapeKeys := map[string]map[string]g3schema.Key{}
	for _, s := range g3schema.Shapes("") {
		m := map[string]g3schema.Key{}
		for _, k := range s.Keys {
			m[k.Name] = k
		}
		shapeKeys[s.LogType+"/"+s.Type+"/"+s.Event] = m
	}
	broken, removed := 0, 0
	for _, body := range jsonRecords(t) {
		_, fields, err := g3line.Parse(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := g3schema.Check(fields, nil)
		keys := shapeKeys[res.LogType+"/"+res.Type+"/"+res.Event]
		if keys == nil {
			t.Fatalf("no shape for %+v", res)
		}
		for i, f := range fields {
			k, ok := keys[f.Key]
			if !ok {
				t.Fatalf("%s is not a key of %+v", f.Key, res)
			}
			if k.Name == "error_subtype" {
				continue // "" is valid for some error types: checkSubtype's own test
			}
			// A bad value.
			mod := append([]g3schema.Field(nil), fields...)
			mod[i] = badValue(k)
			var probs []g3schema.Problem
			g3schema.Check(mod, func(p g3schema.Problem) { probs = append(probs, p) })
			if len(probs) == 0 || !names(probs, f.Key) {
				t.Errorf("%s/%s: %s = %q (%v) not reported: %v", res.LogType, res.Type, f.Key, mod[i].Val, k.Kind, probs)
			}
			broken++
			// Left out.
			mod = append(append([]g3schema.Field(nil), fields[:i]...), fields[i+1:]...)
			probs = probs[:0]
			g3schema.Check(mod, func(p g3schema.Problem) { probs = append(probs, p) })
			switch {
			case k.Required && !names(probs, f.Key):
				t.Errorf("%s/%s: required %s left out, not reported: %v", res.LogType, res.Type, f.Key, probs)
			case !k.Required && len(probs) > 0:
				t.Errorf("%s/%s: optional %s left out, reported: %v", res.LogType, res.Type, f.Key, probs)
			}
			removed++
		}
	}
	t.Logf("%d keys broken and %d left out, one at a time, in the 44 CEE bodies", broken, removed)
}

func names(probs []g3schema.Problem, key string) bool {
	for _, p := range probs {
		if p.Key == key || strings.Contains(p.Problem, key) {
			return true
		}
	}
	return false
}

// TestDuplicateKeys: a key written twice is reported once, on its second
// occurrence, whether it is a key of the record's shape, a shipper's key,
// or a key of a record whose task type is unknown.
func TestDuplicateKeys(t *testing.T) {
	var body string
	for _, b := range jsonRecords(t) {
		if strings.Contains(b, `"user":"alice"`) && strings.Contains(b, `"task_event":"Finished"`) {
			body = b
			break
		}
	}
	for _, c := range []struct{ old, new, key, val string }{
		{`"user":"alice"`, `"user":"alice","user":"bob"`, "user", "bob"},
		{`"user":"alice"`, `"user":"alice","host":"a","host":"b"`, "host", "b"},
		{`"task_event":"Finished"`, `"task_event":"Finished","task_event":"Created"`, "task_event", "Created"},
		{`"task_type":"TcpConnect"`, `"task_type":"TcpTunnel","user":"bob"`, "user", "bob"},
	} {
		_, fields, err := g3line.Parse(strings.Replace(body, c.old, c.new, 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		g3schema.Check(fields, func(p g3schema.Problem) {
			if p.Problem == "appears more than once" {
				n++
				if p.Key != c.key || p.Value != c.val {
					t.Errorf("%s: duplicate reported as %+v", c.new, p)
				}
			}
		})
		if n != 1 {
			t.Errorf("%s: %d duplicates reported, want 1", c.new, n)
		}
	}
}
