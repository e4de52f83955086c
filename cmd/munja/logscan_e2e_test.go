package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogscanRunsBeforeOtherInits: a plain `munja logscan …` runs from
// cmd/internal/logscan's init and exits before the inits of what only the
// other commands need (GODEBUG=inittrace=1 lists each init as it runs),
// with the same output and exit codes as through main (--config first).
func TestLogscanRunsBeforeOtherInits(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "messages")
	if err := os.WriteFile(p, []byte("a\nkernel: Out of memory: Killed process 1\nb\nOut of swap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) cliResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, munjaBinary(t), args...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		return runCmd(t, cmd)
	}
	inits := func(stderr string) (n int, later []string) {
		for _, l := range strings.Split(stderr, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 || f[0] != "init" {
				continue
			}
			n++
			for _, pkg := range []string{"modernc.org/libc", "modernc.org/sqlite", "github.com/prometheus/client_golang/prometheus", "github.com/munja-sms/munja/console", "github.com/munja-sms/munja/web"} {
				if f[1] == pkg {
					later = append(later, pkg)
				}
			}
		}
		return n, later
	}
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"--count", "--pattern", "Out of memory", p}, 0, "1\n"},
		{[]string{"--regex", "--pattern", "Out of (memory|swap)", p}, 0, "kernel: Out of memory: Killed process 1\nOut of swap\n"},
		{[]string{p, p, "--count", "--pattern", "Out of"}, 0, p + ":2\n" + p + ":2\n"},
		{[]string{"--pattern", "nothing", p}, 1, ""},
		{[]string{"--pattern", "x", filepath.Join(dir, "missing")}, 2, ""},
		{[]string{"--pattern", "(", "--regex", p}, 2, ""},
	} {
		fast := run(append([]string{"logscan"}, c.args...)...)
		slow := run(append([]string{"--config", "", "logscan"}, c.args...)...)
		if fast.code != c.code || fast.stdout != c.stdout {
			t.Errorf("munja logscan %q: exit %d, %q; want %d, %q (stderr %s)", c.args, fast.code, fast.stdout, c.code, c.stdout, fast.stderr)
		}
		if slow.code != fast.code || slow.stdout != fast.stdout {
			t.Errorf("munja --config '' logscan %q: exit %d, %q; plain: %d, %q", c.args, slow.code, slow.stdout, fast.code, fast.stdout)
		}
		nf, later := inits(fast.stderr)
		ns, all := inits(slow.stderr)
		if len(later) > 0 || nf == 0 || len(all) == 0 || nf >= ns {
			t.Errorf("munja logscan %q ran %d inits (%v among them), through main %d (%v)", c.args, nf, later, ns, all)
		}
	}
	// Help still comes from main's command table.
	if r := run("logscan", "--help"); r.code != 0 || !strings.Contains(r.stdout, "usage: munja [--config FILE] logscan") {
		t.Errorf("munja logscan --help: exit %d, %q", r.code, r.stdout)
	}
}
