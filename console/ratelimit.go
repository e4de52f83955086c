package console

import (
	"strings"
	"sync"
	"time"
)

// Login rate limits: failures within loginWindow per user name and per
// client address. Offices share one address behind NAT, so the address
// allows more.
const (
	loginWindow     = 15 * time.Minute
	maxFailsPerUser = 5
	maxFailsPerIP   = 20
	maxTrackedKeys  = 10000
)

// limiter counts recent login failures per key ("user:NAME", "ip:ADDR").
type limiter struct {
	now   func() time.Time
	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, fails: map[string][]time.Time{}}
}

func limitFor(key string) int {
	if strings.HasPrefix(key, "ip:") {
		return maxFailsPerIP
	}
	return maxFailsPerUser
}

// blocked reports whether any key has used up its failures, and how long
// until the oldest counted failure leaves the window.
func (l *limiter) blocked(keys ...string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		ts := l.recent(k, now)
		if n := limitFor(k); len(ts) >= n {
			wait = max(wait, ts[len(ts)-n].Add(loginWindow).Sub(now))
		}
	}
	return wait, wait > 0
}

// recent drops failures older than the window. Caller holds l.mu.
func (l *limiter) recent(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-loginWindow)) {
		i++
	}
	if i > 0 {
		ts = ts[i:]
		if len(ts) == 0 {
			delete(l.fails, k)
		} else {
			l.fails[k] = ts
		}
	}
	return ts
}

// fail records one failure for every key.
func (l *limiter) fail(keys ...string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxTrackedKeys {
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	for _, k := range keys {
		if len(l.fails) >= maxTrackedKeys && l.fails[k] == nil {
			continue // full of live entries: the other keys still count
		}
		ts := append(l.recent(k, now), now)
		if n := limitFor(k); len(ts) > 2*n {
			ts = ts[len(ts)-2*n:]
		}
		l.fails[k] = ts
	}
}

// reset forgets a key's failures (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}
