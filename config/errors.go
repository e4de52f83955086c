package config

import (
	"errors"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem with the config, named by its key path, e.g.
// {Path: "sms.providers[0].key", Msg: "required"}. Line is the line in the
// file when known (parse errors); Validate leaves it 0 (see Config.Line).
type FieldError struct {
	Path string
	Msg  string
	Line int
	// Unset names the environment variable of a ${VAR} left unset, when
	// that is the problem (see ProviderOption).
	Unset string
}

// ProviderOption reports whether the error is about one of a gateway's own
// options (sms.providers[0].key, not its name, type or timeout): the
// commands that never call a gateway may ignore those.
func (e FieldError) ProviderOption() bool {
	rest, ok := strings.CutPrefix(e.Path, "sms.providers[")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, "].")
	if !ok {
		return false
	}
	key, _, _ := strings.Cut(rest, ".")
	key, _, _ = strings.Cut(key, "[")
	_, ft := structField(reflect.TypeFor[Provider](), key)
	return ft == nil
}

// Problems gathers the problems of errs (from LoadPartial and Validate) in
// one list: flattened, each key's first problem kept, in file order.
func (c *Config) Problems(errs ...error) Errors {
	var es Errors
	for _, err := range errs {
		if err != nil {
			es = append(es, toFieldErrors(err)...)
		}
	}
	es = dedupe(es)
	sortErrors(es, c.src)
	return es
}

// Error gives "path: msg", prefixed with "line N: " when the line is known.
func (e FieldError) Error() string {
	s := e.Msg
	if e.Path != "" {
		s = e.Path + ": " + e.Msg
	}
	if e.Line > 0 {
		s = "line " + strconv.Itoa(e.Line) + ": " + s
	}
	return s
}

// Errors is every problem found, in document order.
type Errors []FieldError

// Error joins the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns es as an error, or nil when empty (never a typed nil).
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// pathPrefix matches "sms.providers[0].key: msg", the form validators of
// other packages write with fmt.Errorf.
var pathPrefix = regexp.MustCompile(`^(?s)([a-z_]+(?:\[\d+\])*(?:\.[A-Za-z0-9_-]+(?:\[\d+\])*)*): (.+)$`)

// toFieldErrors flattens an error from a validator into FieldErrors: a
// FieldError or Errors is kept as is; "path: msg" whose path starts with a
// top-level key is split; anything else becomes a path-less entry.
func toFieldErrors(err error) []FieldError {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return []FieldError{fe}
	}
	var pfe *FieldError
	if errors.As(err, &pfe) && pfe != nil {
		return []FieldError{*pfe}
	}
	msg := err.Error()
	if m := pathPrefix.FindStringSubmatch(msg); m != nil {
		if _, ft := structField(reflect.TypeFor[Config](), splitPath(m[1])[0]); ft != nil {
			return []FieldError{{Path: m[1], Msg: m[2]}}
		}
	}
	return []FieldError{{Msg: msg}}
}

// dedupe keeps the first error for each path (the generic checks run
// first, so a validator repeating one, e.g. "checks[1].type: required", is
// dropped) and every path-less error once.
func dedupe(es Errors) Errors {
	seen := map[string]bool{}
	out := es[:0]
	for _, e := range es {
		key := e.Path
		if key == "" {
			key = "\x00" + e.Msg
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}

// sortErrors orders es as the keys appear in the file: by the line of the
// path (or of its nearest ancestor present in the file), then by the order
// of the fields in Config, so a config with no file still sorts sensibly.
func sortErrors(es Errors, src *source) {
	type keyed struct {
		e     FieldError
		line  int
		order []int
	}
	ks := make([]keyed, len(es))
	for i, e := range es {
		line := e.Line
		if line == 0 {
			line = src.line(e.Path)
		}
		ks[i] = keyed{e, line, fieldOrder(e.Path)}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].line != ks[j].line {
			return ks[i].line < ks[j].line
		}
		return lessInts(ks[i].order, ks[j].order)
	})
	for i := range ks {
		es[i] = ks[i].e
	}
}

func lessInts(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// splitPath splits "sms.providers[0].key" into "sms", "providers", "[0]", "key".
func splitPath(p string) []string {
	var segs []string
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(segs, p)
			}
			segs = append(segs, p[:end+1])
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			segs = append(segs, p[:end])
			p = p[end:]
		}
	}
	return segs
}

// fieldOrder maps a key path to the positions of its fields in the Config
// struct and its indexes, e.g. "sms.providers[2].key" → [6 1 2 8].
func fieldOrder(p string) []int {
	t := reflect.TypeFor[Config]()
	var order []int
	for _, seg := range splitPath(p) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case strings.HasPrefix(seg, "["):
			n, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if err != nil {
				n = 0
			}
			order = append(order, n)
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				t = t.Elem()
			} else {
				t = nil
			}
		case t != nil && t.Kind() == reflect.Struct:
			idx, ft := structField(t, seg)
			order = append(order, idx)
			t = ft
		case t != nil && t.Kind() == reflect.Map:
			order = append(order, 0)
			t = t.Elem()
		default:
			order = append(order, 1<<20)
			t = nil
		}
	}
	return order
}

// structField finds the field of struct t with yaml name; its index is
// 1<<20 and its type nil when there is none.
func structField(t reflect.Type, name string) (int, reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && !inline(f) && yamlName(f) == name {
			return i, f.Type
		}
	}
	return 1 << 20, nil
}

// inline reports whether f is a ",inline" field (Provider.Options).
func inline(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return opts == "inline"
}

// hasInlineMap reports whether struct t keeps the keys it does not name in
// an inline map, for its owner to check (Provider.Options).
func hasInlineMap(t reflect.Type) bool {
	for i := range t.NumField() {
		if f := t.Field(i); inline(f) && f.Type.Kind() == reflect.Map {
			return true
		}
	}
	return false
}

// yamlName is a field's key in YAML: its yaml tag, or its lowercased name.
func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}
