package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

func mustUser(t *testing.T, s store.Store, u *store.User) *store.User {
	t.Helper()
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Name, err)
	}
	return u
}

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	if n, err := s.CountUsers(c); err != nil || n != 0 {
		t.Errorf("CountUsers on an empty store = %d, %v", n, err)
	}
	_, err := s.UserByName(c, "kim")
	wantErr(t, "UserByName(missing)", err, store.ErrNotFound)

	kim := mustUser(t, s, &store.User{Name: "kim", Role: "admin", PasswordHash: "$argon2id$v=19$kim", CreatedAt: base})
	if kim.ID == 0 {
		t.Fatal("CreateUser left ID 0")
	}
	if kim.Lang != "ko" || !sameTime(kim.PasswordChangedAt, base) || !kim.DisabledAt.IsZero() {
		t.Errorf("new user defaults: Lang %q PasswordChangedAt %v DisabledAt %v; want ko, CreatedAt, zero",
			kim.Lang, kim.PasswordChangedAt, kim.DisabledAt)
	}
	before := time.Now().Add(-time.Second)
	lee := mustUser(t, s, &store.User{Name: "lee", Role: "viewer", PasswordHash: "h-lee", Lang: "en",
		DisabledAt: base.Add(time.Hour + 5*time.Millisecond)})
	if lee.CreatedAt.Before(before) || time.Since(lee.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt %v, want about now", lee.CreatedAt)
	}
	park := mustUser(t, s, &store.User{Name: "박", Role: "operator", PasswordHash: "h-park", CreatedAt: base})

	err = s.CreateUser(c, &store.User{Name: "kim", Role: "viewer", PasswordHash: "other"})
	wantErr(t, "CreateUser(duplicate name)", err, store.ErrConflict)
	if n, err := s.CountUsers(c); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}

	for _, u := range []*store.User{kim, lee, park} {
		got, err := s.UserByName(c, u.Name)
		if err != nil {
			t.Errorf("UserByName(%q): %v", u.Name, err)
		} else {
			equal(t, "UserByName", *got, *u)
		}
		got, err = s.UserByID(c, u.ID)
		if err != nil {
			t.Errorf("UserByID(%d): %v", u.ID, err)
		} else {
			equal(t, "UserByID", *got, *u)
		}
	}
	_, err = s.UserByID(c, kim.ID+lee.ID+park.ID+100)
	wantErr(t, "UserByID(missing)", err, store.ErrNotFound)
	_, err = s.UserByName(c, "KIM")
	wantErr(t, "UserByName(other case)", err, store.ErrNotFound)

	list, err := s.ListUsers(c)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	equal(t, "ListUsers (by name)", list, []store.User{*kim, *lee, *park})

	missing := kim.ID + lee.ID + park.ID + 100
	if err := s.SetUserRole(c, lee.ID, "operator"); err != nil {
		t.Fatalf("SetUserRole: %v", err)
	}
	if err := s.SetUserLang(c, kim.ID, "en"); err != nil {
		t.Fatalf("SetUserLang: %v", err)
	}
	wantErr(t, "SetUserRole(missing)", s.SetUserRole(c, missing, "admin"), store.ErrNotFound)
	wantErr(t, "SetUserLang(missing)", s.SetUserLang(c, missing, "ko"), store.ErrNotFound)
	if got, err := s.UserByID(c, lee.ID); err != nil || got.Role != "operator" || got.Lang != "en" {
		t.Errorf("lee after SetUserRole = %+v, %v; want operator, en", got, err)
	}
	if got, err := s.UserByID(c, kim.ID); err != nil || got.Lang != "en" || got.Role != "admin" {
		t.Errorf("kim after SetUserLang = %+v, %v; want admin, en", got, err)
	}
}

func testSetPassword(t *testing.T, s store.Store) {
	c := ctx(t)
	kim := mustUser(t, s, &store.User{Name: "kim", Role: "admin", PasswordHash: "old", CreatedAt: base})
	lee := mustUser(t, s, &store.User{Name: "lee", Role: "viewer", PasswordHash: "lee", CreatedAt: base})
	exp := base.Add(24 * time.Hour)
	k1 := mustSession(t, s, &store.Session{Hash: hash("k1"), UserID: kim.ID, CSRF: "c1", CreatedAt: base, ExpiresAt: exp})
	mustSession(t, s, &store.Session{Hash: hash("k2"), UserID: kim.ID, CSRF: "c2", CreatedAt: base, ExpiresAt: exp})
	l1 := mustSession(t, s, &store.Session{Hash: hash("l1"), UserID: lee.ID, CSRF: "c3", CreatedAt: base, ExpiresAt: exp})

	changed := base.Add(time.Hour + 250*time.Millisecond)
	if err := s.SetPassword(c, kim.ID, "new", changed); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	got, err := s.UserByID(c, kim.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.PasswordHash != "new" || !sameTime(got.PasswordChangedAt, changed) || !sameTime(got.CreatedAt, base) {
		t.Errorf("after SetPassword: %+v; want hash new, changed at %v", got, changed)
	}
	now := base.Add(2 * time.Hour)
	for _, h := range []string{"k1", "k2"} {
		_, err := s.SessionByHash(c, hash(h), now)
		wantErr(t, "SessionByHash(session of a user whose password changed)", err, store.ErrNotFound)
	}
	if got, err := s.SessionByHash(c, hash("l1"), now); err != nil || got.ID != l1.ID {
		t.Errorf("another user's session after SetPassword = %+v, %v; want kept", got, err)
	}
	wantErr(t, "TouchSession(deleted by SetPassword)", s.TouchSession(c, k1.ID, now, exp), store.ErrNotFound)
	wantErr(t, "SetPassword(missing)", s.SetPassword(c, kim.ID+lee.ID+100, "x", changed), store.ErrNotFound)
}

func mustSession(t *testing.T, s store.Store, ss *store.Session) *store.Session {
	t.Helper()
	if err := s.CreateSession(ctx(t), ss); err != nil {
		t.Fatalf("CreateSession(user %d): %v", ss.UserID, err)
	}
	return ss
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	kim := mustUser(t, s, &store.User{Name: "kim", Role: "admin", PasswordHash: "h", CreatedAt: base})
	lee := mustUser(t, s, &store.User{Name: "lee", Role: "viewer", PasswordHash: "h", CreatedAt: base})

	t0 := base.Add(10*time.Minute + 3*time.Millisecond)
	a := mustSession(t, s, &store.Session{Hash: hash("a"), UserID: kim.ID, CSRF: "csrf-a", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if a.ID == 0 || !sameTime(a.LastSeen, t0) {
		t.Errorf("new session: ID %d LastSeen %v; want an ID and LastSeen = CreatedAt", a.ID, a.LastSeen)
	}
	b := mustSession(t, s, &store.Session{Hash: hash("b"), UserID: kim.ID, CSRF: "csrf-b", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)})
	l := mustSession(t, s, &store.Session{Hash: hash("l"), UserID: lee.ID, CSRF: "csrf-l", CreatedAt: t0, ExpiresAt: t0.Add(3 * time.Hour)})
	now := &store.Session{Hash: hash("now"), UserID: lee.ID, CSRF: "csrf-now", ExpiresAt: time.Now().Add(time.Hour)}
	mustSession(t, s, now)
	if time.Since(now.CreatedAt).Abs() > time.Minute || !sameTime(now.LastSeen, now.CreatedAt) {
		t.Errorf("session created with zero times: CreatedAt %v LastSeen %v, want now", now.CreatedAt, now.LastSeen)
	}
	if ids := []int64{a.ID, b.ID, l.ID, now.ID}; len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 4 {
		t.Errorf("sessions share IDs: %v", ids)
	}
	err := s.CreateSession(c, &store.Session{Hash: hash("a"), UserID: lee.ID, CSRF: "x", ExpiresAt: t0.Add(time.Hour)})
	wantErr(t, "CreateSession(duplicate hash)", err, store.ErrConflict)
	err = s.CreateSession(c, &store.Session{Hash: hash("ghost"), UserID: kim.ID + lee.ID + 100, CSRF: "x", ExpiresAt: t0.Add(time.Hour)})
	wantErr(t, "CreateSession(missing user)", err, store.ErrNotFound)

	got, err := s.SessionByHash(c, hash("a"), t0)
	if err != nil {
		t.Fatalf("SessionByHash: %v", err)
	}
	equal(t, "SessionByHash", *got, *a)
	// Unexpired only: ExpiresAt itself is already too late.
	if _, err := s.SessionByHash(c, hash("a"), t0.Add(time.Hour-time.Millisecond)); err != nil {
		t.Errorf("SessionByHash just before expiry: %v", err)
	}
	_, err = s.SessionByHash(c, hash("a"), t0.Add(time.Hour))
	wantErr(t, "SessionByHash(at expiry)", err, store.ErrNotFound)
	_, err = s.SessionByHash(c, hash("nope"), t0)
	wantErr(t, "SessionByHash(unknown)", err, store.ErrNotFound)

	// Touch extends the session.
	seen, exp := t0.Add(50*time.Minute+7*time.Millisecond), t0.Add(5*time.Hour)
	if err := s.TouchSession(c, a.ID, seen, exp); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	got, err = s.SessionByHash(c, hash("a"), t0.Add(4*time.Hour))
	if err != nil {
		t.Fatalf("SessionByHash after TouchSession: %v", err)
	}
	want := *a
	want.LastSeen, want.ExpiresAt = seen, exp
	equal(t, "touched session", *got, want)
	missing := a.ID + b.ID + l.ID + now.ID + 100
	wantErr(t, "TouchSession(missing)", s.TouchSession(c, missing, seen, exp), store.ErrNotFound)

	// Expired sessions go; a is extended to t0+5h, b ends at t0+2h.
	n, err := s.DeleteExpiredSessions(c, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions(t0+2h) = %d, %v; want 1 (b)", n, err)
	}
	_, err = s.SessionByHash(c, hash("b"), t0)
	wantErr(t, "SessionByHash(deleted as expired)", err, store.ErrNotFound)
	if n, err := s.DeleteExpiredSessions(c, t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredSessions = %d, %v; want 0", n, err)
	}

	if err := s.DeleteSession(c, l.ID); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err = s.SessionByHash(c, hash("l"), t0)
	wantErr(t, "SessionByHash(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteSession(deleted)", s.DeleteSession(c, l.ID), store.ErrNotFound)

	if err := s.DeleteUserSessions(c, kim.ID); err != nil {
		t.Fatalf("DeleteUserSessions: %v", err)
	}
	_, err = s.SessionByHash(c, hash("a"), t0)
	wantErr(t, "SessionByHash(after DeleteUserSessions)", err, store.ErrNotFound)
	if got, err := s.SessionByHash(c, hash("now"), time.Now()); err != nil || got.UserID != lee.ID {
		t.Errorf("another user's session after DeleteUserSessions = %+v, %v", got, err)
	}
	if err := s.DeleteUserSessions(c, kim.ID); err != nil {
		t.Errorf("DeleteUserSessions with none left: %v", err)
	}
}
