package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// TestReminderOnTheNextShift: an incident that began on one 당직자's
// shift and is reminded on the next goes to the new 당직자, and the
// reminder says it was handed over; a first alert, or a reminder on the
// same shift, carries no such line.
func TestReminderOnTheNextShift(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Parse([]byte(`timezone: Asia/Seoul
alerting:
  recipients: ["oncall:ops"]
oncall:
  schedules:
    - name: ops
      layers:
        - members: [홍길동, 김철수]
          rotation: weekly
          handoff: "mon 09:00"
          start: 2026-12-07
`), func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	scheds, err := cfg.OncallSchedules()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []store.Contact{{Name: "홍길동", Phone: "01011110001"}, {Name: "김철수", Phone: "01011110002"}} {
		if err := st.SaveContact(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	kst := cfg.Location()
	now := time.Date(2026, 12, 14, 10, 0, 0, 0, kst) // Monday: 김철수 since 09:00
	r := roster.New(roster.Options{Schedules: scheds, Store: st})
	ob := outbox.New(outbox.Options{Store: st, OnCall: r.Resolve, Now: func() time.Time { return now }, Location: kst})
	n := outboxNotifier{ob, slog.New(slog.DiscardHandler), r, func() time.Time { return now }}
	for _, tc := range []struct {
		reason  alert.Reason
		started time.Time
		line    string
	}{
		{alert.ReasonRepeat, time.Date(2026, 12, 13, 23, 0, 0, 0, kst), "[인계] 홍길동 당직 중 시작된 장애입니다 (지금 당직: 김철수)."},
		{alert.ReasonEscalation, time.Date(2026, 12, 14, 8, 59, 0, 0, kst), "[인계] 홍길동 당직 중 시작된 장애입니다 (지금 당직: 김철수)."},
		{alert.ReasonRepeat, time.Date(2026, 12, 14, 9, 30, 0, 0, kst), ""},
		{alert.ReasonFirst, time.Date(2026, 12, 13, 23, 0, 0, 0, kst), ""},
	} {
		err := n.Notify(ctx, alert.Notification{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Recipients: []string{"oncall:ops"},
			Reason: tc.reason, Started: tc.started, Checks: []string{"httpd"}, Hosts: []string{""}})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := st.ListMessages(ctx, store.MessageFilter{Limit: 1})
		if err != nil || len(ms) != 1 {
			t.Fatal(ms, err)
		}
		m := ms[0]
		if len(m.Deliveries) != 1 || m.Deliveries[0].Phone != "01011110002" {
			t.Errorf("%s: sent to %+v, want 김철수 only", tc.reason, m.Deliveries)
		}
		if got := strings.Contains(m.Text, "[인계]"); got != (tc.line != "") || (tc.line != "" && !strings.HasSuffix(m.Text, "\n"+tc.line)) {
			t.Errorf("%s started %v: text %q, want the line %q", tc.reason, tc.started, m.Text, tc.line)
		}
	}
}
