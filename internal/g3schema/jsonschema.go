package g3schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// JSONSchemaID returns the $id of a log type's schema: its path in the
// repository.
func JSONSchemaID(logType string) string {
	return "https://github.com/proxylog/tasklog/blob/main/docs/schema/" + strings.ToLower(logType) + ".schema.json"
}

// JSONSchema returns the JSON Schema (draft 2020-12) of a g3 record of
// logType (Task, Escape or Resolve) in its JSON form: tasklog's JSON line,
// g3's @cee: body, or a fluentd record as JSON (whose unset keys are
// null). The rules of each task type and event (each escape type) are
// if/then conditionals, and unevaluatedProperties rejects every key the
// record's shape does not have; keys that log shippers add
// (TransportKeys) are allowed with any value.
func JSONSchema(logType string) ([]byte, error) {
	if !slices.Contains(LogTypes, logType) {
		return nil, fmt.Errorf("unknown log type %q (want %s)", logType, strings.Join(LogTypes, ", "))
	}
	all := Shapes(logType)
	props := map[string]any{}
	defs := map[string]any{}
	ref := func(k Key) any {
		name := defName(k)
		if _, ok := defs[name]; !ok {
			defs[name] = kindSchema(k)
		}
		r := map[string]any{"$ref": "#/$defs/" + name}
		if k.Required {
			return r
		}
		return map[string]any{"anyOf": []any{r, map[string]any{"type": "null"}}}
	}
	required := []string{}
	for _, k := range loggerKeys {
		if k.Name != "log_type" { // its own const below
			props[k.Name] = ref(k)
		}
		if k.Required {
			required = append(required, k.Name)
		}
	}
	props["log_type"] = map[string]any{"const": logType}
	for k := range TransportKeys {
		props[k] = map[string]any{"description": "added by a log shipper, not by g3"}
	}
	tk := typeKey(logType)
	if tk != "" {
		props[tk] = ref(Key{Name: tk, Kind: KindWord, Enum: enumOf(tk), Required: true})
		required = append(required, tk)
	}
	if logType == "Task" {
		props["task_event"] = ref(Key{Name: "task_event", Kind: KindWord, Enum: "Event", Required: true})
		required = append(required, "task_event")
	}
	var rules []any
	for _, s := range all {
		cond := map[string]any{}
		condReq := []string{}
		if tk != "" {
			cond[tk] = map[string]any{"const": s.Type}
			condReq = append(condReq, tk)
		}
		if s.Event != "" {
			cond["task_event"] = map[string]any{"const": s.Event}
			condReq = append(condReq, "task_event")
		}
		then := map[string]any{}
		thenReq := []string{}
		for _, k := range s.Keys[len(loggerKeys):] {
			if k.Name == tk || k.Name == "task_event" {
				continue
			}
			then[k.Name] = ref(k)
			if k.Required {
				thenReq = append(thenReq, k.Name)
			}
		}
		rule := map[string]any{"properties": then, "required": thenReq}
		if len(condReq) == 0 {
			rules = append(rules, rule)
			continue
		}
		title := s.Type
		if s.Event != "" {
			title += " " + s.Event
		}
		rules = append(rules, map[string]any{
			"$comment": title,
			"if":       map[string]any{"properties": cond, "required": condReq},
			"then":     rule,
		})
	}
	if logType == "Resolve" {
		rules = append(rules, subtypeRules()...)
	}
	doc := map[string]any{
		"$schema":               "https://json-schema.org/draft/2020-12/schema",
		"$id":                   JSONSchemaID(logType),
		"title":                 "g3proxy " + logType + " log record",
		"description":           schemaDescription(logType),
		"type":                  "object",
		"properties":            props,
		"required":              required,
		"allOf":                 rules,
		"unevaluatedProperties": false,
		"$defs":                 defs,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func schemaDescription(logType string) string {
	return "One " + logType + " record of g3proxy's log as JSON (tasklog's JSON line, the @cee: body of g3's " +
		"syslog driver, a fluentd record as JSON), per bytedance/g3 at commit 7d237e22. Generated from tasklog's " +
		"encoder; see docs/SCHEMA.md for each key. Optional keys may be absent or null (fluentd's nil)."
}

// subtypeRules: ServerError, DriverError and LocalError carry one of
// their own subtypes; the other error types carry "".
func subtypeRules() []any {
	byType := map[string][]string{}
	for _, s := range enums["ResolveErrorSubtype"] {
		byType[subtypeOf[s]] = append(byType[subtypeOf[s]], s)
	}
	var rules []any
	for _, t := range enums["ResolveErrorType"] {
		want := map[string]any{"const": ""}
		if subs := byType[t]; len(subs) > 0 {
			want = map[string]any{"enum": subs}
		}
		rules = append(rules, map[string]any{
			"$comment": "error_subtype of " + t,
			"if":       map[string]any{"properties": map[string]any{"error_type": map[string]any{"const": t}}, "required": []string{"error_type"}},
			"then":     map[string]any{"properties": map[string]any{"error_subtype": want}},
		})
	}
	return rules
}

func defName(k Key) string {
	if k.Kind == KindWord {
		return k.Enum
	}
	return strings.ReplaceAll(k.Kind.String(), " ", "_")
}

// kindSchema is the schema of a value of k's kind. Patterns say the form;
// the validator (Check) checks more exactly (a duration in g3's own
// rounding, an address in canonical form).
func kindSchema(k Key) map[string]any {
	str := func(desc, pattern string) map[string]any {
		m := map[string]any{"type": "string", "description": desc}
		if pattern != "" {
			m["pattern"] = pattern
		}
		return m
	}
	switch k.Kind {
	case KindWord:
		words := Enum(k.Enum)
		if k.Enum == "ResolveErrorSubtype" {
			words = append([]string{""}, words...)
		}
		return map[string]any{"enum": words}
	case KindDuration:
		return str("Rust's {:.3?} of a Duration: 3 fraction digits, unit ns, µs, ms or s", `^(0|[1-9][0-9]*)\.[0-9]{3}(ns|µs|ms|s)$`)
	case KindTimestamp:
		return str("RFC 3339 in UTC with exactly 6 fraction digits", `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`)
	case KindID:
		return str("a uuid in g3's simple form: 32 lowercase hex digits, no dashes", `^[0-9a-f]{32}$`)
	case KindSockAddr:
		return str("ip:port, IPv6 in brackets", `^([0-9.]+|\[[0-9a-fA-F:.]+(%[^\]]+)?\]):[0-9]{1,5}$`)
	case KindIP:
		return str("an IP address", `^([0-9.]+|[0-9a-fA-F:.]+(%.+)?)$`)
	case KindUpstream:
		return map[string]any{"type": "string", "minLength": 1, "description": "host:port, host, ip:port or ip as g3 prints an UpstreamAddr (or the client's text)"}
	case KindHost:
		return map[string]any{"type": "string", "minLength": 1, "description": "a domain name or an IP"}
	case KindURI:
		return map[string]any{"type": "string", "minLength": 1, "description": "the request URI as g3 logs it"}
	case KindBindAddr:
		return map[string]any{"type": "string", "minLength": 1, "description": "the bind IP or interface"}
	case KindIPList:
		return str("IP addresses, one space apart", `^([0-9a-fA-F:.]+( [0-9a-fA-F:.]+)*)?$`)
	case KindUint:
		return map[string]any{"type": "integer", "minimum": 0, "maximum": uint64(1<<64 - 1)}
	case KindU16:
		return map[string]any{"type": "integer", "minimum": 0, "maximum": 65535}
	case KindBool:
		return map[string]any{"type": "boolean"}
	}
	return map[string]any{"type": "string"}
}
