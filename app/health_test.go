package app

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/store"
)

// readOnlyStore refuses the writes of the dispatcher and of the health
// probe while broken is set, with an error that names the database the
// way a careless driver might.
type readOnlyStore struct {
	store.Store
	broken atomic.Bool
	puts   atomic.Int64
	err    error
}

func (s *readOnlyStore) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f store.ClaimFilter) ([]store.Claim, error) {
	if s.broken.Load() {
		return nil, s.err
	}
	return s.Store.ClaimDeliveries(ctx, now, limit, lease, f)
}

func (s *readOnlyStore) PutState(ctx context.Context, key string, value []byte) error {
	s.puts.Add(1)
	if s.broken.Load() {
		return s.err
	}
	return s.Store.PutState(ctx, key, value)
}

// TestHealthzAndBannerWhenStoreNotWritable: the app wires the dispatcher's
// store health into /healthz (503, the error without the DSN) and the
// console's banner, and both clear once the store takes writes again.
func TestHealthzAndBannerWhenStoreNotWritable(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	log := slog.New(slog.DiscardHandler)
	st, err := OpenStore(ctx, cfg, log)
	noErr(t, err)
	rs := &readOnlyStore{Store: st, err: errors.New("attempt to write a readonly database " + cfg.Database)}
	a := &App{Config: cfg, Log: log, Store: rs, Shown: &alert.Holder{}, Agents: &agent.Holder{}}
	noErr(t, a.build())
	t.Cleanup(func() { a.Close() })
	noErr(t, a.buildServer())

	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		a.Web.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code, w.Body.String()
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz on a writable store: %d %s", code, body)
	}

	rs.broken.Store(true)
	if _, err := a.Dispatcher.DispatchOnce(ctx, store.ClaimFilter{}); err == nil {
		t.Fatal("claim on a read-only store worked")
	}
	code, body := get("/healthz")
	var got map[string]string
	noErr(t, json.Unmarshal([]byte(body), &got))
	if code != http.StatusServiceUnavailable || got["status"] != "store not writable" ||
		got["error"] != "claim: attempt to write a readonly database <database>" {
		t.Fatalf("healthz while the dispatcher cannot write: %d %s", code, body)
	}
	if _, body := get("/login"); !strings.Contains(body, `id="store-not-writable"`) || strings.Contains(body, cfg.Database) {
		t.Fatalf("console banner missing or naming the database:\n%s", body)
	}

	rs.broken.Store(false)
	if _, err := a.Dispatcher.DispatchOnce(ctx, store.ClaimFilter{}); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz after the store recovered: %d %s", code, body)
	}
	if _, body := get("/login"); strings.Contains(body, "store-not-writable") {
		t.Fatal("console banner after the store recovered")
	}
}

// TestWriteProbe: with an idle dispatcher (healthy as far as it knows) the
// probe's own write finds a store that refuses writes; it writes at most
// every probeEvery, logs once per change, and cuts the DSN's password out.
func TestWriteProbe(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	st, err := OpenStore(ctx, cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	t.Cleanup(func() { st.Close() })
	dsn := "postgres://munja:S3cret@db:5432/munja"
	rs := &readOnlyStore{Store: st, err: errors.New(`failed to connect to "` + dsn + `": password S3cret rejected`)}
	var logs syncBuffer
	p := &writeProbe{state: rs, health: func() dispatcher.StoreHealth { return dispatcher.StoreHealth{Writable: true} },
		dsn: dsn, log: slog.New(slog.NewTextHandler(&logs, nil))}
	expire := func() { p.mu.Lock(); p.at = p.at.Add(-probeEvery); p.mu.Unlock() }

	noErr(t, p.check(ctx))
	noErr(t, p.check(ctx))
	if n := rs.puts.Load(); n != 1 {
		t.Fatalf("%d probe writes within %s, want 1", n, probeEvery)
	}
	if v, err := st.GetState(ctx, probeKey); err != nil || len(v) == 0 {
		t.Fatalf("probe key: %q %v", v, err)
	}

	rs.broken.Store(true)
	if err := p.check(ctx); err != nil {
		t.Fatalf("a cached success should stand until %s passed: %v", probeEvery, err)
	}
	for range 3 {
		expire()
		err := p.check(ctx)
		if err == nil || strings.Contains(err.Error(), "S3cret") || strings.Contains(err.Error(), dsn) {
			t.Fatalf("probe on a broken store: %v", err)
		}
	}
	if err := p.check(ctx); err == nil || err.Error() != `failed to connect to "<database>": password xxxxx rejected` {
		t.Fatalf("error shown: %v", err)
	}
	rs.broken.Store(false)
	expire()
	noErr(t, p.check(ctx))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[1], "store writable again") {
		t.Fatalf("want one ERROR and one INFO line, got:\n%s", logs.String())
	}
}
