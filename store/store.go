// Package store defines munja's persistence seam. store/sqlite (embedded
// default) implements it; store/storetest is the contract suite every
// implementation must pass.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/munja-sms/munja/sms"
)

var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Store is everything munja keeps. Implementations are safe for concurrent use.
type Store interface {
	Messages
	Contacts
	Tokens
	Audit
	AlertState
	Close() error
}

// Messages is the outbox and the history.
type Messages interface {
	// CreateMessage stores m and one queued delivery per m.Deliveries entry
	// (only Phone is read) in one transaction, and fills in IDs and times.
	// Deliveries are due at m.At (or now when zero).
	CreateMessage(ctx context.Context, m *sms.Message) error
	GetMessage(ctx context.Context, id int64) (*sms.Message, error)
	// ListMessages returns messages newest first, with their deliveries.
	ListMessages(ctx context.Context, f MessageFilter) ([]*sms.Message, error)

	// ClaimDeliveries atomically takes up to limit deliveries that are due:
	// queued with NextAttemptAt <= now, or sending with an expired lease (a
	// dispatcher died mid-call). Claimed rows become sending with
	// lease_until = now+lease, attempts+1. If f.MessageID is set only that
	// message's deliveries are claimed.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f ClaimFilter) ([]Claim, error)
	// CompleteDeliveries records the outcome of a gateway call for each
	// delivery, in one transaction.
	CompleteDeliveries(ctx context.Context, results []DeliveryUpdate) error
	// ReleaseClaims returns every sending delivery to queued (used at start-up
	// of the single process that owns a SQLite file) and returns how many.
	ReleaseClaims(ctx context.Context, now time.Time) (int, error)

	// CountDeliveriesSince counts deliveries created at or after since, for
	// the daily budget; phone limits the count to one recipient when set.
	CountDeliveriesSince(ctx context.Context, since time.Time, phone sms.Phone) (int, error)
	// NextDue returns the earliest NextAttemptAt of a queued delivery (zero if none).
	NextDue(ctx context.Context) (time.Time, error)
	// PruneMessages deletes messages created before t whose deliveries are all final.
	PruneMessages(ctx context.Context, before time.Time) (int, error)
}

type MessageFilter struct {
	Limit    int
	BeforeID int64 // keyset pagination: only messages with ID < BeforeID
	Phone    sms.Phone
	Text     string // substring
	Status   sms.Status
	Since    time.Time
	Until    time.Time
}

type ClaimFilter struct {
	MessageID int64
}

// Claim is a claimed delivery with what the dispatcher needs to send it.
type Claim struct {
	Delivery sms.Delivery
	Message  sms.Message // without Deliveries
}

// DeliveryUpdate is the outcome of one attempt for one delivery.
type DeliveryUpdate struct {
	ID            int64
	Status        sms.Status // queued (retry later), sent, reserved, delivered, failed
	Provider      string
	ProviderMsgID string
	Error         string    // last error; empty clears it
	NextAttemptAt time.Time // for queued
	SentAt        time.Time
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

type Tokens interface {
	CreateToken(ctx context.Context, t *Token) error // ErrConflict when an active token has the name
	// TokenByHash returns an unrevoked token with the given hash.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, name string, at time.Time) error
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // user:NAME, token:NAME, cli, system
	Action string // message.create, token.create, …
	Target string
	Detail string
}

type Audit interface {
	AddAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)
}

// AlertState keeps the alert engine's per-check state and incidents as
// opaque JSON so a restart neither re-sends nor forgets an open incident.
type AlertState interface {
	// GetState returns the stored value for key, or ErrNotFound.
	GetState(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, value []byte) error
	DeleteState(ctx context.Context, key string) error
	// ListState returns every key with the prefix and its value.
	ListState(ctx context.Context, prefix string) (map[string][]byte, error)
}

type Contact struct {
	ID        int64
	Name      string
	Phone     sms.Phone
	Memo      string
	Groups    []string // group names
	CreatedAt time.Time
	UpdatedAt time.Time
}

type Group struct {
	ID      int64
	Name    string
	Members int // number of contacts
}

// Contacts is the address book.
type Contacts interface {
	// SaveContact inserts (ID 0) or updates a contact and sets its group
	// memberships to c.Groups, creating missing groups.
	SaveContact(ctx context.Context, c *Contact) error
	GetContact(ctx context.Context, id int64) (*Contact, error)
	DeleteContact(ctx context.Context, id int64) error
	// ListContacts returns contacts ordered by name; q matches name, phone or memo.
	ListContacts(ctx context.Context, q string, limit, offset int) ([]Contact, error)
	CreateGroup(ctx context.Context, name string) (*Group, error) // ErrConflict if it exists
	DeleteGroup(ctx context.Context, name string) error
	ListGroups(ctx context.Context) ([]Group, error)
	// GroupPhones returns the phones of a group's members, or ErrNotFound for no such group.
	GroupPhones(ctx context.Context, name string) ([]sms.Phone, error)
}
