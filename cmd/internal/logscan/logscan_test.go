package logscan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlain(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--count", "--pattern", "x", "f"}, true},
		{[]string{"--pattern=x", "-", "--regex"}, true},
		{[]string{"--help"}, false},
		{[]string{"--pattern", "x", "-h"}, false},
		{[]string{"-help", "f"}, false},
		{[]string{"--config", "/etc/munja/munja.yaml", "--pattern", "x", "f"}, false},
		{[]string{"--pattern", "x", "-config=/c", "f"}, false},
		{[]string{"--pattern", "x", "--", "--help", "--config"}, true}, // files named so
		{[]string{"--pattern", "help", "config"}, true},
	} {
		if got := plain(c.args); got != c.want {
			t.Errorf("plain(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(a, []byte("x\nkernel: Out of memory: Killed\ny\nout of memory\n"), 0o644)
	os.WriteFile(b, []byte("Out of memory\nOut of memory again"), 0o644) // no final newline
	for _, c := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"--count", "--pattern", "Out of memory", a}, 0, "1\n", ""},
		{[]string{"--pattern", "Out of memory", "--ignore-case", a}, 0, "kernel: Out of memory: Killed\nout of memory\n", ""},
		{[]string{a, b, "--count", "--pattern", "Out of memory"}, 0, a + ":1\n" + b + ":2\n", ""},
		{[]string{"--pattern", "again", a, b}, 0, b + ":Out of memory again\n", ""},
		{[]string{"--pattern", "nothing", a}, 1, "", ""},
		{[]string{"--pattern", "x"}, 2, "", "usage: munja logscan"},
		{[]string{"--pattern", "x", filepath.Join(dir, "none")}, 2, "", "munja logscan: " + filepath.Join(dir, "none") + ": open"},
		{[]string{"--regex", "--pattern", "(", a}, 2, "", "munja logscan: --pattern:"},
		{[]string{"--encoding", "latin1", "--pattern", "x", a}, 2, "", "unknown encoding"},
		{[]string{"--bogus", a}, 2, "", "flag provided but not defined"},
	} {
		var out, errs bytes.Buffer
		code := Run(c.args, &out, &errs)
		if code != c.code || out.String() != c.stdout || !strings.Contains(errs.String(), c.errs) {
			t.Errorf("Run(%q) = %d, %q, %q; want %d, %q, %q", c.args, code, out.String(), errs.String(), c.code, c.stdout, c.errs)
		}
	}
}
