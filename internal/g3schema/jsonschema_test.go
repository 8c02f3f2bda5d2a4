package g3schema_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/proxylog/tasklog/internal/g3line"
	"github.com/proxylog/tasklog/internal/g3schema"
)

var update = flag.Bool("update-docs", false, "rewrite docs/schema from the rules")

const schemaDir = "../../docs/schema"

func schemaFile(logType string) string {
	return filepath.Join(schemaDir, strings.ToLower(logType)+".schema.json")
}

// TestSchemaFilesMatchRules: docs/schema holds what JSONSchema generates
// (go test ./internal/g3schema -update-docs rewrites it).
func TestSchemaFilesMatchRules(t *testing.T) {
	for _, lt := range g3schema.LogTypes {
		want, err := g3schema.JSONSchema(lt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(schemaFile(lt))
		if err == nil && bytes.Equal(got, want) {
			continue
		}
		if *update {
			if err := os.WriteFile(schemaFile(lt), want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s is out of date with the rules; run go test ./internal/g3schema -update-docs (%v)", schemaFile(lt), err)
	}
	if _, err := g3schema.JSONSchema("Audit"); err == nil || !strings.Contains(err.Error(), `"Audit"`) {
		t.Errorf("JSONSchema(Audit): %v, want an error naming it", err)
	}
}

func compile(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	out := map[string]*jsonschema.Schema{}
	for _, lt := range g3schema.LogTypes {
		f, err := os.Open(schemaFile(lt))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(g3schema.JSONSchemaID(lt), doc); err != nil {
			t.Fatal(err)
		}
		if out[lt], err = c.Compile(g3schema.JSONSchemaID(lt)); err != nil {
			t.Fatalf("%s: %v", lt, err)
		}
	}
	return out
}

// jsonRecords returns the JSON bodies of the CEE lines g3's syslog
// formatter writes for the golden records (driver/testdata/g3bytes,
// generated from bytedance/g3 at 7d237e22), hostile values included.
func jsonRecords(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../driver/testdata/g3bytes/g3bytes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if !strings.Contains(cols[1], "cee") {
			continue
		}
		b, _ := hex.DecodeString(cols[2])
		s := strings.TrimSuffix(string(b), "\n")
		out = append(out, s[strings.Index(s, ":{")+1:])
	}
	if len(out) != 44 {
		t.Fatalf("%d CEE bodies, want 44", len(out))
	}
	return out
}

// breakJSON are single-key breaks of a JSON record; each must be
// rejected by both the schema and Check.
var breakJSON = []struct{ name, old, new string }{
	{"missing task_id", `"task_id":"5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a",`, ``},
	{"a duration 12.3 ms", `"total_time":"2.346s"`, `"total_time":"12.3 ms"`},
	{"an unknown reason", `"reason":"ClosedByClient"`, `"reason":"ClosedByAliens"`},
	{"a counter as a string", `"c_rd_bytes":517`, `"c_rd_bytes":"517"`},
	{"a key of another task type", `"reason":`, `"uri":"http://h.example/","reason":`},
	{"a dashed uuid", `5b1d9a3e8c1f4e2a9b7d0f6e5d4c3b2a`, `5b1d9a3e-8c1f-4e2a-9b7d-0f6e5d4c3b2a`},
	{"an unknown task type", `"task_type":"TcpConnect"`, `"task_type":"TcpTunnel"`},
	{"a non-g3 timestamp", `"start_at":"2026-11-24T10:30:01.123456Z"`, `"start_at":"2026-11-24T10:30:01Z"`},
	{"an unknown stage", `"stage":"Relaying"`, `"stage":"Teleporting"`},
	{"an unknown server type", `"server_type":"HttpProxy"`, `"server_type":"HttpsProxy"`},
	{"an unknown log type", `"log_type":"Task"`, `"log_type":"Audit"`},
	{"an unknown key", `"reason":`, `"colour":"blue","reason":`},
	{"a negative counter", `"c_rd_bytes":517`, `"c_rd_bytes":-517`},
	{"a finished record's keys under task_event Created", `"task_event":"Finished"`, `"task_event":"Created"`},
}

func checkOK(t *testing.T, body string) bool {
	t.Helper()
	_, fields, err := g3line.Parse(body, nil)
	if err != nil {
		return false
	}
	ok := true
	g3schema.Check(fields, func(g3schema.Problem) { ok = false })
	return ok
}

func schemaOK(t *testing.T, schemas map[string]*jsonschema.Schema, body string) (bool, error) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, s := range schemas {
		err := s.Validate(doc)
		if err == nil {
			return true, nil
		}
		errs = append(errs, err)
	}
	return false, errs[0]
}

// TestSchemaValidatesG3Records: a well-kept validator
// (santhosh-tekuri/jsonschema/v6) accepts every JSON record g3 writes
// under the schema of its log type, rejects each single-key break, and
// agrees with Check on every one.
func TestSchemaValidatesG3Records(t *testing.T) {
	schemas := compile(t)
	var finished string
	for _, body := range jsonRecords(t) {
		ok, err := schemaOK(t, schemas, body)
		if !ok {
			t.Errorf("schema rejects g3's record: %v\n%s", err, body)
		}
		if !checkOK(t, body) {
			t.Errorf("Check rejects g3's record %s", body)
		}
		if strings.Contains(body, `"reason":"ClosedByClient"`) && strings.Contains(body, `"task_type":"TcpConnect"`) {
			finished = body
		}
	}
	// fluentd's nil for an unset key, as a JSON output writes it.
	nulled := strings.Replace(finished, `"user":"alice"`, `"user":null`, 1)
	if ok, err := schemaOK(t, schemas, nulled); !ok || !checkOK(t, nulled) {
		t.Errorf("null for an optional key: schema %v (%v), Check %v", ok, err, checkOK(t, nulled))
	}
	for _, b := range breakJSON {
		if !strings.Contains(finished, b.old) {
			t.Fatalf("%s: %q not in %s", b.name, b.old, finished)
		}
		broken := strings.Replace(finished, b.old, b.new, 1)
		if ok, _ := schemaOK(t, schemas, broken); ok {
			t.Errorf("%s: the schema accepts %s", b.name, broken)
		}
		if checkOK(t, broken) {
			t.Errorf("%s: Check accepts %s", b.name, broken)
		}
	}
	// Resolve's subtype rule.
	for _, body := range jsonRecords(t) {
		if strings.Contains(body, `"error_subtype":"NOTFOUND"`) {
			for _, sub := range []string{`""`, `"BadQuery"`} {
				broken := strings.Replace(body, `"error_subtype":"NOTFOUND"`, `"error_subtype":`+sub, 1)
				if ok, _ := schemaOK(t, schemas, broken); ok || checkOK(t, broken) {
					t.Errorf("ServerError with subtype %s accepted", sub)
				}
			}
			break
		}
	}
}
