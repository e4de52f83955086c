package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/logwatch"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// runCLIPath is runCLI with PATH set to path (the munja binary is run by
// its absolute path).
func runCLIPath(t *testing.T, cfg, key, path string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, munjaBinary(t), append([]string{"--config", cfg}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "TEST_ALIGO_KEY="+key, "PATH="+path)
	return runCmd(t, cmd)
}

// noJournalPath is a PATH on which the system journal cannot be read: this
// host's own PATH when its journal cannot be read (the test machines have
// no systemd-journald), else one whose journalctl finds no journal, so the
// tests do not depend on the host.
func noJournalPath(t *testing.T) string {
	t.Helper()
	if logwatch.ProbeJournal(context.Background()) != nil {
		return os.Getenv("PATH")
	}
	t.Log("this host's journal can be read: a journalctl that finds none stands in")
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'No journal files were found.' >&2\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "journalctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + ":" + os.Getenv("PATH")
}

// TestCheckOnceCannotCheck: `munja check --once` shows checks that cannot
// check as UNKNOWN with the reason, and exits 3 (1 when one also fails).
func TestCheckOnceCannotCheck(t *testing.T) {
	fake := aligotest.New(t)
	missing := filepath.Join(t.TempDir(), "app.log")
	checks := fmt.Sprintf(`checks:
  - {name: oom, type: log, journal: true, pattern: "Out of memory"}
  - {name: app, type: log, path: %q, pattern: FATAL}
  - {name: job, type: command, command: [munja-no-such-command, --check]}
  - {name: fine, type: command, command: [/bin/true]}
alerting:
  recipients: ["01011112222"]
`, missing)
	cfg := writeConfig(t, fake, checks)
	path := noJournalPath(t)
	r := runCLIPath(t, cfg, fake.Key, path, "check", "--once")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		f := strings.Fields(line)
		rows[f[0]] = line
	}
	for name, want := range map[string][]string{
		"oom":  {"UNKNOWN", "시스템 저널을 읽을 수 없습니다: journal"},
		"app":  {"UNKNOWN", "로그 파일이 없습니다 (" + missing + "): log file: open " + missing + ": no such file"},
		"job":  {"UNKNOWN", "명령을 찾을 수 없습니다 (munja-no-such-command): exec:", "executable file not found"},
		"fine": {" ok "},
	} {
		for _, w := range want {
			if !strings.Contains(rows[name], w) {
				t.Errorf("row of %s = %q, want %q in it", name, rows[name], w)
			}
		}
	}
	t.Logf("munja check --once:\n%s", r.stdout)

	// With --notify they page, with the reason.
	r = runCLIPath(t, cfg, fake.Key, path, "check", "--once", "--notify")
	if r.code != 3 {
		t.Fatalf("--notify: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sent := strings.Join(gatewayTexts(fake), "\n")
	for _, want := range []string{
		"[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다.",
		"[경고] app 점검 불가: 로그 파일이 없습니다 (" + missing + ").",
		"[경고] job 점검 불가: 명령을 찾을 수 없습니다 (munja-no-such-command).",
	} {
		if strings.Count(sent, want) != 1 {
			t.Errorf("sent %q, want %q once", sent, want)
		}
	}

	// A check that fails as well: exit 1.
	cfg = writeConfig(t, fake, strings.Replace(checks, "[/bin/true]", "[/bin/false]", 1))
	if r := runCLIPath(t, cfg, fake.Key, path, "check", "--once"); r.code != 1 || !strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("with a failing check: exit %d\n%s", r.code, r.stdout)
	}
}

// TestConfigCheckWarnsUnreadableSources: `munja config check` passes a
// valid config but warns about each source it cannot read here.
func TestConfigCheckWarnsUnreadableSources(t *testing.T) {
	fake := aligotest.New(t)
	dir := t.TempDir()
	readable := filepath.Join(dir, "messages")
	os.WriteFile(readable, []byte("boot\n"), 0o644)
	missing := filepath.Join(dir, "typo", "mesages")
	cfg := writeConfig(t, fake, fmt.Sprintf(`checks:
  - {name: web-port, type: listen, port: 80}
  - {name: syslog, type: log, path: %q, pattern: "Out of memory"}
  - {name: oom, type: log, journal: true, pattern: "Out of memory"}
  - {name: app, type: log, path: %q, pattern: FATAL}
  - {name: job, type: command, command: [munja-no-such-command]}
  - {name: fine, type: command, command: [/bin/true]}
`, readable, missing))

	empty := t.TempDir() // a PATH without journalctl
	r := runCLIPath(t, cfg, fake.Key, empty, "config", "check")
	if r.code != 0 || !strings.Contains(r.stdout, ": ok (") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want := []string{
		"warning: checks[2] (oom): journal: cannot read the system journal here (journalctl: not found)",
		"warning: checks[3] (app): path: " + missing + " does not exist here",
		"warning: checks[4] (job): command: cannot run munja-no-such-command here: exec: \"munja-no-such-command\": executable file not found in $PATH",
	}
	var got []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "warning:") {
			got = append(got, line)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A journalctl that is there but cannot read the journal.
	r = runCLIPath(t, cfg, fake.Key, noJournalPath(t), "config", "check")
	if r.code != 0 || !strings.Contains(r.stdout, "warning: checks[2] (oom): journal: cannot read the system journal here (") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("munja config check:\n%s", r.stdout)
}

// TestServePagesCannotCheck: `munja serve` with a log check on a file that
// does not exist pages "점검 불가" once, shows it in the API and /metrics,
// and sends "점검이 다시 동작합니다" once the file appears. A file that
// disappears later gets one interval of grace.
func TestServePagesCannotCheck(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, fmt.Sprintf(`checks:
  - {name: app, type: log, path: %q, pattern: FATAL}
alerting:
  interval: 1s
  recipients: ["010-1111-2222"]
`, logPath))
	p := startServe(t, cfg, fake.Key)
	blind := "[경고] app 점검 불가: 로그 파일이 없습니다 (" + logPath + ")."
	sees := "[복구] app 점검이 다시 동작합니다."
	took := waitText(t, fake, blind, 5*time.Second)
	t.Logf("start → cannot-check page: %s", took)

	base := "http://" + p.addr
	if body := httpGet(t, base+"/api/v1/checks"); !strings.Contains(body, `"state":"cannot_check"`) || !strings.Contains(body, "no such file") {
		t.Errorf("GET /api/v1/checks: %s", body)
	}
	metrics := httpGet(t, base+"/metrics")
	if !strings.Contains(metrics, `munja_check_unknown{check="app",host=""} 1`) || strings.Contains(metrics, `munja_check_up{check="app"`) {
		t.Errorf("metrics while the check cannot check:\n%s", grepLines(metrics, "munja_check_"))
	}
	time.Sleep(2500 * time.Millisecond) // more intervals: still one message
	if n := countText(fake, blind); n != 1 {
		t.Fatalf("%q sent %d times", blind, n)
	}

	if err := os.WriteFile(logPath, []byte("boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitText(t, fake, sees, 5*time.Second)
	if metrics := httpGet(t, base+"/metrics"); !strings.Contains(metrics, `munja_check_up{check="app",host=""} 1`) ||
		!strings.Contains(metrics, `munja_check_unknown{check="app",host=""} 0`) {
		t.Errorf("metrics once it can check:\n%s", grepLines(metrics, "munja_check_"))
	}

	// Rotation: the file missing for a moment is not paged ...
	os.Rename(logPath, logPath+".1")
	time.Sleep(300 * time.Millisecond)
	os.WriteFile(logPath, nil, 0o644)
	time.Sleep(2500 * time.Millisecond)
	if n := countText(fake, blind); n != 1 {
		t.Fatalf("a rotation paged: %q sent %d times", blind, n)
	}
	// ... a file gone for good is, one interval after it went.
	gone := time.Now()
	os.Remove(logPath)
	for countText(fake, blind) < 2 {
		if time.Since(gone) > 10*time.Second {
			t.Fatalf("a log file gone for good was not paged; sent %q", gatewayTexts(fake))
		}
		time.Sleep(5 * time.Millisecond)
	}
	after := time.Since(gone)
	t.Logf("log file removed → cannot-check page: %s", after)
	if after < 900*time.Millisecond {
		t.Errorf("paged %s after the file went, before an interval (1s) of grace", after)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func countText(fake *aligotest.Server, want string) int {
	n := 0
	for _, s := range gatewayTexts(fake) {
		if s == want {
			n++
		}
	}
	return n
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
