package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert/alerttest"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// memState is an in-memory store.AlertState.
type memState struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error // returned by PutState when set
	puts int
}

func newMemState() *memState { return &memState{m: map[string][]byte{}} }

func (s *memState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (s *memState) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.puts++
	s.m[key] = slices.Clone(value)
	return nil
}

func (s *memState) DeleteState(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return store.ErrNotFound
	}
	delete(s.m, key)
	return nil
}

func (s *memState) ListState(_ context.Context, prefix string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = slices.Clone(v)
		}
	}
	return out, nil
}

func (s *memState) keys(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range maps.Keys(s.m) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// recorder is a Notifier that keeps what it was given and can fail.
type recorder struct {
	mu    sync.Mutex
	got   []Notification
	fails int // the next fails calls return an error
	calls int
	ch    chan Notification
}

func (r *recorder) Notify(ctx context.Context, n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("notify called without a deadline")
	}
	if r.fails > 0 {
		r.fails--
		return errors.New("outbox unavailable")
	}
	r.got = append(r.got, n)
	if r.ch != nil {
		r.ch <- n
	}
	return nil
}

func (r *recorder) all() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// take returns and forgets what was notified so far.
func (r *recorder) take() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// t0 is 2026-11-25 14:00 in Seoul: a Wednesday afternoon.
var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.FixedZone("KST", 9*3600))

const (
	txtHttpd   = "[경고] httpd 프로세스가 동작하지 않습니다."
	txtPort    = "[경고] 80 포트가 열려있지 않습니다."
	txtOOM     = "[경고] 시스템 로그에서 'Out of memory' 탐지됨."
	resHttpd   = "[복구] httpd 프로세스가 다시 동작합니다."
	resPort    = "[복구] 80 포트가 다시 열렸습니다."
	resOOM     = "[복구] 시스템 로그에서 'Out of memory'가 더 이상 보이지 않습니다."
	phoneA     = "01012345678"
	phoneB     = "01056781234"
	localHost  = "web0"
	publicBase = "https://munja.example.com"
)

var texts = map[string][2]string{
	"httpd":    {txtHttpd, resHttpd},
	"web-port": {txtPort, resPort},
	"oom":      {txtOOM, resOOM},
}

// baseConfig has the three original checks, alerting to phoneA, no repeat.
func baseConfig() *config.Config {
	return &config.Config{
		Host:     localHost,
		Timezone: "Asia/Seoul",
		Checks: []config.Check{
			{Name: "httpd", Type: "process", Process: "httpd"},
			{Name: "web-port", Type: "listen", Port: 80},
			{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory"},
		},
		Alerting: config.Alerting{
			Failures:   1,
			Successes:  1,
			Recipients: []string{phoneA},
		},
	}
}

type harness struct {
	t     *testing.T
	e     *Engine
	clock *alerttest.Clock
	st    *memState
	n     *recorder
	cfg   *config.Config
	url   string
}

func newHarness(t *testing.T, cfg *config.Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: alerttest.NewClock(t0), st: newMemState(), n: &recorder{}, cfg: cfg}
	h.e = h.engine(cfg)
	return h
}

// engine builds a fresh engine over the harness's store and clock and
// loads it, like a restart.
func (h *harness) engine(cfg *config.Config) *Engine {
	h.t.Helper()
	e, err := New(Options{Config: cfg, State: h.st, Notifier: h.n, Clock: h.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: h.url})
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	if err := e.Load(context.Background()); err != nil {
		h.t.Fatalf("Load: %v", err)
	}
	return e
}

func (h *harness) restart(cfg *config.Config) {
	h.t.Helper()
	h.cfg = cfg
	h.e = h.engine(cfg)
}

func (h *harness) result(name string, ok bool) check.Result {
	tx := texts[name]
	if tx[0] == "" {
		tx = [2]string{"[경고] " + name + " 실패", "[복구] " + name + " 정상"}
	}
	return check.Result{Check: name, OK: ok, At: h.clock.Now(), Firing: tx[0], Resolved: tx[1],
		Detail: "detail of " + name, Severity: "warning"}
}

func (h *harness) fail(names ...string) {
	for _, n := range names {
		h.e.Observe(h.result(n, false))
	}
}

func (h *harness) pass(names ...string) {
	for _, n := range names {
		h.e.Observe(h.result(n, true))
	}
}

// flush runs one evaluation and fails the test on error.
func (h *harness) flush() {
	h.t.Helper()
	if err := h.e.Flush(context.Background()); err != nil {
		h.t.Fatalf("Flush: %v", err)
	}
}

// step advances the clock by d and flushes.
func (h *harness) step(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	h.flush()
}

// expect checks that exactly the given texts were notified since the last
// expect, in order.
func (h *harness) expect(texts ...string) []Notification {
	h.t.Helper()
	got := h.n.take()
	var gotTexts []string
	for _, n := range got {
		gotTexts = append(gotTexts, n.Text)
	}
	if !slices.Equal(gotTexts, texts) {
		h.t.Fatalf("notified %d messages:\n%s\nwant %d:\n%s", len(gotTexts), show(gotTexts), len(texts), show(texts))
	}
	return got
}

func show(ss []string) string {
	var b strings.Builder
	for i, s := range ss {
		fmt.Fprintf(&b, "  %d: %q\n", i, s)
	}
	return b.String()
}

func openIncident(t *testing.T, e *Engine, check string) Incident {
	t.Helper()
	for _, inc := range e.Incidents(true) {
		if inc.Check == check {
			return inc
		}
	}
	t.Fatalf("no open incident for %s", check)
	return Incident{}
}

func checkResult(name string, ok bool, at time.Time) check.Result {
	tx := texts[name]
	if tx[0] == "" {
		tx = [2]string{"[경고] " + name + " 실패", "[복구] " + name + " 정상"}
	}
	return check.Result{Check: name, OK: ok, At: at, Firing: tx[0], Resolved: tx[1], Severity: "warning"}
}
