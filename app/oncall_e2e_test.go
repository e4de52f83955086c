package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TestOnCallThroughTheAPI runs munja with an on-call schedule and sends
// to oncall:ops through Alertmanager's ?to= and the messages API: the
// message goes to whoever is on call; an override made through the API
// takes over at once, and the schedule's status says so.
func TestOnCallThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(`timezone: Asia/Seoul
database: `+filepath.Join(dir, "munja.db")+`
server: {listen: "127.0.0.1:0"}
alerting: {recipients: ["oncall:ops"]}
oncall:
  schedules:
    - name: ops
      handoff_notice: false
      layers:
        - members: [홍길동]
          rotation: weekly
          handoff: "mon 09:00"
          start: 2026-12-07
`), func(string) (string, bool) { return "", false }, nil)
	noErr(t, err)
	noErr(t, cfg.Validate())
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	t.Cleanup(func() { a.Close() })
	noErr(t, a.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	noErr(t, a.Store.SaveContact(ctx, &store.Contact{Name: "홍길동", Phone: "01011110001"}))
	tok, err := auth.NewService(a.Store, time.Now).CreateToken(ctx, "cli:ops", "ci", auth.ScopeSend)
	noErr(t, err)

	call := func(method, path, body string, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+a.Addr()+path, strings.NewReader(body))
		noErr(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		noErr(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	lastTo := func() []sms.Phone {
		t.Helper()
		ms, err := a.Store.ListMessages(ctx, store.MessageFilter{Limit: 1})
		noErr(t, err)
		var out []sms.Phone
		for _, d := range ms[0].Deliveries {
			out = append(out, d.Phone)
		}
		return out
	}
	firing := `{"version":"4","status":"firing","receiver":"munja","groupKey":"g1","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","instance":"web01"},"annotations":{"summary":"디스크가 가득 찼습니다"}}]}`
	call("POST", "/api/v1/alertmanager?to=oncall:ops", firing, http.StatusAccepted)
	if got := lastTo(); !slices.Equal(got, []sms.Phone{"01011110001"}) {
		t.Fatalf("Alertmanager ?to=oncall:ops went to %v, want 홍길동", got)
	}
	now := time.Now()
	call("POST", "/api/v1/oncall/ops/overrides", `{"member":"010-7777-6666","from":"`+now.Add(-time.Minute).Format(time.RFC3339)+
		`","to":"`+now.Add(time.Hour).Format(time.RFC3339)+`","note":"대신 봅니다"}`, http.StatusCreated)
	call("POST", "/api/v1/messages", `{"to":["oncall:ops"],"text":"점검 시작합니다"}`, http.StatusAccepted)
	if got := lastTo(); !slices.Equal(got, []sms.Phone{"01077776666"}) {
		t.Fatalf("after the override oncall:ops went to %v", got)
	}
	var status struct {
		Schedules []struct {
			Schedule string `json:"schedule"`
			Member   string `json:"member"`
			Shift    struct {
				Override bool `json:"override"`
			} `json:"shift"`
		} `json:"schedules"`
	}
	b := call("GET", "/api/v1/oncall", "", http.StatusOK)
	if err := json.Unmarshal(b, &status); err != nil || len(status.Schedules) != 1 || status.Schedules[0].Member != "010-7777-6666" || !status.Schedules[0].Shift.Override {
		t.Fatalf("GET /api/v1/oncall: %s (%v)", b, err)
	}
	call("POST", "/api/v1/messages", `{"to":["oncall:nope"],"text":"x"}`, http.StatusBadRequest)
}
