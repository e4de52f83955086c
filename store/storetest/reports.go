package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func testReports(t *testing.T, s store.Store) {
	c := ctx(t)
	old := mustCreate(t, s, newMessage("old", -3*time.Hour, "01000000009"))
	m := mustCreate(t, s, newMessage("reports", 0,
		"01000000000", "01000000001", "01000000002", "01000000003", "01000000004", "01000000005"))
	d := deliveryIDs(m)
	test := newMessage("test send", 0, "01000000008")
	test.Test = true // the gateway never delivers it: no result to fetch
	test = mustCreate(t, s, test)
	if cs := mustClaim(t, s, base, 10, time.Minute, store.ClaimFilter{}); len(cs) != 8 {
		t.Fatalf("claimed %d, want 8", len(cs))
	}
	// d[5] stays sending (claimed, no outcome yet).
	err := s.CompleteDeliveries(c, []store.DeliveryUpdate{
		{ID: old.Deliveries[0].ID, Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "old", SentAt: base.Add(-2 * time.Hour)},
		{ID: d[0], Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "m0", SentAt: base.Add(time.Minute)},
		{ID: d[1], Status: sms.StatusSent, Provider: "webhook", SentAt: base.Add(time.Minute)}, // no id to ask about
		{ID: d[2], Status: sms.StatusFailed, Provider: "aligo", Error: "-101"},
		{ID: d[3], Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "m3", SentAt: base.Add(30 * time.Second)},
		{ID: d[4], Status: sms.StatusReserved, Provider: "aligo", ProviderMsgID: "m4", SentAt: base.Add(time.Second)},
		{ID: test.Deliveries[0].ID, Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "t0", SentAt: base.Add(time.Second)},
	})
	if err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	pending := func(since time.Time, limit int) []int64 {
		t.Helper()
		ds, err := s.PendingReports(c, since, limit)
		if err != nil {
			t.Fatalf("PendingReports(%v, %d): %v", since, limit, err)
		}
		out := []int64{}
		stored := map[int64]sms.Delivery{}
		for _, sd := range mustGet(t, s, m.ID).Deliveries {
			stored[sd.ID] = sd
		}
		for _, pd := range ds {
			out = append(out, pd.ID)
			if sd, ok := stored[pd.ID]; ok {
				equal(t, "pending delivery", pd, sd)
			}
		}
		return out
	}
	tests := []struct {
		since time.Time
		limit int
		want  []int64
	}{
		{base.Add(-time.Hour), 10, []int64{d[3], d[0]}}, // oldest sent first
		{base.Add(-time.Hour), 0, []int64{d[3], d[0]}},  // 0 = the default limit
		{base.Add(-time.Hour), 1, []int64{d[3]}},
		{base.Add(30 * time.Second), 10, []int64{d[3], d[0]}}, // at or after since
		{base.Add(31 * time.Second), 10, []int64{d[0]}},
		{base.Add(-3 * time.Hour), 10, []int64{old.Deliveries[0].ID, d[3], d[0]}},
		{base.Add(time.Hour), 10, []int64{}},
	}
	for _, tc := range tests {
		if got := pending(tc.since, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("PendingReports(%v, %d) = %v, want %v", tc.since, tc.limit, got, tc.want)
		}
	}

	at := base.Add(2*time.Minute + 9*time.Millisecond)
	if err := s.RecordReport(c, d[3], sms.StatusDelivered, "성공", at); err != nil {
		t.Fatalf("RecordReport(delivered): %v", err)
	}
	if err := s.RecordReport(c, d[0], sms.StatusFailed, "결번", at); err != nil {
		t.Fatalf("RecordReport(failed): %v", err)
	}
	if err := s.RecordReport(c, d[4], sms.StatusDelivered, "", at); err != nil {
		t.Fatalf("RecordReport(reserved → delivered): %v", err)
	}
	if got := pending(base.Add(-time.Hour), 10); len(got) != 0 {
		t.Errorf("PendingReports after the reports = %v, want none", got)
	}
	got := mustGet(t, s, m.ID).Deliveries
	check := func(i int, status sms.Status, lastErr string, sentAt time.Time) {
		t.Helper()
		g := got[i]
		if g.Status != status || g.LastError != lastErr || !sameTime(g.SentAt, sentAt) || g.Attempts != 1 {
			t.Errorf("delivery %d = {%s %q sent %v attempts %d}, want {%s %q sent %v attempts 1}",
				i, g.Status, g.LastError, g.SentAt, g.Attempts, status, lastErr, sentAt)
		}
	}
	check(0, sms.StatusFailed, "결번", base.Add(time.Minute))
	check(3, sms.StatusDelivered, "", base.Add(30*time.Second))
	check(4, sms.StatusDelivered, "", base.Add(time.Second))
	if !sameTime(got[3].UpdatedAt, at) {
		t.Errorf("UpdatedAt after the report %v, want the report's time %v", got[3].UpdatedAt, at)
	}
	if got[0].ProviderMsgID != "m0" || got[0].Provider != "aligo" {
		t.Errorf("report changed the provider fields: %+v", got[0])
	}

	// A report for a delivery that is not sent or reserved (already
	// reported, failed, in flight) changes nothing.
	for _, id := range []int64{d[0], d[2], d[5]} {
		before := mustGet(t, s, m.ID).Deliveries
		if err := s.RecordReport(c, id, sms.StatusDelivered, "late", at.Add(time.Hour)); err != nil {
			t.Errorf("RecordReport(delivery %d, not sent): %v", id, err)
		}
		equal(t, "deliveries after an ignored report", mustGet(t, s, m.ID).Deliveries, before)
	}
	err = s.RecordReport(c, d[5]+1000, sms.StatusDelivered, "", at)
	wantErr(t, "RecordReport(missing)", err, store.ErrNotFound)
	for _, st := range []sms.Status{sms.StatusSent, sms.StatusQueued, ""} {
		err := s.RecordReport(c, old.Deliveries[0].ID, st, "", at)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordReport(status %q) = %v, want an error that is not ErrNotFound", st, err)
		}
	}
	if got := mustGet(t, s, old.ID).Deliveries[0]; got.Status != sms.StatusSent {
		t.Errorf("delivery after refused reports is %q, want still sent", got.Status)
	}
}
