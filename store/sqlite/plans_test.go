package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// queryPlan returns SQLite's EXPLAIN QUERY PLAN lines for q.
func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestQueryPlans pins the plans of the hot and the history queries: each
// goes through the index meant for it, never scans a whole table (except the
// messages rowid walk, which stops after a page) and never sorts what an
// index already orders. The plans do not depend on the table sizes except
// where a statistics-driven choice is intended, so an empty file shows them.
func TestQueryPlans(t *testing.T) {
	db := openTemp(t, "")
	defer db.Close()
	now := time.Now()
	list := func(f store.MessageFilter, byTime bool) (string, []any) { return listQuery(f, byTime) }
	tests := []struct {
		name   string
		q      string
		args   []any
		want   []string // substrings of the plan
		forbid []string
	}{
		{"claim", fmt.Sprintf(claimSQL, claimDue), []any{1, 2, 3},
			[]string{"deliveries_due", "deliveries_lease"}, []string{"SCAN deliveries"}},
		{"claim of a message", fmt.Sprintf(claimSQL, claimDueOfMessage), []any{1, 2, 3, 4},
			[]string{"deliveries_message"}, []string{"SCAN deliveries"}},
		{"next due", nextDueSQL, nil, []string{"deliveries_due"}, []string{"SCAN deliveries"}},
		{"pending reports", pendingReportsSQL, []any{1, 2}, []string{"deliveries_pending_reports"},
			[]string{"SCAN", "TEMP B-TREE"}},
		{"prune", pruneSQL, []any{1, 2}, []string{"messages_created_at", "deliveries_message"},
			[]string{"SCAN deliveries", "SCAN messages"}},
	}
	for _, f := range []struct {
		name   string
		f      store.MessageFilter
		byTime bool
		want   []string
		forbid []string
	}{
		{"history", store.MessageFilter{}, false, []string{"SCAN m"}, []string{"TEMP B-TREE"}},
		{"history page", store.MessageFilter{BeforeID: 10}, false, []string{"INTEGER PRIMARY KEY (rowid<?)"}, []string{"TEMP B-TREE"}},
		{"history by phone", store.MessageFilter{Phone: "01012345678", BeforeID: 10}, false,
			[]string{"deliveries_phone_message (phone=? AND message_id<?)", "m USING INTEGER PRIMARY KEY"}, []string{"TEMP B-TREE", "SCAN"}},
		{"history by status", store.MessageFilter{Status: sms.StatusFailed}, false,
			[]string{"deliveries_status_message (status=?)", "m USING INTEGER PRIMARY KEY"}, []string{"TEMP B-TREE", "SCAN"}},
		{"history by phone and status", store.MessageFilter{Phone: "01012345678", Status: sms.StatusFailed}, false,
			[]string{"deliveries_phone_message (phone=?)"}, []string{"TEMP B-TREE", "SCAN"}},
		{"history by time, walking", store.MessageFilter{Since: now, Until: now}, false,
			[]string{"SCAN m"}, []string{"TEMP B-TREE", "messages_created_at"}},
		{"history by time, from the index", store.MessageFilter{Since: now, Until: now}, true,
			[]string{"messages_created_at (created_at>? AND created_at<?)"}, []string{"SCAN"}},
	} {
		q, args := list(f.f, f.byTime)
		tests = append(tests, struct {
			name   string
			q      string
			args   []any
			want   []string
			forbid []string
		}{f.name, q, args, f.want, f.forbid})
	}
	for _, tc := range tests {
		plan := queryPlan(t, db, tc.q, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, plan)
			}
		}
		for _, f := range tc.forbid {
			if strings.Contains(plan, f) {
				t.Errorf("%s: plan has %q:\n%s", tc.name, f, plan)
			}
		}
	}
}

// TestTimePlansAgree checks that both plans for a time range return the
// same, exact page even when creation times do not follow IDs (imported
// history), for which narrowRange's estimate is wrong.
func TestTimePlansAgree(t *testing.T) {
	db := openTemp(t, "")
	defer db.Close()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	created := map[int64]time.Time{}
	for i := range 120 {
		// A scrambled but deterministic order of minutes.
		at := base.Add(time.Duration((i*37)%120) * time.Minute)
		m := oneRecipient(fmt.Sprint("m", i))
		m.CreatedAt = at
		if err := db.CreateMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		created[m.ID] = at
	}
	page := func(f store.MessageFilter, byTime bool) []int64 {
		t.Helper()
		q, args := listQuery(f, byTime)
		rows, err := db.r.QueryContext(t.Context(), q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		ids := []int64{}
		for rows.Next() {
			var m sms.Message
			if err := scanMessage(rows, &m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		return ids
	}
	for _, r := range []struct{ since, until int }{{0, 0}, {10, 0}, {0, 30}, {10, 30}, {100, 101}, {119, 200}, {200, 300}} {
		f := store.MessageFilter{Limit: 10}
		if r.since > 0 {
			f.Since = base.Add(time.Duration(r.since) * time.Minute)
		}
		if r.until > 0 {
			f.Until = base.Add(time.Duration(r.until) * time.Minute)
		}
		want := []int64{}
		for id := int64(len(created)); id > 0 && len(want) < f.Limit; id-- {
			at := created[id]
			if (f.Since.IsZero() || !at.Before(f.Since)) && (f.Until.IsZero() || at.Before(f.Until)) {
				want = append(want, id)
			}
		}
		walk, index := page(f, false), page(f, true)
		if fmt.Sprint(walk) != fmt.Sprint(want) || fmt.Sprint(index) != fmt.Sprint(want) {
			t.Errorf("range %v: walking IDs %v, created_at index %v; want %v", r, walk, index, want)
		}
		got, err := db.ListMessages(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if ids := messageIDs(got); fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("range %v: ListMessages %v, want %v", r, ids, want)
		}
	}
}

func messageIDs(ms []*sms.Message) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}
