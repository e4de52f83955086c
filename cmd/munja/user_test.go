package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store/sqlite"
)

// runUser calls cmdUser in-process with stdin from a pipe.
func runUser(t *testing.T, cfg, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var so, se bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &so, stderr: &se, configPath: cfg, ctx: ctx}
	code := cmdUser(e, args)
	return cliResult{code, so.String(), se.String()}
}

func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "munja.db")
	cfg := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("database: %q\nlog:\n  level: error\n", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runUser(t, cfg, ""); r.code != 2 || !strings.Contains(r.stderr, "add NAME") {
		t.Fatalf("no args: %+v", r)
	}
	if r := runUser(t, cfg, "", "list"); r.code != 0 || !strings.Contains(r.stderr, "munja user add NAME --role admin") {
		t.Fatalf("empty list: %+v", r)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"short\n", []string{"add", "kim", "--role", "admin"}, 1, "at least 10"},
		{"", []string{"add", "kim"}, 2, "no password"},
		{"long enough pw\n", []string{"add", "kim", "--role", "root"}, 2, "--role"},
		{"long enough pw\n", []string{"add", "a b"}, 2, "one NAME"},
		{"long enough pw\n", []string{"add"}, 2, "one NAME"},
		{"long enough pw\n", []string{"frobnicate"}, 2, "unknown subcommand"},
		{"long enough pw\n", []string{"passwd", "nobody"}, 1, "no user"},
	} {
		r := runUser(t, cfg, tc.stdin, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %+v, want code %d and %q", tc.args, r, tc.code, tc.want)
		}
	}
	r := runUser(t, cfg, "correct horse battery\n", "add", "kim", "--role", "admin")
	if r.code != 0 || !strings.Contains(r.stdout, `user "kim" (admin) created`) {
		t.Fatalf("add: %+v", r)
	}
	if r := runUser(t, cfg, "another password\r\n", "add", "kim"); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("add twice: %+v", r)
	}
	if r := runUser(t, cfg, "", "list"); r.code != 0 || !strings.Contains(r.stdout, "kim") || !strings.Contains(r.stdout, "admin") {
		t.Fatalf("list: %+v", r)
	}
	check := func(pw string, want bool) {
		t.Helper()
		st, err := sqlite.Open(context.Background(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.UserByName(context.Background(), "kim")
		if err != nil {
			t.Fatal(err)
		}
		ok, err := auth.VerifyPassword(u.PasswordHash, pw)
		if err != nil || ok != want || strings.Contains(u.PasswordHash, pw) {
			t.Fatalf("password %q: %v %v", pw, ok, err)
		}
	}
	check("correct horse battery", true)
	if r := runUser(t, cfg, "a brand new one\r\n", "passwd", "kim"); r.code != 0 {
		t.Fatalf("passwd: %+v", r)
	}
	check("a brand new one", true)
	check("correct horse battery", false)

	// Both changes are in the audit log, by the CLI's user; the refusals are not.
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	audit, err := st.ListAudit(context.Background(), 10)
	if err != nil || len(audit) != 2 || audit[0].Action != "user.password" || audit[1].Action != "user.create" ||
		audit[1].Detail != "role admin" || audit[0].Target != "kim" || audit[0].Actor != "cli:"+currentUser() {
		t.Fatalf("audit log %+v, %v", audit, err)
	}
}

// TestTokenUsageOpensNothing: asking for help or mistyping a subcommand
// prints the usage without opening (and creating) the database.
func TestTokenUsageOpensNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "munja.db")
	cfg := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("database: %q\n", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) cliResult {
		var so, se bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &so, stderr: &se, configPath: cfg, ctx: context.Background()}
		return cliResult{cmdToken(e, args), so.String(), se.String()}
	}
	if r := run("--help"); r.code != 0 || !strings.Contains(r.stdout, "create NAME") {
		t.Errorf("--help: %+v", r)
	}
	if r := run("frobnicate"); r.code != 2 || !strings.Contains(r.stderr, `unknown subcommand "frobnicate"`) || !strings.Contains(r.stderr, "create NAME") {
		t.Errorf("frobnicate: %+v", r)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was opened: %v", err)
	}
	if r := run("list"); r.code != 0 {
		t.Errorf("list: %+v", r)
	}
}
