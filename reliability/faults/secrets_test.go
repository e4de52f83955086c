package faults

// Scenario 6: secrets never leave the config — not into logs, command
// output, API or console answers, metrics, nor the database — also while
// gateways fail and errors are logged.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/reliability/report"
)

// secret is one planted secret: core is its random part, found whatever
// escaping a leak went through (hex survives URL and JSON escaping).
type secret struct {
	what  string
	value string
	core  string
}

func plant(what, prefix string) secret {
	b := make([]byte, 8)
	rand.Read(b)
	core := hex.EncodeToString(b)
	return secret{what: what, value: prefix + core, core: core}
}

// evidence is everything munja said, by source.
type evidence struct {
	mu      sync.Mutex
	sources map[string]string
}

func (e *evidence) add(source, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sources == nil {
		e.sources = map[string]string{}
	}
	e.sources[source] += text + "\n"
}

// find lists the sources that hold s.
func (e *evidence) find(s secret) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for src, text := range e.sources {
		if strings.Contains(text, s.core) || strings.Contains(text, s.value) {
			out = append(out, src)
		}
	}
	sort.Strings(out)
	return out
}

// fetch does one request and records the answer's status, headers and body.
func (e *evidence) fetch(c *http.Client, method, u, token string, body []byte, ctype string) (int, []byte) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.add(method+" "+u, "error: "+err.Error())
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var hdr strings.Builder
	_ = resp.Header.Write(&hdr)
	path := u
	if pu, err := url.Parse(u); err == nil {
		path = pu.Path
	}
	e.add(method+" "+path, fmt.Sprintf("%d\n%s\n%s", resp.StatusCode, hdr.String(), b))
	return resp.StatusCode, b
}

// TestSecretsStayInConfig is scenario 6.
func TestSecretsStayInConfig(t *testing.T) {
	shortParallel(t)
	envKey := plant("Aligo key from ${ENV} (provider 1)", "envkey")
	fileKey := plant("Aligo key from key_file (provider 2)", "filekey")
	hookSecret := plant("webhook HMAC secret (provider 3)", "hmac")
	hookToken := plant("webhook Authorization header from ${ENV}", "hdrtoken")
	pgPass := plant("PostgreSQL password in a DSN (second config)", "pg pass/")
	adminPass := plant("console admin password (stdin of munja user add)", "adminpw")
	pushToken := plant("push token in server.heartbeat_url (called every second, failing)", "pushtok")
	secrets := []secret{envKey, fileKey, hookSecret, hookToken, pgPass, adminPass, pushToken}
	var ev evidence

	g1 := aligotest.New(t, aligotest.WithCredentials(aligotest.DefaultUserID, envKey.value))
	g2 := aligotest.New(t, aligotest.WithCredentials(aligotest.DefaultUserID, fileKey.value))
	var hookMu sync.Mutex
	hookCalls, hookFail := 0, true
	relayed := map[string]int{} // text|receiver → copies the relay took
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Text      string   `json:"text"`
			Receivers []string `json:"receivers"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		hookMu.Lock()
		defer hookMu.Unlock()
		hookCalls++
		if hookFail {
			http.Error(w, "relay down for maintenance", http.StatusBadGateway)
			return
		}
		for _, rc := range p.Receivers {
			relayed[key(p.Text, rc)]++
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"relay-1"}`))
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "aligo.key")
	if err := os.WriteFile(keyFile, []byte(fileKey.value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"FAULTS_ALIGO_KEY=" + envKey.value, "FAULTS_RELAY_TOKEN=" + hookToken.value}
	port := freePort(t)
	// Nothing listens on port 1: every heartbeat call fails and is logged.
	heartbeat := fmt.Sprintf("  heartbeat_url: %q\n  heartbeat_interval: 1s\n", "http://127.0.0.1:1/ping/"+pushToken.value+"?token="+pushToken.value)
	cfg := writeConfig(t, dir, conf{port: port, database: filepath.Join(dir, "munja.db"), logLevel: "debug", retry: quickRetry, server: heartbeat,
		providers: []string{
			fmt.Sprintf(`    - name: aligo-env
      type: aligo
      user_id: %q
      key: "${FAULTS_ALIGO_KEY}"
      base_url: %q
      timeout: 1s
`, g1.UserID, g1.URL()),
			fmt.Sprintf(`    - name: aligo-file
      type: aligo
      user_id: %q
      key_file: %q
      base_url: %q
      timeout: 1s
`, g2.UserID, keyFile, g2.URL()),
			fmt.Sprintf(`    - name: relay
      type: webhook
      url: %q
      secret: %q
      headers:
        Authorization: "Bearer ${FAULTS_RELAY_TOKEN}"
      timeout: 1s
`, hook.URL, hookSecret.value),
		}})
	// A second config with a PostgreSQL password, for the commands that
	// only read their config or fail to connect (nothing listens on port 1).
	pgDir := t.TempDir()
	pgDSN := "postgres://munja:" + url.PathEscape(pgPass.value) + "@127.0.0.1:1/munja?sslmode=disable&connect_timeout=2"
	pgCfg := writeConfig(t, pgDir, conf{port: freePort(t), database: pgDSN, providers: []string{aligoYAML("aligo", g1, "1s")}})

	s := newServer(t, "serve", cfg, port, env...)
	s.start()

	// The outage: every gateway fails, one way after another, while
	// messages flow; every error goes to the log (level debug).
	outages := []aligotest.Failure{
		{Mode: aligotest.BadKey}, {Mode: aligotest.HTTPStatus, Status: 500}, {Mode: aligotest.Garbage},
		{Mode: aligotest.IPNotAllowed}, {Mode: aligotest.Timeout, Delay: time.Minute}, {Mode: aligotest.UnregisteredSender},
	}
	l := newLedger("secrets")
	l.extra = func() map[string]int {
		hookMu.Lock()
		defer hookMu.Unlock()
		return maps.Clone(relayed)
	}
	per := report.Pick(400*time.Millisecond, 3*time.Second)
	for i, f := range outages {
		g1.SetFailure(f)
		g2.SetFailure(outages[(i+1)%len(outages)])
		end := time.Now().Add(per)
		for time.Now().Before(end) {
			l.post(t.Context(), s.base(), pair())
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The CLI while the gateways still fail.
	run := func(name, cfgPath, stdin string, args ...string) cliResult {
		r := runCLI(t, cfgPath, env, stdin, args...)
		ev.add("munja "+name, fmt.Sprintf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr))
		return r
	}
	run("send (gateways down)", cfg, "", "send", "--wait", "2s", "--to", "01099998888", "secrets: CLI send")
	run("remain (gateways down)", cfg, "", "remain")
	g1.SetFailure(aligotest.Failure{})
	g2.SetFailure(aligotest.Failure{})
	hookMu.Lock()
	hookFail = false
	hookMu.Unlock()
	tl, _ := drain(t, l, 30*time.Second, []*server{s}, g1, g2)

	run("config check", cfg, "", "config", "check")
	run("config check (PostgreSQL DSN)", pgCfg, "", "config", "check")
	run("history (PostgreSQL DSN, unreachable)", pgCfg, "", "history", "--limit", "5")
	run("serve (PostgreSQL DSN, unreachable)", pgCfg, "", "serve")
	run("history", cfg, "", "history", "--limit", "50")
	run("remain", cfg, "", "remain")
	tok := run("token create", cfg, "", "token", "create", "auditor", "--scope", "admin")
	token := strings.TrimSpace(tail(tok.stdout, 1))
	if tok.code != 0 || token == "" {
		t.Fatalf("token create: %d %s %s", tok.code, tok.stdout, tok.stderr)
	}
	delete(ev.sources, "munja token create") // it shows the token once, on purpose
	secrets = append(secrets, secret{what: "the admin API token (after token create showed it)", value: token, core: token})
	if r := run("user add", cfg, adminPass.value+"\n", "user", "add", "kim", "--role", "admin"); r.code != 0 {
		t.Fatalf("user add: %d %s %s", r.code, r.stdout, r.stderr)
	}
	run("token list", cfg, "", "token", "list")
	run("user list", cfg, "", "user", "list")

	// The API: every GET route openapi.json lists, with an admin token,
	// after a contact, a group and a template exist.
	c := &http.Client{Timeout: 15 * time.Second}
	ev.fetch(c, "POST", s.base()+"/api/v1/contacts", token, []byte(`{"name":"김철수","phone":"010-1234-5678"}`), "application/json")
	ev.fetch(c, "POST", s.base()+"/api/v1/groups", token, []byte(`{"name":"ops"}`), "application/json")
	ev.fetch(c, "POST", s.base()+"/api/v1/templates", token, []byte(`{"name":"t","text":"배포 완료"}`), "application/json")
	_, spec := ev.fetch(c, "GET", s.base()+"/api/v1/openapi.json", token, nil, "")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var msgID int64
	for _, a := range l.acks() {
		msgID = max(msgID, a.id)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	var routes []string
	for p, ops := range doc.Paths {
		if _, ok := ops["get"]; ok {
			routes = append(routes, p)
		}
	}
	sort.Strings(routes)
	statuses := map[string]int{}
	for _, p := range routes {
		u := param.ReplaceAllStringFunc(p, func(name string) string {
			if name == "{id}" {
				return strconv.FormatInt(max(msgID, 1), 10)
			}
			return "ops"
		})
		if strings.HasSuffix(p, "/contacts/{id}") || strings.HasSuffix(p, "/templates/{id}") || strings.HasSuffix(p, "/incidents/{id}") {
			u = param.ReplaceAllString(p, "1")
		}
		code, _ := ev.fetch(c, "GET", s.base()+u, token, nil, "")
		statuses[p] = code
		if p == "/api/v1/messages" {
			ev.fetch(c, "GET", s.base()+u+"?limit=500", token, nil, "")
		}
	}

	// The console, signed in as the admin: every page without a form.
	jar, _ := cookiejar.New(nil)
	cc := &http.Client{Timeout: 15 * time.Second, Jar: jar}
	_, page := ev.fetch(cc, "GET", s.base()+"/login", "", nil, "")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no csrf field on the login page")
	}
	form := url.Values{"name": {"kim"}, "password": {adminPass.value}, "csrf": {string(m[1])}}
	if code, _ := ev.fetch(cc, "POST", s.base()+"/login", "", []byte(form.Encode()), "application/x-www-form-urlencoded"); code != http.StatusOK {
		t.Errorf("console login: %d", code)
	}
	pages := []string{"/", "/balance", "/send", "/contacts", "/contacts/new", "/contacts/1", "/contacts/export", "/contacts/import",
		"/templates", "/templates/new", "/templates/1", "/history", fmt.Sprintf("/messages/%d", msgID), "/checks",
		"/settings", "/audit", "/audit.csv", "/account"}
	consoleOK := 0
	for _, p := range pages {
		if code, _ := ev.fetch(cc, "GET", s.base()+p, "", nil, ""); code == http.StatusOK {
			consoleOK++
		}
	}
	if !strings.Contains(ev.sources["GET /settings"], "aligo-file") {
		t.Errorf("the console's settings page does not show the providers (signed in?)")
	}
	if !s.stop() {
		t.Error("munja did not stop on SIGTERM")
	}
	ev.add("munja serve (stdout and stderr)", s.out.String())
	for _, f := range []string{"munja.db", "munja.db-wal"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			ev.add("database file "+f, string(b))
		}
	}

	// The search.
	var problems []string
	rows := [][]string{{"secret", "planted as", "found in"}}
	for _, sec := range secrets {
		found := ev.find(sec)
		where := "nowhere"
		if len(found) > 0 {
			where = "**" + strings.Join(found, "; ") + "**"
			problems = append(problems, fmt.Sprintf("the %s was found in: %s", sec.what, strings.Join(found, "; ")))
		}
		planted := "`" + strings.Replace(sec.value, sec.core, "<16 random hex>", 1) + "`"
		if sec.core == sec.value {
			planted = "made by the run"
		}
		rows = append(rows, []string{sec.what, planted, where})
	}
	var serveErrors int
	for _, line := range strings.Split(s.out.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			serveErrors++
		}
	}
	g1Sends, g2Sends := sends(g1, time.Time{}, time.Now()), sends(g2, time.Time{}, time.Now())
	hookMu.Lock()
	calls := hookCalls
	hookMu.Unlock()
	var okRoutes []string
	for _, p := range routes {
		okRoutes = append(okRoutes, fmt.Sprintf("%s %d", p, statuses[p]))
	}
	if tl.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged deliveries lost in the outage", tl.lost))
	}
	if serveErrors == 0 {
		problems = append(problems, "munja logged no warning or error: the outage did not happen, so the logs prove little")
	}
	figures := [][]string{
		{"figure", "value"},
		{"POSTs during the outage", fmt.Sprintf("%d (%s)", l.posts(), l.answerList())},
		{"gateway calls: aligo-env, aligo-file, relay", fmt.Sprintf("%d, %d, %d", g1Sends, g2Sends, calls)},
		{"deliveries acknowledged / delivered after the outage (any gateway)", fmt.Sprintf("%d / %d", tl.expected, tl.delivered)},
		{"WARN/ERROR lines munja logged", strconv.Itoa(serveErrors)},
		{"output searched", fmt.Sprintf("%d sources, %d KiB", len(ev.sources), totalKiB(&ev))},
		{"API GET routes from openapi.json (status)", strings.Join(okRoutes, ", ")},
		{"console pages answered 200 (signed in as admin)", fmt.Sprintf("%d of %d", consoleOK, len(pages))},
	}
	report.Section(t, "faults-6-secrets", "Faults 6: secrets stay in the config", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestSecretsStayInConfig$' ./reliability/faults/ -args -full`"+`
(short version: without `+"`-full`"+`).

Distinctive secrets (each with 16 random hex digits, searched for in any escaping) are planted in the
config: provider 1 is a fake Aligo whose key comes from `+"`key: \"${FAULTS_ALIGO_KEY}\"`"+`, provider 2 one whose key is
in a `+"`key_file`"+`, provider 3 a webhook relay with an HMAC `+"`secret`"+` and an `+"`Authorization`"+` header from the
environment, and `+"`server.heartbeat_url`"+` carries a push token in its path and query and is called every
second at an address where nothing listens (every call fails and is logged); a second config has a PostgreSQL DSN with a password (the server it names does not
exist, so commands using it fail and print their error). `+"`munja serve`"+` runs at log level debug
through an outage of every gateway — each Aligo fake cycles through bad key, HTTP 500, an HTML page,
IP not allowed, no answer and an unregistered sender (%s each) and the relay answers 502 — while
messages are posted; then `+"`munja send`"+` and `+"`munja remain`"+` run against the failing gateways, the
gateways recover and munja drains. Then `+"`munja config check`"+` (both configs), `+"`munja history`"+` (both),
`+"`munja serve`"+` on the unreachable DSN, `+"`munja remain`"+`, `+"`token list`"+`, `+"`user list`"+`; every GET route listed by
`+"`GET /api/v1/openapi.json`"+` with an admin token (a contact, group and template made first; this
includes `+"`/metrics`"+` and `+"`/healthz`"+`); the console's pages signed in as an admin (the settings page
lists the providers). Searched: all of munja's stdout and stderr, every command's output, every
answer's status, headers and body, and the SQLite database and WAL files.

%s
%s
%s`, per, report.Table(figures), report.Table(rows), result(problems)))
	fail(t, problems)
}

func totalKiB(e *evidence) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, s := range e.sources {
		n += len(s)
	}
	return n >> 10
}
