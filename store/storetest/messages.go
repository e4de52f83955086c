package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func testCreateGetMessage(t *testing.T, s store.Store) {
	at := base.Add(30*time.Minute + 123*time.Millisecond)
	m := &sms.Message{
		Text: "서버 web1 디스크 95%", Title: "경고", Kind: sms.KindLMS, Sender: "0212345678", Test: true,
		At: at, Source: "console", CreatedBy: "kim", Template: "정기점검", CreatedAt: base.Add(456 * time.Millisecond),
		Deliveries: []sms.Delivery{{Phone: "01011112222"}, {Phone: "01033334444", Status: sms.StatusSent, Attempts: 9}},
	}
	mustCreate(t, s, m)
	if m.ID == 0 {
		t.Fatal("CreateMessage left ID 0")
	}
	if len(m.Deliveries) != 2 {
		t.Fatalf("CreateMessage left %d deliveries, want 2", len(m.Deliveries))
	}
	for i, d := range m.Deliveries {
		if d.ID == 0 || d.MessageID != m.ID {
			t.Errorf("delivery %d: ID %d MessageID %d (message %d)", i, d.ID, d.MessageID, m.ID)
		}
		// Only Phone is read from the input deliveries.
		if d.Status != sms.StatusQueued || d.Attempts != 0 {
			t.Errorf("delivery %d: status %q attempts %d, want queued 0", i, d.Status, d.Attempts)
		}
		if !sameTime(d.NextAttemptAt, at) {
			t.Errorf("delivery %d: NextAttemptAt %v, want the reservation %v", i, d.NextAttemptAt, at)
		}
		if !sameTime(d.CreatedAt, m.CreatedAt) {
			t.Errorf("delivery %d: CreatedAt %v, want %v", i, d.CreatedAt, m.CreatedAt)
		}
	}
	if m.Deliveries[0].ID == m.Deliveries[1].ID {
		t.Errorf("deliveries share ID %d", m.Deliveries[0].ID)
	}
	if !sameTime(m.CreatedAt, base.Add(456*time.Millisecond)) {
		t.Errorf("CreatedAt %v, want the one given", m.CreatedAt)
	}

	got := mustGet(t, s, m.ID)
	equal(t, "GetMessage", got, m)

	_, err := s.GetMessage(ctx(t), m.ID+1000)
	wantErr(t, "GetMessage(missing)", err, store.ErrNotFound)

	// A claim carries what the dispatcher gives a provider: source, actor
	// and the template the text was written from.
	for _, c := range mustClaim(t, s, at, 10, time.Minute, store.ClaimFilter{MessageID: m.ID}) {
		if c.Message.Template != "정기점검" || c.Message.Source != "console" || c.Message.CreatedBy != "kim" {
			t.Errorf("claimed message %+v", c.Message)
		}
	}
}

func testCreateMessageDefaults(t *testing.T, s store.Store) {
	before := time.Now().Add(-time.Second)
	m := &sms.Message{Text: "now", Kind: sms.KindSMS, Deliveries: []sms.Delivery{{Phone: "01011112222"}}}
	mustCreate(t, s, m)
	after := time.Now().Add(time.Second)
	if m.CreatedAt.Before(before) || m.CreatedAt.After(after) {
		t.Errorf("CreatedAt %v, want about now", m.CreatedAt)
	}
	if !m.At.IsZero() {
		t.Errorf("At %v, want zero", m.At)
	}
	if d := m.Deliveries[0]; !sameTime(d.NextAttemptAt, m.CreatedAt) {
		t.Errorf("NextAttemptAt %v, want CreatedAt %v", d.NextAttemptAt, m.CreatedAt)
	}
	equal(t, "GetMessage", mustGet(t, s, m.ID), m)

	// A message without recipients is stored as is.
	empty := mustCreate(t, s, &sms.Message{Text: "none", Kind: sms.KindSMS, CreatedAt: base})
	if got := mustGet(t, s, empty.ID); len(got.Deliveries) != 0 {
		t.Errorf("deliveries of a message without recipients: %+v", got.Deliveries)
	}
}

func testListMessages(t *testing.T, s store.Store) {
	const a, b, c = sms.Phone("01000000001"), sms.Phone("01000000002"), sms.Phone("01000000003")
	m1 := mustCreate(t, s, newMessage("disk full on web1", 1*time.Minute, a))
	m2 := newMessage("load high of pid 1", 2*time.Minute, b)
	m2.Source = "alert"
	mustCreate(t, s, m2)
	m3 := newMessage("DISK ok", 3*time.Minute, a, b)
	m3.Title, m3.Kind = "recovered", sms.KindLMS
	mustCreate(t, s, m3)
	m4 := mustCreate(t, s, newMessage("50% off_promo", 4*time.Minute, c))

	// a's delivery of m3 is sent; b's stays queued.
	cs := mustClaim(t, s, base.Add(5*time.Minute), 10, time.Minute, store.ClaimFilter{MessageID: m3.ID})
	if len(cs) != 2 {
		t.Fatalf("claimed %d deliveries of m3, want 2", len(cs))
	}
	err := s.CompleteDeliveries(ctx(t), []store.DeliveryUpdate{
		{ID: m3.Deliveries[0].ID, Status: sms.StatusSent, Provider: "aligo", ProviderMsgID: "1", SentAt: base.Add(5 * time.Minute)},
		{ID: m3.Deliveries[1].ID, Status: sms.StatusQueued, Provider: "aligo", Error: "timeout", NextAttemptAt: base.Add(6 * time.Minute)},
	})
	if err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}

	all := []int64{m4.ID, m3.ID, m2.ID, m1.ID}
	tests := []struct {
		name string
		f    store.MessageFilter
		want []int64
	}{
		{"all", store.MessageFilter{}, all},
		{"limit", store.MessageFilter{Limit: 2}, all[:2]},
		{"before", store.MessageFilter{BeforeID: m3.ID}, []int64{m2.ID, m1.ID}},
		{"before limit", store.MessageFilter{BeforeID: m3.ID, Limit: 1}, []int64{m2.ID}},
		{"before first", store.MessageFilter{BeforeID: m1.ID}, []int64{}},
		{"phone", store.MessageFilter{Phone: a}, []int64{m3.ID, m1.ID}},
		{"phone none", store.MessageFilter{Phone: "01099999999"}, []int64{}},
		{"text case-insensitive", store.MessageFilter{Text: "disk"}, []int64{m3.ID, m1.ID}},
		{"text in title", store.MessageFilter{Text: "RECOVER"}, []int64{m3.ID}},
		{"text percent literal", store.MessageFilter{Text: "%"}, []int64{m4.ID}},
		{"text underscore literal", store.MessageFilter{Text: "f_p"}, []int64{m4.ID}},
		{"text none", store.MessageFilter{Text: "nothing like it"}, []int64{}},
		{"status sent", store.MessageFilter{Status: sms.StatusSent}, []int64{m3.ID}},
		{"status queued", store.MessageFilter{Status: sms.StatusQueued}, all},
		{"status failed", store.MessageFilter{Status: sms.StatusFailed}, []int64{}},
		{"phone and status on one delivery", store.MessageFilter{Phone: a, Status: sms.StatusSent}, []int64{m3.ID}},
		{"phone and status on different deliveries", store.MessageFilter{Phone: b, Status: sms.StatusSent}, []int64{}},
		{"since", store.MessageFilter{Since: base.Add(2 * time.Minute)}, []int64{m4.ID, m3.ID, m2.ID}},
		{"until", store.MessageFilter{Until: base.Add(3 * time.Minute)}, []int64{m2.ID, m1.ID}},
		{"since until", store.MessageFilter{Since: base.Add(2 * time.Minute), Until: base.Add(3 * time.Minute)}, []int64{m2.ID}},
		{"combined", store.MessageFilter{Phone: a, Text: "disk", Until: base.Add(2 * time.Minute)}, []int64{m1.ID}},
		{"source", store.MessageFilter{Source: "alert"}, []int64{m2.ID}},
		{"source other", store.MessageFilter{Source: "api"}, []int64{m4.ID, m3.ID, m1.ID}},
		{"source none", store.MessageFilter{Source: "cli"}, []int64{}},
		{"offset", store.MessageFilter{Offset: 1, Limit: 2}, []int64{m3.ID, m2.ID}},
		{"offset default limit", store.MessageFilter{Offset: 3}, []int64{m1.ID}},
		{"offset past the end", store.MessageFilter{Offset: 4}, []int64{}},
		{"offset negative", store.MessageFilter{Offset: -1, Limit: 1}, []int64{m4.ID}},
		{"offset filtered", store.MessageFilter{Phone: a, Offset: 1}, []int64{m1.ID}},
		{"offset before", store.MessageFilter{BeforeID: m4.ID, Offset: 1, Limit: 1}, []int64{m2.ID}},
	}
	for _, tc := range tests {
		got, err := s.ListMessages(ctx(t), tc.f)
		if err != nil {
			t.Errorf("%s: ListMessages: %v", tc.name, err)
			continue
		}
		if g := ids(got); !slices.Equal(g, tc.want) {
			t.Errorf("%s: ListMessages(%+v) = %v, want %v", tc.name, tc.f, g, tc.want)
		}
	}

	// Listed messages carry their deliveries, as GetMessage does.
	got, err := s.ListMessages(ctx(t), store.MessageFilter{})
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	for _, m := range got {
		equal(t, fmt.Sprintf("listed message %d", m.ID), m, mustGet(t, s, m.ID))
	}
	if d := got[1].Deliveries; len(d) != 2 || d[0].Status != sms.StatusSent || d[1].Status != sms.StatusQueued {
		t.Errorf("m3 deliveries in the list: %+v", d)
	}
}

func testCountDeliveriesSince(t *testing.T, s store.Store) {
	const a, b = sms.Phone("01000000001"), sms.Phone("01000000002")
	mustCreate(t, s, newMessage("one", 0, a, b))
	mustCreate(t, s, newMessage("two", time.Hour, a))
	tests := []struct {
		since time.Time
		phone sms.Phone
		want  int
	}{
		{base.Add(-time.Hour), "", 3},
		{base, "", 3},
		{base.Add(time.Millisecond), "", 1},
		{base.Add(time.Hour), "", 1},
		{base.Add(time.Hour + time.Millisecond), "", 0},
		{base, a, 2},
		{base, b, 1},
		{base.Add(time.Minute), b, 0},
		{base, "01099999999", 0},
	}
	for _, tc := range tests {
		got, err := s.CountDeliveriesSince(ctx(t), tc.since, tc.phone)
		if err != nil {
			t.Errorf("CountDeliveriesSince(%v, %q): %v", tc.since, tc.phone, err)
		} else if got != tc.want {
			t.Errorf("CountDeliveriesSince(%v, %q) = %d, want %d", tc.since, tc.phone, got, tc.want)
		}
	}
}

func testCountDeliveriesByStatus(t *testing.T, s store.Store) {
	c := ctx(t)
	got, err := s.CountDeliveriesByStatus(c)
	if err != nil {
		t.Fatalf("CountDeliveriesByStatus on an empty store: %v", err)
	}
	equal(t, "counts of an empty store", got, map[sms.Status]int{})

	m1 := mustCreate(t, s, newMessage("one", 0, "01000000001", "01000000002", "01000000003", "01000000004"))
	m2 := mustCreate(t, s, newMessage("two", time.Minute, "01000000001", "01000000005"))
	mustCreate(t, s, newMessage("later", time.Hour, "01000000006"))
	if cs := mustClaim(t, s, base.Add(time.Minute), 10, time.Hour, store.ClaimFilter{}); len(cs) != 6 {
		t.Fatalf("claimed %d, want 6", len(cs))
	}
	err = s.CompleteDeliveries(c, []store.DeliveryUpdate{
		{ID: m1.Deliveries[0].ID, Status: sms.StatusSent, SentAt: base},
		{ID: m1.Deliveries[1].ID, Status: sms.StatusSent, SentAt: base},
		{ID: m1.Deliveries[2].ID, Status: sms.StatusFailed, Error: "invalid number"},
		{ID: m1.Deliveries[3].ID, Status: sms.StatusQueued, Error: "timeout", NextAttemptAt: base.Add(time.Hour)},
		{ID: m2.Deliveries[0].ID, Status: sms.StatusDelivered, SentAt: base},
	})
	if err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	got, err = s.CountDeliveriesByStatus(c)
	if err != nil {
		t.Fatalf("CountDeliveriesByStatus: %v", err)
	}
	equal(t, "counts", got, map[sms.Status]int{
		sms.StatusSent: 2, sms.StatusFailed: 1, sms.StatusQueued: 2, // a retry and the message due later
		sms.StatusDelivered: 1, sms.StatusSending: 1,
	})
}

func testPruneMessages(t *testing.T, s store.Store) {
	c := ctx(t)
	oldFinal := mustCreate(t, s, newMessage("old final", 0, "01000000001", "01000000002"))
	oldQueued := mustCreate(t, s, newMessage("old queued", time.Minute, "01000000001", "01000000002"))
	oldSending := mustCreate(t, s, newMessage("old sending", 2*time.Minute, "01000000003"))
	newFinal := mustCreate(t, s, newMessage("new final", 48*time.Hour, "01000000004"))

	// Claim everything old (and newFinal, due later, separately).
	if cs := mustClaim(t, s, base.Add(time.Hour), 10, time.Hour, store.ClaimFilter{}); len(cs) != 5 {
		t.Fatalf("claimed %d, want 5", len(cs))
	}
	if cs := mustClaim(t, s, base.Add(49*time.Hour), 10, time.Hour, store.ClaimFilter{MessageID: newFinal.ID}); len(cs) != 1 {
		t.Fatalf("claimed %d of the new message, want 1", len(cs))
	}
	err := s.CompleteDeliveries(c, []store.DeliveryUpdate{
		{ID: oldFinal.Deliveries[0].ID, Status: sms.StatusSent, SentAt: base},
		{ID: oldFinal.Deliveries[1].ID, Status: sms.StatusFailed, Error: "invalid number"},
		{ID: oldQueued.Deliveries[0].ID, Status: sms.StatusDelivered, SentAt: base},
		{ID: oldQueued.Deliveries[1].ID, Status: sms.StatusQueued, Error: "timeout", NextAttemptAt: base.Add(time.Hour)},
		{ID: newFinal.Deliveries[0].ID, Status: sms.StatusSent, SentAt: base.Add(48 * time.Hour)},
	})
	if err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}

	n, err := s.PruneMessages(c, base.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("PruneMessages: %v", err)
	}
	if n != 1 {
		t.Errorf("PruneMessages pruned %d, want 1", n)
	}
	_, err = s.GetMessage(c, oldFinal.ID)
	wantErr(t, "GetMessage(pruned)", err, store.ErrNotFound)
	for _, m := range []*sms.Message{oldQueued, oldSending, newFinal} {
		mustGet(t, s, m.ID)
	}
	if got, err := s.CountDeliveriesSince(c, base.Add(-time.Hour), ""); err != nil || got != 4 {
		t.Errorf("deliveries left after pruning: %d, %v; want 4", got, err)
	}
	if n, err := s.PruneMessages(c, base.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second PruneMessages = %d, %v; want 0", n, err)
	}
}
