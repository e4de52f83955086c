package alimtalk

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// Options are the keys of an aligo_alimtalk entry beyond the common ones
// (name, type, sender, base_url, test_mode, timeout). sender is required:
// it is the caller ID of the failover SMS/LMS.
type Options struct {
	UserID    string        `yaml:"user_id"`    // the Aligo login ID
	Key       config.Secret `yaml:"key"`        // API key (or key_file)
	SenderKey config.Secret `yaml:"sender_key"` // the Kakao channel's sender profile key (or sender_key_file)
	// Templates is a list of Template entries, read by templates (which
	// names each problem by its key path).
	Templates yaml.Node `yaml:"templates"`
}

// Template is one approved Alimtalk template and the messages it carries.
//
//   - for: alert               # alert | resolved | template:NAME
//     tpl_code: TA_0001
//     content: "[서버 알림]\n#{내용}"
//     variables: {내용: text}  # text | title | "=fixed value"
type Template struct {
	For       string            `yaml:"for"`
	Code      string            `yaml:"tpl_code"`
	Content   string            `yaml:"content"`
	Variables map[string]string `yaml:"variables"`
}

// The messages a template can be for (Template.For).
const (
	ForAlert    = "alert"     // the alert engine's pages: firing, reminders, escalation, gateway down, low balance; Alertmanager and Grafana webhooks
	ForResolved = "resolved"  // the alert engine's recoveries ([복구], a gateway working again)
	forTemplate = "template:" // + the name of a munja message template (console, API)
)

// Kakao's limit on an Alimtalk message, in characters.
const MaxChars = 1000

// placeholder is a #{variable} in approved content. Kakao allows letters
// (Hangul too), digits, spaces and a few signs in a variable's name.
var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`#\{([^{}#\r\n]{1,40})\}`) })

// templateKeys are a template entry's keys, in the order errors name them.
var templateKeys = []string{"for", "tpl_code", "content", "variables"}

// parseTemplates reads and checks the templates node; path is the key
// path of the provider entry (sms.providers[1]). It returns the valid
// entries and every problem, each naming its key path.
func parseTemplates(n yaml.Node, path string) ([]Template, []error) {
	path += ".templates"
	var errs []error
	bad := func(node *yaml.Node, p, msg string) {
		line := 0
		if node != nil {
			line = node.Line
		}
		errs = append(errs, config.FieldError{Path: p, Line: line, Msg: msg})
	}
	if n.Kind == 0 {
		bad(nil, path, "required (at least one approved template: - for: alert, tpl_code: …, content: …, variables: {…})")
		return nil, errs
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		bad(&n, path, "must be a list of approved templates (- for: alert, tpl_code: …, content: …, variables: {…})")
		return nil, errs
	}
	var out []Template
	seen := map[string]int{}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			bad(item, p, "must be a mapping with for, tpl_code, content and variables")
			continue
		}
		t, ok := parseTemplate(item, p, bad)
		if validFor(t.For) {
			if j, dup := seen[t.For]; dup {
				bad(item, p+".for", fmt.Sprintf("%q is already set by %s[%d]; one template per message kind", t.For, path, j))
				continue
			}
			seen[t.For] = i
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, errs
}

// validFor reports whether f is one of the forms of Template.For.
func validFor(f string) bool {
	name, isTmpl := strings.CutPrefix(f, forTemplate)
	return f == ForAlert || f == ForResolved || (isTmpl && strings.TrimSpace(name) != "")
}

// parseTemplate reads one entry (a mapping node at key path p).
func parseTemplate(item *yaml.Node, p string, bad func(*yaml.Node, string, string)) (Template, bool) {
	var t Template
	ok := true
	fail := func(node *yaml.Node, key, msg string) {
		bad(node, p+"."+key, msg)
		ok = false
	}
	nodes := map[string]*yaml.Node{}
	for j := 0; j+1 < len(item.Content); j += 2 {
		k, v := item.Content[j], item.Content[j+1]
		if !slices.Contains(templateKeys, k.Value) {
			fail(k, k.Value, fmt.Sprintf("unknown key %q in a template (known: %s)", k.Value, strings.Join(templateKeys, ", ")))
			continue
		}
		nodes[k.Value] = v
	}
	scalar := func(key string) (string, *yaml.Node) {
		v := nodes[key]
		if v == nil {
			return "", nil
		}
		if v.Kind != yaml.ScalarNode {
			fail(v, key, "must be a string")
			return "", v
		}
		return v.Value, v
	}
	var forNode, codeNode, contentNode *yaml.Node
	t.For, forNode = scalar("for")
	t.Code, codeNode = scalar("tpl_code")
	t.Content, contentNode = scalar("content")
	t.For = strings.TrimSpace(t.For)
	t.Code = strings.TrimSpace(t.Code)

	switch name, isTmpl := strings.CutPrefix(t.For, forTemplate); {
	case t.For == "":
		fail(forNode, "for", "required: alert, resolved or template:NAME (a munja message template)")
	case isTmpl && strings.TrimSpace(name) == "":
		fail(forNode, "for", "template: needs the name of a munja message template, e.g. template:정기점검")
	case isTmpl:
		t.For = forTemplate + strings.TrimSpace(name)
	case t.For != ForAlert && t.For != ForResolved:
		fail(forNode, "for", fmt.Sprintf("unknown %q: use alert, resolved or template:NAME (a munja message template)", t.For))
	}
	switch {
	case t.Code == "":
		fail(codeNode, "tpl_code", "required (the approved template's code in the Aligo console, e.g. TA_0001)")
	case len(t.Code) > 64 || strings.ContainsAny(t.Code, " \t\r\n"):
		fail(codeNode, "tpl_code", fmt.Sprintf("%q is not a template code", t.Code))
	}

	if strings.TrimSpace(t.Content) == "" {
		if contentNode == nil || contentNode.Kind == yaml.ScalarNode {
			fail(contentNode, "content", "required (the approved text exactly as in the Aligo console, with its #{variables})")
		}
	} else {
		t.Content = sms.NormalizeNewlines(t.Content)
		if n := utf8.RuneCountInString(t.Content); n > MaxChars {
			fail(contentNode, "content", fmt.Sprintf("is %d characters; Kakao allows %d", n, MaxChars))
		}
		// The failover SMS/LMS carries the same text, so it must be
		// text an SMS can carry (CP949, no control characters).
		if _, err := sms.CheckText("content", t.Content); err != nil {
			fail(contentNode, "content", strings.TrimPrefix(err.Error(), "content: ")+" (the failover SMS carries the same text)")
		}
	}

	vars := nodes["variables"]
	t.Variables = map[string]string{}
	declared := map[string]*yaml.Node{} // every variable named, valid or not
	switch {
	case vars == nil:
	case vars.Kind != yaml.MappingNode:
		fail(vars, "variables", "must be a mapping of each #{variable} to text, title or \"=a fixed value\"")
	default:
		for j := 0; j+1 < len(vars.Content); j += 2 {
			k, v := vars.Content[j], vars.Content[j+1]
			key := "variables." + k.Value
			declared[k.Value] = k
			if v.Kind != yaml.ScalarNode {
				fail(v, key, "must be text, title or \"=a fixed value\"")
				continue
			}
			switch val := v.Value; {
			case val == "text", val == "title", strings.HasPrefix(val, "="):
				t.Variables[k.Value] = val
			default:
				fail(v, key, fmt.Sprintf("unknown %q: use text (the message), title (its title) or \"=a fixed value\"", val))
			}
		}
	}
	if t.Content != "" {
		used := map[string]bool{}
		for _, m := range placeholder().FindAllStringSubmatch(t.Content, -1) {
			if used[m[1]] {
				continue
			}
			used[m[1]] = true
			if declared[m[1]] == nil {
				fail(contentNode, "variables."+m[1], fmt.Sprintf("missing: content has #{%s}; say what fills it (text, title or \"=a fixed value\")", m[1]))
			}
		}
		names := make([]string, 0, len(declared))
		for name := range declared {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if !used[name] {
				fail(declared[name], "variables."+name, fmt.Sprintf("content has no #{%s}", name))
			}
		}
		if len(used) == 0 {
			// A template without variables can carry only its own text:
			// every message would be replaced by it.
			fail(contentNode, "content", "has no #{variable}: munja's text must go into one (e.g. #{내용} with variables: {내용: text})")
		}
	}
	return t, ok
}

// options decodes and checks cfg's keys; path is e.g. "sms.providers[0]".
func options(cfg config.Provider, path string) (Options, []Template, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	if strings.TrimSpace(o.UserID) == "" {
		bad("user_id", "required (your Aligo login ID)")
	}
	if provider.MissingSecret(cfg, o.Key, "key") {
		bad("key", "required (API key from the Aligo console, or key_file)")
	}
	if provider.MissingSecret(cfg, o.SenderKey, "sender_key") {
		bad("sender_key", "required (the Kakao channel's sender key (발신프로필 키) from the Aligo console, or sender_key_file)")
	}
	switch s := cfg.Sender; {
	case strings.TrimSpace(s) == "":
		bad("sender", "required: the registered number the failover SMS/LMS is sent from (발신번호)")
	case len(s) > 16 || strings.Trim(s, "0123456789-") != "":
		bad("sender", fmt.Sprintf("must be a registered number (digits, at most 16), got %q", s))
	}
	ts, terrs := parseTemplates(o.Templates, path)
	errs = append(errs, terrs...)
	return o, ts, errs
}
