package rowscan

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/munja-sms/munja/store"
)

// query runs q on a fresh in-memory SQLite database.
func query(t *testing.T, q string) *sql.Rows {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rows.Close() })
	return rows
}

type pair struct {
	n int
	s string
}

func scanPair(s Scanner, p *pair) error { return s.Scan(&p.n, &p.s) }

func TestCollect(t *testing.T) {
	tests := []struct {
		name    string
		q       string
		want    []pair
		wantErr string
	}{
		{"rows", `VALUES (1, 'a'), (2, 'b'), (3, 'c')`, []pair{{1, "a"}, {2, "b"}, {3, "c"}}, ""},
		{"none", `SELECT 1, 'a' WHERE 0`, nil, ""},
		{"scan error", `VALUES (1, 'a'), ('x', 'b')`, nil, "converting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Collect(query(t, tt.q), scanPair)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Collect = %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Collect = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestCollectValue(t *testing.T) {
	got, err := Collect(query(t, `VALUES ('x'), ('y')`), Value[string])
	if err != nil || !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Collect(Value) = %q, %v", got, err)
	}
}

func TestCollectStopsAtScanError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Collect(query(t, `VALUES (1), (2), (3)`), func(s Scanner, n *int) error {
		calls++
		if calls == 2 {
			return boom
		}
		return s.Scan(n)
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Errorf("err %v after %d rows, want boom after 2", err, calls)
	}
}

func TestContactGroups(t *testing.T) {
	cs := []store.Contact{{ID: 10, Groups: []string{"old"}}, {ID: 20}, {ID: 30}}
	rows := query(t, `VALUES (10, 'a'), (20, 'a'), (99, 'a'), (10, 'b')`)
	if err := ContactGroups(rows, cs); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"old", "a", "b"}, {"a"}, nil}
	for i, c := range cs {
		if !slices.Equal(c.Groups, want[i]) {
			t.Errorf("contact %d groups %q, want %q", c.ID, c.Groups, want[i])
		}
	}
	if err := ContactGroups(query(t, `VALUES ('x', 'a')`), cs); err == nil {
		t.Error("ContactGroups scanned a non-numeric ID")
	}
}
