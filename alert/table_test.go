package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCheckTable: get, put, remove and all agree with a plain map by
// store key, over names that need escaping and a host with many checks.
func TestCheckTable(t *testing.T) {
	names := []string{"disk", "디스크", "a/b", "100%", "a b", "z", "-", "oom"}
	hosts := []string{"", "web01", "db/1", "호스트"}
	tab := newCheckTable()
	want := map[string]*checkState{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		name := names[rng.IntN(len(names))]
		if rng.IntN(4) == 0 {
			name = fmt.Sprintf("check-%03d", rng.IntN(300))
		}
		host := hosts[rng.IntN(len(hosts))]
		key := checkKey(name, host)
		if n, hst, ok := parseCheckKey(key); !ok || n != name || hst != host {
			t.Fatalf("parseCheckKey(%q) = %q %q %v, want %q %q", key, n, hst, ok, name, host)
		}
		switch st := tab.get(name, host); {
		case st != want[key]:
			t.Fatalf("get(%q, %q) = %p, want %p", name, host, st, want[key])
		case st != nil && rng.IntN(3) == 0:
			tab.remove(st)
			if tab.holds(st) {
				t.Fatalf("holds %q after remove", key)
			}
			delete(want, key)
		default:
			n := &checkState{Check: intern(name), Host: intern(host)}
			tab.put(n)
			if !tab.holds(n) || st != nil && tab.holds(st) {
				t.Fatalf("put %q: the new state is not the one held", key)
			}
			want[key] = n
		}
		if tab.len() != len(want) {
			t.Fatalf("len %d, want %d", tab.len(), len(want))
		}
	}
	var got []string
	for st := range tab.all() {
		if want[st.key()] != st {
			t.Fatalf("all yields %q, not held", st.key())
		}
		got = append(got, st.key())
	}
	if len(got) != len(want) {
		t.Fatalf("all yields %d states, want %d", len(got), len(want))
	}
	indexed := 0
	for _, h := range tab.hosts {
		if !slices.IsSortedFunc(h.sts, func(a, b *checkState) int { return byCheckName(a, b.Check) }) {
			t.Fatal("a host's checks are not in name order")
		}
		if h.byName != nil {
			indexed++
			if len(h.byName) != len(h.sts) {
				t.Fatalf("a host's index has %d names, its list %d", len(h.byName), len(h.sts))
			}
			for _, st := range h.sts {
				if h.byName[st.Check] != st {
					t.Fatalf("index of %q is not its state", st.key())
				}
			}
		}
	}
	if indexed == 0 {
		t.Error("no host got an index by name")
	}
	for _, key := range []string{"alert/incident/x", "alert/check/no-host", "alert/check/%zz/h"} {
		if _, _, ok := parseCheckKey(key); ok {
			t.Errorf("parseCheckKey(%q) ok", key)
		}
	}
}

// TestStateUnderAnotherKeyMoves: a stored check state whose key is not
// the one this version gives its check and host (written by hand, or by
// a version that escaped differently) is written under its own key and
// the other deleted, so the store holds one record per check.
func TestStateUnderAnotherKeyMoves(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.pass("httpd")
	h.flush()
	ctx := context.Background()
	raw, err := h.st.GetState(ctx, checkKey("httpd", ""))
	if err != nil {
		t.Fatal(err)
	}
	odd := prefixCheck + "%68ttpd/"
	if err := h.st.PutState(ctx, odd, raw); err != nil {
		t.Fatal(err)
	}
	if err := h.st.DeleteState(ctx, checkKey("httpd", "")); err != nil {
		t.Fatal(err)
	}
	h.restart(h.cfg)
	if got := h.st.keys(prefixCheck); !slices.Equal(got, []string{checkKey("httpd", "")}) {
		t.Fatalf("check records after the restart: %q", got)
	}
	var sc storedCheck
	raw, _ = h.st.GetState(ctx, checkKey("httpd", ""))
	if err := json.Unmarshal(raw, &sc); err != nil || sc.Check != "httpd" || sc.Status != StateOK {
		t.Fatalf("moved record: %s (%v)", raw, err)
	}
}

// TestDroppedBeforeWrittenIsNotWritten: a host's new checks, listed to be
// written later (lazy), then forgotten before that save, are deleted, not
// written back; a history round listing a check dropped meanwhile skips
// it.
func TestDroppedBeforeWrittenIsNotWritten(t *testing.T) {
	h := newHarness(t, baseConfig())
	ctx := context.Background()
	for i := range 3 {
		r := h.result(fmt.Sprintf("agent-check-%d", i), true)
		r.Host = "agent-01"
		h.e.Observe(r)
	}
	if len(h.e.lazy) != 3 {
		t.Fatalf("%d lazy states, want 3", len(h.e.lazy))
	}
	n, err := h.e.Forget(ctx, "agent-01")
	if err != nil || n != 3 {
		t.Fatalf("Forget = %d, %v", n, err)
	}
	h.flush()
	if got := h.st.keys(prefixCheck + "agent-check"); len(got) != 0 {
		t.Fatalf("forgotten checks written: %q", got)
	}

	// History: observed, written, observed again (history only), listed
	// for a round, then dropped before the round writes it.
	r := h.result("agent-check-0", true)
	r.Host = "agent-02"
	h.e.Observe(r)
	h.flush()
	if got := h.st.keys(prefixCheck + "agent-check"); len(got) != 1 {
		t.Fatalf("records after the first save: %q", got)
	}
	h.clock.Advance(10e9)
	r.At = h.clock.Now()
	h.e.Observe(r)
	h.e.mu.Lock()
	h.e.queueHistory(h.clock.Now())
	queued := len(h.e.histQueue)
	h.e.mu.Unlock()
	if queued != 1 {
		t.Fatalf("%d states queued for history, want 1", queued)
	}
	if _, err := h.e.Forget(ctx, "agent-02"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.saveKeys(ctx, historyPerTick); err != nil {
		t.Fatal(err)
	}
	if got := h.st.keys(prefixCheck + "agent-check"); len(got) != 0 {
		t.Fatalf("a dropped check's history was written: %q", got)
	}
}
