package sms

import "time"

// Kind is the message type sent to the gateway. It is always decided by munja
// (see DecideKind) and always sent explicitly.
type Kind string

const (
	KindSMS Kind = "SMS"
	KindLMS Kind = "LMS"
	KindMMS Kind = "MMS"
)

// Status is the state of one recipient's delivery.
type Status string

const (
	StatusQueued    Status = "queued"    // stored, waiting for the dispatcher (or for a retry)
	StatusSending   Status = "sending"   // claimed by a dispatcher, a gateway call is in flight
	StatusSent      Status = "sent"      // a gateway accepted it
	StatusReserved  Status = "reserved"  // a gateway accepted it and said it holds it as a reservation
	StatusDelivered Status = "delivered" // the gateway's delivery result says it reached the handset
	StatusFailed    Status = "failed"    // ended without delivery; LastError says why
	StatusCanceled  Status = "canceled"  // canceled before it was sent
)

// Final reports whether no dispatcher will touch a delivery in this state again.
func (s Status) Final() bool {
	switch s {
	case StatusSent, StatusReserved, StatusDelivered, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// Message is one text sent to one or more recipients. Every message, manual or
// automatic, is stored with its deliveries before anyone is told it was accepted.
type Message struct {
	ID        int64
	Text      string
	Title     string // LMS/MMS only
	Kind      Kind
	Sender    string    // registered sender number; empty = the configured default
	Test      bool      // gateway test mode: accepted, not delivered
	At        time.Time // send at (the outbox holds it until then); zero = now
	Source    string    // one of Sources
	CreatedBy string    // user or token name
	// Template is the munja message template the text was written from
	// (console, API), "" for none: a provider that sends only through
	// approved templates (Kakao Alimtalk) chooses by it.
	Template  string
	CreatedAt time.Time

	Deliveries []Delivery
	// Dropped lists recipients left out by a per-recipient limit when the
	// message was accepted (not stored).
	Dropped []Phone
}

// Delivery is one recipient of a message and what happened to it.
type Delivery struct {
	ID            int64
	MessageID     int64
	Phone         Phone
	Status        Status
	Provider      string // provider name that accepted (or last tried) it
	ProviderMsgID string // e.g. Aligo msg_id
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	SentAt        time.Time
}

// Sources are where messages come from (Message.Source): the HTTP API, the
// command line, the console, munja's alert engine, the aligo_send.php
// drop-in, and Alertmanager's webhook.
var Sources = []string{"api", "cli", "console", "alert", "compat", "alertmanager"}

// Summary sums a message's deliveries up in one word: "queued" while any
// is unfinished, else "sent", "failed", or "partial" (some failed).
func (m *Message) Summary() string {
	failed, done := 0, 0
	for _, d := range m.Deliveries {
		switch {
		case d.Status == StatusFailed || d.Status == StatusCanceled:
			failed++
		case d.Status.Final():
			done++
		}
	}
	switch {
	case failed+done < len(m.Deliveries):
		return "queued"
	case failed == 0:
		return "sent"
	case done == 0:
		return "failed"
	}
	return "partial"
}
