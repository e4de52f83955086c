package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func testClaimDue(t *testing.T, s store.Store) {
	now := mustCreate(t, s, newMessage("now", 0, "01000000001", "01000000002"))
	later := newMessage("reserved", 0, "01000000003")
	later.At = base.Add(10 * time.Minute)
	later.Title, later.Kind, later.Sender, later.Test = "title", sms.KindLMS, "0212345678", true
	mustCreate(t, s, later)

	if cs := mustClaim(t, s, base.Add(-time.Millisecond), 10, time.Minute, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("claimed %v before anything was due", claimIDs(cs))
	}
	cs := mustClaim(t, s, base, 10, time.Minute, store.ClaimFilter{})
	if got, want := claimIDs(cs), deliveryIDs(now); !slices.Equal(got, want) {
		t.Fatalf("claimed %v at base, want the due message's deliveries %v", got, want)
	}
	for _, c := range cs {
		d := c.Delivery
		if d.Status != sms.StatusSending || d.Attempts != 1 || d.MessageID != now.ID {
			t.Errorf("claimed delivery %+v, want sending, attempt 1 of message %d", d, now.ID)
		}
		want := *now
		want.Deliveries = nil
		equal(t, "claimed message", c.Message, want)
	}
	stored := mustGet(t, s, now.ID)
	for _, d := range stored.Deliveries {
		if d.Status != sms.StatusSending || d.Attempts != 1 {
			t.Errorf("stored delivery after claim: status %q attempts %d, want sending 1", d.Status, d.Attempts)
		}
	}

	// Claimed rows are not due again while their lease runs; the
	// reservation is not due before its time.
	if cs := mustClaim(t, s, base.Add(30*time.Second), 10, time.Minute, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("claimed %v again within the lease", claimIDs(cs))
	}
	cs = mustClaim(t, s, later.At, 10, time.Minute, store.ClaimFilter{})
	// At later.At the first lease (base+1m) has expired too: oldest due first.
	want := append(deliveryIDs(now), deliveryIDs(later)...)
	if got := claimIDs(cs); !slices.Equal(got, want) {
		t.Fatalf("claimed %v at the reservation time, want %v", got, want)
	}
	for _, c := range cs {
		if c.Delivery.MessageID == later.ID {
			want := *later
			want.Deliveries = nil
			equal(t, "claimed reserved message", c.Message, want)
			if c.Delivery.Attempts != 1 {
				t.Errorf("reserved delivery attempts %d, want 1", c.Delivery.Attempts)
			}
		} else if c.Delivery.Attempts != 2 {
			t.Errorf("reclaimed delivery attempts %d, want 2", c.Delivery.Attempts)
		}
	}
}

func testClaimLimitAndOrder(t *testing.T, s store.Store) {
	var want []int64
	// Created newest first so that due order differs from insertion order.
	for i := 4; i >= 0; i-- {
		m := mustCreate(t, s, newMessage(fmt.Sprint("m", i), time.Duration(i)*time.Second, sms.Phone(fmt.Sprintf("0100000000%d", i))))
		want = append([]int64{m.Deliveries[0].ID}, want...)
	}
	now := base.Add(time.Minute)
	if cs := mustClaim(t, s, now, 0, time.Minute, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("limit 0 claimed %v", claimIDs(cs))
	}
	cs := mustClaim(t, s, now, 2, time.Minute, store.ClaimFilter{})
	if got := claimIDs(cs); !slices.Equal(got, want[:2]) {
		t.Errorf("first claim of 2 = %v, want the two oldest due %v", got, want[:2])
	}
	cs = mustClaim(t, s, now, 2, time.Minute, store.ClaimFilter{})
	if got := claimIDs(cs); !slices.Equal(got, want[2:4]) {
		t.Errorf("second claim of 2 = %v, want %v", got, want[2:4])
	}
	cs = mustClaim(t, s, now, 2, time.Minute, store.ClaimFilter{})
	if got := claimIDs(cs); !slices.Equal(got, want[4:]) {
		t.Errorf("third claim of 2 = %v, want %v", got, want[4:])
	}
	if cs := mustClaim(t, s, now, 2, time.Minute, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("claim after all were taken = %v", claimIDs(cs))
	}
}

func testClaimLease(t *testing.T, s store.Store) {
	m := mustCreate(t, s, newMessage("lease", 0, "01000000001"))
	const lease = 30 * time.Second
	t0 := base.Add(time.Second)
	if cs := mustClaim(t, s, t0, 10, lease, store.ClaimFilter{}); len(cs) != 1 {
		t.Fatalf("first claim got %d, want 1", len(cs))
	}
	if cs := mustClaim(t, s, t0.Add(lease-time.Second), 10, lease, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("a delivery with an unexpired lease was reclaimed: %v", claimIDs(cs))
	}
	t1 := t0.Add(lease + time.Second)
	cs := mustClaim(t, s, t1, 10, lease, store.ClaimFilter{})
	if len(cs) != 1 || cs[0].Delivery.ID != m.Deliveries[0].ID {
		t.Fatalf("claim after the lease expired got %v, want [%d]", claimIDs(cs), m.Deliveries[0].ID)
	}
	if d := cs[0].Delivery; d.Attempts != 2 || d.Status != sms.StatusSending {
		t.Errorf("reclaimed delivery: status %q attempts %d, want sending 2", d.Status, d.Attempts)
	}
	// The new lease counts from the reclaim.
	if cs := mustClaim(t, s, t1.Add(lease-time.Second), 10, lease, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("reclaimed delivery was claimed again within its new lease: %v", claimIDs(cs))
	}
	if got := mustGet(t, s, m.ID).Deliveries[0].Attempts; got != 2 {
		t.Errorf("stored attempts %d, want 2", got)
	}
}

func testClaimMessageID(t *testing.T, s store.Store) {
	m1 := mustCreate(t, s, newMessage("one", 0, "01000000001", "01000000002"))
	m2 := mustCreate(t, s, newMessage("two", 0, "01000000003", "01000000004", "01000000005"))
	now := base.Add(time.Minute)
	cs := mustClaim(t, s, now, 10, time.Minute, store.ClaimFilter{MessageID: m2.ID})
	if got, want := claimIDs(cs), deliveryIDs(m2); !slices.Equal(got, want) {
		t.Errorf("claim of message %d = %v, want %v", m2.ID, got, want)
	}
	cs = mustClaim(t, s, now, 1, time.Minute, store.ClaimFilter{MessageID: m1.ID})
	if got, want := claimIDs(cs), deliveryIDs(m1)[:1]; !slices.Equal(got, want) {
		t.Errorf("claim of 1 of message %d = %v, want %v", m1.ID, got, want)
	}
	if cs := mustClaim(t, s, now, 10, time.Minute, store.ClaimFilter{MessageID: m1.ID + m2.ID + 100}); len(cs) != 0 {
		t.Errorf("claim of a missing message got %v", claimIDs(cs))
	}
	cs = mustClaim(t, s, now, 10, time.Minute, store.ClaimFilter{})
	if got, want := claimIDs(cs), deliveryIDs(m1)[1:]; !slices.Equal(got, want) {
		t.Errorf("unfiltered claim = %v, want the rest %v", got, want)
	}
}

// testClaimConcurrent has many dispatchers claim from one backlog at once:
// every delivery must be claimed exactly once.
func testClaimConcurrent(t *testing.T, s store.Store) {
	const messages, perMessage, workers, batch = 5, 100, 8, 9
	want := map[int64]bool{}
	for i := range messages {
		m := newMessage(fmt.Sprint("m", i), time.Duration(i)*time.Millisecond)
		for j := range perMessage {
			m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: sms.Phone(fmt.Sprintf("010%04d%04d", i, j))})
		}
		mustCreate(t, s, m)
		for _, d := range m.Deliveries {
			want[d.ID] = true
		}
	}
	now := base.Add(time.Hour)
	c := ctx(t)
	var (
		mu    sync.Mutex
		count = map[int64]int{}
		wg    sync.WaitGroup
		errs  = make(chan error, workers)
	)
	for range workers {
		wg.Go(func() {
			for {
				cs, err := s.ClaimDeliveries(c, now, batch, time.Hour, store.ClaimFilter{})
				if err != nil {
					errs <- err
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					count[c.Delivery.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ClaimDeliveries: %v", err)
	}
	if len(count) != len(want) {
		t.Errorf("claimed %d distinct deliveries, want %d", len(count), len(want))
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
		if !want[id] {
			t.Errorf("claimed unknown delivery %d", id)
		}
	}
}

func testCompleteDeliveries(t *testing.T, s store.Store) {
	m := mustCreate(t, s, newMessage("complete", 0, "01000000001", "01000000002", "01000000003"))
	retry, sent, failed := m.Deliveries[0].ID, m.Deliveries[1].ID, m.Deliveries[2].ID
	t0 := base.Add(time.Minute)
	if cs := mustClaim(t, s, t0, 10, time.Minute, store.ClaimFilter{}); len(cs) != 3 {
		t.Fatalf("claimed %d, want 3", len(cs))
	}
	sentAt := t0.Add(1500 * time.Millisecond)
	err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{
		{ID: retry, Status: sms.StatusQueued, Provider: "aligo", Error: "connection refused", NextAttemptAt: t0.Add(5 * time.Minute)},
		{ID: sent, Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "123456789", SentAt: sentAt},
		{ID: failed, Status: sms.StatusFailed, Provider: "aligo", Error: "-101 invalid receiver"},
	})
	if err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	got := mustGet(t, s, m.ID).Deliveries
	check := func(i int, status sms.Status, provider, msgID, lastErr string, attempts int) {
		t.Helper()
		d := got[i]
		if d.Status != status || d.Provider != provider || d.ProviderMsgID != msgID || d.LastError != lastErr || d.Attempts != attempts {
			t.Errorf("delivery %d = {%s %q %q %q attempts %d}, want {%s %q %q %q attempts %d}",
				d.ID, d.Status, d.Provider, d.ProviderMsgID, d.LastError, d.Attempts, status, provider, msgID, lastErr, attempts)
		}
	}
	check(0, sms.StatusQueued, "aligo", "", "connection refused", 1)
	check(1, sms.StatusSent, "aligo", "123456789", "", 1)
	check(2, sms.StatusFailed, "aligo", "", "-101 invalid receiver", 1)
	if !sameTime(got[0].NextAttemptAt, t0.Add(5*time.Minute)) {
		t.Errorf("retry NextAttemptAt %v, want %v", got[0].NextAttemptAt, t0.Add(5*time.Minute))
	}
	if !sameTime(got[1].SentAt, sentAt) {
		t.Errorf("SentAt %v, want %v", got[1].SentAt, sentAt)
	}
	if !got[0].SentAt.IsZero() || !got[2].SentAt.IsZero() {
		t.Errorf("SentAt set on unsent deliveries: %v, %v", got[0].SentAt, got[2].SentAt)
	}
	if got[1].UpdatedAt.Before(got[1].CreatedAt) {
		t.Errorf("UpdatedAt %v before CreatedAt %v", got[1].UpdatedAt, got[1].CreatedAt)
	}

	// Only the retry comes back, and only when due; final ones never do.
	if cs := mustClaim(t, s, t0.Add(5*time.Minute-time.Millisecond), 10, time.Minute, store.ClaimFilter{}); len(cs) != 0 {
		t.Errorf("claimed %v before the retry was due", claimIDs(cs))
	}
	cs := mustClaim(t, s, t0.Add(time.Hour), 10, time.Minute, store.ClaimFilter{})
	if ids := claimIDs(cs); !slices.Equal(ids, []int64{retry}) {
		t.Fatalf("claim after the retry time = %v, want [%d]", ids, retry)
	}
	if cs[0].Delivery.Attempts != 2 || cs[0].Delivery.LastError != "connection refused" {
		t.Errorf("retried delivery %+v, want attempt 2 with the last error", cs[0].Delivery)
	}
	// An empty error clears the last one; a later delivery report keeps SentAt.
	if err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{
		{ID: retry, Status: sms.StatusSent, Provider: "solapi", ProviderMsgID: "x1", SentAt: t0.Add(time.Hour)},
		{ID: sent, Status: sms.StatusDelivered, Provider: "aligo", ProviderMsgID: "123456789"},
	}); err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	got = mustGet(t, s, m.ID).Deliveries
	check(0, sms.StatusSent, "solapi", "x1", "", 2)
	check(1, sms.StatusDelivered, "aligo", "123456789", "", 1)
	if !sameTime(got[1].SentAt, sentAt) {
		t.Errorf("SentAt after the delivery report %v, want it kept (%v)", got[1].SentAt, sentAt)
	}
	if err := s.CompleteDeliveries(ctx(t), nil); err != nil {
		t.Errorf("CompleteDeliveries(nil): %v", err)
	}
}

// testCompleteUnknown checks that the batch is one transaction: an unknown ID
// fails it as a whole.
func testCompleteUnknown(t *testing.T, s store.Store) {
	m := mustCreate(t, s, newMessage("unknown", 0, "01000000001"))
	if cs := mustClaim(t, s, base, 10, time.Minute, store.ClaimFilter{}); len(cs) != 1 {
		t.Fatalf("claimed %d, want 1", len(cs))
	}
	err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{
		{ID: m.Deliveries[0].ID, Status: sms.StatusSent, SentAt: base},
		{ID: m.Deliveries[0].ID + 1000, Status: sms.StatusSent, SentAt: base},
	})
	wantErr(t, "CompleteDeliveries(unknown ID)", err, store.ErrNotFound)
	if d := mustGet(t, s, m.ID).Deliveries[0]; d.Status != sms.StatusSending {
		t.Errorf("after a failed batch the delivery is %q, want still sending", d.Status)
	}
}

func testReleaseClaims(t *testing.T, s store.Store) {
	m := mustCreate(t, s, newMessage("release", 0, "01000000001", "01000000002", "01000000003"))
	t0 := base.Add(time.Minute)
	if cs := mustClaim(t, s, t0, 2, time.Hour, store.ClaimFilter{}); len(cs) != 2 {
		t.Fatalf("claimed %d, want 2", len(cs))
	}
	n, err := s.ReleaseClaims(ctx(t), t0.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("ReleaseClaims = %d, %v; want 2", n, err)
	}
	for _, d := range mustGet(t, s, m.ID).Deliveries {
		if d.Status != sms.StatusQueued {
			t.Errorf("delivery %d is %q after release, want queued", d.ID, d.Status)
		}
	}
	// Released deliveries are due at once, lease or not.
	cs := mustClaim(t, s, t0.Add(time.Second), 10, time.Hour, store.ClaimFilter{})
	if got, want := claimIDs(cs), deliveryIDs(m); !slices.Equal(got, want) {
		t.Errorf("claim after release = %v, want %v", got, want)
	}
	if n, err := s.ReleaseClaims(ctx(t), t0.Add(2*time.Second)); err != nil || n != 3 {
		t.Errorf("second ReleaseClaims = %d, %v; want 3", n, err)
	}
	if n, err := s.ReleaseClaims(ctx(t), t0.Add(3*time.Second)); err != nil || n != 0 {
		t.Errorf("ReleaseClaims with nothing claimed = %d, %v; want 0", n, err)
	}
}

func testNextDue(t *testing.T, s store.Store) {
	next := func() time.Time {
		t.Helper()
		n, err := s.NextDue(ctx(t))
		if err != nil {
			t.Fatalf("NextDue: %v", err)
		}
		return n
	}
	if n := next(); !n.IsZero() {
		t.Errorf("NextDue on an empty store = %v, want zero", n)
	}
	late := newMessage("late", 0, "01000000001")
	late.At = base.Add(10 * time.Minute)
	mustCreate(t, s, late)
	early := newMessage("early", 0, "01000000002")
	early.At = base.Add(5 * time.Minute)
	mustCreate(t, s, early)
	if n := next(); !sameTime(n, early.At) {
		t.Errorf("NextDue = %v, want %v", n, early.At)
	}
	// A claimed (sending) delivery is not queued any more.
	if cs := mustClaim(t, s, early.At, 10, time.Hour, store.ClaimFilter{}); len(cs) != 1 {
		t.Fatalf("claimed %d, want 1", len(cs))
	}
	if n := next(); !sameTime(n, late.At) {
		t.Errorf("NextDue after claiming the early one = %v, want %v", n, late.At)
	}
	if cs := mustClaim(t, s, late.At, 10, time.Hour, store.ClaimFilter{}); len(cs) != 1 {
		t.Fatalf("claimed %d, want 1", len(cs))
	}
	if n := next(); !n.IsZero() {
		t.Errorf("NextDue with nothing queued = %v, want zero", n)
	}
}

// testCompleteFenced: an outcome carrying its claim's attempt is written
// only while that claim still holds the delivery. A dispatcher whose lease
// ran out (and whose delivery another dispatcher claimed again) cannot
// overwrite the newer claim; the rest of its batch is still recorded.
func testCompleteFenced(t *testing.T, s store.Store) {
	m := mustCreate(t, s, newMessage("fenced", 0, "01000000001", "01000000002"))
	lost, kept := m.Deliveries[0].ID, m.Deliveries[1].ID
	first := mustClaim(t, s, base, 10, time.Minute, store.ClaimFilter{})
	if len(first) != 2 || first[0].Delivery.Attempts != 1 {
		t.Fatalf("first claim: %+v", first)
	}
	// The first claimer stalls past its lease; another claimer takes one
	// delivery (`lost`, the oldest) again as attempt 2 (limit 1 leaves `kept`
	// with the first claimer).
	second := mustClaim(t, s, base.Add(2*time.Minute), 1, time.Minute, store.ClaimFilter{})
	if len(second) != 1 || second[0].Delivery.ID != lost || second[0].Delivery.Attempts != 2 {
		t.Fatalf("second claim: %+v", second)
	}
	err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{
		{ID: lost, Attempt: 1, Status: sms.StatusFailed, Provider: "aligo", Error: "late outcome"},
		{ID: kept, Attempt: 1, Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "m1", SentAt: base.Add(time.Second)},
	})
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("stale outcome: err %v, want ErrStale", err)
	}
	if err != nil && !strings.Contains(err.Error(), fmt.Sprint(lost)) {
		t.Errorf("ErrStale does not name delivery %d: %v", lost, err)
	}
	got := mustGet(t, s, m.ID).Deliveries
	if d := got[0]; d.Status != sms.StatusSending || d.Attempts != 2 || d.LastError == "late outcome" {
		t.Errorf("re-claimed delivery after a stale outcome: %+v, want still sending, attempt 2", d)
	}
	if d := got[1]; d.Status != sms.StatusSent || d.ProviderMsgID != "m1" {
		t.Errorf("the rest of the batch: %+v, want sent (recorded despite the stale one)", d)
	}
	// The current claim's outcome is written; a repeat of it is stale (the
	// claim has ended), and so is an outcome for a delivery not sending.
	if err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{{ID: lost, Attempt: 2, Status: sms.StatusSent, Provider: "aligo"}}); err != nil {
		t.Fatalf("current claim's outcome: %v", err)
	}
	if err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{{ID: lost, Attempt: 2, Status: sms.StatusFailed}}); !errors.Is(err, store.ErrStale) {
		t.Errorf("outcome after the claim ended: %v, want ErrStale", err)
	}
	if d := mustGet(t, s, m.ID).Deliveries[0]; d.Status != sms.StatusSent {
		t.Errorf("delivery after the current outcome: %+v", d)
	}
	// Unknown IDs are still ErrNotFound, fenced or not, and write nothing.
	if err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{{ID: m.Deliveries[1].ID + 1000, Attempt: 1, Status: sms.StatusSent}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown fenced ID: %v, want ErrNotFound", err)
	}
}
