package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

const pw = "correct horse battery"

var clock = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

// faulty is a real store whose AddAudit fails while auditErr is set, and
// whose CreateToken fails with createErr (a change failing after its entry).
type faulty struct {
	*sqlite.DB
	auditErr, createErr error
}

func (f *faulty) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if f.auditErr != nil {
		return f.auditErr
	}
	return f.DB.AddAudit(ctx, e)
}

func (f *faulty) CreateToken(ctx context.Context, t *store.Token) error {
	if f.createErr != nil {
		return f.createErr
	}
	return f.DB.CreateToken(ctx, t)
}

func newService(t *testing.T) (*auth.Service, *faulty) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &faulty{DB: db}
	return auth.NewService(st, func() time.Time { return clock }), st
}

func auditLog(t *testing.T, st *faulty) []store.AuditEntry {
	t.Helper()
	es, err := st.ListAudit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		es[i].ID = 0
	}
	return es
}

func TestServiceRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newService(t)
	if _, err := s.AddUser(ctx, "cli:root", "kim", auth.RoleAdmin, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, "cli:root", "ci", auth.ScopeSend); err != nil {
		t.Fatal(err)
	}
	before := len(auditLog(t, st))
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"user without actor", func() error { _, err := s.AddUser(ctx, "", "lee", auth.RoleViewer, pw); return err }, "actor"},
		{"user name with a space", func() error { _, err := s.AddUser(ctx, "cli:root", "a b", auth.RoleViewer, pw); return err }, "name"},
		{"user name with a colon", func() error { _, err := s.AddUser(ctx, "cli:root", "a:b", auth.RoleViewer, pw); return err }, "name"},
		{"empty user name", func() error { _, err := s.AddUser(ctx, "cli:root", "", auth.RoleViewer, pw); return err }, "name"},
		{"long user name", func() error {
			_, err := s.AddUser(ctx, "cli:root", strings.Repeat("x", 65), auth.RoleViewer, pw)
			return err
		}, "name"},
		{"unknown role", func() error { _, err := s.AddUser(ctx, "cli:root", "lee", "root", pw); return err }, "role"},
		{"short password", func() error { _, err := s.AddUser(ctx, "cli:root", "lee", auth.RoleViewer, "short"); return err }, "password"},
		{"password without actor", func() error { return s.SetPassword(ctx, "", "kim", pw) }, "actor"},
		{"password without name", func() error { return s.SetPassword(ctx, "cli:root", "", pw) }, "name"},
		{"short new password", func() error { return s.SetPassword(ctx, "cli:root", "kim", "123456789") }, "password"},
		{"token without actor", func() error { _, err := s.CreateToken(ctx, "", "deploy", auth.ScopeSend); return err }, "actor"},
		{"blank token name", func() error { _, err := s.CreateToken(ctx, "cli:root", "  ", auth.ScopeSend); return err }, "name"},
		{"token name with a newline", func() error { _, err := s.CreateToken(ctx, "cli:root", "a\nb", auth.ScopeSend); return err }, "name"},
		{"long token name", func() error {
			_, err := s.CreateToken(ctx, "cli:root", strings.Repeat("가", 65), auth.ScopeSend)
			return err
		}, "name"},
		{"unknown scope", func() error { _, err := s.CreateToken(ctx, "cli:root", "deploy", "write"); return err }, "scope"},
		{"revoke without actor", func() error { return s.RevokeToken(ctx, "", "ci") }, "actor"},
		{"revoke without name", func() error { return s.RevokeToken(ctx, "cli:root", "") }, "name"},
	} {
		err := tc.call()
		var ie *auth.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.HasPrefix(err.Error(), tc.field+": ") {
			t.Errorf("%s: error %v, want an InputError for %q", tc.name, err, tc.field)
		}
	}
	if n := len(auditLog(t, st)); n != before {
		t.Errorf("refused input wrote %d audit entries", n-before)
	}
	if _, err := s.User(ctx, "lee"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused AddUser created a user: %v", err)
	}
	if u, _ := s.User(ctx, "kim"); !mustVerify(t, u, pw) {
		t.Error("a refused SetPassword changed the password")
	}
}

func mustVerify(t *testing.T, u *store.User, pw string) bool {
	t.Helper()
	ok, err := auth.VerifyPassword(u.PasswordHash, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestServiceAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newService(t)

	u, err := s.AddUser(ctx, "cli:root", "kim", auth.RoleOperator, pw)
	if err != nil || u.ID == 0 || u.Role != auth.RoleOperator || !u.CreatedAt.Equal(clock) {
		t.Fatalf("AddUser = %+v, %v", u, err)
	}
	if _, err := s.AddUser(ctx, "user:lee", "kim", auth.RoleViewer, pw); !errors.Is(err, auth.ErrExists) ||
		!errors.Is(err, store.ErrConflict) || err.Error() != `user "kim": already exists` {
		t.Fatalf("AddUser twice: %v", err)
	}
	if err := s.SetPassword(ctx, "user:kim", "kim", "a brand new one"); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, "kim")
	if err != nil || !mustVerify(t, got, "a brand new one") || mustVerify(t, got, pw) || !got.PasswordChangedAt.Equal(clock) {
		t.Fatalf("after SetPassword: %+v, %v", got, err)
	}
	if err := s.SetPassword(ctx, "cli:root", "nobody", pw); !errors.Is(err, auth.ErrNotFound) ||
		!errors.Is(err, store.ErrNotFound) || err.Error() != `user "nobody": not found` {
		t.Fatalf("SetPassword of nobody: %v", err)
	}

	plain, err := s.CreateToken(ctx, "user:kim", "deploy", auth.ScopeRead)
	if err != nil || !strings.HasPrefix(plain, "munja_") {
		t.Fatalf("CreateToken = %q, %v", plain, err)
	}
	if tok, err := st.TokenByHash(ctx, auth.HashToken(plain)); err != nil || tok.Name != "deploy" || tok.Scope != auth.ScopeRead {
		t.Fatalf("stored token %+v, %v", tok, err)
	}
	if _, err := s.CreateToken(ctx, "user:kim", "deploy", auth.ScopeSend); !errors.Is(err, auth.ErrExists) {
		t.Fatalf("CreateToken twice: %v", err)
	}
	if err := s.RevokeToken(ctx, "cli:root", "deploy"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenByHash(ctx, auth.HashToken(plain)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token still valid: %v", err)
	}
	if err := s.RevokeToken(ctx, "cli:root", "deploy"); !errors.Is(err, auth.ErrNotFound) || err.Error() != `token "deploy": not found` {
		t.Fatalf("RevokeToken twice: %v", err)
	}
	// A revoked token's name can be used again.
	if _, err := s.CreateToken(ctx, "cli:root", "deploy", auth.ScopeSend); err != nil {
		t.Fatal(err)
	}

	want := []store.AuditEntry{ // newest first; refusals wrote nothing
		{At: clock, Actor: "cli:root", Action: "token.create", Target: "deploy", Detail: "scope send"},
		{At: clock, Actor: "cli:root", Action: "token.revoke", Target: "deploy"},
		{At: clock, Actor: "user:kim", Action: "token.create", Target: "deploy", Detail: "scope read"},
		{At: clock, Actor: "user:kim", Action: "user.password", Target: "kim", Detail: "sessions revoked"},
		{At: clock, Actor: "cli:root", Action: "user.create", Target: "kim", Detail: "role operator"},
	}
	assertAudit(t, st, want)
}

func assertAudit(t *testing.T, st *faulty, want []store.AuditEntry) {
	t.Helper()
	got := auditLog(t, st)
	if len(got) != len(want) {
		t.Fatalf("audit log:\n%+v\nwant\n%+v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Actor != want[i].Actor || got[i].Action != want[i].Action ||
			got[i].Target != want[i].Target || got[i].Detail != want[i].Detail {
			t.Errorf("audit entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestServiceAuditFailure: a change whose audit entry cannot be written is
// refused, and nothing changes.
func TestServiceAuditFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newService(t)
	if _, err := s.AddUser(ctx, "cli:root", "kim", auth.RoleAdmin, pw); err != nil {
		t.Fatal(err)
	}
	plain, err := s.CreateToken(ctx, "cli:root", "ci", auth.ScopeSend)
	if err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk I/O error")
	st.auditErr = disk
	for name, call := range map[string]func() error{
		"AddUser":     func() error { _, err := s.AddUser(ctx, "cli:root", "lee", auth.RoleViewer, pw); return err },
		"SetPassword": func() error { return s.SetPassword(ctx, "cli:root", "kim", "a brand new one") },
		"CreateToken": func() error { _, err := s.CreateToken(ctx, "cli:root", "deploy", auth.ScopeSend); return err },
		"RevokeToken": func() error { return s.RevokeToken(ctx, "cli:root", "ci") },
	} {
		if err := call(); !errors.Is(err, auth.ErrAudit) || !errors.Is(err, disk) {
			t.Errorf("%s with the audit log failing: %v, want ErrAudit", name, err)
		}
	}
	st.auditErr = nil
	if _, err := s.User(ctx, "lee"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("user created without an audit entry: %v", err)
	}
	if u, err := s.User(ctx, "kim"); err != nil || !mustVerify(t, u, pw) {
		t.Errorf("password changed without an audit entry: %v", err)
	}
	ts, err := s.ListTokens(ctx)
	if err != nil || len(ts) != 1 || ts[0].Name != "ci" {
		t.Errorf("tokens %+v, %v: want ci alone", ts, err)
	}
	if _, err := st.TokenByHash(ctx, auth.HashToken(plain)); err != nil {
		t.Errorf("token revoked without an audit entry: %v", err)
	}
	if n := len(auditLog(t, st)); n != 2 {
		t.Errorf("%d audit entries, want the 2 of the setup", n)
	}
}

// TestServiceChangeFailsAfterAudit: a change that fails once its entry is
// written (here a name taken between the check and the insert) gets a
// second entry saying it was not done.
func TestServiceChangeFailsAfterAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, st := newService(t)
	st.createErr = errors.Join(errors.New("token \"ci\""), store.ErrConflict)
	if _, err := s.CreateToken(ctx, "user:kim", "ci", auth.ScopeAdmin); !errors.Is(err, auth.ErrExists) {
		t.Fatalf("CreateToken: %v, want ErrExists", err)
	}
	assertAudit(t, st, []store.AuditEntry{
		{At: clock, Actor: "user:kim", Action: "token.create", Target: "ci", Detail: "scope admin; not done"},
		{At: clock, Actor: "user:kim", Action: "token.create", Target: "ci", Detail: "scope admin"},
	})
}
