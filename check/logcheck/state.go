package logcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/logwatch"
	"github.com/munja-sms/munja/store"
)

// A log check keeps its window in the state store (check.Deps.State), so
// that a restart of munja neither forgets a match (the first run after it
// would report ok and the alert engine send "[복구]" long before the window
// passed) nor counts one twice. It is saved under StateKey(name):
//
//   - on every match, by a goroutine of Watch, so the follower never waits
//     for the store: at most one write is in flight and it carries the
//     latest state; a match that makes the check fail is saved before
//     its Result is emitted;
//   - with the position in the file after the last line read, every
//     positionEvery while lines arrive (asked by Run, which the runner
//     calls anyway) and when Watch ends, so that lines written while
//     munja was stopped are read when it starts again
//     (logwatch.FollowOptions.Resume). A match is saved with the position
//     just after it, so that it is never read twice.
//
// Match times older than the window are dropped when the state is loaded;
// a change of the check's config (what the alert engine resets too) drops
// them all. The journal is followed from its end after a restart, as
// before: only the window survives.

// StateKey is the state store key of the log check name.
func StateKey(name string) string { return "log/" + name }

// maxSavedHits bounds the match times saved (the most recent ones, or
// count of them when count is larger); beyond it {{.Count}} after a
// restart is a lower bound.
const maxSavedHits = 1000

// positionEvery is how often the position alone is saved while lines that
// do not match arrive.
const positionEvery = 30 * time.Second

// publishEvery is how many lines that do not match may be read before the
// position after them is offered for saving.
const publishEvery = 1024

// saveTimeout bounds one write of the state.
const saveTimeout = 5 * time.Second

// saved is the stored state of a log check.
type saved struct {
	// Config fingerprints the check's config: the window is only kept
	// under the same one.
	Config string  `json:"config"`
	Hits   []int64 `json:"hits,omitempty"` // match times, Unix milliseconds, oldest first
	Line   string  `json:"line,omitempty"`
	// Where is the log (path) the position belongs to.
	Where string `json:"where,omitempty"`
	Dev   uint64 `json:"dev,omitempty"`
	Ino   uint64 `json:"ino,omitempty"`
	Off   int64  `json:"off,omitempty"`
}

// fingerprint identifies cfg as the alert engine does (a changed check
// starts afresh), leaving out the interval and timeout the registry fills
// in from alerting's defaults.
func fingerprint(cfg config.Check) string {
	cfg.Interval, cfg.Timeout = 0, 0
	b, _ := json.Marshal(cfg)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// restore loads the saved state once (Run and Watch call it first); a
// store that cannot be read is asked again on the next call.
func (c *logCheck) restore(ctx context.Context) {
	if c.state == nil {
		return
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if c.loaded {
		return
	}
	raw, err := c.state.GetState(ctx, c.key)
	var rec saved
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		c.log.Warn("cannot load the log check's window, will retry", "check", c.Name(), "err", err)
		return
	default:
		if err := json.Unmarshal(raw, &rec); err != nil {
			c.log.Warn("stored log check window unreadable, starting afresh", "check", c.Name(), "err", err)
			rec = saved{}
		}
	}
	c.loaded = true

	now := c.t.Now()
	cut := now.Add(-c.window)
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec.Config == c.config {
		var old []time.Time
		for _, ms := range rec.Hits {
			at := time.UnixMilli(ms)
			if at.After(cut) && (len(c.hits) == 0 || at.Before(c.hits[0])) {
				old = append(old, at)
			}
		}
		c.hits = append(old, c.hits...)
		if c.lastLine == "" && len(old) > 0 {
			c.lastLine = rec.Line
		}
		c.firing = c.firing || len(c.hits) >= c.count
		if len(old) > 0 {
			c.log.Info("log check window restored", "check", c.Name(), "matches", len(old), "window", c.window)
		}
	}
	if c.path != "" && rec.Where == c.path && rec.Ino != 0 && !c.followed {
		c.resume = &logwatch.Position{Dev: rec.Dev, Ino: rec.Ino, Offset: rec.Off}
		c.savedPos = *c.resume
	}
}

// snapshotLocked is the state to save. Caller holds c.mu.
func (c *logCheck) snapshotLocked() saved {
	rec := saved{Config: c.config, Line: c.lastLine}
	hits := c.hits
	if keep := max(maxSavedHits, c.count); len(hits) > keep {
		hits = hits[len(hits)-keep:]
	}
	rec.Hits = make([]int64, len(hits))
	for i, h := range hits {
		rec.Hits[i] = h.UnixMilli()
	}
	if c.pos.Ino != 0 {
		rec.Where, rec.Dev, rec.Ino, rec.Off = c.path, c.pos.Dev, c.pos.Ino, c.pos.Offset
	}
	return rec
}

// save writes the state when it changed since the last write. Writes
// are made one at a time, each with the state as it is when it starts, so
// the last one written is the latest.
func (c *logCheck) save(ctx context.Context) error {
	if c.state == nil {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	if c.version == c.savedVersion && c.pos == c.savedPos {
		c.mu.Unlock()
		return nil
	}
	rec, version, pos := c.snapshotLocked(), c.version, c.pos
	c.mu.Unlock()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("log check %s: encode state: %w", c.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	if err := c.state.PutState(ctx, c.key, b); err != nil {
		return fmt.Errorf("log check %s: save window: %w", c.Name(), err)
	}
	c.mu.Lock()
	c.savedVersion, c.savedPos, c.savedAt = version, pos, time.Now()
	c.mu.Unlock()
	return nil
}

// requestSave has the state written soon by a saver goroutine, started
// for it and gone when no save is asked for any more (a no-op while no
// Watch runs: Watch's end writes what is left). A saver waiting between
// saves held 4 KiB of stack for each log check: 0.8 MB of munja serve's
// memory at 1,000 checks, 200 of them log checks (docs/BENCHMARKS.md §9).
func (c *logCheck) requestSave() {
	if c.state == nil {
		return // kept in memory only (munja agent)
	}
	c.mu.Lock()
	ctx := c.saveCtx
	switch {
	case ctx == nil:
		c.mu.Unlock()
		return
	case c.saving:
		c.saveAgain = true
		c.mu.Unlock()
		return
	}
	c.saving, c.saveAgain = true, false
	c.saves.Add(1)
	c.mu.Unlock()
	go c.saver(ctx)
}

// saver writes the state until no save was asked for while it wrote, or
// ctx ends; a failed write is retried a second later.
func (c *logCheck) saver(ctx context.Context) {
	defer c.saves.Done()
	for {
		if err := c.save(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("log check window not saved, retrying", "check", c.Name(), "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			c.mu.Lock()
			c.saveAgain = true
			c.mu.Unlock()
		}
		c.mu.Lock()
		if !c.saveAgain || ctx.Err() != nil {
			c.saving = false
			c.mu.Unlock()
			return
		}
		c.saveAgain = false
		c.mu.Unlock()
	}
}

// savePosition asks for the position to be saved when lines were read
// since the last write, at most every positionEvery (Run calls it).
func (c *logCheck) savePosition() {
	c.mu.Lock()
	due := c.pos != c.savedPos && time.Since(c.savedAt) >= positionEvery
	c.mu.Unlock()
	if due {
		c.requestSave()
	}
}

// saveFinal writes what Watch leaves behind (the position after the last
// line read) when it ends.
func (c *logCheck) saveFinal(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := c.save(ctx); err != nil {
		c.log.Warn("log check window not saved", "check", c.Name(), "err", err)
	}
}
