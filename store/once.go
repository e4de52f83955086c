package store

import (
	"fmt"
	"time"

	"github.com/munja-sms/munja/sms"
)

// Create is what Messages.CreateWith does beyond storing the message.
type Create struct {
	Limits Limits
	Once   Once
	// Audit, when set, returns the message's audit entry (see CreateWith).
	Audit func(m *sms.Message) AuditEntry
}

// Once names a request for CreateWith: the same request sent again has the
// same Key, and is a duplicate while the message stored for it was created
// at or after Since (the caller's window).
type Once struct {
	Key   string
	Since time.Time
}

// DuplicateError is CreateWith's answer to a request whose message is
// already stored: nothing was stored, and MessageID is that message.
type DuplicateError struct {
	Key       string
	MessageID int64
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("already stored as message %d", e.MessageID)
}
