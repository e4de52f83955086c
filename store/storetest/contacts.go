package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func mustSave(t *testing.T, s store.Store, c *store.Contact) *store.Contact {
	t.Helper()
	if err := s.SaveContact(ctx(t), c); err != nil {
		t.Fatalf("SaveContact(%q): %v", c.Name, err)
	}
	return c
}

func mustGroups(t *testing.T, s store.Store) []store.Group {
	t.Helper()
	gs, err := s.ListGroups(ctx(t))
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	return gs
}

func groupSummary(gs []store.Group) map[string]int {
	out := map[string]int{}
	for _, g := range gs {
		out[g.Name] = g.Members
	}
	return out
}

func testContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	kim := mustSave(t, s, &store.Contact{Name: "김철수", Phone: "01012345678", Memo: "DBA", Groups: []string{"ops", "dev", "ops"}})
	if kim.ID == 0 {
		t.Fatal("SaveContact left ID 0")
	}
	if !slices.Equal(kim.Groups, []string{"dev", "ops"}) {
		t.Errorf("saved Groups %q, want sorted and deduplicated [dev ops]", kim.Groups)
	}
	if time.Since(kim.CreatedAt).Abs() > time.Minute || !sameTime(kim.CreatedAt, kim.UpdatedAt) {
		t.Errorf("new contact times %v / %v, want both about now", kim.CreatedAt, kim.UpdatedAt)
	}
	got, err := s.GetContact(c, kim.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	equal(t, "GetContact", got, kim)

	err = s.SaveContact(c, &store.Contact{Name: "someone else", Phone: "01012345678"})
	wantErr(t, "SaveContact(duplicate phone)", err, store.ErrConflict)
	lee := mustSave(t, s, &store.Contact{Name: "이영희", Phone: "01098765432", Groups: []string{"ops"}})
	err = s.SaveContact(c, &store.Contact{ID: lee.ID, Name: "이영희", Phone: "01012345678"})
	wantErr(t, "SaveContact(update to a taken phone)", err, store.ErrConflict)
	err = s.SaveContact(c, &store.Contact{ID: lee.ID + kim.ID + 100, Name: "ghost", Phone: "01000000000"})
	wantErr(t, "SaveContact(missing ID)", err, store.ErrNotFound)

	// Update: new fields, memberships replaced, CreatedAt kept.
	upd := &store.Contact{ID: kim.ID, Name: "김철수 팀장", Phone: "01012340000", Memo: "", Groups: []string{"oncall"}}
	mustSave(t, s, upd)
	got, err = s.GetContact(c, kim.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	if got.Name != "김철수 팀장" || got.Phone != "01012340000" || got.Memo != "" || !slices.Equal(got.Groups, []string{"oncall"}) {
		t.Errorf("updated contact = %+v", got)
	}
	if !sameTime(got.CreatedAt, kim.CreatedAt) || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("updated contact times %v / %v, want CreatedAt kept (%v)", got.CreatedAt, got.UpdatedAt, kim.CreatedAt)
	}
	equal(t, "contact returned by SaveContact", upd, got)
	if g := groupSummary(mustGroups(t, s)); g["dev"] != 0 || g["ops"] != 1 || g["oncall"] != 1 || len(g) != 3 {
		t.Errorf("groups after the update = %v, want dev:0 ops:1 oncall:1", g)
	}

	if err := s.DeleteContact(c, kim.ID); err != nil {
		t.Fatalf("DeleteContact: %v", err)
	}
	_, err = s.GetContact(c, kim.ID)
	wantErr(t, "GetContact(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteContact(deleted)", s.DeleteContact(c, kim.ID), store.ErrNotFound)
	if g := groupSummary(mustGroups(t, s)); g["oncall"] != 0 || g["ops"] != 1 {
		t.Errorf("groups after deleting a member = %v, want oncall:0 ops:1", g)
	}
	// The phone of a deleted contact is free again.
	mustSave(t, s, &store.Contact{Name: "new", Phone: "01012340000"})
}

func testListContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	for _, ct := range []*store.Contact{
		{Name: "Charlie", Phone: "01000000003", Memo: "network 50%"},
		{Name: "Alice", Phone: "01000000001", Memo: "DBA, on call", Groups: []string{"ops"}},
		{Name: "Bob", Phone: "01077770002", Memo: "on_call"},
		{Name: "박민수", Phone: "01000000004", Groups: []string{"dev", "ops"}},
	} {
		mustSave(t, s, ct)
	}
	tests := []struct {
		q             string
		limit, offset int
		want          []string
	}{
		{"", 0, 0, []string{"Alice", "Bob", "Charlie", "박민수"}},
		{"", 2, 0, []string{"Alice", "Bob"}},
		{"", 2, 2, []string{"Charlie", "박민수"}},
		{"", 0, 3, []string{"박민수"}},
		{"", 10, 10, nil},
		{"aLI", 0, 0, []string{"Alice"}},
		{"민수", 0, 0, []string{"박민수"}},
		{"7777", 0, 0, []string{"Bob"}},
		{"dba", 0, 0, []string{"Alice"}},
		{"%", 0, 0, []string{"Charlie"}},
		{"n_c", 0, 0, []string{"Bob"}},
		{"0100000000", 0, 0, []string{"Alice", "Charlie", "박민수"}},
		{"0100000000", 1, 1, []string{"Charlie"}},
		{"nobody", 0, 0, nil},
	}
	for _, tc := range tests {
		got, err := s.ListContacts(c, tc.q, tc.limit, tc.offset)
		if err != nil {
			t.Errorf("ListContacts(%q, %d, %d): %v", tc.q, tc.limit, tc.offset, err)
			continue
		}
		var names []string
		for _, ct := range got {
			names = append(names, ct.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("ListContacts(%q, %d, %d) = %q, want %q", tc.q, tc.limit, tc.offset, names, tc.want)
		}
	}
	// Listed contacts carry their groups, as GetContact does.
	all, err := s.ListContacts(c, "", 0, 0)
	if err != nil {
		t.Fatalf("ListContacts: %v", err)
	}
	for _, ct := range all {
		one, err := s.GetContact(c, ct.ID)
		if err != nil {
			t.Fatalf("GetContact(%d): %v", ct.ID, err)
		}
		equal(t, "listed contact", ct, *one)
	}
	if g := all[3].Groups; !slices.Equal(g, []string{"dev", "ops"}) {
		t.Errorf("groups of 박민수 in the list = %q", g)
	}
}

func testGroups(t *testing.T, s store.Store) {
	c := ctx(t)
	if gs := mustGroups(t, s); len(gs) != 0 {
		t.Errorf("ListGroups on an empty store = %+v", gs)
	}
	g, err := s.CreateGroup(c, "empty")
	if err != nil || g.ID == 0 || g.Name != "empty" || g.Members != 0 {
		t.Fatalf("CreateGroup = %+v, %v", g, err)
	}
	_, err = s.CreateGroup(c, "empty")
	wantErr(t, "CreateGroup(existing)", err, store.ErrConflict)

	mustSave(t, s, &store.Contact{Name: "b", Phone: "01000000002", Groups: []string{"ops"}})
	mustSave(t, s, &store.Contact{Name: "a", Phone: "01000000001", Groups: []string{"ops", "db"}})
	_, err = s.CreateGroup(c, "ops")
	wantErr(t, "CreateGroup(created by SaveContact)", err, store.ErrConflict)

	gs := mustGroups(t, s)
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
		if g.ID == 0 {
			t.Errorf("group %q has ID 0", g.Name)
		}
	}
	if !slices.Equal(names, []string{"db", "empty", "ops"}) {
		t.Errorf("ListGroups names = %q, want by name [db empty ops]", names)
	}
	if m := groupSummary(gs); m["db"] != 1 || m["empty"] != 0 || m["ops"] != 2 {
		t.Errorf("member counts = %v", m)
	}

	phones := func(name string) []sms.Phone {
		t.Helper()
		ps, err := s.GroupPhones(c, name)
		if err != nil {
			t.Fatalf("GroupPhones(%q): %v", name, err)
		}
		return ps
	}
	if got := phones("ops"); !slices.Equal(got, []sms.Phone{"01000000001", "01000000002"}) {
		t.Errorf("GroupPhones(ops) = %v, want ordered by contact name", got)
	}
	if got := phones("empty"); len(got) != 0 {
		t.Errorf("GroupPhones(empty) = %v", got)
	}
	_, err = s.GroupPhones(c, "nope")
	wantErr(t, "GroupPhones(missing)", err, store.ErrNotFound)

	if err := s.DeleteGroup(c, "ops"); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	wantErr(t, "DeleteGroup(deleted)", s.DeleteGroup(c, "ops"), store.ErrNotFound)
	_, err = s.GroupPhones(c, "ops")
	wantErr(t, "GroupPhones(deleted)", err, store.ErrNotFound)
	list, err := s.ListContacts(c, "", 0, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("contacts after deleting their group = %+v, %v; want both kept", list, err)
	}
	if !slices.Equal(list[0].Groups, []string{"db"}) || len(list[1].Groups) != 0 {
		t.Errorf("memberships after deleting ops = %q, %q", list[0].Groups, list[1].Groups)
	}
}
