package fakegw

import (
	"net/url"
	"slices"
	"sync"
)

// Log is what a fake records, oldest first: R is the fake's own Request
// type. The zero Log is empty; it is safe for concurrent use.
type Log[R any] struct {
	mu    sync.Mutex
	items []R
}

// Add appends r.
func (l *Log[R]) Add(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, r)
}

// Copy returns every entry so far, each passed through clone (the fake's
// deep copy of what it shares: forms, bodies, headers).
func (l *Log[R]) Copy(clone func(R) R) []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]R, len(l.items))
	for i, r := range l.items {
		out[i] = clone(r)
	}
	return out
}

// Reset empties the log.
func (l *Log[R]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = nil
}

// CloneValues is a deep copy of v; nil stays nil.
func CloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
