package sms

import (
	"fmt"
	"strings"
	"time"
)

// ParseRecipient parses a number a message is sent to: any form ParsePhone
// takes, and it must be a mobile number (SMS reaches only those).
func ParseRecipient(s string) (Phone, error) {
	p, err := ParsePhone(s)
	if err != nil {
		return "", err
	}
	if !p.IsMobile() {
		return "", &NotMobileError{Phone: p}
	}
	return p, nil
}

// NotMobileError is a valid number that cannot receive SMS.
type NotMobileError struct{ Phone Phone }

func (e *NotMobileError) Error() string {
	return fmt.Sprintf("%s is not a mobile number; SMS reaches only mobile phones (010, 011, 016-019)", e.Phone.Display())
}

// ValidateMessage checks m before it is stored and, only if it is valid,
// normalizes it in place: newlines in Text and Title become "\n"
// (NormalizeNewlines), Kind is decided by DecideKind (an empty Kind means
// auto, SMS/LMS force the type), every delivery's Phone is put in national
// digits and duplicate recipients are dropped (first one kept), and a
// non-empty Sender is normalized. An empty Sender falls back to
// defaultSender for the check and stays empty.
//
// Recipients must be mobile numbers; the sender may be any valid class (a
// registrable sender number). A reservation (At) must not be in the past.
// The first problem is returned as a *FieldError (fields "text", "title",
// "type", "to", "to[i]" with i the 0-based delivery index, "sender", "at";
// phone problems wrap a *PhoneError) or a *CharError.
func ValidateMessage(m *Message, defaultSender string) error {
	if m == nil {
		return &FieldError{Field: "message", Msg: "missing"}
	}
	text, title := NormalizeNewlines(m.Text), NormalizeNewlines(m.Title)
	kind, err := DecideKind(text, title, string(m.Kind))
	if err != nil {
		return err
	}

	if len(m.Deliveries) == 0 {
		return &FieldError{Field: "to", Msg: "no recipients"}
	}
	phones := make([]Phone, len(m.Deliveries))
	for i, d := range m.Deliveries {
		field := fmt.Sprintf("to[%d]", i)
		p, err := ParseRecipient(string(d.Phone))
		if err != nil {
			return &FieldError{Field: field, Msg: err.Error(), Err: err}
		}
		phones[i] = p
	}

	sender, what := m.Sender, "sender"
	if strings.TrimSpace(sender) == "" {
		sender, what = defaultSender, "default sender"
	}
	if strings.TrimSpace(sender) == "" {
		return &FieldError{Field: "sender", Msg: "no sender number (set one or configure a default sender)"}
	}
	sp, err := ParsePhone(sender)
	if err != nil {
		return &FieldError{Field: "sender", Msg: what + ": " + err.Error(), Err: err}
	}

	if !m.At.IsZero() && m.At.Before(time.Now()) {
		return &FieldError{Field: "at", Msg: fmt.Sprintf("reservation time %s is in the past", m.At.Format(time.RFC3339))}
	}

	m.Text, m.Title, m.Kind = text, title, kind
	if strings.TrimSpace(m.Sender) != "" {
		m.Sender = string(sp)
	}
	seen := make(map[Phone]struct{}, len(phones))
	kept := make([]Delivery, 0, len(phones))
	for i, d := range m.Deliveries {
		if _, dup := seen[phones[i]]; dup {
			continue
		}
		seen[phones[i]] = struct{}{}
		d.Phone = phones[i]
		kept = append(kept, d)
	}
	m.Deliveries = kept
	return nil
}
