package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// createOnce calls CreateWith with a window of 10 minutes before m's
// creation, and returns the ID of the message the key names (m's, or the
// one a *store.DuplicateError names) and whether it was a duplicate.
func createOnce(t *testing.T, s store.Store, m *sms.Message, lim store.Limits, key string) (id int64, dup bool) {
	t.Helper()
	err := s.CreateWith(ctx(t), m, store.Create{Limits: lim, Once: store.Once{Key: key, Since: m.CreatedAt.Add(-10 * time.Minute)}})
	var de *store.DuplicateError
	switch {
	case err == nil:
		if m.ID == 0 {
			t.Fatalf("CreateWith(%q) stored no ID", m.Text)
		}
		return m.ID, false
	case errors.As(err, &de):
		if m.ID != 0 || de.Key != key || de.MessageID == 0 {
			t.Fatalf("CreateWith(%q): duplicate %+v, message ID %d", m.Text, de, m.ID)
		}
		return de.MessageID, true
	}
	t.Fatalf("CreateWith(%q, %q): %v", m.Text, key, err)
	return 0, false
}

// testCreateOnce: a key stores one message within its window, the next
// after it; the key is checked before the limits, is not taken by a
// refused message, and is forgotten with its message.
func testCreateOnce(t *testing.T, s store.Store) {
	first, dup := createOnce(t, s, newMessage("first", 0, "01011112222"), store.Limits{}, "k1")
	if dup {
		t.Fatal("a new key is a duplicate")
	}
	for _, at := range []time.Duration{0, time.Second, 10*time.Minute - time.Millisecond} {
		if id, dup := createOnce(t, s, newMessage("again", at, "01011112222"), store.Limits{}, "k1"); !dup || id != first {
			t.Errorf("the same key %v later: stored %d (duplicate %v), want a duplicate of %d", at, id, dup, first)
		}
	}
	if n := countAll(t, s); n != 1 {
		t.Fatalf("%d deliveries after duplicates, want 1", n)
	}
	// (Without deliveries, so that it can be pruned below.)
	other, dup := createOnce(t, s, newMessage("other", time.Second), store.Limits{}, "k2")
	if dup || other == first {
		t.Errorf("another key: %d, duplicate %v", other, dup)
	}
	// Once the window has passed, the key stores a new message and names it.
	later, dup := createOnce(t, s, newMessage("later", 10*time.Minute+time.Millisecond, "01011112222"), store.Limits{}, "k1")
	if dup || later == first {
		t.Fatalf("after the window: %d, duplicate %v", later, dup)
	}
	if id, dup := createOnce(t, s, newMessage("later again", 11*time.Minute, "01011112222"), store.Limits{}, "k1"); !dup || id != later {
		t.Errorf("after the window, again: %d (duplicate %v), want %d", id, dup, later)
	}
	// No key: CreateLimited.
	for range 2 {
		if _, dup := createOnce(t, s, newMessage("no key", 12*time.Minute, "01011112222"), store.Limits{}, ""); dup {
			t.Error("an empty key is a duplicate")
		}
	}
	// A duplicate is answered as one even though the daily budget is used
	// up now (the first message used it).
	full := limitsAt(countAll(t, s), 0, 0)
	if id, dup := createOnce(t, s, newMessage("retry", 12*time.Minute, "01011112222"), full, "k1"); !dup || id != later {
		t.Errorf("duplicate over the budget: %d (duplicate %v), want %d", id, dup, later)
	}
	// A refused message does not take its key.
	var le *store.LimitError
	refused := newMessage("refused", 12*time.Minute, "01033334444")
	if err := s.CreateWith(ctx(t), refused, store.Create{Limits: full, Once: store.Once{Key: "k3", Since: base}}); !errors.As(err, &le) {
		t.Fatalf("over the budget: %v, want a limit error", err)
	}
	if _, dup := createOnce(t, s, newMessage("allowed", 12*time.Minute, "01033334444"), store.Limits{}, "k3"); dup {
		t.Error("a refused message took its key")
	}
	// Pruning a message forgets its key.
	if _, err := s.PruneMessages(ctx(t), base.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMessage(ctx(t), other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message %d not pruned: %v", other, err)
	}
	m := newMessage("after pruning", 2*time.Second, "01011112222")
	if err := s.CreateWith(ctx(t), m, store.Create{Limits: store.Limits{}, Once: store.Once{Key: "k2", Since: base.Add(-time.Hour)}}); err != nil {
		t.Errorf("key of a pruned message: %v", err)
	}
}

// testOnceAcrossHandles: many writers on two handles sending the same few
// keys at once store one message per key; every other call is told which.
func testOnceAcrossHandles(t *testing.T, a, b store.Store) {
	const keys, writers = 3, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := map[string]int64{}
	named := map[string]map[int64]bool{}
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprint("notification-", (w+k)%keys)
				m := newMessage(key, time.Duration(w)*time.Millisecond, "01011112222")
				err := s.CreateWith(ctx(t), m, store.Create{Limits: limitsAt(1000, 0, 0), Once: store.Once{Key: key, Since: base.Add(-time.Minute)}})
				var de *store.DuplicateError
				mu.Lock()
				if named[key] == nil {
					named[key] = map[int64]bool{}
				}
				switch {
				case err == nil:
					if old, ok := stored[key]; ok {
						t.Errorf("%s stored twice: messages %d and %d", key, old, m.ID)
					}
					stored[key] = m.ID
				case errors.As(err, &de):
					named[key][de.MessageID] = true
				default:
					t.Errorf("CreateWith: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(stored) != keys {
		t.Fatalf("stored %v, want one message for each of %d keys", stored, keys)
	}
	for key, ids := range named {
		delete(ids, stored[key])
		if len(ids) > 0 {
			t.Errorf("duplicates of %s named messages %v, stored %d", key, ids, stored[key])
		}
	}
	if n := countAll(t, a); n != keys {
		t.Errorf("%d deliveries stored, want %d", n, keys)
	}
}

// testCreateAudit: CreateWith's audit entry is stored with its message and
// sees it as stored (ID, deliveries, dropped recipients); a refused or
// duplicate message writes none; concurrent creates (one group commit)
// each get theirs.
func testCreateAudit(t *testing.T, s store.Store) {
	entry := func(m *sms.Message) store.AuditEntry {
		return store.AuditEntry{At: m.CreatedAt, Actor: m.CreatedBy, Action: "message.create",
			Target: fmt.Sprint("message ", m.ID), Detail: fmt.Sprintf("%d recipients, %d dropped", len(m.Deliveries), len(m.Dropped))}
	}
	perPhone := limitsAt(0, 1, time.Second)
	perPhone.DropLimited = true
	mustCreate(t, s, newMessage("earlier", 0, "01011112222"))
	m := newMessage("audited", time.Second, "01011112222", "01033334444")
	if err := s.CreateWith(ctx(t), m, store.Create{Limits: perPhone, Audit: entry}); err != nil {
		t.Fatal(err)
	}
	var le *store.LimitError
	if err := s.CreateWith(ctx(t), newMessage("refused", time.Second, "01055556666"), store.Create{Limits: limitsAt(1, 0, 0), Audit: entry}); !errors.As(err, &le) {
		t.Fatalf("over the budget: %v, want a limit error", err)
	}
	if _, dup := createOnce(t, s, newMessage("keyed", 2*time.Second), store.Limits{}, "a1"); dup {
		t.Fatal("a new key is a duplicate")
	}
	var de *store.DuplicateError
	if err := s.CreateWith(ctx(t), newMessage("again", 2*time.Second), store.Create{Once: store.Once{Key: "a1", Since: base}, Audit: entry}); !errors.As(err, &de) {
		t.Fatalf("the same key again: %v, want a duplicate", err)
	}
	const n = 20
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := newMessage(fmt.Sprint("concurrent ", i), 3*time.Second, "01077778888")
			if err := s.CreateWith(ctx(t), m, store.Create{Audit: entry}); err != nil {
				t.Error(err)
			}
			ids[i] = m.ID
		})
	}
	wg.Wait()
	got, err := s.ListAudit(ctx(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{fmt.Sprint("message ", m.ID): "1 recipients, 1 dropped"}
	for _, id := range ids {
		want[fmt.Sprint("message ", id)] = "1 recipients, 0 dropped"
	}
	for _, e := range got {
		if d, ok := want[e.Target]; !ok || d != e.Detail || e.Actor != "tester" || e.Action != "message.create" {
			t.Errorf("audit entry %+v, want one of %v", e, want)
		}
		delete(want, e.Target)
	}
	if len(want) > 0 {
		t.Errorf("no audit entry for %v", want)
	}
}
