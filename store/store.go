// Package store defines munja's persistence seam. store/sqlite (embedded
// default) and store/postgres implement it; store/storetest is the contract
// suite every implementation must pass.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
)

var (
	// ErrNotFound is returned (wrapped) when the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrStale is returned (wrapped) by CompleteDeliveries for outcomes
	// whose claim no longer holds the delivery (its lease ran out and the
	// delivery was claimed again, or the claim already ended).
	ErrStale = errors.New("claim no longer held")
	// ErrConflict is returned (wrapped) when a unique name or phone is taken.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable is matched (errors.Is) by failures that say the
	// database cannot do the call now, whatever was asked: the disk is full,
	// the file or database is read-only, I/O failed, another process holds
	// the lock past the busy timeout, the server cannot be reached or is
	// shutting down. The same call may succeed later; a caller answering a
	// client says "try again" rather than "internal error".
	ErrUnavailable = errors.New("store unavailable")
)

// Unavailable returns err marked as ErrUnavailable: its text and chain
// (errors.Is/As) are err's, and errors.Is(…, ErrUnavailable) holds.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return unavailableError{err}
}

type unavailableError struct{ err error }

func (e unavailableError) Error() string   { return e.err.Error() }
func (e unavailableError) Unwrap() []error { return []error{e.err, ErrUnavailable} }

// DefaultLimit is the page size of ListMessages and ListAudit when the
// caller passes a limit <= 0.
const DefaultLimit = 100

// Store is everything munja keeps. Implementations are safe for concurrent use.
type Store interface {
	Messages
	Contacts
	Templates
	Users
	Tokens
	Audit
	AlertState
	CheckHistory
	Close() error
}

// Messages is the outbox and the history.
type Messages interface {
	// CreateMessage stores m and one queued delivery per m.Deliveries entry
	// (only Phone is read) in one transaction, and fills in IDs and times.
	// m.CreatedAt is kept when set (imports, tests), else it is now.
	// Deliveries are due at m.At, or at m.CreatedAt when m.At is zero.
	CreateMessage(ctx context.Context, m *sms.Message) error
	// CreateLimited is CreateMessage under lim (see Limits), checked in the
	// same transaction as the insert: recipients over the hourly limit
	// are left out into m.Dropped with lim.DropLimited, otherwise (and for
	// the daily budget) the message is refused with a *LimitError and
	// nothing is stored.
	CreateLimited(ctx context.Context, m *sms.Message, lim Limits) error
	// CreateWith is CreateLimited under opt.Limits, with two more things
	// done in the insert's transaction:
	//
	// With an opt.Once key (a webhook sent again after its answer was
	// lost), it stores m only if no message stored under that key has a
	// CreatedAt at or after opt.Once.Since, and then records m under the
	// key; otherwise nothing is stored and the error is a *DuplicateError
	// naming the message that was. The key is claimed in the insert's
	// transaction before the limits are counted, so calls with one key
	// from any number of processes at once store one message, and the
	// retry of a message that used up a limit is a duplicate, not a
	// refusal. A refused or failed insert leaves the key unclaimed. A key
	// is forgotten when its message is pruned.
	//
	// With opt.Audit, the entry it returns for the message as stored (ID,
	// CreatedAt, Deliveries and Dropped filled in; the function must not
	// keep it) is appended to the audit log in the same transaction: the
	// message and its audit line are committed together or not at all.
	CreateWith(ctx context.Context, m *sms.Message, opt Create) error
	// GetMessage returns the message with its deliveries (by ID), or ErrNotFound.
	GetMessage(ctx context.Context, id int64) (*sms.Message, error)
	// ListMessages returns messages newest (highest ID) first, with their
	// deliveries ordered by ID.
	ListMessages(ctx context.Context, f MessageFilter) ([]*sms.Message, error)

	// ClaimDeliveries atomically takes up to limit deliveries that are due:
	// queued with NextAttemptAt <= now, or sending with an expired lease (a
	// dispatcher died mid-call). Claimed rows become sending with
	// lease_until = now+lease, attempts+1. A lease is expired when
	// lease_until <= now. Oldest due first; the result is ordered by
	// NextAttemptAt, then ID. If f.MessageID is set only that message's
	// deliveries are claimed. Concurrent callers never get the same delivery
	// while its lease runs.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f ClaimFilter) ([]Claim, error)
	// CompleteDeliveries records the outcome of a gateway call for each
	// delivery, in one transaction, and ends its lease. If an ID does not
	// exist nothing is written and the error wraps ErrNotFound. An update
	// with Attempt set is written only while its claim still holds the
	// delivery (status sending, attempts = Attempt); the others of the
	// batch are written and the error wraps ErrStale, naming the skipped.
	CompleteDeliveries(ctx context.Context, results []DeliveryUpdate) error
	// ReleaseClaims returns every sending delivery to queued (used at start-up
	// of the single process that owns a SQLite file), due no later than now,
	// and returns how many.
	ReleaseClaims(ctx context.Context, now time.Time) (int, error)

	// CountDeliveriesSince counts deliveries created at or after since, for
	// the daily budget; phone limits the count to one recipient when set.
	CountDeliveriesSince(ctx context.Context, since time.Time, phone sms.Phone) (int, error)
	// CountDeliveriesByStatus counts every stored delivery by status, in
	// one query (for the munja_deliveries gauge). Statuses with no delivery
	// are absent from the non-nil map.
	CountDeliveriesByStatus(ctx context.Context) (map[sms.Status]int, error)
	// NextDue returns the earliest NextAttemptAt of a queued delivery (zero if none).
	NextDue(ctx context.Context) (time.Time, error)
	// PendingReports returns deliveries in status sent that have a provider
	// message id and were sent at or after since, oldest (SentAt, then ID)
	// first: the ones whose delivery result is still to be fetched from the
	// gateway. Deliveries of test-mode messages are left out: the gateway
	// never delivers them (Aligo cancels a test send), so they have no
	// result to fetch. limit <= 0 means DefaultLimit.
	PendingReports(ctx context.Context, since time.Time, limit int) ([]sms.Delivery, error)
	// RecordReport stores a gateway delivery result: status delivered or
	// failed (detail = the gateway's words), at = when the gateway says.
	// A failed result sets LastError to detail, a delivered one clears it;
	// UpdatedAt becomes at. Only a sent or reserved delivery takes a result:
	// for one in another state (already reported, requeued) nothing changes
	// and nil is returned. ErrNotFound for no such delivery; any other status
	// is an error.
	RecordReport(ctx context.Context, deliveryID int64, status sms.Status, detail string, at time.Time) error
	// PruneMessages deletes messages created before t whose deliveries are
	// all final (see sms.Status.Final), and returns how many.
	PruneMessages(ctx context.Context, before time.Time) (int, error)
}

// MessageFilter selects history. Zero fields do not filter.
type MessageFilter struct {
	Limit    int    // at most this many; <= 0 means DefaultLimit
	Offset   int    // skip this many; only when keyset pagination cannot be used
	Source   string // only this source: api, cli, console, alert, compat
	BeforeID int64  // keyset pagination: only messages with ID < BeforeID
	// Phone and Status select messages with a delivery to Phone, with a
	// delivery in Status, or, when both are set, with one delivery that is
	// both.
	Phone  sms.Phone
	Status sms.Status
	Text   string    // substring of the text or the title, case-insensitive for ASCII letters
	Since  time.Time // created at or after
	Until  time.Time // created before
}

// ClaimFilter narrows ClaimDeliveries.
type ClaimFilter struct {
	MessageID int64 // only this message's deliveries (e.g. a synchronous `munja send`)
}

// Claim is a claimed delivery with what the dispatcher needs to send it.
type Claim struct {
	Delivery sms.Delivery
	Message  sms.Message // without Deliveries
}

// DeliveryUpdate is the outcome of one attempt for one delivery.
type DeliveryUpdate struct {
	ID            int64
	Attempt       int        // the claim's Attempts, fencing the update; 0 writes unconditionally (delivery reports, tools)
	Status        sms.Status // queued (retry later), sent, reserved, delivered, failed
	Provider      string
	ProviderMsgID string
	Error         string    // last error; empty clears it
	NextAttemptAt time.Time // for queued; zero keeps the previous value
	SentAt        time.Time // zero keeps the previous value
}

// Token is an API token. Only its SHA-256 hash is stored.
type Token struct {
	ID        int64
	Name      string
	Scope     string // send | read | admin
	Hash      []byte
	CreatedAt time.Time
	LastUsed  time.Time
	RevokedAt time.Time
}

// Tokens keeps the API tokens.
type Tokens interface {
	// CreateToken stores t and fills in ID (and CreatedAt when zero).
	// ErrConflict when an active token has the name; a revoked token's name
	// can be used again.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns an unrevoked token with the given hash, or ErrNotFound.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// ListTokens returns every token, revoked ones too, ordered by name.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the active token with the name, or returns ErrNotFound.
	RevokeToken(ctx context.Context, name string, at time.Time) error
	// TouchToken sets LastUsed (ErrNotFound for no such ID). It is a write:
	// callers on a hot path should not touch on every request.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // user:NAME, token:NAME, cli, system
	Action string // message.create, token.create, …
	Target string
	Detail string
}

// Audit is the append-only log of who did what.
type Audit interface {
	// AddAudit appends e (At zero means now; ID is ignored).
	AddAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns the newest entries first (by At, then ID); limit <= 0
	// means DefaultLimit.
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)
	// FindAudit returns the entries q selects, newest first like ListAudit.
	FindAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// AuditQuery selects audit entries; zero fields select everything.
type AuditQuery struct {
	Limit int // <= 0: DefaultLimit
	// Before is an entry ID: only entries older than it (by At, then ID)
	// — the next page after an entry. An unknown ID selects nothing.
	Before int64
	// Actor is a whole actor or its leading part up to a colon: "cli"
	// selects cli:kim, "agent:web1" selects agent:web1:first.
	Actor string
	// Action is a whole action or its area: "contact" selects
	// contact.create and contact.delete.
	Action string
	Since  time.Time // At >= Since
	Until  time.Time // At < Until
}

// LikePrefix escapes s for a SQL LIKE pattern (ESCAPE '\') matching what
// begins with s.
func LikePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// AlertState keeps the alert engine's per-check state and incidents as
// opaque JSON so a restart neither re-sends nor forgets an open incident.
type AlertState interface {
	// GetState returns the stored value for key, or ErrNotFound.
	GetState(ctx context.Context, key string) ([]byte, error)
	// PutState stores value under key, replacing any previous value.
	PutState(ctx context.Context, key string, value []byte) error
	// DeleteState removes key; removing a missing key is not an error.
	DeleteState(ctx context.Context, key string) error
	// ListState returns every key with the prefix (case-sensitive; "" is
	// every key) and its value, as a non-nil map.
	ListState(ctx context.Context, prefix string) (map[string][]byte, error)
}

// StateWrite is one record of a StateBatcher write: Value nil deletes Key
// (a missing key is not an error).
type StateWrite struct {
	Key   string
	Value []byte
}

// StateBatcher is implemented by stores that write many alert state
// records in one transaction (SQLite, PostgreSQL): the alert engine saves
// a batch with one commit instead of one per record. Either every write
// of the batch is stored or none.
type StateBatcher interface {
	WriteStates(ctx context.Context, writes []StateWrite) error
}

// Contact is one address book entry.
type Contact struct {
	ID        int64
	Name      string
	Phone     sms.Phone
	Memo      string
	Groups    []string // group names, sorted
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Group is a named set of contacts.
type Group struct {
	ID      int64
	Name    string
	Members int // number of contacts
}

// Contacts is the address book.
type Contacts interface {
	// SaveContact inserts (ID 0) or updates a contact and sets its group
	// memberships to c.Groups, creating missing groups. It fills in ID and
	// times and sorts and dedups c.Groups. ErrConflict when another contact
	// has the phone; ErrNotFound when updating an ID that does not exist.
	SaveContact(ctx context.Context, c *Contact) error
	// GetContact returns the contact with its groups, or ErrNotFound.
	GetContact(ctx context.Context, id int64) (*Contact, error)
	// DeleteContact removes the contact from the book and its groups, or
	// returns ErrNotFound.
	DeleteContact(ctx context.Context, id int64) error
	// ListContacts returns contacts ordered by name; q matches a substring of
	// the name, phone or memo (case-insensitive for ASCII letters); limit <= 0
	// means all.
	ListContacts(ctx context.Context, q string, limit, offset int) ([]Contact, error)
	CreateGroup(ctx context.Context, name string) (*Group, error) // ErrConflict if it exists
	// DeleteGroup removes the group (its contacts stay), or returns ErrNotFound.
	DeleteGroup(ctx context.Context, name string) error
	// ListGroups returns every group with its member count, ordered by name.
	ListGroups(ctx context.Context) ([]Group, error)
	// GroupPhones returns the phones of a group's members ordered by contact
	// name, or ErrNotFound for no such group.
	GroupPhones(ctx context.Context, name string) ([]sms.Phone, error)
}

// User is a console user. PasswordHash is an encoded slow-KDF hash
// (argon2id), never the password.
type User struct {
	ID                int64
	Name              string
	Role              string // admin | operator | viewer
	PasswordHash      string
	Lang              string // ko (default) | en
	CreatedAt         time.Time
	PasswordChangedAt time.Time
	DisabledAt        time.Time
}

// Session is a server-side console session. Only the SHA-256 hash of the
// session cookie value is stored.
type Session struct {
	ID        int64
	Hash      []byte
	UserID    int64
	CSRF      string // per-session CSRF token
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
}

// Users keeps the console users and their sessions. Lookups and updates of
// a user or session that does not exist return ErrNotFound.
type Users interface {
	// CreateUser stores u and fills in ID and the defaults: CreatedAt now
	// when zero, PasswordChangedAt = CreatedAt when zero, Lang "ko" when
	// empty. ErrConflict if the name exists (names are case-sensitive).
	CreateUser(ctx context.Context, u *User) error
	UserByName(ctx context.Context, name string) (*User, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	ListUsers(ctx context.Context) ([]User, error) // ordered by name
	CountUsers(ctx context.Context) (int, error)
	// SetPassword replaces the hash, sets PasswordChangedAt and deletes
	// every session of the user, in one transaction.
	SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error
	SetUserRole(ctx context.Context, userID int64, role string) error
	SetUserLang(ctx context.Context, userID int64, lang string) error

	// CreateSession stores s (ExpiresAt is required) and fills in ID,
	// CreatedAt (now when zero) and LastSeen (CreatedAt when zero).
	// ErrNotFound for no such user, ErrConflict for a hash in use.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session if it is unexpired (now <
	// ExpiresAt), else ErrNotFound.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (*Session, error)
	// TouchSession sets LastSeen and ExpiresAt.
	TouchSession(ctx context.Context, id int64, seen, expires time.Time) error
	DeleteSession(ctx context.Context, id int64) error
	// DeleteUserSessions deletes every session of the user (none is not an error).
	DeleteUserSessions(ctx context.Context, userID int64) error
	// DeleteExpiredSessions deletes sessions with ExpiresAt <= now and
	// returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Template is a reusable message text.
type Template struct {
	ID        int64
	Name      string
	Text      string
	Title     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Templates keeps the reusable message texts. Lookups of a template that
// does not exist return ErrNotFound.
type Templates interface {
	// SaveTemplate inserts (ID 0) or updates, and fills in ID and times (an
	// update keeps CreatedAt). ErrConflict on a duplicate name; ErrNotFound
	// when updating an ID that does not exist.
	SaveTemplate(ctx context.Context, t *Template) error
	GetTemplate(ctx context.Context, id int64) (*Template, error)
	DeleteTemplate(ctx context.Context, id int64) error
	ListTemplates(ctx context.Context) ([]Template, error) // ordered by name
}

// StaleError is the error CompleteDeliveries returns for the deliveries it
// skipped because their claims no longer held them (nil for none).
func StaleError(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return fmt.Errorf("deliveries %v: %w", ids, ErrStale)
}

// Optional capabilities. A store implements the ones its technology has;
// callers find them by type assertion (see ExclusiveDispatch, Leaser).

// ExclusiveDispatch is a store that one process at a time may dispatch from
// (a SQLite file): `munja serve`, or `munja send` / `check --notify` when no
// server runs. LockDispatch makes the caller that process until unlock;
// with wait false it returns ok=false at once when another process holds
// the lock, with wait true it waits until ctx ends. Only its holder may
// hand every claim back to the queue (ReleaseClaims) without taking a batch
// from a live process. A store without it (PostgreSQL) shares the work
// between processes through claims with leases.
type ExclusiveDispatch interface {
	LockDispatch(ctx context.Context, wait bool) (unlock func(), ok bool, err error)
}

// Leaser is a store shared by replicas that elect one of them for work
// that must run once (the checks and the alert engine): PostgreSQL.
type Leaser interface {
	// Lead tries once, without waiting, to take the lease called name. It
	// returns nil and no error when another replica holds it.
	Lead(ctx context.Context, name string) (Lease, error)
}

// ClaimReaper is a store shared by replicas that can tell when one of
// them may be gone (PostgreSQL: its presence lock ended with its session):
// ReleaseDeadClaims hands back to the queue, due at now, the deliveries
// such a replica claimed longer than inFlight ago, instead of leaving them
// "sending" until their lease runs out. inFlight is the longest a batch can
// legitimately be in flight: a replica that only lost its session (a
// network blip) and is still sending finishes or abandons its batches
// within it, so nothing it still sends is handed back. Dispatchers call it
// every few seconds.
type ClaimReaper interface {
	ReleaseDeadClaims(ctx context.Context, now time.Time, inFlight time.Duration) (int, error)
}

// Lease is a leadership held: Lost is closed once it is no longer held
// (after Release, or when the store could not keep it), from when on the
// leader's work must stop; Release gives it up (more than once is fine).
type Lease interface {
	Lost() <-chan struct{}
	Release()
}
