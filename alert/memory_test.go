package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
)

// agentResult is what an agent's report gives the engine: texts decoded
// afresh for every report, a detail that changes with every result.
func agentResult(host string, c, seq int, at time.Time) check.Result {
	name := fmt.Sprintf("check-%02d", c)
	return check.Result{
		Check: fmt.Sprintf("check-%02d", c), Host: string([]byte(host)), OK: true, At: at,
		Firing:   "[경고] " + name + " 사용률이 높습니다.",
		Resolved: "[복구] " + name + " 사용률이 정상입니다.",
		Detail:   fmt.Sprintf("%s used %d%% (max 95%%)", name, seq%90),
		DetailKo: fmt.Sprintf("%s 사용률 %d%% (최대 95%%)", name, seq%90),
		Severity: "warning", Duration: time.Millisecond,
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerCheckState: an agent host's check, its result history full
// (50 points), costs the engine at most 1 KiB of heap.
func TestMemoryPerCheckState(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 check states")
	}
	const hosts, checks, rounds = 1000, 20, historySize + 10
	e, err := New(Options{Config: baseConfig(), State: discardState{}, Notifier: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	hostNames := make([]string, hosts)
	for h := range hostNames {
		hostNames[h] = fmt.Sprintf("host-%05d", h)
	}
	before := heapInUse()
	at := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	for r := range rounds {
		for h := range hosts {
			for c := range checks {
				e.Observe(agentResult(hostNames[h], c, r*7+h+c, at))
			}
		}
		at = at.Add(10 * time.Second)
	}
	// What is saved is written: the engine keeps no dirty keys.
	if err := e.saveKeys(context.Background(), allHistory); err != nil {
		t.Fatal(err)
	}
	after := heapInUse()
	per := float64(after-before) / (hosts * checks)
	t.Logf("%.0f bytes of heap per check state (%d states, %d results each)", per, hosts*checks, rounds)
	// Measured 403 bytes (461 in a map by store key, 792 with a
	// 384-byte state holding the last
	// result as a check.Result and 4-byte history offsets, 1,000 with the
	// history in Unix nanoseconds, 3,123 before the compact state); the
	// bound leaves room for a noisy heap and another Go release, and fails
	// a return to any earlier layout.
	if per > 560 {
		t.Errorf("%.0f bytes per check state, want at most 560", per)
	}
	t.Logf("checkState %d bytes", unsafe.Sizeof(checkState{}))
	runtime.KeepAlive(e)
}

// discardState is a store that keeps nothing: the heap measured is the
// engine's.
type discardState struct{ store.AlertState }

func (discardState) PutState(context.Context, string, []byte) error { return nil }
func (discardState) DeleteState(context.Context, string) error      { return nil }

// TestFailedSaveLogsOneShortLine: a save of 20,000 records that the store
// refuses logs one line under 4 KiB and returns a short error, naming how
// many records and the first few (it once logged every key: 18.5 MB).
func TestFailedSaveLogsOneShortLine(t *testing.T) {
	var logged bytes.Buffer
	st := newMemState()
	st.fail = errors.New("disk I/O error")
	e, err := New(Options{Config: baseConfig(), State: st, Notifier: &recorder{},
		Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	for h := range 1000 {
		for c := range 20 {
			e.Observe(agentResult(fmt.Sprintf("host-%05d", h), c, h, at))
		}
	}
	err = e.Flush(context.Background())
	if err == nil {
		t.Fatal("Flush saved into a failing store")
	}
	if len(err.Error()) > 1024 || !strings.Contains(err.Error(), "20000 state records not saved") {
		t.Errorf("error (%d bytes): %.300s", len(err.Error()), err)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	for _, l := range lines {
		if len(l) > 4096 {
			t.Errorf("log line of %d bytes: %.200s…", len(l), l)
		}
	}
	if !strings.Contains(logged.String(), "records=20000") || !strings.Contains(logged.String(), "disk I/O error") {
		t.Errorf("log: %.1000s", logged.String())
	}
	// Nothing was lost: the next save writes them all.
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(st.keys(prefixCheck)); n != 20000 {
		t.Errorf("%d check states stored after the store came back, want 20000", n)
	}
}

// TestHistoryRoundIsSpread: history-only changes of many checks are
// written a few thousand per evaluation, the rest by the evaluations right
// after, and a stop writes what is left.
func TestHistoryRoundIsSpread(t *testing.T) {
	h := newHarness(t, baseConfig())
	ctx := context.Background()
	const n = 3*historyPerTick + 10
	for i := range n {
		h.e.Observe(agentResult(fmt.Sprintf("host-%05d", i), 1, i, h.clock.Now()))
	}
	h.flush()
	puts := h.st.puts
	for i := range n {
		h.e.Observe(agentResult(fmt.Sprintf("host-%05d", i), 1, i+1, h.clock.Now()))
	}
	h.clock.Advance(historyFlush)
	if next := h.e.tick(ctx); !next.Equal(h.clock.Now()) {
		t.Errorf("next evaluation at %s, want now (the round goes on)", next)
	}
	if got := h.st.puts - puts; got != historyPerTick {
		t.Errorf("first evaluation wrote %d records, want %d", got, historyPerTick)
	}
	h.e.tick(ctx)
	if got := h.st.puts - puts; got != 2*historyPerTick {
		t.Errorf("two evaluations wrote %d records, want %d", got, 2*historyPerTick)
	}
	if err := h.e.saveKeys(ctx, allHistory); err != nil {
		t.Fatal(err)
	}
	if got := h.st.puts - puts; got != n {
		t.Errorf("wrote %d records in all, want %d", got, n)
	}
}

// TestHistoryOfEarlierVersionsLoads: a check state written with its
// history as a list of points (before "hist") loads with that history (its
// times to the millisecond, what the compact history keeps), and the
// compact form round-trips.
func TestHistoryOfEarlierVersionsLoads(t *testing.T) {
	h := newHarness(t, baseConfig())
	ctx := context.Background()
	old := `{"check":"httpd","configured":true,"config_hash":"` + h.e.cc.check("httpd").hash + `","status":"ok","since":"2026-11-25T14:00:00+09:00",` +
		`"last":{"Check":"httpd","OK":true,"At":"2026-11-25T14:00:20.5+09:00"},` +
		`"history":[{"at":"2026-11-25T14:00:00.000000001+09:00","ok":true},{"at":"2026-11-25T14:00:10+09:00","ok":false},{"at":"2026-11-25T14:00:20.5+09:00","ok":false,"unknown":true}]}`
	if err := h.st.PutState(ctx, checkKey("httpd", ""), []byte(old)); err != nil {
		t.Fatal(err)
	}
	h.restart(h.cfg)
	// The first point, stored as t0 + 1 ns, is kept as t0.
	want := []HistoryPoint{{At: t0, OK: true}, {At: t0.Add(10 * time.Second)}, {At: t0.Add(20500 * time.Millisecond), Unknown: true}}
	same := func(got []HistoryPoint) bool {
		return slices.EqualFunc(got, want, func(a, b HistoryPoint) bool {
			return a.At.Equal(b.At) && a.OK == b.OK && a.Unknown == b.Unknown
		})
	}
	if got := statusOf(t, h.e, "httpd").History; !same(got) {
		t.Fatalf("history %+v", got)
	}
	h.e.mu.Lock()
	h.e.markDirty(checkKey("httpd", ""))
	h.e.mu.Unlock()
	h.flush()
	raw, _ := h.st.GetState(ctx, checkKey("httpd", ""))
	if !strings.Contains(string(raw), `"hist":{"at":"`) || strings.Contains(string(raw), `"history"`) {
		t.Errorf("stored: %s", raw)
	}
	h.restart(h.cfg)
	if got := statusOf(t, h.e, "httpd").History; !same(got) {
		t.Errorf("history after a restart %+v", got)
	}
}

// TestHistoryKeepsTheLastPoints: the compact history keeps the last
// historySize points in order, to the millisecond, through drops, a span
// too long for milliseconds (then to the second), a clock going back, and
// its stored form.
func TestHistoryKeepsTheLastPoints(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	var h history
	var want []HistoryPoint
	for i := range historySize + 17 {
		at := start.Add(time.Duration(i) * 10 * time.Second)
		if i == 30 {
			at = start.Add(-time.Hour) // a clock set back
		}
		h.add(at, i%3 == 0, i%5 == 0)
		want = append(want, HistoryPoint{At: at.Truncate(time.Millisecond), OK: i%3 == 0, Unknown: i%5 == 0})
	}
	want = want[len(want)-historySize:]
	check := func(what string, h *history, want []HistoryPoint) {
		t.Helper()
		got := h.points()
		if !slices.EqualFunc(got, want, func(a, b HistoryPoint) bool {
			return a.At.Equal(b.At) && a.OK == b.OK && a.Unknown == b.Unknown
		}) {
			t.Errorf("%s: %d points\ngot  %v\nwant %v", what, len(got), got, want)
		}
	}
	check("after drops", &h, want)
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back history
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	check("stored and read back", &back, want)

	// An agent's check every 10 s (2-byte steps, through drops), then a
	// gap of more than 65.535 s (4-byte offsets from then on).
	h, want = history{}, nil
	at := start
	for i := range historySize + 20 {
		if i == historySize+10 {
			at = at.Add(2 * time.Minute)
		}
		h.add(at, i%2 == 0, i%7 == 0)
		want = append(want, HistoryPoint{At: at.Truncate(time.Millisecond), OK: i%2 == 0, Unknown: i%7 == 0})
		if i == historySize+5 {
			if h.narrow == nil {
				t.Errorf("10 s steps kept wide")
			}
			check("10 s steps", &h, want[len(want)-historySize:])
		}
		at = at.Add(10*time.Second + time.Duration(i)*1234567)
	}
	if h.wide == nil {
		t.Errorf("a 2-minute step kept narrow")
	}
	check("after a gap", &h, want[len(want)-historySize:])

	// A daily check: 50 points span 49 days, more than 32-bit
	// milliseconds hold; the history then keeps seconds.
	h, want = history{}, nil
	for i := range historySize {
		at := start.Add(time.Duration(i) * 24 * time.Hour)
		h.add(at, true, false)
		want = append(want, HistoryPoint{At: at, OK: true})
	}
	for i := range want {
		want[i].At = want[i].At.Truncate(time.Second)
	}
	check("daily", &h, want)

	// A clock 100 years off starts the history again.
	h.add(start.AddDate(100, 0, 0), false, false)
	check("a century later", &h, []HistoryPoint{{At: start.AddDate(100, 0, 0).Truncate(time.Second)}})
}
