package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// RunLimits runs the limits contract, and CreateWith's keys across handles.
// open must return two handles on one new, empty database (two replicas,
// or the CLI beside `munja serve`); it closes them when the subtest ends.
func RunLimits(t *testing.T, open func(t *testing.T) (store.Store, store.Store)) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"Refusals", testLimitRefusals},
		{"DropLimited", testLimitDrop},
		{"ExactAcrossHandles", testLimitsExactAcrossHandles},
		{"OnceAcrossHandles", testOnceAcrossHandles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			t.Cleanup(func() { a.Close(); b.Close() })
			tc.fn(t, a, b)
		})
	}
}

// limits at the suite's clock: the day from base's midnight, the hour
// before base+at.
func limitsAt(perDay, perPhone int, at time.Duration) store.Limits {
	return store.Limits{
		PerDay: perDay, DayStart: base.Truncate(24 * time.Hour),
		PerRecipientPerHour: perPhone, HourStart: base.Add(at - time.Hour),
	}
}

func countAll(t *testing.T, s store.Store) int {
	t.Helper()
	n, err := s.CountDeliveriesSince(ctx(t), base.Add(-48*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testLimitRefusals(t *testing.T, s, _ store.Store) {
	lim := limitsAt(3, 2, 0)
	m := newMessage("one", 0, "01011112222", "01033334444")
	if err := s.CreateLimited(ctx(t), m, lim); err != nil || m.ID == 0 || len(m.Deliveries) != 2 {
		t.Fatalf("within limits: %v %+v", err, m)
	}
	// Two more would make 4 > 3 today: refused whole, nothing stored.
	over := newMessage("two", time.Second, "01055556666", "01077778888")
	err := s.CreateLimited(ctx(t), over, lim)
	var le *store.LimitError
	if !errors.As(err, &le) || le.Limit != "sms.limits.per_day" || over.ID != 0 {
		t.Fatalf("over the day: %v (id %d)", err, over.ID)
	}
	if n := countAll(t, s); n != 2 {
		t.Fatalf("%d deliveries after a refusal, want 2", n)
	}
	// Unlimited CreateMessage still counts against later limited ones.
	mustCreate(t, s, newMessage("free", 2*time.Second, "01099990000"))
	last := newMessage("three", 3*time.Second, "01099991111")
	if err := s.CreateLimited(ctx(t), last, lim); !errors.As(err, &le) {
		t.Fatalf("4th delivery of a day limited to 3: %v", err)
	}
	// Per phone: a third within the hour is refused naming the number.
	lim = limitsAt(0, 2, 4*time.Second)
	mustLimited(t, s, newMessage("a", 4*time.Second, "01011112222"), lim)
	err = s.CreateLimited(ctx(t), newMessage("b", 5*time.Second, "01011112222"), lim)
	if !errors.As(err, &le) || le.Limit != "sms.limits.per_recipient_per_hour" || !errorsContain(err, "010-1111-2222") {
		t.Fatalf("third to one phone in an hour: %v", err)
	}
	// An hour later it is allowed again.
	mustLimited(t, s, newMessage("c", 2*time.Hour, "01011112222"), limitsAt(0, 2, 2*time.Hour))
}

func mustLimited(t *testing.T, s store.Store, m *sms.Message, lim store.Limits) {
	t.Helper()
	if err := s.CreateLimited(ctx(t), m, lim); err != nil {
		t.Fatalf("CreateLimited(%q): %v", m.Text, err)
	}
}

func errorsContain(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}

func testLimitDrop(t *testing.T, s, _ store.Store) {
	lim := limitsAt(0, 1, 0)
	mustLimited(t, s, newMessage("first", 0, "01011112222"), lim)
	lim.DropLimited = true
	m := newMessage("alert", time.Second, "01011112222", "01033334444")
	mustLimited(t, s, m, lim)
	if len(m.Deliveries) != 1 || m.Deliveries[0].Phone != "01033334444" ||
		len(m.Dropped) != 1 || m.Dropped[0] != "01011112222" {
		t.Fatalf("drop: deliveries %+v dropped %v", m.Deliveries, m.Dropped)
	}
	if got := mustGet(t, s, m.ID); len(got.Deliveries) != 1 {
		t.Fatalf("stored %d deliveries, want 1", len(got.Deliveries))
	}
	// Dropping everyone is a refusal, not an empty message.
	var le *store.LimitError
	if err := s.CreateLimited(ctx(t), newMessage("none", 2*time.Second, "01011112222", "01033334444"), lim); !errors.As(err, &le) {
		t.Fatalf("every recipient over the limit: %v", err)
	}
}

// testLimitsExactAcrossHandles: many writers on two handles at once never
// pass the limits together (each used to count only its own pending sends).
func testLimitsExactAcrossHandles(t *testing.T, a, b store.Store) {
	const perDay, perPhone, writers, each = 40, 5, 8, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[sms.Phone]int{}
	total, refused := 0, 0
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range each {
				// Four phones shared by all writers, so the hourly limit
				// is contended as well as the daily one.
				p := sms.Phone(fmt.Sprintf("0105555000%d", (w+i)%4))
				m := newMessage(fmt.Sprintf("w%d-%d", w, i), time.Duration(w*each+i)*time.Millisecond, p)
				err := s.CreateLimited(ctx(t), m, limitsAt(perDay, perPhone, time.Second))
				mu.Lock()
				var le *store.LimitError
				switch {
				case err == nil:
					total++
					accepted[p]++
				case errors.As(err, &le):
					refused++
				default:
					t.Errorf("CreateLimited: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for p, n := range accepted {
		if n > perPhone {
			t.Errorf("%s got %d messages within the hour, limit %d", p, n, perPhone)
		}
	}
	if total > perDay {
		t.Errorf("%d accepted today, limit %d", total, perDay)
	}
	// 4 phones × 5 per hour = 20 is the binding limit here: exactly 20 fit.
	if total != 4*perPhone || refused != writers*each-total {
		t.Errorf("accepted %d, refused %d of %d; want exactly %d accepted", total, refused, writers*each, 4*perPhone)
	}
	if n := countAll(t, a); n != total {
		t.Errorf("%d deliveries stored, %d acknowledged", n, total)
	}
}
