package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

func (s Silence) matches(check, host string) bool {
	return (s.Check == "" || s.Check == check) && (s.Host == "" || s.Host == host)
}

// silenced reports whether a silence covers the check on host (a display
// name) at now, and when the last covering silence ends. Caller holds e.mu.
func (e *Engine) silenced(check, host string, now time.Time) (bool, time.Time) {
	var until time.Time
	match := func(s Silence) {
		if now.Before(s.Until) && s.matches(check, host) && s.Until.After(until) {
			until = s.Until
		}
	}
	for _, s := range e.cc.silences {
		match(s)
	}
	for _, s := range e.silences {
		match(*s)
	}
	return !until.IsZero(), until
}

// effective gathers the settings decide needs for inc. Caller holds e.mu.
func (e *Engine) effective(inc *incident, now time.Time) effectiveCfg {
	silenced, until := e.silenced(inc.Check, e.hostName(inc.Host), now)
	return effectiveCfg{
		Repeat:        e.cc.repeat,
		Resolved:      e.cc.resolved,
		Recipients:    e.cc.check(inc.Check).recipients,
		Escalation:    e.cc.escalation,
		Silenced:      silenced,
		SilencedUntil: until,
		Quiet:         e.cc.quiet,
		Loc:           e.cc.loc,
	}
}

// Silence adds a runtime silence: matching incidents keep their state but
// send nothing until it ends; an incident still firing then notifies once.
// Empty Check or Host match every check or host.
func (e *Engine) Silence(ctx context.Context, s SilenceSpec) (string, error) {
	if e.readOnly {
		return "", ErrReadOnly
	}
	now := e.clock.Now()
	if !s.Until.After(now) {
		return "", fmt.Errorf("%w: until %s is not in the future", ErrBadSilence, s.Until.Format(time.RFC3339))
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	sil := &Silence{
		ID: hex.EncodeToString(b[:]), Check: strings.TrimSpace(s.Check), Host: strings.TrimSpace(s.Host),
		Until: s.Until, By: s.By, Comment: s.Comment, Created: now,
	}
	e.mu.Lock()
	e.silences[sil.ID] = sil
	e.markDirty(silenceKey(sil.ID))
	e.mu.Unlock()
	e.log.Info("silence added", "id", sil.ID, "check", sil.Check, "host", sil.Host, "until", sil.Until, "by", sil.By)
	e.wakeup()
	return sil.ID, e.save(ctx)
}

// Unsilence removes a runtime silence. Silences from the config can only
// be removed by editing it.
func (e *Engine) Unsilence(ctx context.Context, id string) error {
	if e.readOnly {
		return ErrReadOnly
	}
	e.mu.Lock()
	if _, ok := e.silences[id]; !ok {
		fromConfig := slices.ContainsFunc(e.cc.silences, func(s Silence) bool { return s.ID == id })
		e.mu.Unlock()
		if fromConfig {
			return fmt.Errorf("%w: silence %q comes from the config (alerting.silences)", ErrBadSilence, id)
		}
		return fmt.Errorf("silence %q: %w", id, store.ErrNotFound)
	}
	delete(e.silences, id)
	e.markDirty(silenceKey(id))
	e.mu.Unlock()
	e.log.Info("silence removed", "id", id)
	e.wakeup()
	return e.save(ctx)
}

// Silences returns the silences in force, earliest end first.
func (e *Engine) Silences() []Silence {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Silence
	for _, s := range e.cc.silences {
		if now.Before(s.Until) {
			out = append(out, s)
		}
	}
	for _, s := range e.silences {
		if now.Before(s.Until) {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Silence) int {
		if c := a.Until.Compare(b.Until); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// expireSilences drops runtime silences that ended. Caller holds e.mu.
func (e *Engine) expireSilences(now time.Time) {
	for id, s := range e.silences {
		if !now.Before(s.Until) {
			delete(e.silences, id)
			e.markDirty(silenceKey(id))
		}
	}
}
