package store

import (
	"fmt"
	"time"
)

// Once names a request for CreateOnce: the same request sent again has the
// same Key, and is a duplicate while the message stored for it was created
// at or after Since (the caller's window).
type Once struct {
	Key   string
	Since time.Time
}

// DuplicateError is CreateOnce's answer to a request whose message is
// already stored: nothing was stored, and MessageID is that message.
type DuplicateError struct {
	Key       string
	MessageID int64
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("already stored as message %d", e.MessageID)
}
