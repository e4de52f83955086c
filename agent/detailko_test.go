package agent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
)

// Issue 12: an agent's results carry their Korean detail to the server
// (detail_ko), and the server's own check of the agent has one too.
func TestReportCarriesDetailKo(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	in := check.Result{Check: "httpd", At: now, Firing: "[경고] httpd 프로세스가 동작하지 않습니다.",
		Detail: "no process named httpd (0 < min 1)", DetailKo: "httpd 프로세스 없음 (0개, 최소 1개)", Severity: "warning"}
	b, err := json.Marshal(Report{Host: "web01", IntervalSeconds: 10, Results: []Result{FromCheck(in)}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"detail_ko":"httpd 프로세스 없음 (0개, 최소 1개)"`) {
		t.Fatalf("report JSON: %s", b)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	got, err := r.Validate(now)
	if err != nil || got[0].DetailKo != in.DetailKo || got[0].Detail != in.Detail {
		t.Fatalf("validated %+v, %v", got, err)
	}
}

func TestLivenessDetailKo(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var obs results
	tr := NewTracker(obs.observe, map[string]time.Time{"db01": now.Add(-10 * time.Minute)}, func() time.Time { return now })
	tr.Check()
	got := obs.take()
	if len(got) != 1 || got[0].OK || got[0].DetailKo != "10분 동안 보고 없음 (호스트 다운, 네트워크 단절 또는 agent 중지)" {
		t.Fatalf("silent host: %+v", got)
	}
	if r := alive("db01", now); r.DetailKo != "agent 보고 수신" {
		t.Errorf("alive: %+v", r)
	}
}

// TestRestartDoesNotPageAMinuteAgent: after a server restart, a host that
// reports every minute is not paged before its next report is due.
func TestRestartDoesNotPageAMinuteAgent(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var obs results
	// web01 reported 50 s before the restart; it reports every 60 s.
	tr := NewTracker(obs.observe, map[string]time.Time{"web01": now.Add(-50 * time.Second)}, func() time.Time { return now })
	for range 15 { // 15 s: the server restarted, its next report is late
		now = now.Add(time.Second)
		tr.Check()
	}
	if got := obs.take(); len(got) != 0 {
		t.Fatalf("paged a host whose report was due only now: %+v", got)
	}
	now = now.Add(3 * time.Minute) // it died meanwhile: still noticed
	tr.Check()
	if got := obs.take(); len(got) != 1 || got[0].OK {
		t.Fatalf("a silent host known from before the restart: %+v", got)
	}
}
