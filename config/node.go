package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// source remembers where each key path appeared in the file, for error
// messages and document-order sorting. A Config built in code has none.
type source struct {
	lines map[string]int // key path → line of the key (or of the list item)
	// line → path on that line, for decoder errors that name only a line:
	// the first key, the deepest scalar, the outermost list and mapping.
	keys, scalars, seqs, maps map[int]string
}

func newSource() *source {
	return &source{lines: map[string]int{}, keys: map[int]string{}, scalars: map[int]string{}, seqs: map[int]string{}, maps: map[int]string{}}
}

// valuePath guesses the key path of a decoder error message at line.
func (s *source) valuePath(line int, msg string) string {
	switch {
	case strings.Contains(msg, "!!seq"):
		return s.seqs[line]
	case strings.Contains(msg, "!!map"):
		return s.maps[line]
	case strings.Contains(msg, "cannot unmarshal"):
		return s.scalars[line]
	}
	if p, ok := s.keys[line]; ok {
		return p
	}
	return s.scalars[line]
}

// line returns the line of path, or of its nearest ancestor in the file, or 0.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for {
		if l, ok := s.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return 0
		}
		path = path[:i]
	}
}

func (s *source) record(path string, line int) {
	if _, ok := s.lines[path]; !ok {
		s.lines[path] = line
	}
	setFirst(s.keys, line, path)
}

func setFirst(m map[int]string, line int, path string) {
	if _, ok := m[line]; !ok {
		m[line] = path
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// prepare walks the tree once (aliases are not followed: their target is
// walked where it is defined): it records the line of every key path,
// expands ${VAR} in scalar values and drops keys whose value is null, so
// that "key:" with nothing after it means "use the default".
func (p *parser) prepare(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		setFirst(p.src.maps, n.Line, path)
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := path
			if !isMergeKey(k) {
				child = joinKey(path, k.Value)
				p.src.record(child, k.Line)
			}
			if v.Kind == yaml.ScalarNode {
				p.expandNode(v, child)
				if isNull(v) {
					continue
				}
			}
			p.prepare(v, child)
			kept = append(kept, k, v)
		}
		n.Content = kept
	case yaml.SequenceNode:
		setFirst(p.src.seqs, n.Line, path)
		for i, item := range n.Content {
			child := joinIndex(path, i)
			p.src.record(child, item.Line)
			if item.Kind == yaml.ScalarNode {
				p.expandNode(item, child)
			}
			p.prepare(item, child)
		}
	case yaml.ScalarNode:
		p.src.scalars[n.Line] = path
	}
}

// expandNode expands ${VAR} in a scalar value. A plain (unquoted, untagged)
// scalar whose value changed is re-resolved, so "port: ${PORT}" is an int.
func (p *parser) expandNode(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	out, err := expand(n.Value, p.env)
	if err != nil {
		fe := FieldError{Path: path, Line: n.Line, Msg: err.Error()}
		var u unsetError
		if errors.As(err, &u) {
			fe.Unset = string(u)
		}
		p.errs = append(p.errs, fe)
		return
	}
	if out == n.Value {
		return
	}
	n.Value = out
	if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		n.Tag = ""
	}
}

// expand replaces ${VAR} and ${VAR:-default} with the environment's value and
// $$ with $. Any other $ is kept as it is (so regexes like "done$" work).
// Errors never quote the value, which may be a secret.
func expand(s string, env func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
			continue
		case '{':
		default:
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ (write $$ for a literal $)")
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validVarName(name) {
			return "", fmt.Errorf("invalid environment variable name %q in ${…} (write $$ for a literal $)", name)
		}
		v, ok := env(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", unsetError(name)
		}
	}
}

// unsetError is a ${VAR} whose variable is not set (and has no default).
type unsetError string

func (u unsetError) Error() string {
	return fmt.Sprintf("environment variable %s is not set (use ${%s:-default} for a default)", string(u), string(u))
}

func validVarName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checkKeys reports every key that has no field in the struct it is decoded
// into. Aliases are followed once per (node, type), so alias bombs stay cheap.
func (p *parser) checkKeys(n *yaml.Node, t reflect.Type, path string, seen map[visit]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || seen[visit{n.Alias, t}] {
			return
		}
		seen[visit{n.Alias, t}] = true
		p.checkKeys(n.Alias, t, path, seen)
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isMergeKey(k) {
				p.checkMerge(v, t, path, seen)
				continue
			}
			_, ft := structField(t, k.Value)
			if ft == nil && hasInlineMap(t) {
				continue // its owner's (Provider.Decode)
			}
			if ft == nil || k.Value == "-" {
				p.errs = append(p.errs, FieldError{Path: path, Line: k.Line, Msg: unknownKey(k.Value, t)})
				continue
			}
			p.checkKeys(v, ft, joinKey(path, k.Value), seen)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			p.checkKeys(item, t.Elem(), joinIndex(path, i), seen)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.checkKeys(n.Content[i+1], t.Elem(), joinKey(path, n.Content[i].Value), seen)
		}
	}
}

// checkMerge checks the keys merged in by "<<: *anchor" (or a list of them).
func (p *parser) checkMerge(v *yaml.Node, t reflect.Type, path string, seen map[visit]bool) {
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			p.checkKeys(item, t, path, seen)
		}
		return
	}
	p.checkKeys(v, t, path, seen)
}

// unknownKey names the key and, for a likely typo, the key meant.
func unknownKey(key string, t reflect.Type) string {
	msg := fmt.Sprintf("unknown key %q", truncate(key, 64))
	best, bestDist := "", 3
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || inline(f) {
			continue
		}
		name := yamlName(f)
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// editDistance is the Levenshtein distance, capped for long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 10
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
