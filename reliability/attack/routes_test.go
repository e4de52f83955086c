package attack

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/reliability/report"
)

// Ranks of what a caller holds and a route needs: API scopes (read ⊂ send
// ⊂ admin) and console roles (viewer ⊂ operator ⊂ admin) are both 1 to 3.
// 0 is nothing (public routes need nothing); nobody means no caller may
// act (a one-time link with a made-up token).
const nobody = 4

var (
	scopeRank = map[string]int{"": 0, "read": 1, "send": 2, "admin": 3}
	roleRank  = map[string]int{"public": 0, "viewer": 1, "operator": 2, "admin": 3}
)

// identity is one kind of caller.
type identity struct {
	name    string
	api     int // scope rank on API routes
	console int // role rank on console routes
	c       *client
	user    string // the console user, logged in again if a route ends the session
}

// target is one route with its path values filled in.
type target struct {
	pattern, method, path string
	console               bool   // a console route (else the API's)
	need                  string // what the route says it needs
	rank                  int
}

// TestRoutes walks every route of the API and the console with every kind
// of caller and counts the answers that let in a caller below what the
// route needs.
func TestRoutes(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := startServer(t, func(c *config.Config) {
		// Token-less calls are accepted from this network: the test's
		// 127.0.0.1 is not in it, and a forged X-Forwarded-For must not
		// put it there (no server.trusted_proxies).
		c.Server.TrustedNetworks = []string{"192.0.2.0/24"}
		c.Checks = []config.Check{
			{Name: "disk-full", Type: "command", Interval: config.Duration(time.Second),
				Command: []string{"/bin/sh", "-c", "echo full; exit 1"}},
			{Name: "nightly", Type: "heartbeat", Grace: config.Duration(time.Hour)},
		}
		c.Oncall.Schedules = []config.OncallSchedule{{Name: "ops", Layers: []config.OncallLayer{{
			Members: []string{"01011112222", "01033334444"}, Rotation: "weekly", Handoff: "mon 09:00", Start: "2026-12-07"}}}}
	})
	s.addUser("viewer", "viewer")
	s.addUser("operator", "operator")
	s.addUser("admin", "admin")
	victim := s.addUser("victim", "viewer") // the user the admin routes act on
	tokens := map[string]string{}
	for _, scope := range []string{"read", "send", "admin"} {
		tokens[scope] = s.token(scope, scope)
	}
	revoked := s.token("revoked", "admin")
	if err := s.accounts.RevokeToken(t.Context(), "cli:attack", "revoked"); err != nil {
		t.Fatal(err)
	}
	values := s.walkObjects(tokens["admin"], victim)

	var ids []*identity
	bearer := func(name, tok string, rank int) {
		c := s.client()
		c.headers.Set("Authorization", "Bearer "+tok)
		ids = append(ids, &identity{name: name, api: rank, c: c})
	}
	ids = append(ids, &identity{name: "anonymous", c: s.client()})
	forged := s.client()
	forged.headers.Set("X-Forwarded-For", "192.0.2.7") // a trusted network, claimed by an untrusted peer
	ids = append(ids, &identity{name: "anonymous, forged X-Forwarded-For 192.0.2.7 (trusted network)", c: forged})
	bearer("revoked admin token", revoked, 0)
	bearer("read token", tokens["read"], 1)
	bearer("send token", tokens["send"], 2)
	bearer("admin token", tokens["admin"], 3)
	pre := s.client()
	pre.get("/login") // a pre-session CSRF cookie and token, no session
	ids = append(ids, &identity{name: "no session (login page's CSRF token)", c: pre})
	for _, role := range []string{"viewer", "operator", "admin"} {
		c := s.client()
		c.mustLogin(role)
		ids = append(ids, &identity{name: role + " session", console: roleRank[role], c: c, user: role})
	}

	targets := s.targets(t, values)
	// Reads first, so that every object still exists when it is read;
	// then the changes, in the route table's order; the wrong passwords
	// last, since they throttle logins from 127.0.0.1 (and the walk logs
	// in again after /logout).
	order := func(tg target) int {
		switch {
		case tg.method == http.MethodGet:
			return 0
		case tg.path == "/login" || tg.path == "/account/password":
			return 2
		}
		return 1
	}
	slices.SortStableFunc(targets, func(a, b target) int { return order(a) - order(b) })
	type tally struct{ requests, letIn, refused, findings, denied int }
	per := map[string]*tally{}
	var findings, denied []string
	for _, tg := range targets {
		for _, id := range ids {
			r := id.send(tg)
			held := id.api
			if tg.console {
				held = id.console
			}
			in := letIn(tg, r)
			tl := per[id.name]
			if tl == nil {
				tl = &tally{}
				per[id.name] = tl
			}
			tl.requests++
			if in {
				tl.letIn++
			} else {
				tl.refused++
			}
			switch {
			case in && held < tg.rank:
				tl.findings++
				findings = append(findings, fmt.Sprintf("%s %s as %s (holds rank %d, needs %s): %d %s",
					tg.method, tg.path, id.name, held, tg.need, r.status, r.location()))
			case !in && held >= tg.rank && tg.method == http.MethodGet:
				// Not a hole, but a walk that cannot reach what it may
				// read proves nothing about the rest.
				tl.denied++
				denied = append(denied, fmt.Sprintf("%s %s as %s: %d %s", tg.method, tg.path, id.name, r.status, r.location()))
			}
			if id.user != "" && tg.method != http.MethodGet {
				id.keepSession()
			}
		}
	}

	api, con := 0, 0
	for _, tg := range targets {
		if tg.console {
			con++
		} else {
			api++
		}
	}
	rows := [][]string{{"caller", "requests", "let in", "refused", "let in below the route's need (must be 0)"}}
	total := tally{}
	for _, id := range ids {
		tl := per[id.name]
		rows = append(rows, []string{id.name, strconv.Itoa(tl.requests), strconv.Itoa(tl.letIn), strconv.Itoa(tl.refused), strconv.Itoa(tl.findings)})
		total.requests += tl.requests
		total.letIn += tl.letIn
		total.refused += tl.refused
		total.findings += tl.findings
	}
	rows = append(rows, []string{"**all**", strconv.Itoa(total.requests), strconv.Itoa(total.letIn), strconv.Itoa(total.refused), "**" + strconv.Itoa(total.findings) + "**"})
	body := fmt.Sprintf(`Command: %s

Every route registered by the API (`+"`web.Server.Routes`"+`, with its scope) and by the console
(`+"`console.Console.Routes`"+`, with the role its route table gives it) — %d API routes and %d console
routes — is called once by each of %d callers, with its own method, path values of objects that
exist (contact, template, message, incident, silence, user, check, heartbeat, agent host, group,
on-call schedule and override; a made-up token for the one-time ack link) and a plausible body;
console forms carry the caller's own CSRF token, so that the role check, not CSRF, is what answers. The server trusts
token-less calls from 192.0.2.0/24 and no proxy; the test's requests come from 127.0.0.1.
Reads go first, then the changes.

An answer *lets in* unless it is a refusal: 401, 403 or 429 (API), a 303 to /login, 401, 403 or
429 (console), 404 for an ack link's made-up token. A 400, 404 or 422 of a handler counts as let
in: the request got past authorization. A caller below the route's need that is let in is a finding.

%s
%d route × caller pairs; %d let in below the route's need; %d reads refused to a caller allowed to make them.
`, "`go test ./reliability/attack -run TestRoutes -args -full`", api, con, len(ids), report.Table(rows),
		len(targets)*len(ids), len(findings), len(denied))
	if len(findings) > 0 {
		body += "\nFindings:\n\n- " + strings.Join(findings, "\n- ") + "\n"
	}
	body += "\nTook " + report.Since(start) + "."
	report.Section(t, "attack-1-routes", "Attack 1: every route × every caller", body)
	for _, f := range findings {
		t.Errorf("SECURITY: let in below the route's need: %s", f)
	}
	for _, d := range denied {
		t.Errorf("a read was refused to a caller allowed to make it (the walk is not testing what it claims): %s", d)
	}
}

// letIn tells whether r got past authorization (see TestRoutes).
func letIn(tg target, r *response) bool {
	switch r.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return false
	case http.StatusSeeOther:
		return !(tg.console && strings.HasPrefix(r.location(), "/login"))
	case http.StatusNotFound:
		return tg.need != "one-time link"
	}
	return true
}

// send makes tg's request as id, with a plausible body.
func (id *identity) send(tg target) *response {
	c := id.c
	switch {
	case tg.method == http.MethodGet:
		return c.get(tg.path)
	case tg.console:
		v := url.Values{"name": {"walk"}, "to": {"01012345678"}, "text": {"route walk"}, "phone": {"01055556666"},
			"role": {"viewer"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}, "for": {"1h"},
			"scope": {"read"}, "lang": {"en"}}
		if tg.path == "/login" {
			v.Set("password", "not the password") // not the one /settings/users gave "walk"
		}
		return c.form(tg.path, v)
	case tg.path == "/api/v1/send" || tg.path == "/sms/aligo_send.php":
		return c.post(tg.path, url.Values{"receiver": {"01012345678"}, "msg": {"route walk"}})
	case tg.path == "/api/v1/messages":
		return c.json(tg.method, tg.path, map[string]any{"to": []string{"01012345678"}, "text": "route walk"})
	}
	return c.json(tg.method, tg.path, map[string]any{})
}

// keepSession logs id in again when the last request ended its session
// (logout), so that the walk goes on as that user.
func (id *identity) keepSession() {
	if r := id.c.get("/account"); r.status == http.StatusSeeOther {
		id.c.mustLogin(id.user)
	}
}

// walkObjects creates one object of each kind the routes name and
// returns the path value for each: the path segment before a wildcard
// tells which.
func (s *server) walkObjects(adminToken string, victim int64) map[string]string {
	t := s.t
	c := s.client()
	c.headers.Set("Authorization", "Bearer "+adminToken)
	created := func(r *response, what string) string {
		t.Helper()
		var v struct {
			ID any `json:"id"`
		}
		if r.status/100 != 2 || json.Unmarshal([]byte(r.body), &v) != nil || v.ID == nil {
			t.Fatalf("create %s: %d %s", what, r.status, r.body)
		}
		return fmt.Sprint(v.ID)
	}
	if r := c.json(http.MethodPost, "/api/v1/groups", map[string]any{"name": "walkers"}); r.status/100 != 2 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	v := map[string]string{
		"contacts":  created(c.json(http.MethodPost, "/api/v1/contacts", map[string]any{"name": "walk", "phone": "01011112222", "groups": []string{"walkers"}}), "contact"),
		"templates": created(c.json(http.MethodPost, "/api/v1/templates", map[string]any{"name": "walk", "text": "hello"}), "template"),
		"messages":  created(c.json(http.MethodPost, "/api/v1/messages", map[string]any{"to": []string{"01011112222"}, "text": "walk"}), "message"),
		"silences": created(c.json(http.MethodPost, "/api/v1/silences", map[string]any{"check": "walk",
			"until": time.Now().Add(time.Hour).Format(time.RFC3339)}), "silence"),
		"users":     strconv.FormatInt(victim, 10),
		"checks":    "disk-full",
		"heartbeat": "nightly",
		"agents":    "web01",
		"groups":    "walkers",
		"ack":       "made-up-ack-token",
		"oncall":    "ops",
	}
	v["overrides"] = created(c.json(http.MethodPost, "/api/v1/oncall/ops/overrides", map[string]any{"member": "01011112222",
		"from": time.Now().Format(time.RFC3339), "to": time.Now().Add(time.Hour).Format(time.RFC3339)}), "on-call override")
	if r := c.json(http.MethodPost, "/api/v1/agents/report", map[string]any{"host": "web01", "interval_seconds": 60,
		"results": []map[string]any{{"check": "httpd", "ok": true}}}); r.status != http.StatusAccepted {
		t.Fatalf("agent report: %d %s", r.status, r.body)
	}
	waitFor(t, 10*time.Second, "an incident of disk-full", func() bool {
		for _, inc := range s.a.Shown.Engine().Incidents(true) {
			if inc.Check == "disk-full" {
				v["incidents"] = inc.ID
				return true
			}
		}
		return false
	})
	return v
}

// targets lists every route with its need and a path to call.
func (s *server) targets(t *testing.T, values map[string]string) []target {
	var out []target
	for _, r := range s.a.Web.Routes() {
		tg := target{pattern: r.Pattern, need: "scope " + r.Scope, rank: scopeRank[r.Scope]}
		switch r.Scope {
		case "":
			tg.need = "public"
		case "link":
			// The token in the path is the credential: GET only shows a
			// confirm button (to anyone); POST with a made-up token must
			// do nothing for anyone.
			tg.need, tg.rank = "one-time link", nobody
		default:
			if _, ok := scopeRank[r.Scope]; !ok {
				t.Fatalf("route %s: unknown scope %q", r.Pattern, r.Scope)
			}
		}
		out = append(out, fill(t, tg, values))
	}
	roles := consoleRoles(t)
	public := s.a.Console.PublicRoutes()
	for _, p := range s.a.Console.Routes() {
		role, ok := roles[p]
		if !ok {
			t.Fatalf("console route %q has no role in console/console.go's register()", p)
		}
		if (role == "public") != slices.Contains(public, p) {
			t.Fatalf("console route %q: the route table says %s, PublicRoutes says %v", p, role, public)
		}
		out = append(out, fill(t, target{pattern: p, console: true, need: "role " + role, rank: roleRank[role]}, values))
	}
	return out
}

// fill sets tg's method and path from its pattern.
func fill(t *testing.T, tg target, values map[string]string) target {
	method, path, ok := strings.Cut(tg.pattern, " ")
	if !ok {
		t.Fatalf("route %q has no method", tg.pattern)
	}
	tg.method = method
	if tg.need == "one-time link" && method == http.MethodGet {
		tg.rank = 0
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		switch {
		case seg == "{$}":
			segs[i] = ""
		case strings.HasPrefix(seg, "{"):
			val, ok := "", false
			if i > 0 {
				val, ok = values[segs[i-1]]
			}
			if !ok {
				t.Fatalf("route %q: no value for %s after /%s/ (add one to walkObjects)", tg.pattern, seg, segs[max(i-1, 0)])
			}
			_, rest, _ := strings.Cut(seg, "}") // "{name}.ics": the value, then ".ics"
			segs[i] = url.PathEscape(val) + rest
		}
	}
	tg.path = strings.Join(segs, "/")
	if strings.HasPrefix(tg.path, "/static/") {
		tg.path += "app.js"
	}
	return tg
}

// consoleRoles reads the role each console route needs from the console's
// route table (Console.register in console/console.go), which the console
// does not export: pattern → "public", "viewer", "operator" or "admin".
func consoleRoles(t *testing.T) map[string]string {
	t.Helper()
	dir := filepath.Join(moduleRoot(t), "console")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]string{ // role constant → role name
		"roleViewer": "viewer", "roleOperator": "operator", "roleAdmin": "admin",
	}
	alias := map[string]string{} // const X = Y
	var register *ast.FuncDecl
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, sp := range d.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if id, ok := vs.Values[i].(*ast.Ident); ok {
								alias[n.Name] = id.Name
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.Name == "register" && d.Recv != nil {
					register = d
				}
			}
		}
	}
	if register == nil {
		t.Fatal("console/console.go: no register method (the console's route table moved: update consoleRoles)")
	}
	resolve := func(name string) (string, bool) {
		for range 5 {
			if r, ok := consts[name]; ok {
				return r, true
			}
			name = alias[name]
		}
		return "", false
	}
	roles := map[string]string{}
	ast.Inspect(register.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		switch sel.Sel.Name {
		case "public":
			roles[pattern] = "public"
		case "handle", "handleBody":
			id, ok := call.Args[1].(*ast.Ident)
			role, found := "", false
			if ok {
				role, found = resolve(id.Name)
			}
			if !found {
				t.Fatalf("console route %q: cannot read its role %s", pattern, fset.Position(call.Args[1].Pos()))
			}
			roles[pattern] = role
		}
		return true
	})
	return roles
}

// moduleRoot is the folder holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
