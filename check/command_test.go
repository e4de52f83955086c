package check

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

func runCommand(t *testing.T, cfg config.Check) Result {
	t.Helper()
	cfg.Name, cfg.Type = "job", "command"
	c, err := NewCommand(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Run(context.Background())
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name   string
		cfg    config.Check
		ok     bool
		firing string
		detail string
	}{
		{"argv true", config.Check{Command: []string{"true"}}, true, "", "exit status 0"},
		{"argv false", config.Check{Command: []string{"false"}}, false, "[경고] job 명령 점검 실패 (exit 1)", "exit status 1, want 0"},
		{"argv is not a shell", config.Check{Command: []string{"echo", "a;", "exit", "3"}}, true, "", "a; exit 3"},
		{"shell exit 2", config.Check{Shell: "echo hello; exit 2"}, false, "[경고] job 명령 점검 실패 (exit 2)", ": hello"},
		{"expected exit code", config.Check{Shell: "exit 3", ExitCode: 3}, true, "", ""},
		{"expected 3, got 0", config.Check{Shell: "true", ExitCode: 3}, false, "[경고] job 명령 점검 실패 (exit 0)", ""},
		{"stderr captured", config.Check{Shell: "echo oops >&2; exit 1"}, false, "", ": oops"},
		{"output matches", config.Check{Shell: "echo status=green", OutputRegex: `status=(green|yellow)`}, true, "", ""},
		{"output mismatch", config.Check{Shell: "echo status=red", OutputRegex: `status=green`}, false, "[경고] job 명령 점검 실패 (출력 불일치)", "does not match"},
		{"killed by signal", config.Check{Shell: "kill -TERM $$"}, false, "[경고] job 명령 점검 실패 (signal terminated)", "killed by signal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCommand(t, tt.cfg)
			if r.OK != tt.ok || r.Unknown || (tt.firing != "" && r.Firing != tt.firing) {
				t.Fatalf("OK %v unknown %v firing %q, want %v %q (%s)", r.OK, r.Unknown, r.Firing, tt.ok, tt.firing, r.Detail)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail = %q, want %q in it", r.Detail, tt.detail)
			}
			if r.Resolved != "[복구] job 명령 점검이 정상입니다." {
				t.Errorf("resolved = %q", r.Resolved)
			}
		})
	}
}

// A command that cannot be run says nothing about what it checks: the
// check cannot check (unknown), it does not fail.
func TestCommandCannotCheck(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    config.Check
		firing string
		detail string
	}{
		{"missing path", config.Check{Command: []string{"/nonexistent/munja-check"}},
			"[경고] job 점검 불가: 명령을 찾을 수 없습니다 (/nonexistent/munja-check).", "no such file"},
		{"not on PATH", config.Check{Command: []string{"munja-no-such-command", "-v"}},
			"[경고] job 점검 불가: 명령을 찾을 수 없습니다 (munja-no-such-command).", "executable file not found"},
		{"shell: not found", config.Check{Shell: "munja-no-such-command --check"},
			"[경고] job 점검 불가: 명령을 찾을 수 없습니다 (munja-no-such-command).", "exit status 127"},
		{"not executable", config.Check{Command: []string{notExec}},
			"[경고] job 점검 불가: 권한이 없습니다 (" + notExec + ").", "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCommand(t, tt.cfg)
			if r.OK || !r.Unknown || r.Firing != tt.firing || r.Resolved != "[복구] job 점검이 다시 동작합니다." {
				t.Fatalf("OK %v unknown %v firing %q resolved %q, want unknown %q (%s)", r.OK, r.Unknown, r.Firing, r.Resolved, tt.firing, r.Detail)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail = %q, want %q in it", r.Detail, tt.detail)
			}
		})
	}
	// A script that itself exits 127 (argv, no shell) fails: it ran.
	script := filepath.Join(dir, "exit127")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 127\n"), 0o755)
	if r := runCommand(t, config.Check{Command: []string{script}}); r.OK || r.Unknown {
		t.Errorf("exit 127 of a program run directly: %+v", r)
	}
	// exit_code: 127 asked for: it passes.
	if r := runCommand(t, config.Check{Shell: "exit 127", ExitCode: 127}); !r.OK {
		t.Errorf("expected exit 127: %+v", r)
	}
}

// gone reports whether pid has exited (no /proc entry, or a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	ps, err := parseStat(b)
	return err != nil || ps.state == 'Z' || ps.state == 'X'
}

func waitGone(t *testing.T, pidfile string) {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("child pid: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the command survived", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCommandTimeoutKillsGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	start := time.Now()
	r := runCommand(t, config.Check{
		Shell:   "sleep 30 & echo $! > " + pidfile + "; wait",
		Timeout: config.Duration(300 * time.Millisecond),
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("timeout took %s", took)
	}
	if r.OK || r.Firing != "[경고] job 명령 점검 실패 (시간 초과)" || !strings.Contains(r.Detail, "killed after 300ms") {
		t.Fatalf("timed out command: %+v", r)
	}
	waitGone(t, pidfile)
}

func TestCommandBackgroundChildDoesNotHold(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	start := time.Now()
	r := runCommand(t, config.Check{
		Shell:   "sleep 30 & echo $! > " + pidfile + "; echo done",
		Timeout: config.Duration(20 * time.Second),
	})
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a background child held the check for %s", took)
	}
	if !r.OK || !strings.Contains(r.Detail, "done") {
		t.Fatalf("result: %+v", r)
	}
	waitGone(t, pidfile)
}

func TestCommandOutputLimit(t *testing.T) {
	c, err := NewCommand(config.Check{
		Name: "big", Type: "command", Shell: "head -c 300000 /dev/zero | tr '\\0' x; echo; echo tail-marker",
		OutputRegex: "tail-marker", Message: "{{len .Output}}",
	}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run(context.Background())
	if r.OK {
		t.Fatalf("output past 64 KB was matched: %s", r.Detail)
	}
	if r.Firing != strconv.Itoa(maxOutput) {
		t.Errorf("captured output length = %s, want %d", r.Firing, maxOutput)
	}
}

func TestCappedBuffer(t *testing.T) {
	w := &cappedBuffer{max: 5}
	for _, s := range []string{"abc", "def", "ghi"} {
		if n, err := w.Write([]byte(s)); n != 3 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if string(w.b) != "abcde" {
		t.Fatalf("kept %q", w.b)
	}
}

func TestCommandDoesNotSeeMunjasSecrets(t *testing.T) {
	t.Setenv("ALIGO_KEY", "s3cret-key")
	c, err := NewCommand(config.Check{Name: "env", Type: "command", Shell: `test -z "$ALIGO_KEY" && test -n "$PATH"`}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run(context.Background())
	if !r.OK {
		t.Fatalf("the command saw ALIGO_KEY, or no PATH: %s", r.Detail)
	}
}
