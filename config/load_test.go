package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// envOf returns an env lookup over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustParse parses src with env and the real file system.
func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse([]byte(src), envOf(env), os.ReadFile)
	if err != nil {
		t.Fatalf("Parse: %v\n--- input:\n%s", err, src)
	}
	return c
}

// parseErr parses src and returns the error text, failing if there is none.
func parseErr(t *testing.T, src string, env map[string]string) string {
	t.Helper()
	_, err := Parse([]byte(src), envOf(env), os.ReadFile)
	if err == nil {
		t.Fatalf("Parse succeeded, want an error\n--- input:\n%s", src)
	}
	return err.Error()
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.listen", c.Server.Listen, "127.0.0.1:8080"},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout.D(), 10 * time.Second},
		{"server.heartbeat_url", c.Server.HeartbeatURL.Reveal(), ""},
		{"server.heartbeat_interval", c.Server.HeartbeatInterval.D(), time.Minute},
		{"database", c.Database, "munja.db"},
		{"retention", c.Retention.D(), 400 * 24 * time.Hour},
		{"timezone", c.Timezone, "Asia/Seoul"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"alerting.interval", c.Alerting.Interval.D(), 10 * time.Second},
		{"alerting.failures", c.Alerting.Failures, 1},
		{"alerting.successes", c.Alerting.Successes, 1},
		{"alerting.repeat", c.Alerting.Repeat.D(), time.Hour},
		{"alerting.resolved", *c.Alerting.Resolved, true},
		{"alerting.flapping.window", c.Alerting.Flapping.Window.D(), 10 * time.Minute},
		{"alerting.flapping.changes", c.Alerting.Flapping.Changes, 4},
		{"sms.limits.per_day", c.SMS.Limits.PerDay, 1000},
		{"sms.limits.per_recipient_per_hour", c.SMS.Limits.PerRecipientPerHour, 30},
		{"sms.retry.initial", c.SMS.Retry.Initial.D(), 2 * time.Second},
		{"sms.retry.max", c.SMS.Retry.Max.D(), 5 * time.Minute},
		{"sms.retry.give_up_after", c.SMS.Retry.GiveUpAfter.D(), 24 * time.Hour},
		{"sms.down_after", c.SMS.DownAfter.D(), 5 * time.Minute},
		{"providers", len(c.SMS.Providers), 0},
		{"dry run", c.DryRun(), true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	eff := c.EffectiveProviders()
	if len(eff) != 1 || eff[0].Name != "dryrun" || eff[0].Type != "dryrun" || eff[0].Timeout.D() != 10*time.Second {
		t.Errorf("EffectiveProviders = %+v, want the single dryrun provider", eff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default does not validate: %v", err)
	}
	// Each call is independent: changing one must not change the next.
	*c.Alerting.Resolved = false
	if !*Default().Alerting.Resolved {
		t.Error("Default shares the resolved pointer between calls")
	}
}

func TestEffectiveProvidersAndDryRun(t *testing.T) {
	tests := []struct {
		name      string
		providers []Provider
		wantNames []string
		dryRun    bool
	}{
		{"none", nil, []string{"dryrun"}, true},
		{"aligo", []Provider{{Name: "a", Type: "aligo"}}, []string{"a"}, false},
		{"explicit dryrun", []Provider{{Name: "d", Type: "dryrun"}}, []string{"d"}, true},
		{"aligo then webhook", []Provider{{Name: "a", Type: "aligo"}, {Name: "w", Type: "webhook"}}, []string{"a", "w"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.SMS.Providers = tt.providers
			var names []string
			for _, p := range c.EffectiveProviders() {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("EffectiveProviders names = %v, want %v", names, tt.wantNames)
			}
			if c.DryRun() != tt.dryRun {
				t.Errorf("DryRun = %v, want %v", c.DryRun(), tt.dryRun)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MUNJA_TEST_LISTEN", "127.0.0.1:9999")
	good := writeFile(t, dir, "good.yaml", "server:\n  listen: ${MUNJA_TEST_LISTEN}\ndatabase: /var/lib/munja/munja.db\n")
	c, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:9999" || c.Database != "/var/lib/munja/munja.db" || c.Timezone != "Asia/Seoul" {
		t.Errorf("Load = listen %q database %q timezone %q", c.Server.Listen, c.Database, c.Timezone)
	}

	c, err = Load("")
	if err != nil || c.Server.Listen != DefaultListen {
		t.Errorf("Load(\"\") = %v, %v; want defaults", c, err)
	}

	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want ErrNotExist", err)
	}

	bad := writeFile(t, dir, "bad.yaml", "server:\n  lisen: x\n")
	_, err = Load(bad)
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 2 || es[0].Path != "server" {
		t.Fatalf("Load(bad) error = %#v, want one FieldError at line 2", err)
	}
	if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `line 2: server: unknown key "lisen" (did you mean "listen"?)`) {
		t.Errorf("Load(bad) error = %q", err)
	}
}

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	t.Setenv(EnvConfig, "")
	if got := ResolvePath(); got != "" {
		t.Errorf("no env, no file: ResolvePath = %q, want \"\"", got)
	}
	writeFile(t, dir, "munja.yaml", "log:\n  level: debug\n")
	if got := ResolvePath(); got != DefaultPath {
		t.Errorf("file present: ResolvePath = %q, want %q", got, DefaultPath)
	}
	c, err := Load(ResolvePath())
	if err != nil || c.Log.Level != "debug" {
		t.Errorf("Load(ResolvePath()) = %v, %v", c, err)
	}
	t.Setenv(EnvConfig, "/etc/munja/munja.yaml")
	if got := ResolvePath(); got != "/etc/munja/munja.yaml" {
		t.Errorf("env set: ResolvePath = %q", got)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "~\n", "---\n", "---\n...\n"} {
		c, err := Parse([]byte(src), envOf(nil), os.ReadFile)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", src, err)
			continue
		}
		if c.Server.Listen != DefaultListen || c.Alerting.Failures != 1 {
			t.Errorf("Parse(%q) did not give defaults: %+v", src, c)
		}
	}
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	c := mustParse(t, `
server:            # null: keeps every default under server
log:
  level: debug     # format keeps its default
sms:
  limits:
    per_day: 0     # explicit 0 = unlimited, not the default 1000
  providers:
    - name: a
      type: aligo
    - name: b
      type: webhook
      timeout: 3s
alerting:
  repeat: 0s       # never repeat
  resolved: false
  flapping:
    changes: 0
`, nil)
	if c.Server.Listen != DefaultListen || c.Server.ShutdownTimeout.D() != 10*time.Second {
		t.Errorf("server = %+v, want defaults", c.Server)
	}
	if c.Log.Level != "debug" || c.Log.Format != "text" {
		t.Errorf("log = %+v", c.Log)
	}
	if c.SMS.Limits.PerDay != 0 || c.SMS.Limits.PerRecipientPerHour != 30 {
		t.Errorf("limits = %+v", c.SMS.Limits)
	}
	if c.SMS.Providers[0].Timeout != DefaultProviderTimeout || c.SMS.Providers[1].Timeout.D() != 3*time.Second {
		t.Errorf("provider timeouts = %v, %v", c.SMS.Providers[0].Timeout, c.SMS.Providers[1].Timeout)
	}
	if c.Alerting.Repeat != 0 || *c.Alerting.Resolved || c.Alerting.Flapping.Changes != 0 || c.Alerting.Flapping.Window.D() != 10*time.Minute {
		t.Errorf("alerting = repeat %v resolved %v flapping %+v", c.Alerting.Repeat, *c.Alerting.Resolved, c.Alerting.Flapping)
	}
	if c.DryRun() {
		t.Error("DryRun with an aligo provider")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	c := mustParse(t, `
checks:
  - &web
    name: web1
    type: http
    url: http://127.0.0.1:8080/
    interval: 30s
  - <<: *web
    name: web2
alerting:
  recipients: &ops ["01012345678"]
  escalation:
    - after: 10m
      to: *ops
`, nil)
	if len(c.Checks) != 2 || c.Checks[1].Name != "web2" || c.Checks[1].URL != "http://127.0.0.1:8080/" || c.Checks[1].Interval.D() != 30*time.Second {
		t.Errorf("checks = %+v", c.Checks)
	}
	if len(c.Alerting.Escalation) != 1 || c.Alerting.Escalation[0].To[0] != "01012345678" {
		t.Errorf("escalation = %+v", c.Alerting.Escalation)
	}
	msg := parseErr(t, "checks:\n  - &c\n    name: a\n    bogus: 1\n  - <<: *c\n    name: b\n", nil)
	if !strings.Contains(msg, `line 4: checks[0]: unknown key "bogus"`) {
		t.Errorf("unknown key behind an anchor: %q", msg)
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"bad indentation", "server:\n  listen: a\n bad: b\n", "invalid YAML"},
		{"tab", "server:\n\tlisten: x\n", "invalid YAML"},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", "only one document"},
		{"list at top", "- a\n- b\n", "line 1: the config must be a mapping"},
		{"scalar at top", "hello\n", "the config must be a mapping"},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", "already defined"},
		{"wrong type", "sms:\n  limits:\n    per_day: lots\n", "line 3: sms.limits.per_day: cannot unmarshal !!str `lots` into int"},
		{"list for int", "sms:\n  limits:\n    per_day: [1]\n", "line 3: sms.limits.per_day: cannot unmarshal !!seq into int"},
		{"map for list", "checks:\n  name: a\n", "line 2: checks: cannot unmarshal !!map into []config.Check"},
		{"bad duration", "alerting:\n  repeat: 1 hour\n", `line 2: alerting.repeat: invalid duration "1 hour"`},
		{"list for duration", "alerting:\n  repeat: [1h]\n", "line 2: alerting.repeat: duration must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src, nil); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestParseUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every line of the error, in order
	}{
		{"top level", "databse: x.db\n", []string{`line 1: unknown key "databse" (did you mean "database"?)`}},
		{"no suggestion", "frobnicate: 1\n", []string{`line 1: unknown key "frobnicate"`}},
		{"in a check", "checks:\n  - name: a\n    type: http\n    intervall: 5s\n",
			[]string{`line 4: checks[0]: unknown key "intervall" (did you mean "interval"?)`}},
		// A gateway's keys are its package's to refuse (Provider.Decode,
		// through the registry's validators: provider/providers).
		{"every one, in order", "alerting:\n  failure: 2\nsms:\n  providers:\n    - name: a\n      type: aligo\nlog:\n  levl: debug\n",
			[]string{
				`line 2: alerting: unknown key "failure" (did you mean "failures"?)`,
				`line 8: log: unknown key "levl" (did you mean "level"?)`,
			}},
		{"in a list item of a list", "alerting:\n  escalation:\n    - after: 5m\n      too: [\"01012345678\"]\n",
			[]string{`line 4: alerting.escalation[0]: unknown key "too" (did you mean "to"?)`}},
		{"case matters", "Server:\n  listen: x\n", []string{`line 1: unknown key "Server" (did you mean "server"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr(t, tt.src, nil)
			if got != strings.Join(tt.want, "\n") {
				t.Errorf("error =\n%s\nwant\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseEnvExpansion(t *testing.T) {
	env := map[string]string{
		"KEY":     `a"b: c # d\n[e]{f}` + "\nline2 'q' $HOME ${NOPE}",
		"PORT":    "8081",
		"PER_DAY": "250",
		"YES":     "true",
		"EMPTY":   "",
		"DOLLAR":  "$$",
	}
	c := mustParse(t, `
server:
  listen: 127.0.0.1:${PORT}
sms:
  sender: ${SENDER:-02-1234-5678}
  limits:
    per_day: ${PER_DAY}
  providers:
    - name: aligo
      type: aligo
      user_id: "${EMPTY:-fallback}"
      key: '${KEY}'
      test_mode: ${YES}
      url: "cost $$5 ${DOLLAR} end$ a$b"
checks:
  - name: ${PORT}
    type: log
    pattern: "^done$"
`, env)
	if c.Server.Listen != "127.0.0.1:8081" {
		t.Errorf("listen = %q", c.Server.Listen)
	}
	if c.SMS.Sender != "02-1234-5678" {
		t.Errorf("sender = %q (default of ${SENDER:-…})", c.SMS.Sender)
	}
	if c.SMS.Limits.PerDay != 250 {
		t.Errorf("per_day = %d, want the expanded int", c.SMS.Limits.PerDay)
	}
	p := c.SMS.Providers[0]
	if p.Option("user_id") != "fallback" {
		t.Errorf("user_id = %q, want the default for an empty variable", p.Option("user_id"))
	}
	if p.Option("key") != env["KEY"] {
		t.Errorf("key = %q, want the variable verbatim (no re-expansion, YAML structure intact)", p.Option("key"))
	}
	if !p.TestMode {
		t.Error("test_mode: ${YES} did not decode as a bool")
	}
	if p.Option("url") != "cost $5 $$ end$ a$b" {
		t.Errorf("url = %q", p.Option("url"))
	}
	if c.Checks[0].Name != "8081" || c.Checks[0].Pattern != "^done$" {
		t.Errorf("check = %q %q", c.Checks[0].Name, c.Checks[0].Pattern)
	}
	// Keys are not expanded: a key ${X} is simply unknown.
	if msg := parseErr(t, "${PORT}: 1\n", env); !strings.Contains(msg, `unknown key "${PORT}"`) {
		t.Errorf("key expansion: %q", msg)
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unset", "sms:\n  providers:\n    - name: a\n      type: aligo\n      key: ${ALIGO_KEY}\n",
			"line 5: sms.providers[0].key: environment variable ALIGO_KEY is not set (use ${ALIGO_KEY:-default} for a default)"},
		{"unterminated", "host: \"x${HOST\"\n", "line 1: host: unterminated ${"},
		{"bad name", "host: ${1X}\n", `line 1: host: invalid environment variable name "1X"`},
		{"empty name", "host: ${}\n", `line 1: host: invalid environment variable name ""`},
		{"in a list", "alerting:\n  recipients:\n    - ${ONCALL}\n", "line 3: alerting.recipients[0]: environment variable ONCALL is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src, nil); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
	// Every unset variable is reported, not only the first.
	got := parseErr(t, "host: ${A}\ndatabase: ${B}\n", nil)
	if !strings.Contains(got, "line 1: host: environment variable A") || !strings.Contains(got, "line 2: database: environment variable B") {
		t.Errorf("error = %q, want both variables", got)
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "x", "E": ""})
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${A}", "x"},
		{"<${A}${A}>", "<xx>"},
		{"${A:-d}", "x"},
		{"${U:-d}", "d"},
		{"${E:-d}", "d"},
		{"${E}", ""},
		{"${U:-}", ""},
		{"${U:-a b:c}", "a b:c"},
		{"$$", "$"},
		{"$${A}", "${A}"},
		{"$$$${A}", "$${A}"},
		{"$$${A}", "$x"},
		{"a$", "a$"},
		{"$A", "$A"},
		{"100$ and $1", "100$ and $1"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, env)
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestForgetLines: a config that forgot its lines gives back the memory of
// the key paths and still validates (a duplicate check name), naming keys
// without lines.
func TestForgetLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("checks:\n")
	const n = 1000
	for i := range n {
		fmt.Fprintf(&b, "  - {name: p%d, type: process, process: svc%d, interval: 10s, min_count: 1}\n", i, i)
	}
	b.WriteString("  - {name: p0, type: process, process: x}\n")
	cfg, err := Parse([]byte(b.String()), func(string) (string, bool) { return "", false }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Line("checks[1000]") != n+2 {
		t.Fatalf("line of checks[1000] = %d, want %d", cfg.Line("checks[1000]"), n+2)
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	cfg.ForgetLines()
	after := heap()
	runtime.KeepAlive(cfg)
	freed := int64(before) - int64(after)
	t.Logf("heap %d → %d bytes: %d bytes a check given back", before, after, freed/n)
	if freed < n*300 {
		t.Errorf("ForgetLines gave back %d bytes for %d checks, want over 300 a check", freed, n)
	}
	if cfg.Line("checks[1000]") != 0 {
		t.Errorf("line of checks[1000] after ForgetLines = %d, want 0", cfg.Line("checks[1000]"))
	}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "checks[1000]") || strings.Contains(err.Error(), "line ") {
		t.Errorf("Validate after ForgetLines = %v, want checks[1000]'s problem without a line", err)
	}
}
