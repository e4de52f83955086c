package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// TestAgentReportSurvivesKill: an agent's report answered 202 is stored.
// Each round posts a report in which a new check fails and kills the real
// `munja serve` with SIGKILL the moment the 202 arrives — before the alert
// engine's own evaluation, woken by the change, would have written it —
// then starts it again on the same SQLite file: every failure accepted
// before a kill is there, pending.
func TestAgentReportSurvivesKill(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, `alerting:
  interval: 1s
  failures: 3
  recipients: ["010-1111-2222"]
`)
	tok := runCLI(t, cfg, fake.Key, "", "token", "create", "kill-agent", "--scope", "send")
	if tok.code != 0 {
		t.Fatalf("token create: %+v", tok)
	}
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	token := lines[len(lines)-1]

	const rounds = 5
	var accepted []string
	for round := range rounds {
		p := startServe(t, cfg, fake.Key)
		// What the previous rounds' reports changed survived their kills.
		checkPending(t, p.addr, accepted)

		name := fmt.Sprintf("disk-%d", round)
		body, _ := json.Marshal(map[string]any{
			"host": "kill01", "interval_seconds": 10,
			"results": []map[string]any{{
				"check": name, "ok": false, "at": time.Now().Format(time.RFC3339Nano),
				"firing": "[경고] 디스크 가득", "resolved": "[복구] 디스크 정상", "detail": "disk full",
			}},
		})
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/api/v1/agents/report", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Killed before the answer's body is even read.
		p.cmd.Process.Kill()
		resp.Body.Close()
		<-p.done
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("round %d: report answered %d", round, resp.StatusCode)
		}
		accepted = append(accepted, name)
	}
	p := startServe(t, cfg, fake.Key)
	checkPending(t, p.addr, accepted)
}

// checkPending fails unless kill01's checks named in want are listed as
// pending (one failure of three).
func checkPending(t *testing.T, addr string, want []string) {
	t.Helper()
	got := map[string]string{}
	for _, c := range getJSON(t, "http://"+addr+"/api/v1/checks")["checks"].([]any) {
		c := c.(map[string]any)
		if c["host"] == "kill01" {
			got[fmt.Sprint(c["check"])] = fmt.Sprint(c["state"])
		}
	}
	for _, name := range want {
		if got[name] != "pending" {
			t.Errorf("after the kill, kill01's %s is %q, want pending (the report was answered 202); all: %v", name, got[name], got)
		}
	}
}
