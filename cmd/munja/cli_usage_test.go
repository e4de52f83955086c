package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// TestEveryCommandHelp: `munja COMMAND --help` (and -h, and munja help
// COMMAND) prints the usage line, what the arguments mean and examples, on
// stdout, and exits 0 without running the command.
func TestEveryCommandHelp(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			r := runCLI(t, cfg, fake.Key, "", args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: munja [--config FILE] "+c.name) ||
				!strings.Contains(r.stdout, "examples:\n  munja") {
				t.Errorf("munja %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
			// every flag of the usage line is explained
			for _, f := range flagRe.FindAllString(c.args, -1) {
				if !strings.Contains(r.stdout, "\n  "+f) {
					t.Errorf("munja %s --help does not explain %s", c.name, f)
				}
			}
		}
	}
	r := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "--help")
	for _, want := range []string{"TEXT is the message", "- reads the message from\nstdin", `df -h | munja send --group ops -`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("send --help misses %q:\n%s", want, r.stdout)
		}
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("--help sent something")
	}
	// after --, --help is the text
	if r := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "--", "--help"); r.code != 0 || strings.Contains(r.stdout, "usage:") {
		t.Fatalf("send -- --help: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestVersionFlagAndUnknownCommand(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	v := runCLI(t, cfg, fake.Key, "", "--version")
	if v.code != 0 || !strings.HasPrefix(v.stdout, "munja ") || !strings.Contains(v.stdout, "go1.") {
		t.Fatalf("--version: %d %q", v.code, v.stdout)
	}
	for typo, want := range map[string]string{"sned": "send", "histroy": "history", "tokn": "token", "ver": "version"} {
		r := runCLI(t, cfg, fake.Key, "", typo)
		if r.code != 2 || !strings.Contains(r.stderr, "did you mean "+want+"?") {
			t.Errorf("%s: %d %q", typo, r.code, r.stderr)
		}
	}
	if r := runCLI(t, cfg, fake.Key, "", "frobnicate"); r.code != 2 || strings.Contains(r.stderr, "did you mean") {
		t.Errorf("frobnicate: %d %q", r.code, r.stderr)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"sned", "send", 1}, {"send", "send", 0}, {"", "abc", 3}, {"histry", "history", 1}, {"문자", "문지", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("%s/%s: %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// runCLIEnv runs munja with exactly env (plus PATH and HOME).
func runCLIEnv(t *testing.T, cfg string, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, munjaBinary(t), append([]string{"--config", cfg}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "USER=test"}, env...)
	cmd.Stdin = strings.NewReader("")
	return runCmd(t, cmd)
}

// TestUserAndTokenNeedNoGatewayVariables: the commands that use only the
// database run with the gateway's ${VAR} unset; the others refuse, naming
// the variable once (no "config: config" stutter), and config check
// reports it.
func TestUserAndTokenNeedNoGatewayVariables(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	for _, args := range [][]string{{"user", "list"}, {"token", "list"}, {"token", "create", "deploy"}} {
		r := runCLIEnv(t, cfg, nil, args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if r := runCLIEnv(t, cfg, nil, "token", "list"); !strings.Contains(r.stdout, "deploy") {
		t.Fatalf("token list:\n%s", r.stdout)
	}
	if r := runCLIEnv(t, cfg, nil, "backup", filepath.Join(t.TempDir(), "copy.db")); r.code != 0 {
		t.Fatalf("backup: %d\n%s", r.code, r.stderr)
	}
	h := runCLIEnv(t, cfg, nil, "history")
	want := regexp.MustCompile(`^munja: config ` + regexp.QuoteMeta(cfg) + `: line \d+: sms.providers\[0\].key: environment variable TEST_ALIGO_KEY is not set`)
	if h.code != 2 || !want.MatchString(h.stderr) || strings.Contains(h.stderr, "config: config") {
		t.Fatalf("history: %d\n%s", h.code, h.stderr)
	}
	c := runCLIEnv(t, cfg, nil, "config", "check")
	if c.code != 1 || !strings.Contains(c.stdout, "sms.providers[0].key: environment variable TEST_ALIGO_KEY is not set") {
		t.Fatalf("config check: %d\n%s\n%s", c.code, c.stdout, c.stderr)
	}
	// a problem elsewhere still stops them
	os.WriteFile(cfg, []byte(readFile(t, cfg)+"timezone: Mars/Base\n"), 0o600)
	if r := runCLIEnv(t, cfg, nil, "user", "list"); r.code != 2 || !strings.Contains(r.stderr, `timezone: unknown time zone "Mars/Base"`) {
		t.Fatalf("user list with a bad timezone: %d\n%s", r.code, r.stderr)
	}
}

// TestMigrationsQuietAtInfo: a new database's migrations are one debug
// line, nothing at info.
func TestMigrationsQuietAtInfo(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	os.WriteFile(cfg, []byte(strings.Replace(readFile(t, cfg), "level: debug", "level: info", 1)), 0o600)
	r := runCLI(t, cfg, fake.Key, "", "user", "list")
	if r.code != 0 || strings.Contains(r.stderr, "migration") {
		t.Fatalf("info: %d\n%s", r.code, r.stderr)
	}
	cfg2 := writeConfig(t, fake, "")
	r = runCLI(t, cfg2, fake.Key, "", "user", "list")
	if n := strings.Count(r.stderr, "applied migrations"); n != 1 || !strings.Contains(r.stderr, "level=DEBUG") {
		t.Fatalf("debug: %d lines\n%s", n, r.stderr)
	}
	if r = runCLI(t, cfg2, fake.Key, "", "user", "list"); strings.Contains(r.stderr, "migration") {
		t.Fatalf("second run:\n%s", r.stderr)
	}
}

// TestHistoryOneLinePerMessage: counts by status and the first
// recipients on one line; the recipients with --recipients or an ID; and
// "1 recipient", "2 recipients".
func TestHistoryOneLinePerMessage(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	one := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "하나")
	if one.code != 0 || !strings.Contains(one.stderr, "(SMS, 1 recipient)") {
		t.Fatalf("send: %d\n%s", one.code, one.stderr)
	}
	three := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678,01098765432,01055556666", "셋")
	if three.code != 0 || !strings.Contains(three.stderr, "(SMS, 3 recipients)") {
		t.Fatalf("send: %d\n%s", three.code, three.stderr)
	}
	h := runCLI(t, cfg, fake.Key, "", "history")
	lines := strings.Split(strings.TrimSpace(h.stdout), "\n")
	if h.code != 0 || len(lines) != 3 {
		t.Fatalf("history: %d\n%s", h.code, h.stdout)
	}
	if !regexp.MustCompile(`^2 +\S+ \S+ +SMS +3 sent +cli +010-1234-5678,010-9876-5432 \+1 +셋$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^1 .* 1 sent .* 010-1234-5678 +하나$`).MatchString(lines[2]) {
		t.Fatalf("history:\n%s", h.stdout)
	}
	for _, args := range [][]string{{"history", "--recipients"}, {"history", "2"}} {
		r := runCLI(t, cfg, fake.Key, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "010-5555-6666") || strings.Count(r.stdout, " sent ") < 3 {
			t.Fatalf("%v:\n%s", args, r.stdout)
		}
	}
	if r := runCLI(t, cfg, fake.Key, "", "history", "99"); r.code != 1 || !strings.Contains(r.stderr, "no message 99") {
		t.Fatalf("history 99: %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, cfg, fake.Key, "", "history", "x"); r.code != 2 {
		t.Fatalf("history x: %d", r.code)
	}
}

// TestConfigCheckParseAndValidationTogether: parse-level problems (an
// unknown key, bad durations named by their key) and validation ones in
// one run.
func TestConfigCheckParseAndValidationTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.yaml")
	os.WriteFile(path, []byte(`timezone: Mars/Base
alerting:
  intervall: 5s
  repeat: 1x
checks:
  - name: web
    type: listen
    window: 5q
`), 0o600)
	r := runCLI(t, path, "", "", "config", "check")
	want := []string{`timezone: unknown time zone "Mars/Base"`, `line 3: alerting: unknown key "intervall"`,
		`line 4: alerting.repeat: invalid duration "1x"`, "checks[0].port: required", `line 8: checks[0].window: invalid duration "5q"`}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("missing %q in:\n%s", w, r.stdout)
		}
	}
	if r.code != 1 || !strings.Contains(r.stderr, "invalid (5 problems)") {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
}
