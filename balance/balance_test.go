package balance

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// gateway is a provider whose balance the test sets; a lookup blocks while
// hold is non-nil (until it is closed).
type gateway struct {
	mu    sync.Mutex
	sms   int64
	err   error
	hold  chan struct{}
	calls atomic.Int32
}

func (g *gateway) Name() string  { return "gw" }
func (g *gateway) MaxBatch() int { return 1000 }
func (g *gateway) Send(context.Context, provider.Batch) (provider.Result, error) {
	return provider.Result{}, errors.New("not for sending")
}

func (g *gateway) Remain(ctx context.Context) (provider.Balance, error) {
	g.calls.Add(1)
	g.mu.Lock()
	hold, n, err := g.hold, g.sms, g.err
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return provider.Balance{}, ctx.Err()
		}
	}
	return provider.Balance{SMS: n, LMS: n / 3}, err
}

func (g *gateway) set(n int64, err error, hold chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sms, g.err, g.hold = n, err, hold
}

// clock is a settable time.
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

func newWatch(t *testing.T, gw *gateway) (*Watch, *clock, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	w := New(Options{Store: db, Providers: []provider.Provider{gw}, Now: clk.Now})
	return w, clk, db
}

// TestGet: the console's lookups are cached for TTL, forced on request,
// stored like the watch's own, and a slow gateway answers "pending" with the
// last known value instead of holding the page.
func TestGet(t *testing.T) {
	gw := &gateway{sms: 1000}
	w, clk, db := newWatch(t, gw)
	ctx := context.Background()

	if _, ok := w.Get(ctx, "nope", false, time.Second); ok {
		t.Fatal("Get of an unknown provider answered")
	}
	l, ok := w.Get(ctx, "gw", false, 5*time.Second)
	if !ok || l.Balance.SMS != 1000 || l.Pending || l.Err != nil || !l.At.Equal(clk.Now()) {
		t.Fatalf("first lookup: %+v %v", l, ok)
	}
	if st, err := Load(ctx, db, "gw"); err != nil || st.SMS != 1000 || st.LMS != 333 {
		t.Fatalf("stored %+v %v", st, err)
	}

	gw.set(900, nil, nil)
	clk.add(TTL / 2)
	if l, _ := w.Get(ctx, "gw", false, 5*time.Second); l.Balance.SMS != 1000 || gw.calls.Load() != 1 {
		t.Errorf("within TTL: %+v after %d calls, want the cached 1000 and no call", l, gw.calls.Load())
	}
	if l, _ := w.Get(ctx, "gw", true, 5*time.Second); l.Balance.SMS != 900 {
		t.Errorf("forced: %+v", l)
	}

	// A gateway that stalls: the page gets the last value, marked pending.
	hold := make(chan struct{})
	gw.set(800, nil, hold)
	clk.add(TTL)
	if l, _ := w.Get(ctx, "gw", false, 20*time.Millisecond); !l.Pending || l.Balance.SMS != 900 {
		t.Errorf("stalled: %+v, want pending with 900", l)
	}
	close(hold)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := Load(ctx, db, "gw")
		if err == nil && st.SMS == 800 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background lookup never stored its answer: %+v %v", st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if l, _ := w.Get(ctx, "gw", false, time.Second); l.Pending || l.Balance.SMS != 800 {
		t.Errorf("after the stall: %+v", l)
	}

	// A failure is shown; the stored balance stays.
	gw.set(0, errors.New("gateway down"), nil)
	if l, _ := w.Get(ctx, "gw", true, 5*time.Second); l.Err == nil {
		t.Errorf("failure not reported: %+v", l)
	}
	if st, _ := Load(ctx, db, "gw"); st.SMS != 800 {
		t.Errorf("a failed lookup changed the stored balance: %+v", st)
	}
}

func TestLoadNotFound(t *testing.T) {
	_, _, db := newWatch(t, &gateway{})
	if _, err := Load(context.Background(), db, "gw"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Load before any lookup: %v", err)
	}
}
