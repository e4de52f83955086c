package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	ci := &store.Token{Name: "ci", Scope: "send", Hash: hash("secret-1"), CreatedAt: base}
	if err := s.CreateToken(c, ci); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if ci.ID == 0 {
		t.Fatal("CreateToken left ID 0")
	}
	err := s.CreateToken(c, &store.Token{Name: "ci", Scope: "admin", Hash: hash("secret-2")})
	wantErr(t, "CreateToken(duplicate active name)", err, store.ErrConflict)
	now := &store.Token{Name: "grafana", Scope: "read", Hash: hash("secret-3")}
	if err := s.CreateToken(c, now); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if time.Since(now.CreatedAt).Abs() > time.Minute {
		t.Errorf("CreatedAt %v, want about now", now.CreatedAt)
	}

	got, err := s.TokenByHash(c, hash("secret-1"))
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	equal(t, "TokenByHash", got, ci)
	_, err = s.TokenByHash(c, hash("wrong"))
	wantErr(t, "TokenByHash(unknown)", err, store.ErrNotFound)

	used := base.Add(time.Hour + 7*time.Millisecond)
	if err := s.TouchToken(c, ci.ID, used); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if got, err := s.TokenByHash(c, ci.Hash); err != nil || !sameTime(got.LastUsed, used) {
		t.Errorf("after TouchToken: %+v, %v; want LastUsed %v", got, err, used)
	}
	wantErr(t, "TouchToken(unknown)", s.TouchToken(c, ci.ID+now.ID+100, used), store.ErrNotFound)

	revoked := base.Add(2 * time.Hour)
	if err := s.RevokeToken(c, "ci", revoked); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	_, err = s.TokenByHash(c, ci.Hash)
	wantErr(t, "TokenByHash(revoked)", err, store.ErrNotFound)
	wantErr(t, "RevokeToken(already revoked)", s.RevokeToken(c, "ci", revoked), store.ErrNotFound)
	wantErr(t, "RevokeToken(unknown)", s.RevokeToken(c, "nobody", revoked), store.ErrNotFound)

	// The name of a revoked token can be used again.
	ci2 := &store.Token{Name: "ci", Scope: "admin", Hash: hash("secret-4"), CreatedAt: revoked}
	if err := s.CreateToken(c, ci2); err != nil {
		t.Fatalf("CreateToken(name of a revoked token): %v", err)
	}
	if got, err := s.TokenByHash(c, ci2.Hash); err != nil || got.ID != ci2.ID || got.Scope != "admin" {
		t.Errorf("TokenByHash(new ci) = %+v, %v", got, err)
	}

	list, err := s.ListTokens(c)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	wantCI := *ci
	wantCI.LastUsed, wantCI.RevokedAt = used, revoked
	equal(t, "ListTokens", list, []store.Token{wantCI, *ci2, *now})
}

func testAudit(t *testing.T, s store.Store) {
	c := ctx(t)
	if got, err := s.ListAudit(c, 10); err != nil || len(got) != 0 {
		t.Errorf("ListAudit on an empty store = %v, %v", got, err)
	}
	entries := []store.AuditEntry{
		{At: base, Actor: "cli", Action: "token.create", Target: "ci"},
		{At: base.Add(time.Second), Actor: "user:kim", Action: "message.create", Target: "1", Detail: "3 recipients"},
		{At: base.Add(2 * time.Second), Actor: "token:ci", Action: "message.create", Target: "2"},
	}
	for _, e := range entries {
		if err := s.AddAudit(c, e); err != nil {
			t.Fatalf("AddAudit: %v", err)
		}
	}
	got, err := s.ListAudit(c, 10)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("ListAudit returned %d entries, want 3", len(got))
	}
	for i, g := range got {
		want := entries[2-i]
		if g.ID == 0 {
			t.Errorf("entry %d has ID 0", i)
		}
		want.ID = g.ID
		equal(t, "audit entry (newest first)", g, want)
	}
	if got, err := s.ListAudit(c, 2); err != nil || len(got) != 2 || got[0].Target != "2" || got[1].Target != "1" {
		t.Errorf("ListAudit(2) = %+v, %v; want the two newest", got, err)
	}
	more := []store.AuditEntry{
		{At: base.Add(3 * time.Second), Actor: "agent:web1:first", Action: "message.create", Target: "3"},
		{At: base.Add(3 * time.Second), Actor: "cli:kim", Action: "contact.create", Target: "contact 1"},
		{At: base.Add(4 * time.Second), Actor: "user:kim_", Action: "contact_x", Target: "odd"},
	}
	for _, e := range more {
		if err := s.AddAudit(c, e); err != nil {
			t.Fatalf("AddAudit: %v", err)
		}
	}
	find := func(q store.AuditQuery) []string {
		t.Helper()
		got, err := s.FindAudit(c, q)
		if err != nil {
			t.Fatalf("FindAudit(%+v): %v", q, err)
		}
		var targets []string
		for _, e := range got {
			targets = append(targets, e.Target)
		}
		return targets
	}
	all, err := s.FindAudit(c, store.AuditQuery{})
	if err != nil || len(all) != 6 {
		t.Fatalf("FindAudit() = %+v, %v", all, err)
	}
	for _, tc := range []struct {
		q    store.AuditQuery
		want []string
	}{
		{store.AuditQuery{}, []string{"odd", "contact 1", "3", "2", "1", "ci"}},
		{store.AuditQuery{Limit: 2}, []string{"odd", "contact 1"}},
		{store.AuditQuery{Before: all[1].ID}, []string{"3", "2", "1", "ci"}},
		{store.AuditQuery{Before: all[1].ID, Limit: 1}, []string{"3"}},
		{store.AuditQuery{Before: all[5].ID}, nil},
		{store.AuditQuery{Before: 1 << 40}, nil},
		{store.AuditQuery{Actor: "cli"}, []string{"contact 1", "ci"}},
		{store.AuditQuery{Actor: "agent:web1"}, []string{"3"}},
		{store.AuditQuery{Actor: "user:kim"}, []string{"1"}}, // not user:kim_
		{store.AuditQuery{Actor: "user:ki"}, nil},
		{store.AuditQuery{Action: "contact"}, []string{"contact 1"}}, // not contact_x
		{store.AuditQuery{Action: "message.create", Actor: "token:ci"}, []string{"2"}},
		{store.AuditQuery{Since: base.Add(time.Second), Until: base.Add(3 * time.Second)}, []string{"2", "1"}},
	} {
		if got := find(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("FindAudit(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
	if err := s.AddAudit(c, store.AuditEntry{Actor: "system", Action: "prune"}); err != nil {
		t.Fatalf("AddAudit: %v", err)
	}
	if got, err := s.ListAudit(c, 1); err != nil || len(got) != 1 || got[0].Action != "prune" || time.Since(got[0].At).Abs() > time.Minute {
		t.Errorf("entry added with zero At: %+v, %v; want it newest, at about now", got, err)
	}
}

func testAlertState(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.GetState(c, "check/disk")
	wantErr(t, "GetState(missing)", err, store.ErrNotFound)

	values := map[string][]byte{
		"check/disk":       []byte(`{"state":"firing"}`),
		"check/load":       {0, 1, 2, 0xff, 0},
		"check/빈":          {},
		"incident/1":       []byte(`{"open":true}`),
		"checks-elsewhere": []byte("x"),
	}
	for k, v := range values {
		if err := s.PutState(c, k, v); err != nil {
			t.Fatalf("PutState(%q): %v", k, err)
		}
	}
	for k, v := range values {
		got, err := s.GetState(c, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("GetState(%q) = %q, %v; want %q", k, got, err, v)
		}
	}
	if err := s.PutState(c, "check/disk", []byte(`{"state":"ok"}`)); err != nil {
		t.Fatalf("PutState(overwrite): %v", err)
	}
	values["check/disk"] = []byte(`{"state":"ok"}`)
	if got, err := s.GetState(c, "check/disk"); err != nil || string(got) != `{"state":"ok"}` {
		t.Errorf("GetState after overwrite = %q, %v", got, err)
	}

	tests := []struct {
		prefix string
		want   []string
	}{
		{"check/", []string{"check/disk", "check/load", "check/빈"}},
		{"check/빈", []string{"check/빈"}},
		{"incident/", []string{"incident/1"}},
		{"CHECK/", nil},
		{"check%", nil},
		{"nothing", nil},
		{"", slices.Sorted(maps.Keys(values))},
	}
	for _, tc := range tests {
		got, err := s.ListState(c, tc.prefix)
		if err != nil {
			t.Errorf("ListState(%q): %v", tc.prefix, err)
			continue
		}
		if got == nil {
			t.Errorf("ListState(%q) returned a nil map", tc.prefix)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tc.want) {
			t.Errorf("ListState(%q) keys = %q, want %q", tc.prefix, keys, tc.want)
		}
		for k, v := range got {
			if !bytes.Equal(v, values[k]) {
				t.Errorf("ListState(%q)[%q] = %q, want %q", tc.prefix, k, v, values[k])
			}
		}
	}

	if err := s.DeleteState(c, "check/disk"); err != nil {
		t.Fatalf("DeleteState: %v", err)
	}
	_, err = s.GetState(c, "check/disk")
	wantErr(t, "GetState(deleted)", err, store.ErrNotFound)
	if err := s.DeleteState(c, "check/disk"); err != nil {
		t.Errorf("DeleteState(missing) = %v, want nil", err)
	}
	testStateBatch(t, s)
	if got, err := s.ListState(c, "check/"); err != nil || len(got) != 2 {
		t.Errorf("ListState after delete = %v, %v; want 2 keys", got, err)
	}
}

// testStateBatch: a StateBatcher writes and deletes many records in one
// call (a key written twice keeps the last value).
func testStateBatch(t *testing.T, s store.Store) {
	b, ok := s.(store.StateBatcher)
	if !ok {
		return // the store writes state records one by one
	}
	c := ctx(t)
	var writes []store.StateWrite
	for i := range 1200 {
		writes = append(writes, store.StateWrite{Key: fmt.Sprintf("batch/%04d", i), Value: []byte(fmt.Sprint(i))})
	}
	writes = append(writes, store.StateWrite{Key: "batch/0001", Value: []byte("again")},
		store.StateWrite{Key: "incident/1"}, store.StateWrite{Key: "batch/missing"})
	if err := b.WriteStates(c, writes); err != nil {
		t.Fatalf("WriteStates: %v", err)
	}
	got, err := s.ListState(c, "batch/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1200 || string(got["batch/0001"]) != "again" || string(got["batch/1199"]) != "1199" {
		t.Errorf("after WriteStates: %d records, batch/0001 = %q", len(got), got["batch/0001"])
	}
	if _, err := s.GetState(c, "incident/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted by WriteStates: %v", err)
	}
	if err := b.WriteStates(c, nil); err != nil {
		t.Errorf("WriteStates(nil): %v", err)
	}
}
