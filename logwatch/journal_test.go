package logwatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeJournalctl writes a shell script standing in for journalctl: it
// answers the probe (-n 1) with probe, and when following prints entries,
// records its arguments and then waits (or exits with followExit).
func fakeJournalctl(t *testing.T, probe string, entries []string, followExit string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "journalctl")
	argsFile = filepath.Join(dir, "args")
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("case \" $* \" in *\" -f \"*) ;; *)\n" + probe + "\nexit 0;; esac\n")
	b.WriteString("echo \"$*\" > '" + argsFile + "'\n")
	for _, e := range entries {
		b.WriteString("printf '%s\\n' '" + e + "'\n")
	}
	if followExit != "" {
		b.WriteString(followExit + "\n")
	} else {
		b.WriteString("exec sleep 60\n")
	}
	if err := os.WriteFile(bin, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

const probeOK = `echo '{"MESSAGE":"Started Journal Service.","__REALTIME_TIMESTAMP":"1764000000000000"}'`

func TestFollowJournal(t *testing.T) {
	entries := []string{
		`{"__CURSOR":"s=1","MESSAGE":"kernel: Out of memory: Killed process 4242 (java)","__REALTIME_TIMESTAMP":"1764050400123456","_PID":"1"}`,
		// MESSAGE as bytes: "Out of memory \xff" is not UTF-8.
		`{"MESSAGE":[79,117,116,32,111,102,32,109,101,109,111,114,121,32,255],"__REALTIME_TIMESTAMP":"1764050400200000"}`,
		`{"MESSAGE":null,"__REALTIME_TIMESTAMP":"1764050400300000"}`,
		`not json at all`,
		`{"MESSAGE":"first line\nsecond line","__REALTIME_TIMESTAMP":"1764050400400000"}`,
		`{"MESSAGE":"재고 동기화 완료","__REALTIME_TIMESTAMP":"1764050400500000"}`,
	}
	bin, argsFile := fakeJournalctl(t, probeOK, entries, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type got struct {
		line string
		at   time.Time
	}
	lines := make(chan got, 10)
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- FollowJournal(ctx, "nginx.service", func(line []byte, at time.Time) {
			lines <- got{string(line), at}
		}, WithJournalctl(bin), WithStarted(func() { close(started) }))
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("WithStarted callback not called")
	}
	want := []got{
		{"kernel: Out of memory: Killed process 4242 (java)", time.UnixMicro(1764050400123456)},
		{"Out of memory \xff", time.UnixMicro(1764050400200000)},
		{"first line", time.UnixMicro(1764050400400000)},
		{"second line", time.UnixMicro(1764050400400000)},
		{"재고 동기화 완료", time.UnixMicro(1764050400500000)},
	}
	for i, w := range want {
		select {
		case g := <-lines:
			if g.line != w.line || !g.at.Equal(w.at) {
				t.Errorf("line %d = %q at %v, want %q at %v", i, g.line, g.at, w.line, w.at)
			}
		case err := <-done:
			t.Fatalf("FollowJournal returned early: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for line %d", i)
		}
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(args)), "-f -o json -n 0 --all -u nginx.service"; got != want {
		t.Errorf("journalctl args = %q, want %q", got, want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("FollowJournal after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FollowJournal did not return after cancel")
	}
}

func TestFollowJournalErrors(t *testing.T) {
	exits, _ := fakeJournalctl(t, probeOK, []string{`{"MESSAGE":"x","__REALTIME_TIMESTAMP":"1"}`},
		`echo "Failed to open journal: Permission denied" >&2; exit 1`)
	empty, _ := fakeJournalctl(t, `echo "No journal files were found." >&2`, nil, "")
	failing, _ := fakeJournalctl(t, `echo "Failed to get journal access: Bad message" >&2; exit 1`, nil, "")
	cases := []struct {
		name    string
		bin     string
		noJrnl  bool
		message string
	}{
		{"missing binary", filepath.Join(t.TempDir(), "no-journalctl"), true, "journal not available on this host: "},
		{"no journal files", empty, true, "journal not available on this host: journalctl: No journal files were found."},
		{"probe fails", failing, true, "Bad message"},
		{"journalctl exits", exits, false, "journalctl exited: exit status 1: Failed to open journal: Permission denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var lines []string
			err := FollowJournal(ctx, "", func(line []byte, _ time.Time) { lines = append(lines, string(line)) }, WithJournalctl(c.bin))
			if err == nil || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("err = %v, want it to contain %q", err, c.message)
			}
			if errors.Is(err, ErrNoJournal) != c.noJrnl {
				t.Errorf("errors.Is(err, ErrNoJournal) = %v, want %v", !c.noJrnl, c.noJrnl)
			}
			if c.name == "journalctl exits" && !slices.Equal(lines, []string{"x"}) {
				t.Errorf("lines before the exit = %q, want [x]", lines)
			}
		})
	}
}
