package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are the keys of a provider entry beyond the common ones (name,
// type, sender, base_url, test_mode, timeout): each gateway package
// declares its own in a struct and reads them with Provider.Decode, so
// adding a gateway touches no file here. Values are the YAML nodes as
// written, with ${VAR} already expanded.
type Options map[string]yaml.Node

// String shows the options with every secret masked (see IsSecretKey;
// the values of a nested mapping, webhook headers, are all masked), so
// that printing or logging a config never shows one.
func (o Options) String() string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		n := o[k]
		switch {
		case n.Kind == yaml.ScalarNode && !IsSecretKey(k):
			fmt.Fprintf(&b, "%s:%s", k, n.Value)
		case n.Kind == yaml.ScalarNode:
			fmt.Fprintf(&b, "%s:%s", k, redacted)
		default:
			fmt.Fprintf(&b, "%s:{%s}", k, redacted)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// GoString is String: %#v masks secrets too.
func (o Options) GoString() string { return "config.Options" + strings.TrimPrefix(o.String(), "map") }

// MarshalJSON shows the options as String does, as one JSON string.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// Opts builds Options from key/value pairs, for code that builds a
// provider entry (tests): Opts("user_id", "u", "key", "k", "headers",
// map[string]string{"Authorization": "Bearer x"}). A value is anything YAML
// encodes; a Secret goes in as its text.
func Opts(kv ...any) Options {
	o := Options{}
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if s, ok := v.(Secret); ok {
			v = s.Reveal()
		}
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			panic(fmt.Sprintf("config.Opts: %v: %v", kv[i], err))
		}
		o[fmt.Sprint(kv[i])] = n
	}
	return o
}

// Option returns the scalar value of key, "" when it is not set or not a
// scalar (a secret comes back in the clear: for endpoints and names only).
func (p Provider) Option(key string) string {
	n, ok := p.Options[key]
	if !ok || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// fileSuffix marks a key whose value is read from a file: api_secret_file
// holds the path of the file holding api_secret.
const fileSuffix = "_file"

// Decode reads the provider's options into dst, a pointer to a struct whose
// fields carry yaml tags: a key dst does not have is an error naming it and
// the keys the type knows; KEY_file reads KEY from a file (its content,
// trailing newlines cut), for every field of type Secret; a value of the
// wrong kind is an error naming the key. path is the entry's key path
// (sms.providers[1]); errors are FieldErrors under it.
func (p Provider) Decode(path string, dst any) []error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic("config: Provider.Decode needs a pointer to a struct")
	}
	sv := rv.Elem()
	st := sv.Type()
	fields := map[string]int{}
	var names []string
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		fields[yamlName(f)] = i
		names = append(names, yamlName(f))
	}
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, FieldError{Path: joinKey(path, key), Line: p.lines[key], Msg: fmt.Sprintf(format, a...)})
	}
	keys := make([]string, 0, len(p.Options))
	for k := range p.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := p.Options[k]
		i, ok := fields[k]
		if !ok {
			base, isFile := strings.CutSuffix(k, fileSuffix)
			j, known := fields[base]
			if isFile && known && st.Field(j).Type == reflect.TypeFor[Secret]() {
				if _, both := p.Options[base]; both {
					bad(k, "%s and %s are both set; use one", base, k)
					continue
				}
				v, err := p.readSecretFile(n)
				if err != nil {
					bad(k, "%v", err)
					continue
				}
				sv.Field(j).SetString(v)
				continue
			}
			bad(k, "%s", unknownOption(k, p.Type, names))
			continue
		}
		if err := n.Decode(sv.Field(i).Addr().Interface()); err != nil {
			bad(k, "%s", strings.TrimPrefix(typeErrorText(err), "yaml: "))
		}
	}
	return errs
}

func typeErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}

func (p Provider) readSecretFile(n yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return "", fmt.Errorf("must be the path of a file")
	}
	read := p.readFile
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(n.Value)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", n.Value, err)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Errorf("file %q is empty", n.Value)
	}
	return v, nil
}

// commonKeys are the keys of every provider entry (Provider's fields).
var commonKeys = []string{"name", "type", "sender", "base_url", "test_mode", "timeout"}

func unknownOption(key, typ string, known []string) string {
	msg := fmt.Sprintf("unknown key %q for type %s", truncate(key, 64), typ)
	best, bestDist := "", 3
	for _, k := range slices.Concat(known, commonKeys) {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(known) == 0 {
		return msg + " (it takes only " + strings.Join(commonKeys, ", ") + ")"
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}

// IsSecretKey reports whether a provider option named key holds a secret,
// by its name: key, any *_key but the identifiers app_key and access_key
// (sent in the clear with every call), and any name with secret, token,
// password or auth in it. A KEY_file names a file, not a secret. The
// effective config shows such options as <secret>; every gateway's Secret
// fields are named so (a test in provider/providers keeps it true).
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	switch {
	case strings.HasSuffix(k, fileSuffix), k == "app_key", k == "access_key":
		return false
	}
	return k == "key" || strings.HasSuffix(k, "_key") || strings.Contains(k, "secret") ||
		strings.Contains(k, "token") || strings.Contains(k, "password") || strings.Contains(k, "auth")
}

// redactOptions masks the secret options of every provider, and the values
// of option maps (webhook headers) whose keys name a secret.
func redactOptions(ps []Provider) []Provider {
	out := make([]Provider, len(ps))
	for i, p := range ps {
		out[i] = p
		if len(p.Options) == 0 {
			continue
		}
		o := make(Options, len(p.Options))
		for k, n := range p.Options {
			switch {
			case IsSecretKey(k) && n.Kind == yaml.ScalarNode:
				n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: redacted}
			case n.Kind == yaml.MappingNode:
				n = maskMapping(n)
			}
			o[k] = n
		}
		out[i].Options = o
	}
	return out
}

// maskMapping masks every value of a mapping node (webhook headers: an
// Authorization header is as secret as a key).
func maskMapping(n yaml.Node) yaml.Node {
	m := n
	m.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		if i%2 == 1 {
			c = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: redacted}
		}
		m.Content[i] = c
	}
	return m
}
