package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// TestLogWindowSurvivesRestart is issue 12 with the real binary: a log
// match seen before munja serve restarts keeps the check failing for the
// rest of its window (no early "[복구]", no second "[경고]"), and a match
// written while munja was stopped is read when it starts again.
func TestLogWindowSurvivesRestart(t *testing.T) {
	const window = 8 * time.Second
	logPath := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(logPath, []byte("boot\n"), 0o644)
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, fmt.Sprintf(`checks:
  - {name: oom, type: log, path: %q, pattern: "Out of memory", window: %s}
alerting:
  interval: 1s
  recipients: ["010-1111-2222"]
`, logPath, window))
	alert := "[경고] 시스템 로그에서 'Out of memory' 탐지됨."
	recovered := "[복구] 시스템 로그에서 'Out of memory' 더 이상 탐지되지 않습니다."
	appendLog := func(line string) {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
	stop := func(p *proc) {
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	}

	p := startServe(t, cfg, fake.Key)
	time.Sleep(1500 * time.Millisecond) // the follower has opened the file
	appendLog("Nov 25 14:03:01 web01 kernel: Out of memory: Killed process 4242 (java)")
	matched := time.Now()
	waitText(t, fake, alert, 5*time.Second)
	stop(p)
	p = startServe(t, cfg, fake.Key)
	restarted := time.Since(matched)
	t.Logf("match → restarted: %s", restarted.Round(time.Millisecond))
	if restarted > window-3*time.Second {
		t.Skipf("the restart took %s, too long to test a %s window", restarted, window)
	}

	// Several intervals after the restart, still inside the window.
	time.Sleep(window - 1500*time.Millisecond - time.Since(matched))
	if n, m := countText(fake, alert), countText(fake, recovered); n != 1 || m != 0 {
		t.Fatalf("inside the window after a restart: %d alerts, %d recoveries; sent %q", n, m, gatewayTexts(fake))
	}
	waitText(t, fake, recovered, 10*time.Second)
	if took := time.Since(matched); took < window {
		t.Errorf("recovered %s after the match, before the window (%s) passed", took, window)
	}
	time.Sleep(1500 * time.Millisecond)
	if n, m := countText(fake, alert), countText(fake, recovered); n != 1 || m != 1 {
		t.Fatalf("one incident: %d alerts, %d recoveries; sent %q", n, m, gatewayTexts(fake))
	}

	// A match written while munja is stopped pages when it starts again.
	stop(p)
	appendLog("kernel: Out of memory: while munja was stopped")
	startServe(t, cfg, fake.Key)
	again := time.Now()
	for countText(fake, alert) < 2 {
		if time.Since(again) > 10*time.Second {
			t.Fatalf("a match written while stopped was not read; sent %q", gatewayTexts(fake))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
