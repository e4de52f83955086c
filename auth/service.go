package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/store"
)

// Store is what Service needs of a store; store.Store has it.
type Store interface {
	CreateUser(ctx context.Context, u *store.User) error
	UserByName(ctx context.Context, name string) (*store.User, error)
	SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error
	ListUsers(ctx context.Context) ([]store.User, error)
	CreateToken(ctx context.Context, t *store.Token) error
	ListTokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, name string, at time.Time) error
	AddAudit(ctx context.Context, e store.AuditEntry) error
}

// Errors of Service, matched with errors.Is. ErrExists and ErrNotFound
// wrap the store's, so errors.Is(err, store.ErrConflict) holds too.
var (
	ErrExists   = fmt.Errorf("%w", store.ErrConflict)
	ErrNotFound = fmt.Errorf("%w", store.ErrNotFound)
	// ErrAudit: the audit entry could not be written, so nothing changed.
	ErrAudit = errors.New("audit log not written, so nothing was changed")
)

// InputError is a refused input; Field names it (actor, name, role,
// scope, password).
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func badInput(field, format string, a ...any) error {
	return &InputError{Field: field, Err: fmt.Errorf(format, a...)}
}

// Service creates users, sets their passwords and creates and revokes API
// tokens: the one way the CLI and the console change them. Each change is
// validated and written to the audit log with the actor that asked for it
// ("cli:NAME", "user:NAME").
//
// An unaudited change is refused rather than rolled back: the store has
// no transaction spanning a change and its audit entry, and not every
// change can be undone (a user cannot be deleted, a revoked token not
// restored, deleted sessions not brought back). So the entry is written
// first and, if it cannot be, nothing is changed and the error wraps
// ErrAudit. Preconditions (the user exists, the token name is free) are
// checked before the entry is written; a change that still fails after it
// (a race, a store error) gets a second entry saying it was not done.
type Service struct {
	st  Store
	now func() time.Time
}

// NewService returns a Service on st; now is the clock (nil for time.Now).
func NewService(st Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// The audit actions.
const (
	ActionUserCreate   = "user.create"
	ActionUserPassword = "user.password"
	ActionTokenCreate  = "token.create"
	ActionTokenRevoke  = "token.revoke"
)

// User returns the user with the name, or an error wrapping ErrNotFound.
func (s *Service) User(ctx context.Context, name string) (*store.User, error) {
	u, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return u, err
}

// ListUsers returns every user, ordered by name.
func (s *Service) ListUsers(ctx context.Context) ([]store.User, error) { return s.st.ListUsers(ctx) }

// ListTokens returns every token, revoked ones too, ordered by name.
func (s *Service) ListTokens(ctx context.Context) ([]store.Token, error) { return s.st.ListTokens(ctx) }

// AddUser creates a user with the role and password. The error wraps
// ErrExists when the name is taken and is an *InputError for a bad name,
// role or password.
func (s *Service) AddUser(ctx context.Context, actor, name, role, password string) (*store.User, error) {
	switch {
	case actor == "":
		return nil, badInput("actor", "required")
	case !ValidUserName(name):
		return nil, badInput("name", "%q: 1 to 64 printable characters without spaces, '/', '\\' or ':'", name)
	case !ValidRole(role):
		return nil, badInput("role", "%q: must be admin, operator or viewer", role)
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return nil, &InputError{Field: "password", Err: err}
	}
	_, err := s.User(ctx, name)
	switch {
	case err == nil:
		return nil, fmt.Errorf("user %q: %w", name, ErrExists)
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now()}
	err = s.change(ctx, store.AuditEntry{Actor: actor, Action: ActionUserCreate, Target: name, Detail: "role " + role}, func() error {
		err := s.st.CreateUser(ctx, u)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("user %q: %w", name, ErrExists)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetPassword replaces the user's password, which logs out every session
// of theirs. The error wraps ErrNotFound for no such user and is an
// *InputError for a password the policy refuses. Checking the current
// password, where the user changes their own, is the caller's part.
func (s *Service) SetPassword(ctx context.Context, actor, name, password string) error {
	switch {
	case actor == "":
		return badInput("actor", "required")
	case name == "": // any stored name may be looked up; only new names are checked
		return badInput("name", "required")
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return &InputError{Field: "password", Err: err}
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.change(ctx, store.AuditEntry{Actor: actor, Action: ActionUserPassword, Target: name, Detail: "sessions revoked"}, func() error {
		err := s.st.SetPassword(ctx, u.ID, hash, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		return err
	})
}

// CreateToken creates an API token with the scope and returns it, the only
// time it is seen (the store keeps its hash). The error wraps ErrExists
// when an active token has the name and is an *InputError for a bad name
// or scope.
func (s *Service) CreateToken(ctx context.Context, actor, name, scope string) (plain string, err error) {
	switch {
	case actor == "":
		return "", badInput("actor", "required")
	case !ValidTokenName(name):
		return "", badInput("name", "%q: 1 to 64 characters, no control characters or space at either end", name)
	case !ValidScope(scope):
		return "", badInput("scope", "%q: must be send, read or admin", scope)
	}
	if _, err := s.activeToken(ctx, name); err == nil {
		return "", fmt.Errorf("token %q: %w", name, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	plain, hash, err := NewToken()
	if err != nil {
		return "", err
	}
	t := &store.Token{Name: name, Scope: scope, Hash: hash, CreatedAt: s.now()}
	err = s.change(ctx, store.AuditEntry{Actor: actor, Action: ActionTokenCreate, Target: name, Detail: "scope " + scope}, func() error {
		err := s.st.CreateToken(ctx, t)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("token %q: %w", name, ErrExists)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return plain, nil
}

// RevokeToken revokes the active token with the name; the error wraps
// ErrNotFound when there is none.
func (s *Service) RevokeToken(ctx context.Context, actor, name string) error {
	switch {
	case actor == "":
		return badInput("actor", "required")
	case name == "": // older tokens may have names ValidTokenName refuses now
		return badInput("name", "required")
	}
	if _, err := s.activeToken(ctx, name); err != nil {
		return err
	}
	return s.change(ctx, store.AuditEntry{Actor: actor, Action: ActionTokenRevoke, Target: name}, func() error {
		err := s.st.RevokeToken(ctx, name, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token %q: %w", name, ErrNotFound)
		}
		return err
	})
}

// activeToken returns the unrevoked token with the name, or an error
// wrapping ErrNotFound.
func (s *Service) activeToken(ctx context.Context, name string) (*store.Token, error) {
	ts, err := s.st.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].Name == name && ts[i].RevokedAt.IsZero() {
			return &ts[i], nil
		}
	}
	return nil, fmt.Errorf("token %q: %w", name, ErrNotFound)
}

// change writes the audit entry e and then makes the change: no entry,
// no change (see Service). If the change fails after its entry was
// written, a second entry records that it was not done.
func (s *Service) change(ctx context.Context, e store.AuditEntry, do func() error) error {
	e.At = s.now()
	if err := s.st.AddAudit(ctx, e); err != nil {
		return fmt.Errorf("%s %s: %w: %w", e.Action, e.Target, ErrAudit, err)
	}
	err := do()
	if err == nil {
		return nil
	}
	// Written even when ctx has ended (the likely reason the change failed).
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	e.At = s.now()
	if e.Detail != "" {
		e.Detail += "; "
	}
	e.Detail += "not done"
	if aerr := s.st.AddAudit(actx, e); aerr != nil {
		return errors.Join(err, fmt.Errorf("audit log: record that %s %s was not done: %w", e.Action, e.Target, aerr))
	}
	return err
}
