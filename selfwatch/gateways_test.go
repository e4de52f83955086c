package selfwatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

var (
	timeout = &provider.Error{Provider: "aligo", Code: "timeout"}
	http503 = &provider.Error{Provider: "aligo", Code: "HTTP 503"}
	badKey  = &provider.Error{Provider: "aligo", Code: "-101", Permanent: true, Account: "인증 실패"}
)

func TestDecide(t *testing.T) {
	const after = 5 * time.Minute
	failing := func(n int, since time.Duration) dispatcher.ProviderState {
		return dispatcher.ProviderState{Name: "aligo", Failures: n, FailingSince: t0.Add(-since), LastError: timeout}
	}
	down := GatewayState{Down: true, Since: t0.Add(-time.Minute)}
	tests := []struct {
		name  string
		st    dispatcher.ProviderState
		saved GatewayState
		want  Verdict
	}{
		{"healthy", dispatcher.ProviderState{Name: "aligo", Up: true, LastSuccess: t0}, GatewayState{}, Steady},
		{"never called", dispatcher.ProviderState{Name: "aligo", Up: true}, GatewayState{}, Steady},
		{"failing not long enough", failing(10, after-time.Second), GatewayState{}, Steady},
		{"failing down_after", failing(10, after), GatewayState{}, WentDown},
		{"one lone failure long ago", failing(1, time.Hour), GatewayState{}, Steady},
		{"two failures", failing(2, after), GatewayState{}, WentDown},
		{"already down", failing(30, time.Hour), down, Steady},
		{"down, answered without a success (a refused number)", dispatcher.ProviderState{Name: "aligo", Up: true}, down, Steady},
		{"down, a success before it was declared", dispatcher.ProviderState{Name: "aligo", Up: true, LastSuccess: t0.Add(-2 * time.Minute)}, down, Steady},
		{"down, then a success", dispatcher.ProviderState{Name: "aligo", Up: true, LastSuccess: t0}, down, CameBack},
		{"down, a success then failing again", dispatcher.ProviderState{Name: "aligo", Failures: 1, FailingSince: t0, LastSuccess: t0.Add(-time.Second)}, down, Steady},
	}
	for _, tt := range tests {
		if got := Decide(tt.st, tt.saved, t0, after); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTexts(t *testing.T) {
	st := func(err error, since time.Duration) dispatcher.ProviderState {
		return dispatcher.ProviderState{Name: "aligo", Failures: 3, FailingSince: t0.Add(-since), LastError: err}
	}
	tests := []struct {
		st   dispatcher.ProviderState
		want string
	}{
		{st(timeout, 5*time.Minute+20*time.Second), "[경고] 문자 게이트웨이 aligo 장애: 5분째 응답 없음"},
		{st(&provider.Error{Code: "network", Uncertain: true}, 6*time.Minute), "[경고] 문자 게이트웨이 aligo 장애: 6분째 응답 없음"},
		{st(&provider.Error{Code: "network"}, 90*time.Minute), "[경고] 문자 게이트웨이 aligo 장애: 1시간 30분째 연결 불가"},
		{st(http503, 2*time.Hour), "[경고] 문자 게이트웨이 aligo 장애: 2시간째 HTTP 503 오류"},
		{st(&provider.Error{Code: "bad response"}, 12*time.Second), "[경고] 문자 게이트웨이 aligo 장애: 12초째 응답 해석 불가"},
		{st(badKey, 5*time.Minute), "[경고] 문자 게이트웨이 aligo 장애: 인증 실패"},
		{st(errors.New("boom"), 5*time.Minute), "[경고] 문자 게이트웨이 aligo 장애: 5분째 발송 실패"},
	}
	for _, tt := range tests {
		text := DownText("aligo", Reason(tt.st, t0))
		if text != tt.want {
			t.Errorf("%v: %q, want %q", tt.st.LastError, text, tt.want)
		}
		// An SMS, not an LMS: it fits 90 bytes in CP949.
		if k, err := sms.DecideKind(text, "", "auto"); err != nil || k != sms.KindSMS {
			t.Errorf("%q: kind %v, %v", text, k, err)
		}
	}
	if got := UpText("aligo", 12*time.Minute+5*time.Second); got != "[복구] 문자 게이트웨이 aligo 정상화 (장애 12분)." {
		t.Errorf("UpText = %q", got)
	}
}

// fakeHealth is the dispatcher's view of the providers, set by the test;
// Probe counts and applies probeResult.
type fakeHealth struct {
	mu     sync.Mutex
	states []dispatcher.ProviderState
	probes map[string]int
	probe  func(st *dispatcher.ProviderState) // what a probe does; nil: nothing
}

func (h *fakeHealth) Providers() []dispatcher.ProviderState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]dispatcher.ProviderState(nil), h.states...)
}

func (h *fakeHealth) Probe(_ context.Context, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probes[name]++
	for i := range h.states {
		if h.states[i].Name == name && h.probe != nil {
			h.probe(&h.states[i])
		}
	}
	return true
}

func (h *fakeHealth) set(name string, f func(st *dispatcher.ProviderState)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.states {
		if h.states[i].Name == name {
			f(&h.states[i])
		}
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type harness struct {
	t      *testing.T
	st     store.Store
	ob     *outbox.Outbox
	health *fakeHealth
	clk    *clock
	logs   *syncBuffer
	leader bool
}

func newHarness(t *testing.T, names ...string) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, st: st, clk: &clock{now: t0}, logs: &syncBuffer{}, leader: true,
		health: &fakeHealth{probes: map[string]int{}}}
	h.ob = outbox.New(outbox.Options{Store: st, DefaultSender: "0212345678", Now: h.clk.Now})
	for _, n := range names {
		h.health.states = append(h.health.states, dispatcher.ProviderState{Name: n, Up: true})
	}
	return h
}

// watch is a fresh watch over the harness's store (a restart).
func (h *harness) watch(recipients ...string) *Gateways {
	return NewGateways(GatewayOptions{
		Store: h.st, Outbox: h.ob, Dispatcher: h.health, DownAfter: 5 * time.Minute,
		Recipients: recipients, AlertsHere: func() bool { return h.leader },
		Log: slog.New(slog.NewTextHandler(h.logs, nil)), Now: h.clk.Now,
	})
}

// alerts are the texts of the alert messages stored, with their actors.
func (h *harness) alerts() []string {
	h.t.Helper()
	ms, err := h.st.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		out = append(out, ms[i].CreatedBy+" "+ms[i].Text)
	}
	return out
}

func (h *harness) fail(name string, err error) {
	h.health.set(name, func(st *dispatcher.ProviderState) {
		if st.Failures == 0 {
			st.FailingSince = h.clk.Now()
		}
		st.Failures++
		st.LastFailure, st.LastError = h.clk.Now(), err
		st.Up = st.Failures < 3
	})
}

func (h *harness) succeed(name string) {
	h.health.set(name, func(st *dispatcher.ProviderState) {
		st.Up, st.Failures, st.FailingSince, st.LastError, st.LastSuccess = true, 0, time.Time{}, nil, h.clk.Now()
	})
}

// TestGatewayDownOnceAndRecovery: one [경고] per outage, made to avoid the
// failing provider, none again from a restarted watch or while it still
// fails, one [복구] when it works again; only where alerts are sent.
func TestGatewayDownOnceAndRecovery(t *testing.T) {
	h := newHarness(t, "aligo", "backup")
	ctx := context.Background()
	g := h.watch("01011112222")
	h.fail("aligo", timeout)
	for range 10 {
		h.clk.add(time.Minute)
		h.fail("aligo", timeout)
		g.Once(ctx)
	}
	want := []string{"gateway-down:aligo [경고] 문자 게이트웨이 aligo 장애: 5분째 응답 없음"}
	if got := h.alerts(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	saved, err := LoadGateway(ctx, h.st, "aligo")
	if err != nil || !saved.Down || !saved.Alerted || saved.Message == 0 || !saved.Failing.Equal(t0) {
		t.Fatalf("stored %+v %v", saved, err)
	}

	// A restart: the new watch knows nothing but the store.
	g = h.watch("01011112222")
	h.clk.add(time.Hour)
	h.fail("aligo", timeout)
	g.Once(ctx)
	if n := len(h.alerts()); n != 1 {
		t.Fatalf("%d alerts after a restart, want still 1", n)
	}

	// Not where alerts are sent (a replica not leading): nothing.
	h.leader = false
	h.clk.add(time.Minute)
	h.succeed("aligo")
	g.Once(ctx)
	if n := len(h.alerts()); n != 1 {
		t.Fatalf("a replica not leading sent a recovery")
	}
	h.leader = true
	g.Once(ctx)
	g.Once(ctx)
	got := h.alerts()
	if len(got) != 2 || got[1] != "gateway-up:aligo [복구] 문자 게이트웨이 aligo 정상화 (장애 1시간 11분)." {
		t.Fatalf("after recovery: %q", got)
	}
	if saved, _ := LoadGateway(ctx, h.st, "aligo"); saved.Down {
		t.Errorf("still stored down: %+v", saved)
	}

	// A second outage is a second [경고].
	h.fail("aligo", badKey)
	h.clk.add(5 * time.Minute)
	h.fail("aligo", badKey)
	g.Once(ctx)
	if got := h.alerts(); len(got) != 3 || got[2] != "gateway-down:aligo [경고] 문자 게이트웨이 aligo 장애: 인증 실패" {
		t.Fatalf("second outage: %q", got)
	}
}

// TestGatewayDownWithoutAnotherProvider: with one provider nobody can be
// paged; the outage is logged once, stored, and its end logged.
func TestGatewayDownWithoutAnotherProvider(t *testing.T) {
	h := newHarness(t, "aligo")
	ctx := context.Background()
	g := h.watch("01011112222")
	h.fail("aligo", http503)
	for range 8 {
		h.clk.add(time.Minute)
		h.fail("aligo", http503)
		g.Once(ctx)
	}
	if got := h.alerts(); len(got) != 0 {
		t.Fatalf("alerts with one provider: %q", got)
	}
	if n := strings.Count(h.logs.String(), "no other provider to page through"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, h.logs.String())
	}
	if saved, _ := LoadGateway(ctx, h.st, "aligo"); !saved.Down || saved.Alerted {
		t.Fatalf("stored %+v", saved)
	}
	h.succeed("aligo")
	g.Once(ctx)
	if got := h.alerts(); len(got) != 0 {
		t.Fatalf("a recovery without an alert: %q", got)
	}
	if !strings.Contains(h.logs.String(), "gateway works again") {
		t.Errorf("recovery not logged:\n%s", h.logs.String())
	}
}

// TestGatewayProbes: a failing provider, and one stored as down (a
// restart), is probed when not called for a while; a healthy one never.
func TestGatewayProbes(t *testing.T) {
	h := newHarness(t, "aligo", "backup")
	ctx := context.Background()
	g := h.watch("01011112222")
	g.Once(ctx)
	if len(h.health.probes) != 0 {
		t.Fatalf("healthy providers probed: %v", h.health.probes)
	}
	h.fail("aligo", timeout)
	h.health.probe = func(st *dispatcher.ProviderState) {
		st.Failures++
		st.LastFailure = h.clk.Now()
	}
	g.Once(ctx) // called just now: no probe
	if h.health.probes["aligo"] != 0 {
		t.Fatalf("probed right after a call")
	}
	for range 11 {
		h.clk.add(30 * time.Second)
		g.Once(ctx)
	}
	if h.health.probes["aligo"] != 11 || h.health.probes["backup"] != 0 {
		t.Fatalf("probes %v", h.health.probes)
	}
	if got := h.alerts(); len(got) != 1 {
		t.Fatalf("alerts from probes alone: %q", got)
	}

	// A restart: the dispatcher knows nothing, the store says down.
	h2 := newHarness(t, "aligo", "backup")
	h2.st, h2.ob = h.st, h.ob
	h2.clk = h.clk
	g = h2.watch("01011112222")
	h2.health.probe = func(st *dispatcher.ProviderState) { st.LastSuccess = h.clk.Now() }
	g.Once(ctx)
	if h2.health.probes["aligo"] != 1 {
		t.Fatalf("a provider stored as down was not probed after a restart: %v", h2.health.probes)
	}
	if got := h.alerts(); len(got) != 2 || !strings.HasPrefix(got[1], "gateway-up:aligo [복구]") {
		t.Fatalf("after the probe worked: %q", got)
	}
}

// failingStore refuses state writes and message inserts while broken.
type failingStore struct {
	store.Store
	mu     sync.Mutex
	broken bool
}

func (s *failingStore) isBroken() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.broken }

func (s *failingStore) CreateWith(ctx context.Context, m *sms.Message, opt store.Create) error {
	if s.isBroken() {
		return errors.New("disk I/O error")
	}
	return s.Store.CreateWith(ctx, m, opt)
}

// TestGatewayAlertRetried: an alert the store refused is tried again at
// the next look (logged once), and sent once.
func TestGatewayAlertRetried(t *testing.T) {
	h := newHarness(t, "aligo", "backup")
	fs := &failingStore{Store: h.st, broken: true}
	h.ob = outbox.New(outbox.Options{Store: fs, DefaultSender: "0212345678", Now: h.clk.Now})
	ctx := context.Background()
	g := h.watch("01011112222")
	h.fail("aligo", timeout)
	h.clk.add(6 * time.Minute)
	h.fail("aligo", timeout)
	g.Once(ctx)
	g.Once(ctx)
	if got := h.alerts(); len(got) != 0 {
		t.Fatalf("alerts while the store refuses: %q", got)
	}
	if n := strings.Count(h.logs.String(), "alert not queued"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, h.logs.String())
	}
	fs.mu.Lock()
	fs.broken = false
	fs.mu.Unlock()
	g.Once(ctx)
	g.Once(ctx)
	if got := h.alerts(); len(got) != 1 {
		t.Fatalf("alerts after the store recovered: %q", got)
	}
}
