package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/balance"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newGatewayApp builds the whole App on a temp SQLite file with the fake
// Aligo gateway as its only provider.
func newGatewayApp(t *testing.T, gw *aligotest.Server, dbPath string, mutate func(*config.Config)) (*App, *syncBuffer) {
	t.Helper()
	cfg := config.Default()
	cfg.Database = dbPath
	pc := gw.ProviderConfig()
	pc.Timeout = config.Duration(5 * time.Second)
	cfg.SMS.Providers = []config.Provider{pc}
	cfg.SMS.Sender = gw.Sender
	cfg.Alerting.Recipients = []string{"010-9999-0000"}
	if mutate != nil {
		mutate(cfg)
	}
	logs := &syncBuffer{}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	noErr(t, err)
	t.Cleanup(func() { a.Close() })
	return a, logs
}

// sendNow stores a message and dispatches it through the fake gateway.
func sendNow(t *testing.T, a *App, req outbox.Request) int64 {
	t.Helper()
	ctx := context.Background()
	req.Source = "api"
	m, err := a.Outbox.Submit(ctx, req)
	noErr(t, err)
	if _, err := a.Dispatcher.DispatchOnce(ctx, store.ClaimFilter{MessageID: m.ID}); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func statuses(t *testing.T, a *App, id int64) string {
	t.Helper()
	m, err := a.Store.GetMessage(context.Background(), id)
	noErr(t, err)
	var out []string
	for _, d := range m.Deliveries {
		s := string(d.Phone) + "=" + string(d.Status)
		if d.LastError != "" {
			s += "(" + d.LastError + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestReportsOnce(t *testing.T) {
	gw := aligotest.New(t)
	a, logs := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), nil)
	ctx := context.Background()

	mixed := sendNow(t, a, outbox.Request{To: []string{"010-1234-5678", "031-123-4567"}, Text: "[경고] httpd 프로세스가 동작하지 않습니다."})
	other := sendNow(t, a, outbox.Request{To: []string{"01087654321"}, Text: "두 번째"})
	test := sendNow(t, a, outbox.Request{To: []string{"01011112222"}, Text: "시험", Test: true})
	if got := statuses(t, a, mixed); got != "01012345678=sent 0311234567=sent" {
		t.Fatalf("after dispatch: %s", got)
	}

	// A gateway failure leaves everything to the next pass.
	gw.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	st, err := a.Dispatcher.ReportsOnce(ctx)
	noErr(t, err)
	if st.Requests != 2 || st.Delivered+st.Failed != 0 || statuses(t, a, mixed) != "01012345678=sent 0311234567=sent" {
		t.Fatalf("during outage: %+v, %s", st, statuses(t, a, mixed))
	}
	if !strings.Contains(logs.String(), "gateway call failed") {
		t.Errorf("outage not logged:\n%s", logs)
	}
	gw.SetFailure(aligotest.Failure{})
	gw.Reset()

	st, err = a.Dispatcher.ReportsOnce(ctx)
	noErr(t, err)
	if st != (dispatcher.ReportStats{Requests: 2, Delivered: 2, Failed: 1}) {
		t.Errorf("stats %+v", st)
	}
	if got := statuses(t, a, mixed); got != "01012345678=delivered 0311234567=failed(발/착신 번호 에러)" {
		t.Errorf("mixed: %s", got)
	}
	if got := statuses(t, a, other); got != "01087654321=delivered" {
		t.Errorf("other: %s", got)
	}
	// Test mode is accepted but never delivered (Aligo cancels it): the
	// gateway is not asked, so no report can turn it into a failure.
	if got := statuses(t, a, test); got != "01011112222=sent" {
		t.Errorf("test mode: %s", got)
	}
	var lists int
	for _, r := range gw.Requests() {
		if r.Path == "/sms_list/" {
			lists++
		}
	}
	if lists != 2 {
		t.Errorf("%d /sms_list/ calls, want one per message id but the test send's", lists)
	}

	// Reported deliveries are not asked about again.
	st, err = a.Dispatcher.ReportsOnce(ctx)
	noErr(t, err)
	if st != (dispatcher.ReportStats{}) {
		t.Errorf("second pass %+v", st)
	}
}

// TestReportsBatch: 1,200 receivers go out as two gateway requests and
// their results come back through /sms_list/ paging.
func TestReportsBatch(t *testing.T) {
	gw := aligotest.New(t)
	a, _ := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), func(c *config.Config) { c.SMS.Limits = config.Limits{} })
	var to []string
	for i := range 1200 {
		to = append(to, fmt.Sprintf("0105555%04d", i))
	}
	id := sendNow(t, a, outbox.Request{To: to, Text: "공지"})
	st, err := a.Dispatcher.ReportsOnce(context.Background())
	noErr(t, err)
	if st.Requests != 2 || st.Delivered != 1200 {
		t.Errorf("stats %+v", st)
	}
	m, err := a.Store.GetMessage(context.Background(), id)
	noErr(t, err)
	for _, d := range m.Deliveries {
		if d.Status != sms.StatusDelivered {
			t.Fatalf("%s: %s", d.Phone, d.Status)
		}
	}
}

func alertMessages(t *testing.T, a *App) []*sms.Message {
	t.Helper()
	ms, err := a.Store.ListMessages(context.Background(), store.MessageFilter{Source: "alert", Limit: 100})
	noErr(t, err)
	return ms
}

func TestBalanceWatch(t *testing.T) {
	gw := aligotest.New(t, aligotest.WithBalance(1000))
	db := filepath.Join(t.TempDir(), "munja.db")
	a, _ := newGatewayApp(t, gw, db, func(c *config.Config) { c.SMS.LowBalance = 500 })
	ctx := context.Background()

	steps := []struct {
		balance int64
		alerts  int
		low     bool
	}{
		{1000, 0, false},
		{300, 1, true}, // fell below: one alert
		{200, 1, true}, // still low: no second alert
		{499, 1, true},
		{500, 1, false}, // back at the threshold: re-armed
		{100, 2, true},  // a new dip: a new alert
	}
	for i, s := range steps {
		gw.SetBalance(s.balance)
		noErr(t, a.Balance.Once(ctx))
		b, err := balance.Load(ctx, a.Store, "aligo")
		noErr(t, err)
		if b.SMS != s.balance || b.Low != s.low || time.Since(b.At) > time.Minute {
			t.Errorf("step %d: stored %+v", i, b)
		}
		if n := len(alertMessages(t, a)); n != s.alerts {
			t.Fatalf("step %d (balance %d): %d alerts, want %d", i, s.balance, n, s.alerts)
		}
	}
	m := alertMessages(t, a)[0]
	if m.Text != "[경고] aligo 문자 잔여 100건 (기준 500건). 충전이 필요합니다." || m.Kind != sms.KindSMS ||
		len(m.Deliveries) != 1 || m.Deliveries[0].Phone != "01099990000" || m.CreatedBy != "balance:aligo" {
		t.Errorf("alert %+v", m)
	}

	// A restart while low does not alert again.
	a.Close()
	a2, _ := newGatewayApp(t, gw, db, func(c *config.Config) { c.SMS.LowBalance = 500 })
	noErr(t, a2.Balance.Once(ctx))
	if n := len(alertMessages(t, a2)); n != 2 {
		t.Errorf("after restart: %d alerts, want still 2", n)
	}

	// A gateway outage keeps the last known balance.
	gw.SetFailure(aligotest.Failure{Mode: aligotest.Garbage})
	noErr(t, a2.Balance.Once(ctx))
	if b, _ := balance.Load(ctx, a2.Store, "aligo"); b.SMS != 100 {
		t.Errorf("after outage: %+v", b)
	}
}

func TestBalanceWatchNoRecipientsRetries(t *testing.T) {
	gw := aligotest.New(t, aligotest.WithBalance(10))
	a, logs := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), func(c *config.Config) {
		c.SMS.LowBalance = 500
		c.Alerting.Recipients = nil
	})
	noErr(t, a.Balance.Once(context.Background()))
	if b, _ := balance.Load(context.Background(), a.Store, "aligo"); b.Low || b.SMS != 10 {
		t.Errorf("stored %+v: an alert that was not sent must be retried", b)
	}
	if !strings.Contains(logs.String(), "alerting.recipients is empty") {
		t.Errorf("not logged:\n%s", logs)
	}
	// Off (0): polls and stores, never alerts.
	off, _ := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), func(c *config.Config) { c.SMS.LowBalance = 0 })
	noErr(t, off.Balance.Once(context.Background()))
	if n := len(alertMessages(t, off)); n != 0 {
		t.Errorf("%d alerts with low_balance 0", n)
	}
}

// TestRunJobs runs both loops for real until cancelled.
func TestRunJobs(t *testing.T) {
	gw := aligotest.New(t, aligotest.WithBalance(42))
	a, _ := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), nil)
	id := sendNow(t, a, outbox.Request{To: []string{"01012345678"}, Text: "x"})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Dispatcher.RunReports(ctx, 20*time.Millisecond) })
	wg.Go(func() { a.Balance.Run(ctx, 20*time.Millisecond) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := balance.Load(ctx, a.Store, "aligo")
		if err == nil && statuses(t, a, id) == "01012345678=delivered" {
			break
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not run: balance %v, %s", err, statuses(t, a, id))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	// Without a provider that reports, the jobs return at once.
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "dry.db")
	dry, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	defer dry.Close()
	dry.Dispatcher.RunReports(context.Background(), time.Hour)
	dry.Balance.Run(context.Background(), time.Hour)
}

// TestBalanceWatchOnlyLeaderAlerts: replicas on one PostgreSQL all record
// the balance, but only the one leading the monitor sends the alert.
func TestBalanceWatchOnlyLeaderAlerts(t *testing.T) {
	dsn := postgresSchema(t)
	gw := aligotest.New(t, aligotest.WithBalance(100))
	a, _ := newGatewayApp(t, gw, dsn, func(c *config.Config) { c.SMS.LowBalance = 500 })
	ctx := context.Background()
	noErr(t, a.Balance.Once(ctx))
	b, err := balance.Load(ctx, a.Store, "aligo")
	noErr(t, err)
	if b.SMS != 100 || b.Low {
		t.Errorf("follower stored %+v, want the balance with Low unset", b)
	}
	if n := len(alertMessages(t, a)); n != 0 {
		t.Fatalf("a replica not leading the monitor sent %d low-balance alerts", n)
	}
	a.leading.Store(&Monitor{})
	defer a.leading.Store(nil)
	noErr(t, a.Balance.Once(ctx))
	if n := len(alertMessages(t, a)); n != 1 {
		t.Fatalf("the leader sent %d low-balance alerts, want 1", n)
	}
	if b, _ := balance.Load(ctx, a.Store, "aligo"); !b.Low {
		t.Errorf("after the leader's alert: %+v", b)
	}
}
