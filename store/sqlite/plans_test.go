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
