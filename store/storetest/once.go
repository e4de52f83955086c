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

// createOnce calls CreateOnce with a window of 10 minutes before m's
// creation, and returns the ID of the message the key names (m's, or the
// one a *store.DuplicateError names) and whether it was a duplicate.
func createOnce(t *testing.T, s store.Store, m *sms.Message, lim store.Limits, key string) (id int64, dup bool) {
	t.Helper()
	err := s.CreateOnce(ctx(t), m, lim, store.Once{Key: key, Since: m.CreatedAt.Add(-10 * time.Minute)})
	var de *store.DuplicateError
	switch {
	case err == nil:
		if m.ID == 0 {
			t.Fatalf("CreateOnce(%q) stored no ID", m.Text)
		}
		return m.ID, false
	case errors.As(err, &de):
		if m.ID != 0 || de.Key != key || de.MessageID == 0 {
			t.Fatalf("CreateOnce(%q): duplicate %+v, message ID %d", m.Text, de, m.ID)
		}
		return de.MessageID, true
	}
	t.Fatalf("CreateOnce(%q, %q): %v", m.Text, key, err)
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
	if err := s.CreateOnce(ctx(t), refused, full, store.Once{Key: "k3", Since: base}); !errors.As(err, &le) {
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
	if err := s.CreateOnce(ctx(t), m, store.Limits{}, store.Once{Key: "k2", Since: base.Add(-time.Hour)}); err != nil {
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
				err := s.CreateOnce(ctx(t), m, limitsAt(1000, 0, 0), store.Once{Key: key, Since: base.Add(-time.Minute)})
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
					t.Errorf("CreateOnce: %v", err)
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
