package alert

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

// ackToken is a one-time ack link, stored under "alert/token/SHA256HEX";
// the token itself is only ever in the sent message.
type ackToken struct {
	Incidents []string  `json:"incidents"`
	Created   time.Time `json:"created"`
}

// drop removes an incident from the token and reports whether the token
// has nothing left to acknowledge.
func (t *ackToken) drop(id string) bool {
	t.Incidents = slices.DeleteFunc(t.Incidents, func(s string) bool { return s == id })
	return len(t.Incidents) == 0
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns a random 128-bit token (URL-safe, 22 characters).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Ack acknowledges an open incident: its reminders and escalation stop.
// Acknowledging twice keeps the first acknowledgement.
func (e *Engine) Ack(ctx context.Context, incidentID, by string) error {
	if e.readOnly {
		return ErrReadOnly
	}
	now := e.clock.Now()
	e.mu.Lock()
	inc := e.incidents[incidentID]
	if inc == nil {
		e.mu.Unlock()
		return fmt.Errorf("incident %q: %w", incidentID, store.ErrNotFound)
	}
	if inc.closed() {
		e.mu.Unlock()
		return fmt.Errorf("incident %q: %w", incidentID, ErrIncidentClosed)
	}
	e.ack(inc, by, now)
	e.mu.Unlock()
	e.wakeup()
	return e.save(ctx)
}

func (e *Engine) ack(inc *incident, by string, now time.Time) {
	if !inc.AckedAt.IsZero() {
		return
	}
	inc.AckedBy, inc.AckedAt = by, now
	e.markDirty(incidentKey(inc.ID))
	e.log.Info("alert acknowledged", "incident", inc.ID, "check", inc.Check, "by", by)
}

// AckByToken acknowledges every open incident of the message that carried
// the one-time link token and returns the first incident's ID. A token
// works once and only while one of its incidents is open; otherwise
// ErrInvalidToken.
func (e *Engine) AckByToken(ctx context.Context, token, by string) (string, error) {
	if e.readOnly {
		return "", ErrReadOnly
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", ErrInvalidToken
	}
	h := tokenHash(token)
	now := e.clock.Now()
	e.mu.Lock()
	t := e.tokens[h]
	if t == nil {
		e.mu.Unlock()
		return "", ErrInvalidToken
	}
	delete(e.tokens, h)
	e.markDirty(tokenKey(h))
	first := ""
	for _, id := range t.Incidents {
		inc := e.incidents[id]
		if inc == nil || inc.closed() {
			continue
		}
		e.ack(inc, by, now)
		if first == "" {
			first = id
		}
	}
	e.mu.Unlock()
	if err := e.save(ctx); err != nil {
		return "", err
	}
	if first == "" {
		return "", ErrInvalidToken
	}
	e.wakeup()
	return first, nil
}

// issueToken registers a token for the open, unacknowledged incidents among
// ids, or returns "" if there are none. Caller holds e.mu.
func (e *Engine) issueToken(ids []string, now time.Time) string {
	var open []string
	for _, id := range ids {
		if inc := e.incidents[id]; inc != nil && !inc.closed() && inc.AckedAt.IsZero() {
			open = append(open, id)
		}
	}
	if len(open) == 0 {
		return ""
	}
	tok := newToken()
	h := tokenHash(tok)
	e.tokens[h] = &ackToken{Incidents: open, Created: now}
	e.markDirty(tokenKey(h))
	return tok
}
