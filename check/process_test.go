package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// startNamed copies sleep to a temp dir as name and runs it; argv0, when
// set, replaces argv[0] (like exec -a). The process is killed at cleanup.
func startNamed(t testing.TB, name, argv0 string, args ...string) *exec.Cmd {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	bin := filepath.Join(t.TempDir(), name)
	copyFile(t, src, bin)
	if len(args) == 0 {
		args = []string{"600"}
	}
	var cmd *exec.Cmd
	for try := 0; ; try++ {
		cmd = exec.Command(bin, args...)
		if argv0 != "" {
			cmd.Args[0] = argv0
		}
		err = cmd.Start()
		// A binary just written may be busy for a moment if another
		// goroutine forked while its fd was open.
		if errors.Is(err, syscall.ETXTBSY) && try < 50 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// startScript writes a /bin/sh script named name and runs it.
func startScript(t testing.TB, name, body string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	var err error
	for try := 0; ; try++ {
		cmd = exec.Command(path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err = cmd.Start(); errors.Is(err, syscall.ETXTBSY) && try < 50 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// uniq makes a process name no other test or program uses (at most 15
// bytes with a suffix of up to 4).
func uniq(suffix string) string {
	return fmt.Sprintf("mj%d%s", os.Getpid()%1000000, suffix)
}

func newProcessT(t *testing.T, cfg config.Check) *processCheck {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "proc"
	}
	cfg.Type = "process"
	c, err := NewProcess(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*processCheck)
}

// stop kills cmd and reaps it.
func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// TestProcessTexts checks the original script's texts for a process of the
// test's own name (never httpd itself: an Apache on the machine must not
// change the outcome).
func TestProcessTexts(t *testing.T) {
	name := uniq("httpd")
	c := newProcessT(t, config.Check{Name: "web", Process: name})
	if r := c.Run(context.Background()); r.OK {
		t.Fatalf("%s found before it was started: %+v", name, r)
	}
	cmd := startNamed(t, name, "")
	r := c.Run(context.Background())
	if !r.OK || r.Firing != "" || !strings.Contains(r.Detail, strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("running %s: %+v", name, r)
	}
	if want := "[복구] " + name + " 프로세스가 다시 동작합니다."; r.Resolved != want {
		t.Errorf("resolved = %q, want %q", r.Resolved, want)
	}
	if r.Check != "web" || r.Severity != "warning" || r.At.IsZero() {
		t.Errorf("result metadata: %+v", r)
	}
	stop(cmd)
	r = c.Run(context.Background())
	if r.OK {
		t.Fatalf("killed %s still found: %+v", name, r)
	}
	if want := "[경고] " + name + " 프로세스가 동작하지 않습니다."; r.Firing != want {
		t.Errorf("firing = %q, want %q", r.Firing, want)
	}
	if want := "no process named " + name + " (0 < min 1)"; r.Detail != want {
		t.Errorf("detail = %q, want %q", r.Detail, want)
	}
}

func TestProcessMatch(t *testing.T) {
	long := uniq("-a-long-process-name") // longer than comm keeps
	startNamed(t, long, "")
	startNamed(t, uniq("b"), uniq("argv"))
	long2 := uniq("-another-long-name")
	startNamed(t, long2, "something-else")
	script := uniq("-a-long-script-name")
	startScript(t, script, "sleep 600\nexit 0\n")
	startNamed(t, uniq("c"), "", "3600.25")
	startNamed(t, uniq("d"), "")
	startNamed(t, uniq("d"), "")

	tests := []struct {
		name   string
		cfg    config.Check
		ok     bool
		count  int
		firing string
	}{
		{"long name via argv0", config.Check{Process: long}, true, 1, ""},
		{"comm, argv0 differs", config.Check{Process: uniq("b")}, true, 1, ""},
		{"argv0 alone is not the name (like pgrep -x)", config.Check{Process: uniq("argv")}, false, 0, ""},
		{"long name, argv0 differs", config.Check{Process: long2}, false, 0, ""},
		{"long-named script run by sh", config.Check{Process: script}, true, 1, ""},
		{"truncated prefix alone is not a match", config.Check{Process: long[:commLen] + "zz"}, false, 0, ""},
		{"cmdline regex", config.Check{Cmdline: uniq("c") + ` 3600\.25$`}, true, 1, ""},
		{"name and cmdline both", config.Check{Process: uniq("c"), Cmdline: `3600\.25`}, true, 1, ""},
		{"name but not cmdline", config.Check{Process: uniq("d"), Cmdline: `3600\.25`}, false, 0, ""},
		{"two of two", config.Check{Process: uniq("d"), MinCount: 2, MaxCount: 2}, true, 2, ""},
		{"too few", config.Check{Name: "w", Process: uniq("d"), MinCount: 3}, false, 2,
			"[경고] " + uniq("d") + " 프로세스 수가 부족합니다 (2개, 최소 3개)."},
		{"too many", config.Check{Process: uniq("d"), MaxCount: 1}, false, 2,
			"[경고] " + uniq("d") + " 프로세스 수가 너무 많습니다 (2개, 최대 1개)."},
		{"label is the check name without process", config.Check{Name: "jobs", Cmdline: "^no-such-thing-" + uniq("")}, false, 0,
			"[경고] jobs 프로세스가 동작하지 않습니다."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newProcessT(t, tt.cfg)
			r := c.Run(context.Background())
			if r.OK != tt.ok {
				t.Fatalf("OK = %v, want %v: %s", r.OK, tt.ok, r.Detail)
			}
			ids, _ := c.watching()
			if len(ids) != tt.count {
				t.Errorf("matched %d, want %d: %s", len(ids), tt.count, r.Detail)
			}
			if tt.firing != "" && r.Firing != tt.firing {
				t.Errorf("firing = %q, want %q", r.Firing, tt.firing)
			}
		})
	}
}

func TestProcessZombieDoesNotCount(t *testing.T) {
	cmd := startNamed(t, uniq("z"), "")
	c := newProcessT(t, config.Check{Process: uniq("z")})
	if r := c.Run(context.Background()); !r.OK {
		t.Fatalf("before kill: %s", r.Detail)
	}
	cmd.Process.Signal(syscall.SIGKILL) // not reaped: a zombie until cleanup
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := c.Run(context.Background())
		if !r.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("zombie still counted: %s", r.Detail)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", cmd.Process.Pid)); err != nil {
		t.Fatalf("expected the zombie to still exist: %v", err)
	}
}

func TestProcessPidfile(t *testing.T) {
	cmd := startNamed(t, uniq("p"), "")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	live := write("live.pid", fmt.Sprintf("%d\n", cmd.Process.Pid))
	dead := startNamed(t, uniq("q"), "")
	deadPid := dead.Process.Pid
	stop(dead)
	tests := []struct {
		name   string
		cfg    config.Check
		ok     bool
		broken bool
	}{
		{"alive", config.Check{Pidfile: live}, true, false},
		{"alive and named so", config.Check{Pidfile: live, Process: uniq("p")}, true, false},
		{"alive but named otherwise", config.Check{Pidfile: live, Process: uniq("other")}, false, false},
		{"dead pid", config.Check{Pidfile: write("dead.pid", strconv.Itoa(deadPid))}, false, false},
		{"missing file", config.Check{Pidfile: filepath.Join(dir, "none.pid")}, false, false},
		{"empty file", config.Check{Pidfile: write("empty.pid", "")}, false, false},
		{"garbage", config.Check{Pidfile: write("bad.pid", "httpd\n")}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newProcessT(t, tt.cfg).Run(context.Background())
			if r.OK != tt.ok {
				t.Fatalf("OK = %v, want %v: %s", r.OK, tt.ok, r.Detail)
			}
			if broken := r.Unknown && strings.Contains(r.Firing, "점검 불가: "); broken != tt.broken {
				t.Errorf("firing %q, broken want %v", r.Firing, tt.broken)
			}
		})
	}
}

// watchT runs c.Watch and returns the channel of emitted results.
func watchT(t *testing.T, c *processCheck) (<-chan Result, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan Result, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func(r Result) { results <- r }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	})
	return results, cancel
}

func TestProcessWatchReportsExit(t *testing.T) {
	for _, mode := range []struct {
		name    string
		noPidfd bool
		within  time.Duration
	}{{"pidfd", false, time.Second}, {"poll fallback", true, 3 * time.Second}} {
		t.Run(mode.name, func(t *testing.T) {
			name := uniq("w")
			if mode.noPidfd {
				name = uniq("wp")
			}
			keep := startNamed(t, name, "")
			victim := startNamed(t, name, "")
			c := newProcessT(t, config.Check{Name: "web", Process: name, MinCount: 2})
			c.noPidfd = mode.noPidfd
			if r := c.Run(context.Background()); !r.OK {
				t.Fatalf("initial run: %s", r.Detail)
			}
			results, _ := watchT(t, c)
			time.Sleep(50 * time.Millisecond) // let Watch arm
			killed := time.Now()
			stop(victim)
			select {
			case r := <-results:
				t.Logf("%s reported the exit after %s", mode.name, time.Since(killed))
				if r.OK || !strings.Contains(r.Firing, "부족합니다 (1개, 최소 2개)") {
					t.Fatalf("result after exit: %+v", r)
				}
			case <-time.After(mode.within):
				t.Fatalf("exit not reported within %s", mode.within)
			}
			// Watch re-arms on the survivor.
			stop(keep)
			select {
			case r := <-results:
				if r.OK || r.Firing != "[경고] "+name+" 프로세스가 동작하지 않습니다." {
					t.Fatalf("result after the last exit: %+v", r)
				}
			case <-time.After(mode.within):
				t.Fatalf("second exit not reported within %s", mode.within)
			}
		})
	}
}

func TestProcessWatchFollowsNewProcesses(t *testing.T) {
	name := uniq("n")
	c := newProcessT(t, config.Check{Process: name})
	if r := c.Run(context.Background()); r.OK {
		t.Fatalf("nothing started yet, got OK: %s", r.Detail)
	}
	results, _ := watchT(t, c)
	cmd := startNamed(t, name, "")
	if r := c.Run(context.Background()); !r.OK { // the interval run finds it
		t.Fatalf("after start: %s", r.Detail)
	}
	stop(cmd)
	select {
	case r := <-results:
		if r.OK {
			t.Fatalf("after exit: %+v", r)
		}
	case <-time.After(time.Second):
		t.Fatal("exit of a process found after Watch started was not reported")
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in    string
		state byte
		start uint64
		err   bool
	}{
		{"1234 (httpd) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10", 'S', 98765, false},
		{"77 (a) b) (c) Z 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0", 'Z', 42, false},
		{"77 (short) R 1 2", 0, 0, true},
		{"no parens", 0, 0, true},
	}
	for _, tt := range tests {
		ps, err := parseStat([]byte(tt.in))
		if (err != nil) != tt.err || ps.state != tt.state || ps.start != tt.start {
			t.Errorf("parseStat(%q) = %+v, %v", tt.in, ps, err)
		}
	}
}

func BenchmarkProcessScan(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  config.Check
	}{
		{"name", config.Check{Process: "httpd"}},
		{"cmdline", config.Check{Cmdline: "httpd -DFOREGROUND"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.Name = "bench"
			c, err := NewProcess(bc.cfg, Deps{})
			if err != nil {
				b.Fatal(err)
			}
			entries, _ := os.ReadDir("/proc")
			procs := 0
			for _, e := range entries {
				if _, ok := atoiPID(e.Name()); ok {
					procs++
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Run(context.Background())
			}
			b.ReportMetric(float64(procs), "procs")
		})
	}
}
