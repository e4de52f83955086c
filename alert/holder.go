package alert

import "sync/atomic"

// Holder is the engine the API and console show and act on. It is handed
// to them at construction and set when the engine exists, then replaced
// when it changes: a PostgreSQL replica shows a read-only view of the
// leader's state until it leads, then its own engine. Safe for concurrent
// use; requests already running finish with the engine they loaded.
type Holder struct{ p atomic.Pointer[Engine] }

// Engine returns the engine held, or nil before one is set.
func (h *Holder) Engine() *Engine {
	if h == nil {
		return nil
	}
	return h.p.Load()
}

// Set makes e the engine held.
func (h *Holder) Set(e *Engine) { h.p.Store(e) }
