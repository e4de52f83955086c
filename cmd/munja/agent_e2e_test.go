package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// waitContains waits until a message the gateway got contains every part.
func waitContains(t *testing.T, fake *aligotest.Server, within time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
	next:
		for _, got := range gatewayTexts(fake) {
			for _, p := range parts {
				if !strings.Contains(got, p) {
					continue next
				}
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gateway never got a message with %q within %s; got %q", parts, within, gatewayTexts(fake))
	return ""
}

// TestAgentReportsAndIsMissed: a real `munja agent` on "web01" watches a
// process and reports to a real `munja serve`; the server pages with the
// host's name when the process dies, and again when the agent itself goes
// silent (SIGKILL: the host died or its network did).
func TestAgentReportsAndIsMissed(t *testing.T) {
	fake := aligotest.New(t)
	serverCfg := writeConfig(t, fake, `alerting:
  interval: 1s
  recipients: ["010-1111-2222"]
`)
	srv := startServe(t, serverCfg, fake.Key)
	tok := runCLI(t, serverCfg, fake.Key, "", "token", "create", "web01-agent", "--scope", "send")
	if tok.code != 0 {
		t.Fatalf("token create: %+v", tok)
	}
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	token := lines[len(lines)-1]

	dir := t.TempDir()
	proc := decoyName(t)
	httpd := startDecoy(t, dir, proc)
	agentCfg := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(agentCfg, []byte(fmt.Sprintf(`host: web01
agent:
  server: "http://%s"
  token: "${TEST_AGENT_TOKEN}"
alerting:
  interval: 1s
log:
  level: debug
checks:
  - {name: httpd, type: process, process: %s}
`, srv.addr, proc)), 0o600); err != nil {
		t.Fatal(err)
	}
	// Wrong set-ups are refused naming the key, before anything runs.
	noServer := filepath.Join(dir, "bad.yaml")
	os.WriteFile(noServer, []byte("agent: {token: x}\n"), 0o600)
	if r := runCLI(t, noServer, "", "", "agent"); r.code != 2 || !strings.Contains(r.stderr, "agent.server") {
		t.Fatalf("agent without a server: %+v", r)
	}

	agent := exec.Command(munjaBinary(t), "agent", "--config", agentCfg)
	agent.Env = append(os.Environ(), "TEST_AGENT_TOKEN="+token)
	var agentErr lockedBuffer
	agent.Stderr = &agentErr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	go func() { agent.Wait(); close(agentDone) }()
	t.Cleanup(func() {
		agent.Process.Kill()
		<-agentDone
		if t.Failed() {
			t.Logf("agent stderr:\n%s", agentErr.String())
		}
	})

	// The server learns of the host and its check.
	deadline := time.Now().Add(15 * time.Second)
	for {
		checks := getJSON(t, "http://"+srv.addr+"/api/v1/checks")
		if s := fmt.Sprint(checks); strings.Contains(s, "web01") && strings.Contains(s, "httpd") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never listed web01's checks: %v", checks)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := gatewayTexts(fake); len(got) != 0 {
		t.Fatalf("messages while web01 is fine: %q", got)
	}

	httpd.Process.Kill()
	httpd.Wait()
	got := waitContains(t, fake, 10*time.Second, "web01", proc+" 프로세스가 동작하지 않습니다.")
	t.Logf("remote process death paged: %q", got)

	// The host dies: no more reports. The server pages after the grace
	// (3 report intervals, at least 15 s).
	agent.Process.Kill()
	<-agentDone
	start := time.Now()
	got = waitContains(t, fake, 30*time.Second, "[web01] [경고] munja agent 보고가 없습니다.")
	t.Logf("silent agent paged after %s: %q", time.Since(start).Round(time.Millisecond), got)
}
