package agent

import "sync/atomic"

// Holder is the Tracker of agent reports while this process runs the alert
// engine, and nil while it does not (a PostgreSQL replica that does not
// lead): the API answers reports 503 then, so the agent retries and
// reaches the replica that does. Safe for concurrent use.
type Holder struct{ p atomic.Pointer[Tracker] }

// Tracker returns the tracker held, or nil.
func (h *Holder) Tracker() *Tracker {
	if h == nil {
		return nil
	}
	return h.p.Load()
}

// Set makes t the tracker held (nil: none).
func (h *Holder) Set(t *Tracker) { h.p.Store(t) }
