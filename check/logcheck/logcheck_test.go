package logcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/logwatch"
	"golang.org/x/text/encoding/korean"
)

// clock is a fake clock for Deps.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestValidate(t *testing.T) {
	base := config.Check{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory"}
	cases := []struct {
		name string
		edit func(*config.Check)
		want []string // substrings, one per expected error
	}{
		{"journal ok", func(*config.Check) {}, nil},
		{"file ok", func(c *config.Check) {
			c.Journal, c.Path, c.Regex, c.Encoding = false, "/var/log/messages", true, "cp949"
		}, nil},
		{"neither", func(c *config.Check) { c.Journal = false }, []string{"checks[2].path: one of path or journal: true is required"}},
		{"both", func(c *config.Check) { c.Path = "/var/log/messages" }, []string{"checks[2].journal: set either path or journal: true, not both"}},
		{"relative path", func(c *config.Check) { c.Journal, c.Path = false, "messages" }, []string{"checks[2].path: must be an absolute path"}},
		{"unit without journal", func(c *config.Check) { c.Journal, c.Path, c.Unit = false, "/x.log", "nginx" }, []string{"checks[2].unit: only applies with journal: true"}},
		{"no pattern", func(c *config.Check) { c.Pattern = "" }, []string{"checks[2].pattern: required"}},
		{"bad regex", func(c *config.Check) { c.Pattern, c.Regex = "Out of (memory", true }, []string{"checks[2].pattern: invalid regular expression"}},
		{"literal with a parenthesis", func(c *config.Check) { c.Pattern = "Out of (memory" }, nil},
		{"negative window", func(c *config.Check) { c.Window = config.Duration(-time.Second) }, []string{"checks[2].window: must not be negative"}},
		{"negative count", func(c *config.Check) { c.Count = -1 }, []string{"checks[2].count: must not be negative"}},
		{"encoding", func(c *config.Check) { c.Encoding = "latin1" }, []string{`checks[2].encoding: must be utf-8 or cp949, not "latin1"`}},
		{"template field", func(c *config.Check) { c.Message = "{{.Nope}}" }, []string{"checks[2].message"}},
		{"template ok", func(c *config.Check) { c.Message = "{{.Name}} {{.Pattern}} {{.Path}} {{.Count}} {{.Line}}" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			errs := Validate(cfg, "checks[2]")
			if len(errs) != len(c.want) {
				t.Fatalf("Validate = %v, want %d errors %q", errs, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], w)
				}
			}
		})
	}
	if _, err := New(config.Check{Name: "bad", Type: "log"}, check.Deps{}); err == nil {
		t.Error("New accepted a check without path and pattern")
	}
}

// watched starts c.Watch and returns the channel of emitted results.
func watched(t *testing.T, c check.Checker) <-chan check.Result {
	t.Helper()
	w, ok := c.(check.Watcher)
	if !ok {
		t.Fatal("log check is not a check.Watcher")
	}
	out := make(chan check.Result, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx, func(r check.Result) { out <- r }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	return out
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func waitResult(t *testing.T, ch <-chan check.Result) check.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no result emitted")
	}
	return check.Result{}
}

// waitFollowing appends non-matching lines until Follow has surely opened
// the file (an inotify-driven follower picks them up at once).
func waitFollowing(t *testing.T, path string) {
	t.Helper()
	appendLines(t, path, "warming up")
	time.Sleep(300 * time.Millisecond)
}

func TestFileMatchFiresAtOnceAndResolvesAfterWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "Nov 25 14:00:00 web01 kernel: Out of memory: old line, before munja started")
	clk := newClock()
	c, err := New(config.Check{Name: "oom", Type: "log", Path: path, Pattern: "Out of memory", Window: config.Duration(5 * time.Minute)},
		check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "not following") {
		t.Fatalf("before Watch: %+v", r)
	}
	results := watched(t, c)
	waitFollowing(t, path)
	if r := c.Run(context.Background()); !r.OK {
		t.Fatalf("old content fired: %+v", r)
	}

	appendLines(t, path, "Nov 25 14:03:00 web01 sshd[1]: Accepted publickey")
	start := time.Now()
	appendLines(t, path, "Nov 25 14:03:01 web01 kernel: Out of memory: Killed process 4242 (java)")
	r := waitResult(t, results)
	t.Logf("matching line → emitted Result: %v", time.Since(start))
	if r.OK || r.Check != "oom" || r.Severity != "warning" {
		t.Fatalf("emitted %+v", r)
	}
	if want := "[경고] 시스템 로그에서 'Out of memory' 탐지됨."; r.Firing != want {
		t.Errorf("Firing = %q, want %q", r.Firing, want)
	}
	if want := "[복구] 시스템 로그에서 'Out of memory' 더 이상 탐지되지 않습니다."; r.Resolved != want {
		t.Errorf("Resolved = %q, want %q", r.Resolved, want)
	}
	if !strings.Contains(r.Detail, "last: Nov 25 14:03:01 web01 kernel: Out of memory: Killed process 4242 (java)") {
		t.Errorf("Detail = %q", r.Detail)
	}

	// More matches while failing emit nothing new; Run still fails.
	appendLines(t, path, "kernel: Out of memory again")
	time.Sleep(200 * time.Millisecond)
	if len(results) != 0 {
		t.Errorf("extra emit while failing: %+v", <-results)
	}
	clk.Advance(4 * time.Minute)
	if r := c.Run(context.Background()); r.OK || !strings.Contains(r.Detail, "2 matches") {
		t.Fatalf("within the window: %+v", r)
	}
	clk.Advance(61 * time.Second) // both matches older than 5m now
	r = c.Run(context.Background())
	if !r.OK || r.Firing != "" || r.Resolved != "[복구] 시스템 로그에서 'Out of memory' 더 이상 탐지되지 않습니다." {
		t.Fatalf("after the window: %+v", r)
	}
	// A new match fires again, at once.
	appendLines(t, path, "kernel: Out of memory: third")
	if r := waitResult(t, results); r.OK {
		t.Fatalf("second incident: %+v", r)
	}
}

func TestWindowCount(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "app.log")
	appendLines(t, path, "boot")
	c, err := New(config.Check{Name: "seg", Type: "log", Path: path, Pattern: "segfault", Count: 3, Window: config.Duration(time.Minute)},
		check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	lc := c.(*logCheck)
	steps := []struct {
		advance time.Duration
		match   bool
		fires   bool // observe reports the start of failing
		ok      bool // Run afterwards
	}{
		{0, true, false, true},                  // 1 in window
		{20 * time.Second, true, false, true},   // 2
		{20 * time.Second, true, true, false},   // 3 within 40s: failing
		{10 * time.Second, true, false, false},  // 4, still failing, no new fire
		{25 * time.Second, false, false, false}, // t=75s: the first left; 3 remain (20s, 40s, 50s)
		{6 * time.Second, false, false, true},   // t=81s: only 40s and 50s remain
		{0, true, true, false},                  // 3 again: fires again
		{2 * time.Minute, false, false, true},   // all gone
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if s.match {
			if got := lc.observe([]byte("app[1]: segfault at 0")); got != s.fires {
				t.Fatalf("step %d: observe = %v, want %v", i, got, s.fires)
			}
		}
		if r := c.Run(context.Background()); r.OK != s.ok {
			t.Fatalf("step %d: Run OK = %v, want %v (%s)", i, r.OK, s.ok, r.Detail)
		}
	}
}

func TestDefaultWindowAndTemplates(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	cfg := config.Check{
		Name: "oom", Type: "log", Path: path, Pattern: "Out of (memory|swap)", Regex: true, Severity: "critical",
		Message:  "[{{.Name}}] {{.Path}}: {{.Count}}× '{{.Pattern}}' — {{.Line}}",
		Resolved: "[복구] {{.Name}} ok",
	}
	c, err := New(cfg, check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	lc := c.(*logCheck)
	long := "kernel: Out of swap: " + strings.Repeat("가", 100) // 21 + 300 bytes
	lc.observe([]byte(long))
	r := c.Run(context.Background())
	wantLine := long[:198] // 200 bytes would cut a 3-byte character
	if want := "[oom] " + path + ": 1× 'Out of (memory|swap)' — " + wantLine; r.Firing != want {
		t.Errorf("Firing = %q, want %q", r.Firing, want)
	}
	if r.Resolved != "[복구] oom ok" || r.Severity != "critical" {
		t.Errorf("Resolved, Severity = %q, %q", r.Resolved, r.Severity)
	}
	clk.Advance(DefaultWindow - time.Second)
	if r := c.Run(context.Background()); r.OK {
		t.Error("OK before the default window of 5m passed")
	}
	clk.Advance(time.Second)
	if r := c.Run(context.Background()); !r.OK {
		t.Errorf("still failing after the default window: %s", r.Detail)
	}
}

func TestCP949File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mes.log")
	enc := func(s string) string {
		b, err := korean.EUCKR.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	appendLines(t, path, enc("14:00 설비 정상"))
	c, err := New(config.Check{Name: "mes", Type: "log", Path: path, Pattern: "메모리 부족", Encoding: "cp949"}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	results := watched(t, c)
	waitFollowing(t, path)
	appendLines(t, path, enc("14:03 설비 정상"), enc("14:04 [MES] 메모리 부족 발생"))
	r := waitResult(t, results)
	if r.OK || r.Firing != "[경고] 시스템 로그에서 '메모리 부족' 탐지됨." || !strings.Contains(r.Detail, "last: 14:04 [MES] 메모리 부족 발생") {
		t.Fatalf("result %+v", r)
	}
}

func TestMissingFileCannotCheckAtOnce(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "missing.log")
	c, err := New(config.Check{Name: "app", Type: "log", Path: path, Pattern: "FATAL"}, check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing follows it (munja check --once): unknown at once.
	r := c.Run(context.Background())
	if r.OK || !r.Unknown || r.Firing != "[경고] app 점검 불가: 로그 파일이 없습니다 ("+path+")." ||
		r.Resolved != "[복구] app 점검이 다시 동작합니다." || !strings.Contains(r.Detail, "no such file") {
		t.Fatalf("missing file: %+v", r)
	}
	// Followed from the start (munja serve): unknown at once too.
	results := watched(t, c)
	if r := c.Run(context.Background()); !r.Unknown {
		t.Fatalf("followed, missing since the start: %+v", r)
	}
	// The file appears: the check sees again, and lines in it count.
	appendLines(t, path, "starting")
	if r := c.Run(context.Background()); !r.OK || r.Unknown {
		t.Fatalf("after the file appeared: %+v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		appendLines(t, path, "FATAL: boom")
		select {
		case r := <-results:
			if r.OK || r.Unknown || !strings.Contains(r.Detail, "last: FATAL: boom") {
				t.Fatalf("emitted %+v", r)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("a match in the file that appeared was not seen")
		}
	}
}

func TestUnreadableFileCannotCheck(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	path := filepath.Join(t.TempDir(), "secret.log")
	if err := os.WriteFile(path, []byte("x\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	c, err := New(config.Check{Name: "app", Type: "log", Path: path, Pattern: "FATAL"}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Run(context.Background()); !r.Unknown || r.Firing != "[경고] app 점검 불가: 로그 파일을 읽을 수 없습니다 ("+path+")." {
		t.Fatalf("unreadable file: %+v", r)
	}
}

func TestDirectoryIsNotALogFile(t *testing.T) {
	dir := t.TempDir()
	c, err := New(config.Check{Name: "app", Type: "log", Path: dir, Pattern: "FATAL"}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Run(context.Background()); !r.Unknown || r.Firing != "[경고] app 점검 불가: 로그 파일을 읽을 수 없습니다 ("+dir+")." {
		t.Fatalf("a directory: %+v", r)
	}
}

func TestRotatedFileGetsOneIntervalOfGrace(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	c, err := New(config.Check{Name: "app", Type: "log", Path: path, Pattern: "FATAL", Interval: config.Duration(30 * time.Second)},
		check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	watched(t, c)
	if r := c.Run(context.Background()); !r.OK {
		t.Fatalf("readable: %+v", r)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if r := c.Run(context.Background()); !r.OK || r.Unknown || !strings.Contains(r.Detail, "no such file") {
		t.Fatalf("missing for a moment (rotation): %+v", r)
	}
	clk.Advance(30 * time.Second) // one interval later, still missing
	r := c.Run(context.Background())
	if !r.Unknown || r.Firing != "[경고] app 점검 불가: 로그 파일이 없습니다 ("+path+")." {
		t.Fatalf("missing for an interval: %+v", r)
	}
	appendLines(t, path, "new file")
	if r := c.Run(context.Background()); !r.OK || r.Unknown {
		t.Fatalf("the new file: %+v", r)
	}
	// Gone again an hour later: the grace counts from this disappearance,
	// not the first. (The follower may notice the removal before Run does;
	// the clock does not move after the removal, so either way it is fresh.)
	clk.Advance(time.Hour)
	os.Remove(path)
	if r := c.Run(context.Background()); r.Unknown {
		t.Fatalf("the grace counted from the first disappearance: %+v", r)
	}
}

func TestMatchBeatsCannotCheck(t *testing.T) {
	clk := newClock()
	path := filepath.Join(t.TempDir(), "gone.log")
	c, err := New(config.Check{Name: "app", Type: "log", Path: path, Pattern: "FATAL"}, check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.(*logCheck).observe([]byte("FATAL: seen before the file went"))
	if r := c.Run(context.Background()); r.OK || r.Unknown || !strings.HasPrefix(r.Firing, "[경고] 시스템 로그에서 'FATAL'") {
		t.Fatalf("a match within the window: %+v", r)
	}
}

func TestJournal(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "journalctl")
	script := `#!/bin/sh
case " $* " in *" -f "*) ;; *) echo '{"MESSAGE":"boot","__REALTIME_TIMESTAMP":"1"}'; exit 0;; esac
sleep 0.3
echo '{"MESSAGE":"Started nginx.","__REALTIME_TIMESTAMP":"1764050400000000"}'
echo '{"MESSAGE":"kernel: Out of memory: Killed process 77 (nginx)","__REALTIME_TIMESTAMP":"1764050401000000"}'
exec sleep 60
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := New(config.Check{Name: "oom", Type: "log", Journal: true, Unit: "nginx", Pattern: "Out of memory"}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c.(*logCheck).journalOpts = []logwatch.JournalOption{logwatch.WithJournalctl(bin)}
	r := waitResult(t, watched(t, c))
	if r.OK || r.Firing != "[경고] 시스템 로그에서 'Out of memory' 탐지됨." || !strings.Contains(r.Detail, "in journal:nginx") {
		t.Fatalf("result %+v", r)
	}
}

// fakeJournalctl writes a journalctl that exits with status code after
// printing msg to stderr, like one that finds no journal.
func fakeJournalctl(t *testing.T, code int, msg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "journalctl")
	script := fmt.Sprintf("#!/bin/sh\necho %q >&2\nexit %d\n", msg, code)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestJournalUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name, bin, detail string
	}{
		{"no journalctl", "/nonexistent/journalctl", "no such file"},
		{"journalctl fails", fakeJournalctl(t, 1, "Failed to open journal: Permission denied"), "Permission denied"},
		{"no journal files", fakeJournalctl(t, 0, "No journal files were found."), "No journal files were found."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(config.Check{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory"}, check.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			c.(*logCheck).journalOpts = []logwatch.JournalOption{logwatch.WithJournalctl(tt.bin)}
			// munja check --once: at once.
			r := c.Run(context.Background())
			if r.OK || !r.Unknown || r.Firing != "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다." ||
				r.Resolved != "[복구] oom 점검이 다시 동작합니다." || !strings.Contains(r.Detail, tt.detail) {
				t.Fatalf("Run = %+v", r)
			}
			// munja serve: Watch fails, and Run says so at once.
			err = c.(check.Watcher).Watch(context.Background(), func(check.Result) {})
			if !errors.Is(err, logwatch.ErrNoJournal) {
				t.Fatalf("Watch = %v, want ErrNoJournal", err)
			}
			if r := c.Run(context.Background()); !r.Unknown {
				t.Fatalf("Run after Watch = %+v", r)
			}
		})
	}
}

// TestThisHostsJournal runs a journal check against this machine's own
// journal, which the test machines do not have (no systemd-journald): the
// check must say it cannot check. Where the journal can be read, a
// journalctl that finds none stands in, so the test does not depend on
// the host.
func TestThisHostsJournal(t *testing.T) {
	c, err := New(config.Check{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory"}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if logwatch.ProbeJournal(context.Background()) == nil {
		t.Log("this host has a readable journal: using a journalctl that finds none")
		c.(*logCheck).journalOpts = []logwatch.JournalOption{logwatch.WithJournalctl(fakeJournalctl(t, 0, "No journal files were found."))}
	}
	// munja check --once.
	r := c.Run(context.Background())
	if r.OK || !r.Unknown || r.Firing != "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다." {
		t.Fatalf("Run = %+v", r)
	}
	t.Logf("detail: %s", r.Detail)
	// munja serve: following fails, the check still cannot check.
	if err := c.(check.Watcher).Watch(context.Background(), func(r check.Result) { t.Errorf("Watch emitted %+v", r) }); !errors.Is(err, logwatch.ErrNoJournal) {
		t.Fatalf("Watch = %v, want ErrNoJournal", err)
	}
	if r := c.Run(context.Background()); !r.Unknown {
		t.Fatalf("Run after Watch = %+v", r)
	}
}

func TestJournalStoppingGetsOneIntervalOfGrace(t *testing.T) {
	clk := newClock()
	bin := filepath.Join(t.TempDir(), "journalctl")
	script := `#!/bin/sh
case " $* " in *" -f "*) ;; *) echo '{"MESSAGE":"boot","__REALTIME_TIMESTAMP":"1"}'; exit 0;; esac
sleep 0.2
echo "journal rotated away" >&2
exit 1
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := New(config.Check{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory", Interval: config.Duration(10 * time.Second)},
		check.Deps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.(*logCheck).journalOpts = []logwatch.JournalOption{logwatch.WithJournalctl(bin)}
	c.(*logCheck).watching++ // as while munja serve follows it
	err = c.(check.Watcher).Watch(context.Background(), func(check.Result) {})
	if err == nil || !strings.Contains(err.Error(), "journal rotated away") {
		t.Fatalf("Watch = %v", err)
	}
	if r := c.Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "journal rotated away") {
		t.Fatalf("within the grace: %+v", r)
	}
	clk.Advance(10 * time.Second)
	if r := c.Run(context.Background()); !r.Unknown {
		t.Fatalf("after an interval: %+v", r)
	}
}
