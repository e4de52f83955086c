package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/munja-sms/munja/agent"
)

// A small reading of OpenAPI 3.1: enough to compare it with the router and
// to check bodies against the schemas.
type apiSpec struct {
	OpenAPI    string                           `json:"openapi"`
	Paths      map[string]map[string]*operation `json:"paths"`
	Components struct {
		Schemas   map[string]*schema   `json:"schemas"`
		Responses map[string]*response `json:"responses"`
	} `json:"components"`
}

type operation struct {
	OperationID string         `json:"operationId"`
	Scope       string         `json:"x-munja-scope"`
	Parameters  []parameter    `json:"parameters"`
	RequestBody *requestBody   `json:"requestBody"`
	Responses   map[string]any `json:"responses"`
	Security    []any          `json:"security"`
}

type parameter struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type requestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]mediaType `json:"content"`
}

type response struct {
	Ref     string               `json:"$ref"`
	Content map[string]mediaType `json:"content"`
}

type mediaType struct {
	Schema  *schema `json:"schema"`
	Example any     `json:"example"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	OneOf      []*schema          `json:"oneOf"`
	AnyOf      []*schema          `json:"anyOf"`
	Enum       []any              `json:"enum"`
}

var (
	specOnce sync.Once
	spec     apiSpec
	specErr  error
)

func loadSpec(t testing.TB) *apiSpec {
	t.Helper()
	specOnce.Do(func() { specErr = json.Unmarshal(OpenAPI, &spec) })
	if specErr != nil {
		t.Fatalf("openapi.json: %v", specErr)
	}
	return &spec
}

func specOperation(t testing.TB, method, path string) *operation {
	return loadSpec(t).Paths[path][strings.ToLower(method)]
}

func (sp *apiSpec) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = sp.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// responseSchema is the JSON schema documented for status, and whether the
// status is documented at all.
func (sp *apiSpec) responseSchema(op *operation, status int) (*schema, bool) {
	raw, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(raw)
	var r response
	_ = json.Unmarshal(b, &r)
	if r.Ref != "" {
		r = *sp.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	}
	if mt, ok := r.Content["application/json"]; ok {
		return mt.Schema, true
	}
	return nil, true
}

// validate checks v against s. Response objects are closed: a field the
// schema does not document is an error, so the description cannot fall
// behind the code.
func (sp *apiSpec) validate(v any, s *schema, at string) []string {
	s = sp.resolve(s)
	if s == nil {
		return nil
	}
	if len(s.OneOf) > 0 {
		for _, alt := range s.OneOf {
			if len(sp.validate(v, alt, at)) == 0 {
				return nil
			}
		}
		return []string{at + ": matches no oneOf alternative"}
	}
	var errs []string
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want object", at, v)}
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				errs = append(errs, at+"."+r+": required but missing")
			}
		}
		for k, x := range m {
			ps, ok := s.Properties[k]
			if !ok {
				if len(s.Properties) > 0 {
					errs = append(errs, at+"."+k+": not documented")
				}
				continue
			}
			errs = append(errs, sp.validate(x, ps, at+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want array", at, v)}
		}
		for i, x := range a {
			errs = append(errs, sp.validate(x, s.Items, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: %T, want string", at, v)}
		}
	case "integer":
		if n, ok := v.(float64); !ok || n != float64(int64(n)) {
			return []string{fmt.Sprintf("%s: %v, want integer", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want boolean", at, v)}
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want number", at, v)}
		}
	case "null":
		if v != nil {
			return []string{fmt.Sprintf("%s: %T, want null", at, v)}
		}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, s.Enum))
	}
	return errs
}

// TestOpenAPIMatchesRoutes: every route is described with its method,
// path, path parameters and scope, and nothing else is.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	sp := loadSpec(t)
	if sp.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", sp.OpenAPI)
	}
	f := newFixture(t)
	routes := map[string]string{}
	for _, r := range f.srv.Routes() {
		routes[r.Pattern] = r.Scope
	}
	documented := map[string]bool{}
	for path, ops := range sp.Paths {
		for method, op := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented[pattern] = true
			scope, ok := routes[pattern]
			if !ok {
				t.Errorf("openapi.json documents %s, which is not a route", pattern)
				continue
			}
			if scope == "" {
				scope = "public"
			}
			if op.Scope != scope {
				t.Errorf("%s: x-munja-scope %q, route scope %q", pattern, op.Scope, scope)
			}
			if secured := len(op.Security) > 0; secured != (scope != "public" && scope != "link") {
				t.Errorf("%s: security %v does not fit scope %s", pattern, op.Security, scope)
			}
			var inPath []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					inPath = append(inPath, "{"+p.Name+"}")
					if !p.Required {
						t.Errorf("%s: path parameter %s not required", pattern, p.Name)
					}
				}
			}
			var want []string
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") {
					want = append(want, seg[:strings.Index(seg, "}")+1]) // {name}.ics
				}
			}
			if !slices.Equal(inPath, want) {
				t.Errorf("%s: path parameters %v, want %v", pattern, inPath, want)
			}
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", pattern)
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(routes)) {
		if !documented[p] {
			t.Errorf("route %s is missing from openapi.json", p)
		}
	}
}

// TestOpenAPIRequestSchemasMatchStructs: a documented request property is
// exactly a JSON field the handler decodes (unknown fields are refused).
func TestOpenAPIRequestSchemasMatchStructs(t *testing.T) {
	sp := loadSpec(t)
	for name, typ := range map[string]reflect.Type{
		"MessageRequest":  reflect.TypeFor[messageRequest](),
		"ContactRequest":  reflect.TypeFor[contactRequest](),
		"TemplateRequest": reflect.TypeFor[templateRequest](),
		"GroupRequest":    reflect.TypeFor[groupRequest](),
		"SilenceRequest":  reflect.TypeFor[silenceRequest](),
		"OverrideRequest": reflect.TypeFor[overrideRequest](),
		"AgentReport":     reflect.TypeFor[agent.Report](),
		"AgentResult":     reflect.TypeFor[agent.Result](),
	} {
		var fields []string
		for f := range typ.Fields() {
			fields = append(fields, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		slices.Sort(fields)
		props := slices.Sorted(maps.Keys(sp.Components.Schemas[name].Properties))
		if !slices.Equal(fields, props) {
			t.Errorf("%s: schema properties %v, struct fields %v", name, props, fields)
		}
	}
}

// TestOpenAPIRequiredFields: for every documented request body, the example
// succeeds; without a required field the handler answers 400 naming that
// field; without an optional field it still succeeds. Responses match their
// documented schemas.
func TestOpenAPIRequiredFields(t *testing.T) {
	sp := loadSpec(t)
	f := newFixture(t)
	obj := f.objects()
	n := 0
	for _, r := range f.srv.Routes() {
		method, path := obj.instantiate(r.Pattern)
		tmpl := strings.SplitN(r.Pattern, " ", 2)[1]
		op := specOperation(t, method, tmpl)
		if op == nil || op.RequestBody == nil {
			continue
		}
		for ctype, mt := range op.RequestBody.Content {
			if mt.Example == nil {
				continue
			}
			s := sp.resolve(mt.Schema)
			example := mt.Example.(map[string]any)
			send := func(without ...string) (int, map[string]any) {
				n++
				body := map[string]any{}
				for k, v := range example {
					if !slices.Contains(without, k) {
						body[k] = unique(k, v, n)
					}
				}
				w := f.do(req{method: method, path: path, token: "admin", ctype: ctype, body: encodeBody(t, ctype, body)})
				var out map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
					t.Fatalf("%s without %v: %d, not JSON: %s", r.Pattern, without, w.Code, w.Body)
				}
				rs, ok := sp.responseSchema(op, w.Code)
				if !ok {
					t.Errorf("%s without %v: status %d is not documented: %s", r.Pattern, without, w.Code, w.Body)
				}
				for _, e := range sp.validate(out, rs, "body") {
					t.Errorf("%s without %v: response %d: %s", r.Pattern, without, w.Code, e)
				}
				return w.Code, out
			}
			if code, out := send(); code/100 != 2 {
				t.Fatalf("%s %s: example fails: %d %v", r.Pattern, ctype, code, out)
			}
			for _, req := range s.Required {
				if _, ok := example[req]; !ok {
					t.Errorf("%s: example lacks required field %s", r.Pattern, req)
				}
				if code, out := send(req); code != 400 || out["field"] != req {
					t.Errorf("%s without required %s: %d %v, want 400 naming it", r.Pattern, req, code, out)
				}
			}
			var oneOf []string
			for _, alt := range s.AnyOf {
				oneOf = append(oneOf, alt.Required...)
			}
			if len(oneOf) > 0 {
				if code, out := send(oneOf...); code != 400 || !slices.Contains(oneOf, fmt.Sprint(out["field"])) {
					t.Errorf("%s without any of %v: %d %v, want 400 naming one", r.Pattern, oneOf, code, out)
				}
			}
			for k := range example {
				if slices.Contains(s.Required, k) || slices.Contains(oneOf, k) {
					continue
				}
				if code, out := send(k); code/100 != 2 {
					t.Errorf("%s without optional %s: %d %v", r.Pattern, k, code, out)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d requests: examples missing?", n)
	}
}

// unique makes names and phones differ between requests so creates do not
// conflict.
func unique(key string, v any, n int) any {
	switch key {
	case "phone":
		return fmt.Sprintf("010-5%03d-%04d", n/10000, n%10000)
	case "name":
		return fmt.Sprintf("%v %d", v, n)
	}
	return v
}

func encodeBody(t testing.TB, ctype string, body map[string]any) string {
	if ctype == "application/json" {
		b, err := json.Marshal(body)
		noErr(t, err)
		return string(b)
	}
	v := url.Values{}
	for k, x := range body {
		v.Set(k, fmt.Sprint(x))
	}
	return v.Encode()
}

// TestOpenAPIResponses calls every route as admin and checks the status is
// documented and the JSON body matches its schema.
func TestOpenAPIResponses(t *testing.T) {
	sp := loadSpec(t)
	f := newFixture(t)
	obj := f.objects()
	for _, r := range f.srv.Routes() {
		method, path := obj.instantiate(r.Pattern)
		tmpl := strings.SplitN(r.Pattern, " ", 2)[1]
		body, ctype := validBody(t, method, tmpl)
		w := f.do(req{method: method, path: path, body: body, ctype: ctype, token: "admin"})
		op := specOperation(t, method, tmpl)
		rs, ok := sp.responseSchema(op, w.Code)
		if !ok {
			t.Errorf("%s: status %d not documented: %s", r.Pattern, w.Code, w.Body)
			continue
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || rs == nil {
			continue
		}
		var out any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Errorf("%s: %v", r.Pattern, err)
			continue
		}
		for _, e := range sp.validate(out, rs, "body") {
			t.Errorf("%s → %d: %s", r.Pattern, w.Code, e)
		}
	}
	// Lists with content, after the walk created and deleted things.
	for _, p := range []string{"/api/v1/messages?limit=2", "/api/v1/contacts", "/api/v1/templates", "/api/v1/incidents?open=false", "/api/v1/checks"} {
		w := f.do(req{path: p, token: "read"})
		rs, _ := sp.responseSchema(specOperation(t, "GET", strings.Split(p, "?")[0]), w.Code)
		var out any
		noErr(t, json.Unmarshal(w.Body.Bytes(), &out))
		for _, e := range sp.validate(out, rs, "body") {
			t.Errorf("GET %s: %s", p, e)
		}
	}
}

// TestOpenAPIServed: the description is served to read tokens.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	w := f.do(req{path: "/api/v1/openapi.json", token: "read"})
	if w.Code != 200 || w.Body.String() != string(OpenAPI) {
		t.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("content type %q", w.Header().Get("Content-Type"))
	}
}
