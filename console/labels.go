package console

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// The audit log and the history store who, what and on what as codes
// (user:kim, message.create, contact:3) and the details in English, so
// that the API, the CSV export and old entries all read the same. The
// console shows them in the reader's language: the labels below turn each
// known form into words from the catalogs and keep anything unknown as it
// is (a name, or an entry written by a newer version).

// actorLabel is who did something (an audit actor or a message's
// CreatedBy): user:NAME, token:NAME, cli[:USER], agent:HOST[:REASON],
// alert[:REASON], link:ADDRESS, or a source name.
func (c *Console) actorLabel(lang, actor string) string {
	kind, rest, _ := strings.Cut(actor, ":")
	switch kind {
	case "user", "token", "link", "net", "balance", "gateway-down", "gateway-up":
		if rest != "" {
			return c.t(lang, "actor."+kind) + " " + rest
		}
	case "cli":
		if rest != "" {
			return c.t(lang, "source.cli") + " (" + rest + ")"
		}
	case "oncall":
		if rest != "" {
			return c.t(lang, "actor.oncall") + " " + rest
		}
	case "alert":
		if rest != "" {
			return c.t(lang, "source.alert") + " (" + c.reasonLabel(lang, rest) + ")"
		}
	case "agent":
		host, reason, ok := strings.Cut(rest, ":")
		if ok {
			return c.t(lang, "actor.agent") + " " + host + " (" + c.reasonLabel(lang, reason) + ")"
		}
		if rest != "" {
			return c.t(lang, "actor.agent") + " " + rest
		}
	}
	if s, ok := c.cats[lang]["source."+actor]; ok {
		return s
	}
	if actor == "system" {
		return c.t(lang, "actor.system")
	}
	return actor
}

// reasonLabel is why the alert engine sent a message (first, repeat, …).
func (c *Console) reasonLabel(lang, reason string) string {
	if s, ok := c.cats[lang]["reason."+reason]; ok {
		return s
	}
	return reason
}

// auditActions are the actions munja writes to the audit log (the audit
// page offers them in its filter).
var auditActions = []string{
	"message.create", "message.test", "incident.ack", "silence.create", "silence.delete",
	"contact.create", "contact.update", "contact.delete", "contact.import", "contact.export",
	"group.create", "group.delete", "template.create", "template.update", "template.delete",
	"user.create", "user.password", "user.role", "user.login", "user.logout",
	"token.create", "token.revoke", "agent.forget", "oncall.override", "oncall.override_delete",
}

// actorKinds are the actor prefixes with a label of their own.
var actorKinds = []string{"user", "token", "link", "net", "agent", "system", "balance", "gateway-down", "gateway-up", "oncall"}

// detailFieldNames are the key=value keys with a label.
var detailFieldNames = []string{"name", "phone", "groups", "memo"}

// actionLabel is what an audit entry records (message.create, …).
func (c *Console) actionLabel(lang, action string) string {
	if s, ok := c.cats[lang]["action."+action]; ok {
		return s
	}
	return action
}

// targetPrefixes are the audit targets written as a kind and an ID or
// name ("message 12", "contact:3", "group:ops", "check httpd").
var targetPrefixes = []struct{ prefix, key string }{
	{"message ", "target.message"}, {"contact:", "target.contact"}, {"group:", "target.group"},
	{"template:", "target.template"}, {"check ", "target.check"}, {"oncall:", "target.oncall"},
}

// targetLabel is what an audit entry was about.
func (c *Console) targetLabel(lang, target string) string {
	for _, p := range targetPrefixes {
		if rest, ok := strings.CutPrefix(target, p.prefix); ok && rest != "" {
			return c.t(lang, p.key) + " " + rest
		}
	}
	return target
}

// detailPhrases are the parts of the audit details munja writes (joined
// by ", "), each with its catalog key: the key's format takes the
// pattern's groups in order.
var detailPhrases = []struct {
	pattern, key string
}{
	{`^(\d+) recipients?$`, "detail.recipients"},
	{`^(\d+) over the hourly limit$`, "detail.dropped"},
	{`^test$`, "detail.test"},
	{`^at (.+)$`, "detail.at"},
	{`^Kakao Alimtalk by template (.+)$`, "detail.alimtalk"},
	{`^by link$`, "detail.by_link"},
	{`^sessions revoked$`, "detail.sessions_revoked"},
	{`^ip (.+)$`, "detail.ip"},
	{`^until (.+) id (\S+)$`, "detail.until"},
	{`^(.+) from (\S+) to (\S+) id (\S+)$`, "detail.oncall_override"},
	{`^(\d+) checks?$`, "detail.checks"},
	{`^(\d+) contacts?$`, "detail.contacts"},
	{`^(\d+) new$`, "detail.new"},
	{`^(\d+) updated$`, "detail.updated"},
	{`^(\d+) skipped$`, "detail.skipped"},
	{`^(\d+) rows? refused$`, "detail.refused"},
	{`^template (\d+)$`, "detail.template"},
	{`^groups: (.*)$`, "detail.groups"},
}

// detailRes are detailPhrases' patterns, compiled on first use (not in
// the start-up of every munja command).
var detailRes = sync.OnceValue(func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(detailPhrases))
	for i, p := range detailPhrases {
		out[i] = regexp.MustCompile(p.pattern)
	}
	return out
})

// detailFields are the key=value details of the API's address book and
// template changes (name="홍길동" phone=010-… groups=ops).
var detailFields = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`) })

// auditDetail is an audit entry's detail in lang.
func (c *Console) auditDetail(lang, detail string) string {
	if lang == langEN || detail == "" {
		return detail
	}
	if r, ok := strings.CutPrefix(detail, "role "); ok {
		return c.t(lang, "detail.role") + " " + c.roleLabel(lang, r)
	}
	if r, ok := strings.CutPrefix(detail, "scope "); ok {
		return c.t(lang, "detail.scope") + " " + c.tkey(lang, "scope.", r)
	}
	if from, to, ok := strings.Cut(detail, " → "); ok {
		return c.roleLabel(lang, from) + " → " + c.roleLabel(lang, to)
	}
	if loc := detailFields().FindStringIndex(detail); loc != nil && loc[0] == 0 {
		return detailFields().ReplaceAllStringFunc(detail, func(kv string) string {
			k, v, _ := strings.Cut(kv, "=")
			return c.tkey(lang, "field.", k) + " " + v
		})
	}
	parts := strings.Split(detail, ", ")
	for i, p := range parts {
		for k, re := range detailRes() {
			if m := re.FindStringSubmatch(p); m != nil {
				args := make([]any, len(m)-1)
				for j, g := range m[1:] {
					args[j] = g
				}
				parts[i] = fmt.Sprintf(c.t(lang, detailPhrases[k].key), args...)
				break
			}
		}
	}
	return strings.Join(parts, ", ")
}

// roleLabel is a user role in lang.
func (c *Console) roleLabel(lang, role string) string { return c.tkey(lang, "role.", role) }

// tkey looks prefix+v up, or returns v.
func (c *Console) tkey(lang, prefix, v string) string {
	if s, ok := c.cats[lang][prefix+v]; ok {
		return s
	}
	return v
}
