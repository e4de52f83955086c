package logcheck

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
	"github.com/munja-sms/munja/store/postgres/pgtest"
	"github.com/munja-sms/munja/store/sqlite"
)

// stateStores are the real stores a check's state lives in: SQLite in a
// temporary directory and a schema of the test PostgreSQL.
var stateStores = []struct {
	name string
	open func(t *testing.T) check.StateStore
}{
	{"sqlite", func(t *testing.T) check.StateStore { return openStore(t) }},
	{"postgres", func(t *testing.T) check.StateStore {
		db, err := postgres.Open(context.Background(), pgtest.Schema(t), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// watching runs c.Watch until the returned stop is called (a stopped
// munja), returning the emitted results.
func watching(t *testing.T, c check.Checker) (<-chan check.Result, func()) {
	t.Helper()
	out := make(chan check.Result, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// As the runner does: StartWatch, no goroutine of the test's waiting.
	c.(check.AsyncWatcher).StartWatch(ctx, func(r check.Result) { out <- r }, func(err error) { done <- err })
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Watch: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return out, stop
}

func storedHits(t *testing.T, st check.StateStore, name string) int {
	t.Helper()
	raw, err := st.GetState(context.Background(), StateKey(name))
	if err != nil {
		t.Fatalf("state of %s: %v", name, err)
	}
	var rec saved
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return len(rec.Hits)
}

// waitDetail runs c until its Detail says want (generous bound).
func waitDetail(t *testing.T, c check.Checker, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := c.Run(context.Background())
		if strings.Contains(r.Detail, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Detail never said %q: %s", want, r.Detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func noEmit(t *testing.T, ch <-chan check.Result, within time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("emitted %+v", r)
	case <-time.After(within):
	}
}

// TestWindowSurvivesRestart is issue 12: after a restart inside the
// window the check still fails (no "[복구]" 53 s after an "Out of memory"
// line with a 5 m window), the line is not counted again, and the check
// recovers once the window has passed since the match.
func TestWindowSurvivesRestart(t *testing.T) {
	for _, s := range stateStores {
		t.Run(s.name, func(t *testing.T) { testWindowSurvivesRestart(t, s.open(t)) })
	}
}

func testWindowSurvivesRestart(t *testing.T, st check.StateStore) {
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	clk := newClock()
	cfg := config.Check{Name: "oom", Type: "log", Path: path, Pattern: "Out of memory", Window: config.Duration(5 * time.Minute)}
	build := func() check.Checker {
		c, err := New(cfg, check.Deps{State: st, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	first := build()
	results, stop := watching(t, first)
	waitFollowing(t, path)
	appendLines(t, path, "kernel: Out of memory: Killed process 4242 (java)")
	if r := waitResult(t, results); r.OK {
		t.Fatalf("match: %+v", r)
	}
	// Saved before it was emitted.
	if n := storedHits(t, st, "oom"); n != 1 {
		t.Fatalf("stored %d matches when the alert was emitted, want 1", n)
	}
	stop() // munja stops

	clk.Advance(53 * time.Second)
	second := build() // and starts again, on the same store
	if r := second.Run(context.Background()); r.OK || !strings.Contains(r.Detail, "1 matches") ||
		!strings.Contains(r.Detail, "last: kernel: Out of memory: Killed process 4242 (java)") {
		t.Fatalf("first run after the restart: %+v", r)
	}
	results, _ = watching(t, second)
	appendLines(t, path, "sshd: Accepted publickey")
	noEmit(t, results, 300*time.Millisecond) // the old match is not read again
	clk.Advance(4 * time.Minute)
	if r := second.Run(context.Background()); r.OK || !strings.Contains(r.Detail, "1 matches") {
		t.Fatalf("4m53s after the match: %+v", r)
	}
	clk.Advance(8 * time.Second)
	if r := second.Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "0 matches") {
		t.Fatalf("after the window: %+v", r)
	}
}

// TestLinesWrittenWhileStoppedAreRead: a file followed before the stop is
// read on from where it was left, so a match written while munja was
// stopped fires when it starts again.
func TestLinesWrittenWhileStoppedAreRead(t *testing.T) {
	st := openStore(t)
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	clk := newClock()
	cfg := config.Check{Name: "oom", Type: "log", Path: path, Pattern: "Out of memory"}
	first, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := watching(t, first)
	waitFollowing(t, path)
	stop()

	appendLines(t, path, "kernel: Out of memory: while munja was stopped", "other")
	second, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := second.Run(context.Background()); !r.OK {
		t.Fatalf("before following: %+v", r)
	}
	results, _ := watching(t, second)
	if r := waitResult(t, results); r.OK || !strings.Contains(r.Detail, "while munja was stopped") {
		t.Fatalf("line written while stopped: %+v", r)
	}
}

func TestRestoreDropsOldMatchesAndOtherConfigs(t *testing.T) {
	st := openStore(t)
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	clk := newClock()
	cfg := config.Check{Name: "oom", Type: "log", Path: path, Pattern: "Out of memory", Window: config.Duration(time.Minute), Count: 2}
	c, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	results, stop := watching(t, c)
	waitFollowing(t, path)
	appendLines(t, path, "Out of memory 1")
	waitDetail(t, c, "1 matches")
	clk.Advance(50 * time.Second)
	appendLines(t, path, "Out of memory 2")
	waitResult(t, results)
	stop()

	clk.Advance(20 * time.Second) // the first match left the window
	again, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := again.Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "1 matches") {
		t.Fatalf("one match left in the window: %+v", r)
	}

	changed := cfg
	changed.Count = 1 // the alert engine resets a changed check: so does its window
	other, err := New(changed, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r := other.Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "0 matches") {
		t.Fatalf("changed config kept the window: %+v", r)
	}
}

// slowState is a StateStore whose writes wait until released.
type slowState struct {
	mu      sync.Mutex
	m       map[string][]byte
	puts    int
	release chan struct{}
}

func (s *slowState) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[key]; ok {
		return v, nil
	}
	return nil, store.ErrNotFound
}

func (s *slowState) PutState(ctx context.Context, key string, value []byte) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	s.m[key] = value
	return nil
}

// TestSavesDoNotSlowTheFollower: while a write hangs, matches are still
// counted at once; the writes are coalesced, and the last one carries
// every match.
func TestSavesDoNotSlowTheFollower(t *testing.T) {
	st := &slowState{m: map[string][]byte{}, release: make(chan struct{})}
	path := filepath.Join(t.TempDir(), "app.log")
	appendLines(t, path, "boot")
	clk := newClock()
	c, err := New(config.Check{Name: "seg", Type: "log", Path: path, Pattern: "segfault", Count: 1000},
		check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, stop := watching(t, c)
	waitFollowing(t, path)
	for i := range 200 {
		appendLines(t, path, "app: segfault "+strings.Repeat("x", i%7))
	}
	waitDetail(t, c, "200 matches") // while the store hangs
	close(st.release)
	stop()
	st.mu.Lock()
	puts := st.puts
	st.mu.Unlock()
	if puts > 3 {
		t.Errorf("%d writes for 200 matches, want them coalesced", puts)
	}
	if n := storedHits(t, st, "seg"); n != 200 {
		t.Errorf("stored %d matches, want 200", n)
	}
}

// TestRestartAfterRotation: the position saved is in the file now at the
// path, even when the file rotated away is still being read to its end,
// so a match in the new file is not read again after a restart.
func TestRestartAfterRotation(t *testing.T) {
	st := openStore(t)
	path := filepath.Join(t.TempDir(), "messages")
	appendLines(t, path, "boot")
	clk := newClock()
	cfg := config.Check{Name: "oom", Type: "log", Path: path, Pattern: "Out of memory"}
	c, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	results, stop := watching(t, c)
	waitFollowing(t, path)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, "Out of memory in the new file")
	waitResult(t, results)
	appendLines(t, path+".1", "a late line in the old file")
	waitDetail(t, c, "1 matches")
	time.Sleep(300 * time.Millisecond) // the late line is read
	stop()

	again, err := New(cfg, check.Deps{State: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	results, _ = watching(t, again)
	appendLines(t, path, "after the restart")
	noEmit(t, results, 300*time.Millisecond)
	if r := again.Run(context.Background()); !strings.Contains(r.Detail, "1 matches") {
		t.Fatalf("after the restart: %s", r.Detail)
	}
}
