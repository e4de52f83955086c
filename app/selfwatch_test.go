package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// served is a munja serving (Run) until stop.
type served struct {
	a    *App
	logs *syncBuffer
	stop func()
}

// serveGateways runs munja over fake Aligo gateways named aligo, backup, …
// in that order, with sms.down_after 2s.
func serveGateways(t *testing.T, db string, gws ...*aligotest.Server) *served {
	t.Helper()
	cfg := config.Default()
	cfg.Database = db
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TrustedNetworks = []string{"127.0.0.0/8"}
	cfg.SMS.Sender = gws[0].Sender
	cfg.SMS.DownAfter = config.Duration(2 * time.Second)
	cfg.Alerting.Recipients = []string{"010-9999-0000"}
	for i, gw := range gws {
		pc := gw.ProviderConfig()
		pc.Name = []string{"aligo", "backup", "third"}[i]
		pc.Timeout = config.Duration(2 * time.Second)
		cfg.SMS.Providers = append(cfg.SMS.Providers, pc)
		gw.RegisterSender(gws[0].Sender)
	}
	logs := &syncBuffer{}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	noErr(t, err)
	noErr(t, a.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &served{a: a, logs: logs}
	var once atomic.Bool
	s.stop = func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
		a.Close()
	}
	t.Cleanup(s.stop)
	return s
}

// texts are the texts a fake gateway accepted that start with prefix.
func texts(gw *aligotest.Server, prefix string) []string {
	var out []string
	for _, d := range gw.Delivered() {
		if strings.HasPrefix(d.Msg, prefix) {
			out = append(out, d.Msg)
		}
	}
	return out
}

// sendsOf counts the /send/ calls of a fake gateway whose msg starts with prefix.
func sendsOf(gw *aligotest.Server, prefix string) int {
	n := 0
	for _, r := range gw.Requests() {
		if r.Path == "/send/" && strings.HasPrefix(r.Form.Get("msg"), prefix) {
			n++
		}
	}
	return n
}

const (
	downAlert = "[경고] 문자 게이트웨이 aligo 장애: "
	upAlert   = "[복구] 문자 게이트웨이 aligo 정상화"
)

// TestGatewayDownPagedThroughAnother: the first gateway fails every call
// (HTTP 503, also its /remain/, which munja probes while it sends nothing
// through it). After sms.down_after one [경고] reaches the recipients
// through the second gateway — never through the first, even when its
// trial is due — and the API names the provider that delivered it; a
// restart in between sends no second one; when the first works again, one
// [복구].
func TestGatewayDownPagedThroughAnother(t *testing.T) {
	first, second := aligotest.New(t), aligotest.New(t)
	db := filepath.Join(t.TempDir(), "munja.db")
	first.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	s := serveGateways(t, db, first, second)
	ctx := context.Background()
	start := time.Now()
	m, err := s.a.Outbox.Submit(ctx, outbox.Request{To: []string{"01011112222"}, Text: "보통 문자", Source: "api"})
	noErr(t, err)
	waitFor(t, 10*time.Second, "the ordinary message through the second gateway", func() bool { return len(texts(second, "보통 문자")) == 1 })
	waitFor(t, 15*time.Second, "the [경고]", func() bool { return len(texts(second, downAlert)) > 0 })
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("paged after %s, before sms.down_after (2s)", took)
	}
	got := texts(second, downAlert)
	if len(got) != 1 || got[0] != downAlert+"2초째 HTTP 503 오류" && got[0] != downAlert+"3초째 HTTP 503 오류" {
		t.Errorf("alerts through the second gateway: %q", got)
	}
	// Long enough for trials and probes of the first: still one, and
	// never tried through the first.
	time.Sleep(2 * time.Second)
	if n := len(texts(second, downAlert)); n != 1 {
		t.Errorf("%d [경고], want 1", n)
	}
	if n := sendsOf(first, downAlert); n != 0 {
		t.Errorf("the [경고] was tried %d times through the failing gateway", n)
	}

	// The API names the provider of each recipient.
	ms := alertMessages(t, s.a)
	if len(ms) != 1 || ms[0].CreatedBy != "gateway-down:aligo" {
		t.Fatalf("alert messages %+v", ms)
	}
	for id, want := range map[int64]string{ms[0].ID: "backup", m.ID: "backup"} {
		resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/messages/%d", s.a.Addr(), id))
		noErr(t, err)
		var body struct {
			Recipients []struct{ Provider, Status string }
		}
		noErr(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		if len(body.Recipients) != 1 || body.Recipients[0].Provider != want || body.Recipients[0].Status != "sent" {
			t.Errorf("GET /api/v1/messages/%d: %+v, want sent by %s", id, body.Recipients, want)
		}
	}
	metrics := httptest.NewServer(s.a.Metrics.Handler())
	defer metrics.Close()
	if v := scrape(t, metrics.URL)[`munja_provider_outage{provider="aligo"}`]; v != 1 {
		t.Errorf("munja_provider_outage = %v, want 1", v)
	}
	// The console's banner names it.
	if down := s.a.gatewaysDown(); len(down) != 1 || down[0].Name != "aligo" || down[0].Reason == "" {
		t.Errorf("console banner: %+v, want aligo", down)
	}

	// A restart while it still fails: no second [경고].
	s.stop()
	serveGateways(t, db, first, second) // stopped at the test's end
	time.Sleep(4 * time.Second)         // twice sms.down_after
	if n := len(texts(second, downAlert)); n != 1 {
		t.Fatalf("%d [경고] after a restart, want still 1", n)
	}

	// It works again: one [복구], through the first (it is first again).
	first.SetFailure(aligotest.Failure{})
	waitFor(t, 15*time.Second, "the [복구]", func() bool {
		return len(texts(first, upAlert))+len(texts(second, upAlert)) > 0
	})
	time.Sleep(time.Second)
	if got := texts(first, upAlert); len(got) != 1 || len(texts(second, upAlert)) != 0 || !strings.HasSuffix(got[0], ").") {
		t.Errorf("[복구] through the first: %q, through the second: %q", got, texts(second, upAlert))
	}
	if n := len(texts(second, downAlert)); n != 1 {
		t.Errorf("%d [경고] in all", n)
	}
}

// TestGatewayBadKeyPaged: a gateway refusing the account (a bad key)
// fails every call as surely as one that is down: paged as such.
func TestGatewayBadKeyPaged(t *testing.T) {
	first, second := aligotest.New(t), aligotest.New(t)
	first.SetFailure(aligotest.Failure{Mode: aligotest.BadKey})
	s := serveGateways(t, filepath.Join(t.TempDir(), "munja.db"), first, second)
	_, err := s.a.Outbox.Submit(context.Background(), outbox.Request{To: []string{"01011112222"}, Text: "보통 문자", Source: "api"})
	noErr(t, err)
	waitFor(t, 15*time.Second, "the [경고]", func() bool { return len(texts(second, downAlert)) > 0 })
	if got := texts(second, downAlert); len(got) != 1 || got[0] != downAlert+"인증 실패" {
		t.Errorf("alerts: %q", got)
	}
	if st := s.a.Dispatcher.Providers()[0]; st.Up || st.Failures < 3 {
		t.Errorf("a bad-key gateway not marked down: %+v", st)
	}
}

// TestGatewayDownSingleProvider: with one provider there is no other path:
// no alert, an error logged once, the outage in the metrics.
func TestGatewayDownSingleProvider(t *testing.T) {
	gw := aligotest.New(t)
	gw.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	s := serveGateways(t, filepath.Join(t.TempDir(), "munja.db"), gw)
	_, err := s.a.Outbox.Submit(context.Background(), outbox.Request{To: []string{"01011112222"}, Text: "보통 문자", Source: "api"})
	noErr(t, err)
	waitFor(t, 15*time.Second, "the outage logged", func() bool {
		return strings.Contains(s.logs.String(), "no other provider to page through")
	})
	time.Sleep(time.Second)
	if n := strings.Count(s.logs.String(), "no other provider to page through"); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
	if !strings.Contains(s.logs.String(), "only one provider in sms.providers") {
		t.Error("no warning at start that a gateway outage cannot be paged")
	}
	if ms := alertMessages(t, s.a); len(ms) != 0 {
		t.Errorf("alert messages with one provider: %d", len(ms))
	}
	metrics := httptest.NewServer(s.a.Metrics.Handler())
	defer metrics.Close()
	if v := scrape(t, metrics.URL)[`munja_provider_outage{provider="aligo"}`]; v != 1 {
		t.Errorf("munja_provider_outage = %v, want 1", v)
	}
}

// TestHeartbeat: munja calls server.heartbeat_url every interval while it
// is healthy, none while its store refuses writes, and again once it
// takes them; the metrics count it.
func TestHeartbeat(t *testing.T) {
	var calls atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/ping/0c3d2a6e" {
			calls.Add(1)
		}
	}))
	defer target.Close()

	ctx := context.Background()
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.HeartbeatURL = config.Secret(target.URL + "/ping/0c3d2a6e")
	cfg.Server.HeartbeatInterval = config.Duration(200 * time.Millisecond)
	log := slog.New(slog.DiscardHandler)
	st, err := OpenStore(ctx, cfg, log)
	noErr(t, err)
	rs := &readOnlyStore{Store: st, err: errors.New("attempt to write a readonly database")}
	a := &App{Config: cfg, Log: log, Store: rs, Shown: &alert.Holder{}, Agents: &agent.Holder{}}
	noErr(t, a.build())
	defer a.Close()
	noErr(t, a.Listen())
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		cancel()
		<-done
	}()

	waitFor(t, 5*time.Second, "heartbeat calls", func() bool { return calls.Load() >= 3 })
	n0 := calls.Load()
	time.Sleep(time.Second)
	if n := calls.Load() - n0; n < 3 || n > 7 {
		t.Errorf("%d calls in 1 s at a 200 ms interval", n)
	}

	rs.broken.Store(true)
	time.Sleep(300 * time.Millisecond) // a call already on its way
	n1 := calls.Load()
	time.Sleep(time.Second)
	if n := calls.Load() - n1; n != 0 {
		t.Errorf("%d calls while the store refused writes", n)
	}
	rs.broken.Store(false)
	waitFor(t, 10*time.Second, "heartbeat calls after the store recovered", func() bool { return calls.Load() >= n1+3 })

	metrics := httptest.NewServer(a.Metrics.Handler())
	defer metrics.Close()
	got := scrape(t, metrics.URL)
	if ts := got["munja_heartbeat_last_success_timestamp_seconds"]; time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("munja_heartbeat_last_success_timestamp_seconds = %v", ts)
	}
	if got["munja_heartbeat_skipped_total"] < 3 || got["munja_heartbeat_failures_total"] != 0 {
		t.Errorf("heartbeat counters: skipped %v, failures %v", got["munja_heartbeat_skipped_total"], got["munja_heartbeat_failures_total"])
	}
}
