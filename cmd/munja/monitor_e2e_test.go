package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// decoyName is a process name of the test's own, in place of the httpd the
// original script watched: a test must not depend on (or be fooled by) an
// Apache running on the machine. At most 15 characters (the kernel's comm).
func decoyName(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "mjt" + hex.EncodeToString(b[:])
}

// startDecoy runs a copy of sleep named name (from decoyName) in dir.
func startDecoy(t *testing.T, dir, name string) *exec.Cmd {
	t.Helper()
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err != nil {
		src, err := os.ReadFile("/bin/sleep")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// gatewayTexts returns the texts the fake accepted, in order, one per call.
func gatewayTexts(fake *aligotest.Server) []string {
	var out []string
	for _, r := range fake.Requests() {
		if r.Path == "/send/" {
			out = append(out, r.Form.Get("msg"))
		}
	}
	return out
}

func waitText(t *testing.T, fake *aligotest.Server, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		for _, got := range gatewayTexts(fake) {
			if got == want {
				return time.Since(start)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("gateway never got %q within %s; got %q", want, within, gatewayTexts(fake))
	return 0
}

func TestMonitorPagesOnceAndRecovers(t *testing.T) {
	dir := t.TempDir()
	proc := decoyName(t)
	httpd := startDecoy(t, dir, proc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	logPath := filepath.Join(dir, "messages")
	os.WriteFile(logPath, []byte("boot\n"), 0o644)

	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, fmt.Sprintf(`checks:
  - {name: httpd, type: process, process: %s}
  - {name: web-port, type: listen, port: %d}
  - {name: oom, type: log, path: %q, pattern: "Out of memory", window: 2s}
alerting:
  interval: 1s
  repeat: 1h
  recipients: ["010-1111-2222", "01033334444"]
`, proc, port, logPath))
	p := startServe(t, cfg, fake.Key)
	time.Sleep(1500 * time.Millisecond)
	if got := gatewayTexts(fake); len(got) != 0 {
		t.Fatalf("messages while everything is fine: %q", got)
	}

	httpd.Process.Kill()
	httpd.Wait()
	took := waitText(t, fake, "[경고] "+proc+" 프로세스가 동작하지 않습니다.", 5*time.Second)
	t.Logf("process death → gateway: %s", took)
	last := fake.Requests()[len(fake.Requests())-1]
	if len(last.Receivers) != 2 || last.Form.Get("msg_type") != "SMS" {
		t.Fatalf("alert call %+v: want both recipients in one SMS call", last)
	}

	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, "Nov 25 14:03:00 host kernel: Out of memory: Killed process 4242 (java)")
	f.Close()
	took = waitText(t, fake, "[경고] 시스템 로그에서 'Out of memory' 탐지됨.", 5*time.Second)
	t.Logf("log line → gateway: %s", took)

	ln.Close()
	waitText(t, fake, fmt.Sprintf("[경고] %d 포트가 열려있지 않습니다.", port), 5*time.Second)

	// Several intervals later: still one message per incident.
	time.Sleep(2500 * time.Millisecond)
	counts := map[string]int{}
	for _, s := range gatewayTexts(fake) {
		counts[s]++
	}
	for text, n := range counts {
		if n != 1 && !strings.HasPrefix(text, "[복구]") {
			t.Fatalf("%q sent %d times: %v", text, n, counts)
		}
	}
	// The log window passed without new matches: it recovers.
	waitText(t, fake, "[복구] 시스템 로그에서 'Out of memory' 더 이상 탐지되지 않습니다.", 5*time.Second)

	// A restart neither re-sends nor forgets the open incidents.
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	before := len(gatewayTexts(fake))
	startServe(t, cfg, fake.Key)
	time.Sleep(2500 * time.Millisecond)
	if got := gatewayTexts(fake); len(got) != before {
		t.Fatalf("restart re-sent: %q", got[before:])
	}
	startDecoy(t, dir, proc)
	waitText(t, fake, "[복구] "+proc+" 프로세스가 다시 동작합니다.", 5*time.Second)
}

func TestCheckOnceNotifyDeduplicatesAcrossRuns(t *testing.T) {
	fake := aligotest.New(t)
	proc := decoyName(t) // never started
	cfg := writeConfig(t, fake, fmt.Sprintf(`checks:
  - {name: httpd, type: process, process: %s}
alerting:
  recipients: ["01011112222"]
`, proc))
	for run := 1; run <= 3; run++ {
		r := runCLI(t, cfg, fake.Key, "", "check", "--once", "--notify")
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL") {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, r.code, r.stdout, r.stderr)
		}
	}
	texts := gatewayTexts(fake)
	if len(texts) != 1 || texts[0] != "[경고] "+proc+" 프로세스가 동작하지 않습니다." {
		t.Fatalf("cron mode sent %q, want exactly one alert", texts)
	}
	ok := runCLI(t, cfg, fake.Key, "", "check")
	if ok.code != 1 {
		t.Fatalf("plain check exit %d", ok.code)
	}
}

func TestLogscan(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "messages")
	os.WriteFile(p, []byte("a\nkernel: Out of memory: Killed process 1\nb\nOut of swap\n"), 0o644)
	r := runCLI(t, "", "", "", "logscan", "--count", "--pattern", "Out of memory", p)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
		t.Fatalf("%d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "", "", "logscan", "--regex", "--pattern", "Out of (memory|swap)", p)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("%d %q", r.code, r.stdout)
	}
	r = runCLI(t, "", "", "", "logscan", "--pattern", "nothing", p)
	if r.code != 1 {
		t.Fatalf("no match exit %d", r.code)
	}
}
