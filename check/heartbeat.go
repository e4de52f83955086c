package check

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// heartbeatFields are the template fields of type heartbeat: {{.Grace}}
// (as written, e.g. "5m"), {{.Last}} (time of the last ping, zero when
// none arrived yet) and {{.Age}} (time.Duration since the last ping, or
// since the check started when none arrived).
var heartbeatFields = map[string]any{"Grace": "", "Last": time.Time{}, "Age": time.Duration(0)}

// HeartbeatKey is the StateStore key that holds the last ping of the
// heartbeat check name (value: RFC 3339 time with nanoseconds).
func HeartbeatKey(name string) string { return "heartbeat/" + name }

// RecordHeartbeat stores a ping of the heartbeat check name received at
// at. The HTTP API calls it for POST /api/v1/heartbeat/{name}.
func RecordHeartbeat(ctx context.Context, st StateStore, name string, at time.Time) error {
	if err := st.PutState(ctx, HeartbeatKey(name), []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("record heartbeat %s: %w", name, err)
	}
	return nil
}

// LastHeartbeat returns the last ping of name, or the zero time when none
// was recorded.
func LastHeartbeat(ctx context.Context, st StateStore, name string) (time.Time, error) {
	v, err := st.GetState(ctx, HeartbeatKey(name))
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(v) == 0) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("heartbeat %s: %w", name, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("heartbeat %s: stored value: %w", name, err)
	}
	return t, nil
}

// heartbeatSinceKey holds when the heartbeat check name started waiting
// for its first ping (RFC 3339), so that a restart does not give a check
// that was never pinged its grace again. Check names have no '/', so it
// is nobody's HeartbeatKey.
func heartbeatSinceKey(name string) string { return HeartbeatKey(name) + "/since" }

type heartbeatCheck struct {
	t     *Texts
	grace time.Duration
	state StateStore

	mu      sync.Mutex
	started time.Time // when the check started waiting for its first ping
	known   bool      // started was looked up in (or written to) the store
}

// ValidateHeartbeat checks the keys of a type heartbeat check at path.
func ValidateHeartbeat(cfg config.Check, path string) []error {
	var errs []error
	if cfg.Grace <= 0 {
		errs = append(errs, fmt.Errorf("%s.grace: required for type heartbeat (e.g. 5m)", path))
	}
	return append(errs, ValidateTemplates(cfg, path, heartbeatFields)...)
}

// NewHeartbeat builds a type heartbeat check (a dead man's switch): it
// fails when no ping (RecordHeartbeat, read from d.State) arrived within
// grace. Until the first ping the grace counts from the check's first
// run, so a freshly configured heartbeat does not fire at once; that time
// is kept in d.State, so a restart does not start the grace again.
func NewHeartbeat(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateHeartbeat(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if d.State == nil {
		return nil, fmt.Errorf("check %s: type heartbeat needs a state store", cfg.Name)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	return &heartbeatCheck{t: t, grace: cfg.Grace.D(), state: d.State, started: t.Now()}, nil
}

func (c *heartbeatCheck) Name() string { return c.t.Name() }

func (c *heartbeatCheck) Run(ctx context.Context) Result {
	start := time.Now()
	grace := formatDuration(c.grace)
	fields := map[string]any{"Grace": grace, "Last": time.Time{}, "Age": time.Duration(0)}
	last, err := LastHeartbeat(ctx, c.state, c.Name())
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck("하트비트 기록을 읽을 수 없습니다", err, fields))
	}
	now := c.t.Now()
	since := last
	if last.IsZero() {
		since = c.waitingSince(ctx)
	}
	age := max(now.Sub(since), 0)
	fields["Last"], fields["Age"] = last, age
	o := Outcome{
		OK:       age <= c.grace,
		Fields:   fields,
		Firing:   fmt.Sprintf("[경고] %s 하트비트가 %s 동안 수신되지 않았습니다.", c.Name(), grace),
		Resolved: fmt.Sprintf("[복구] %s 하트비트가 다시 수신되었습니다.", c.Name()),
	}
	if last.IsZero() {
		o.Detail = fmt.Sprintf("no ping since the check started %s ago (grace %s)", formatDuration(age), grace)
		o.DetailKo = fmt.Sprintf("점검 시작 후 %s 동안 수신 없음 (허용 %s)", DurationKo(age), DurationKo(c.grace))
	} else {
		o.Detail = fmt.Sprintf("last ping %s, %s ago (grace %s)", last.UTC().Format(time.RFC3339), formatDuration(age), grace)
		o.DetailKo = fmt.Sprintf("마지막 수신 %s 전 (허용 %s)", DurationKo(age), DurationKo(c.grace))
	}
	return c.t.Result(start, o)
}

// waitingSince is when the check started waiting for its first ping: the
// time kept in the store by an earlier run (of this process or one before
// a restart), else this check's creation, written there.
func (c *heartbeatCheck) waitingSince(ctx context.Context) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known {
		return c.started
	}
	key := heartbeatSinceKey(c.Name())
	v, err := c.state.GetState(ctx, key)
	switch {
	case err == nil:
		if t, perr := time.Parse(time.RFC3339Nano, string(v)); perr == nil && t.Before(c.started) {
			c.started = t
		}
		c.known = true
	case errors.Is(err, store.ErrNotFound):
		// A failed write is tried again on the next run.
		c.known = c.state.PutState(ctx, key, []byte(c.started.UTC().Format(time.RFC3339Nano))) == nil
	}
	return c.started
}
