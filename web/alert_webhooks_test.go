package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
	"github.com/munja-sms/munja/store/sqlite"
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withClock makes the fixture's server and outbox read c.
func withClock(c *testClock) func(*Options) {
	return func(o *Options) {
		o.Now = c.Now
		o.Outbox = outbox.New(outbox.Options{Store: o.Store, Now: c.Now})
	}
}

// hookServer is a server on st, as a replica or a restarted munja would
// be: webhooks are accepted without a token from 127.0.0.0/8.
func hookServer(st store.Store, now func() time.Time) *Server {
	return New(Options{
		Store: st, Outbox: outbox.New(outbox.Options{Store: st, Now: now}), Now: now,
		TrustedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		PublicHost:      "example.com", AlertRecipients: []string{"01012345678"},
	})
}

// hookAnswer is what a webhook got back.
type hookAnswer struct {
	Code      int
	ID        int64
	Duplicate bool
	Location  string
	Body      string
}

// postHook posts body to path on h from a trusted address. It calls no
// testing.T method, so goroutines may use it.
func postHook(h http.Handler, path, body string) hookAnswer {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.RemoteAddr = trusted
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := hookAnswer{Code: w.Code, Location: w.Header().Get("Location"), Body: w.Body.String()}
	var out struct {
		ID        int64 `json:"id"`
		Duplicate bool  `json:"duplicate"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	a.ID, a.Duplicate = out.ID, out.Duplicate
	return a
}

// mustPage posts and wants a new message (202), whose ID it returns.
func mustPage(t *testing.T, h http.Handler, path, body string) int64 {
	t.Helper()
	a := postHook(h, path, body)
	if a.Code != http.StatusAccepted || a.ID == 0 || a.Duplicate || a.Location != fmt.Sprintf("/api/v1/messages/%d", a.ID) {
		t.Fatalf("POST %s: %+v, want 202 with a new message", path, a)
	}
	return a.ID
}

// mustDuplicate posts and wants the answer that the notification was
// already paged as message id (200, nothing stored).
func mustDuplicate(t *testing.T, h http.Handler, path, body string, id int64) {
	t.Helper()
	a := postHook(h, path, body)
	if a.Code != http.StatusOK || a.ID != id || !a.Duplicate || a.Location != fmt.Sprintf("/api/v1/messages/%d", id) {
		t.Fatalf("POST %s again: %+v, want 200, duplicate of message %d", path, a, id)
	}
}

func messageCount(t *testing.T, st store.Store) int {
	t.Helper()
	ms, err := st.ListMessages(context.Background(), store.MessageFilter{Limit: 1000})
	noErr(t, err)
	return len(ms)
}

func resolvedAlert(name, instance, summary string) map[string]any {
	a := amAlert("resolved", name, instance, summary)
	a["endsAt"] = "2026-11-25T09:07:00+09:00"
	return a
}

// TestAlertWebhookRetryPagesOnce: a notification sent again (a retry after
// a lost answer) is answered with the first message and pages nothing,
// also with its alerts in another order.
func TestAlertWebhookRetryPagesOnce(t *testing.T) {
	f := newFixture(t)
	a, b := amAlert("firing", "HighLoad", "web01:9100", "부하가 10을 넘었습니다."), amAlert("firing", "HighLoad", "web02:9100", "")
	id := mustPage(t, f.srv, "/api/v1/alertmanager?to=01022223333", amBody(t, "firing", a, b))
	mustDuplicate(t, f.srv, "/api/v1/alertmanager?to=01022223333", amBody(t, "firing", a, b), id)
	mustDuplicate(t, f.srv, "/api/v1/alertmanager?to=01022223333", amBody(t, "firing", b, a), id)
	if n := messageCount(t, f.db); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	// The same notification to other recipients, or in test mode, is another page.
	mustPage(t, f.srv, "/api/v1/alertmanager?to=01044445555", amBody(t, "firing", a, b))
	mustPage(t, f.srv, "/api/v1/alertmanager?to=01022223333&test=true", amBody(t, "firing", a, b))
	// As is another group with the same alerts.
	other := strings.Replace(amBody(t, "firing", a, b), `alertname=\"HighLoad\"`, `alertname=\"Other\"`, 1)
	mustPage(t, f.srv, "/api/v1/alertmanager?to=01022223333", other)
}

// TestAlertWebhookGroupChanges: an alert added to the group pages (with the
// whole group), a resolved notification pages one recovery however often
// it is posted, and the next firing pages again.
func TestAlertWebhookGroupChanges(t *testing.T) {
	f := newFixture(t)
	const path = "/api/v1/alertmanager"
	a := amAlert("firing", "HighLoad", "web01:9100", "")
	b := amAlert("firing", "HighLoad", "web02:9100", "")
	first := mustPage(t, f.srv, path, amBody(t, "firing", a))
	mustDuplicate(t, f.srv, path, amBody(t, "firing", a), first)
	both := mustPage(t, f.srv, path, amBody(t, "firing", a, b))
	mustDuplicate(t, f.srv, path, amBody(t, "firing", a, b), both)
	m, err := f.db.GetMessage(context.Background(), both)
	noErr(t, err)
	if m.Text != "[경고] HighLoad (web01:9100)\n[경고] HighLoad (web02:9100)" {
		t.Errorf("with the new alert: %q", m.Text)
	}
	// Both resolve: one recovery, posted twice.
	ra, rb := resolvedAlert("HighLoad", "web01:9100", ""), resolvedAlert("HighLoad", "web02:9100", "")
	rec := mustPage(t, f.srv, path, amBody(t, "resolved", ra, rb))
	mustDuplicate(t, f.srv, path, amBody(t, "resolved", ra, rb), rec)
	// It fires again (a new start): a new page.
	again := amAlert("firing", "HighLoad", "web01:9100", "")
	again["startsAt"] = "2026-11-25T09:08:00+09:00"
	mustPage(t, f.srv, path, amBody(t, "firing", again))
	ms, err := f.db.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	noErr(t, err)
	recoveries := 0
	for _, m := range ms {
		if strings.HasPrefix(m.Text, "[복구]") {
			recoveries++
		}
	}
	if len(ms) != 4 || recoveries != 1 {
		t.Errorf("%d messages with %d recoveries, want 4 and 1", len(ms), recoveries)
	}
}

// TestAlertWebhookWindow: a copy inside the window is a duplicate; the
// repeat_interval reminder after it pages (and is then the one its copies
// name); ?dedupe= sets the window or turns it off.
func TestAlertWebhookWindow(t *testing.T) {
	clock := newTestClock()
	f := newFixture(t, withClock(clock))
	const path = "/api/v1/alertmanager"
	body := amBody(t, "firing", amAlert("firing", "HighLoad", "web01:9100", ""))
	first := mustPage(t, f.srv, path, body)
	clock.Add(DefaultDedupe - time.Millisecond)
	mustDuplicate(t, f.srv, path, body, first)
	clock.Add(2 * time.Millisecond) // the window is measured from the page, not from its copies
	repeat := mustPage(t, f.srv, path, body)
	clock.Add(5 * time.Minute)
	mustDuplicate(t, f.srv, path, body, repeat)
	clock.Add(4 * time.Hour) // Alertmanager's default repeat_interval
	mustPage(t, f.srv, path, body)

	// ?dedupe=1m: a reminder every 5 minutes pages, a retry after 30 s does not.
	g := newFixture(t, withClock(clock))
	one := mustPage(t, g.srv, path+"?dedupe=1m", body)
	clock.Add(30 * time.Second)
	mustDuplicate(t, g.srv, path+"?dedupe=1m", body, one)
	clock.Add(5 * time.Minute)
	mustPage(t, g.srv, path+"?dedupe=1m", body)
	// ?dedupe=0: every post pages.
	for range 2 {
		mustPage(t, g.srv, path+"?dedupe=0", body)
	}
	for _, bad := range []string{"10", "-1m", "25h", "soon"} {
		out := g.must(req{method: http.MethodPost, path: path + "?dedupe=" + url.QueryEscape(bad), body: body, token: "send"}, http.StatusBadRequest)
		if out["field"] != "dedupe" {
			t.Errorf("dedupe=%s: %v", bad, out)
		}
	}
}

// TestAlertWebhookConcurrentCopies: copies arriving at once page once.
func TestAlertWebhookConcurrentCopies(t *testing.T) {
	f := newFixture(t)
	body := amBody(t, "firing", amAlert("firing", "HighLoad", "web01:9100", "부하가 10을 넘었습니다."))
	answers := postConcurrently(f.srv, f.srv, "/api/v1/alertmanager?to=01033334444", body, 16)
	checkOnePage(t, answers)
	if n := messageCount(t, f.db); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

// postConcurrently posts body n times at once, alternating between a and b.
func postConcurrently(a, b http.Handler, path, body string, n int) []hookAnswer {
	out := make([]hookAnswer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		h := a
		if i%2 == 1 {
			h = b
		}
		wg.Go(func() {
			<-start
			out[i] = postHook(h, path, body)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkOnePage wants one 202 among answers and every other a 200 naming it.
func checkOnePage(t *testing.T, answers []hookAnswer) {
	t.Helper()
	var paged []hookAnswer
	for _, a := range answers {
		if a.Code == http.StatusAccepted {
			paged = append(paged, a)
		}
	}
	if len(paged) != 1 {
		t.Fatalf("%d of %d copies paged, want 1: %+v", len(paged), len(answers), answers)
	}
	for _, a := range answers {
		if a.Code != http.StatusAccepted && (a.Code != http.StatusOK || !a.Duplicate || a.ID != paged[0].ID) {
			t.Errorf("copy answered %+v, want 200 naming message %d", a, paged[0].ID)
		}
	}
}

// TestAlertWebhookDedupeSurvivesRestart: a retry that reaches munja after
// a restart (the first answer was lost with the old process) pages nothing.
func TestAlertWebhookDedupeSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	log := slog.New(slog.DiscardHandler)
	body := amBody(t, "resolved", resolvedAlert("DiskFull", "db01:9100", "디스크 사용률이 정상입니다."))
	grafana := grafanaDocsPayload(t)

	db, err := sqlite.Open(t.Context(), path, log)
	noErr(t, err)
	id := mustPage(t, hookServer(db, time.Now), "/api/v1/alertmanager", body)
	gid := mustPage(t, hookServer(db, time.Now), "/api/v1/grafana", grafana)
	noErr(t, db.Close())

	db, err = sqlite.Open(t.Context(), path, log)
	noErr(t, err)
	t.Cleanup(func() { db.Close() })
	srv := hookServer(db, time.Now)
	mustDuplicate(t, srv, "/api/v1/alertmanager", body, id)
	mustDuplicate(t, srv, "/api/v1/grafana", grafana, gid)
	if n := messageCount(t, db); n != 2 {
		t.Fatalf("%d messages after the restart, want 2", n)
	}
}

// TestAlertWebhookDedupeAcrossPostgresReplicas: two replicas on one
// PostgreSQL database behind a load balancer: a copy reaching the other
// replica, and copies reaching both at once, page once.
func TestAlertWebhookDedupeAcrossPostgresReplicas(t *testing.T) {
	dsn := postgresSchema(t)
	log := slog.New(slog.DiscardHandler)
	open := func() *postgres.DB {
		db, err := postgres.Open(t.Context(), dsn, log)
		noErr(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	a, b := hookServer(dbA, time.Now), hookServer(dbB, time.Now)

	body := amBody(t, "firing", amAlert("firing", "InstanceDown", "web03:9100", "응답이 없습니다."))
	id := mustPage(t, a, "/api/v1/alertmanager?to=01022223333", body)
	mustDuplicate(t, b, "/api/v1/alertmanager?to=01022223333", body, id)

	for i, path := range []string{"/api/v1/alertmanager?to=01033334444", "/api/v1/grafana?to=01022223333"} {
		payload := amBody(t, "resolved", resolvedAlert("InstanceDown", fmt.Sprint("web0", i, ":9100"), ""))
		if strings.Contains(path, "grafana") {
			payload = grafanaDocsPayload(t)
		}
		checkOnePage(t, postConcurrently(a, b, path, payload, 12))
	}
	if n := messageCount(t, dbA); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

// postgresSchema returns the URL of an empty schema on the test PostgreSQL,
// dropped when the test ends (pgtest: skipped without a server, failing
// when CI is set).
func postgresSchema(t *testing.T) string { return pgtest.Schema(t) }

// TestAlertWebhookDuplicateIsTheFirstMessage: the duplicate's answer is
// the first message as it is now (its deliveries' progress), typed as the
// OpenAPI documents it.
func TestAlertWebhookDuplicateIsTheFirstMessage(t *testing.T) {
	f := newFixture(t)
	body := amBody(t, "firing", amAlert("firing", "HighLoad", "web01:9100", "부하가 10을 넘었습니다."))
	first := f.must(req{method: http.MethodPost, path: "/api/v1/alertmanager", body: body, token: "send"}, http.StatusAccepted)
	again := f.must(req{method: http.MethodPost, path: "/api/v1/alertmanager", body: body, token: "send"}, http.StatusOK)
	if first["duplicate"] != false || again["duplicate"] != true {
		t.Errorf("duplicate: %v then %v", first["duplicate"], again["duplicate"])
	}
	delete(first, "duplicate")
	delete(again, "duplicate")
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("duplicate answer differs from the first:\n%s\n%s", a, b)
	}
	sp := loadSpec(t)
	for code, out := range map[int]map[string]any{202: first, 200: again} {
		out["duplicate"] = code == 200
		rs, ok := sp.responseSchema(specOperation(t, "POST", "/api/v1/alertmanager"), code)
		if !ok {
			t.Fatalf("%d not documented", code)
		}
		for _, e := range sp.validate(map[string]any(out), rs, "body") {
			t.Errorf("%d: %s", code, e)
		}
	}
	if m, err := f.db.GetMessage(context.Background(), int64(first["id"].(float64))); err != nil || m.Kind != sms.KindSMS {
		t.Errorf("first message %+v, %v", m, err)
	}
}
