package console

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Login throttling: slow guessing down, never lock an account. A hard
// lock after a few failures would let anyone lock the admin out at will.
//
// Per client address: three attempts are free, then each further one must
// wait 1 s, 2 s, 4 s … (at most maxAddrDelay) after the one before.
// Per user name, over all addresses: the same from freeNameFails on, but
// at most maxNameDelay, and only for addresses that have failed
// themselves: a name under attack never keeps its owner out, at worst it
// costs an owner who mistyped a few seconds. Every attempt counts as a
// failure until it succeeds, so parallel requests cannot slip through
// one opening. A success takes back only the failures its address made
// for that same name (the owner who mistyped starts over), never those
// for other names: an attacker who holds an account of their own cannot
// clear their address by logging into it between guesses.
const (
	freeAddrFails  = 3
	maxAddrDelay   = 15 * time.Minute
	freeNameFails  = 3
	maxNameDelay   = 4 * time.Second
	forgetAfter    = time.Hour // an entry this quiet, and not waiting, starts over
	maxTrackedKeys = 10000     // per table
)

// throttle is one address's or name's recent failures.
type throttle struct {
	fails int
	last  time.Time // the last counted attempt
	until time.Time // no attempt before this
}

func (t *throttle) stale(now time.Time) bool {
	return !now.Before(t.until) && now.Sub(t.last) >= forgetAfter
}

// delay is the wait after n failures, the first free ones free: 1 s, then
// doubling up to most.
func delay(n, free int, most time.Duration) time.Duration {
	if n < free {
		return 0
	}
	if n-free >= 30 {
		return most
	}
	return min(time.Second<<(n-free), most)
}

// limiter throttles login attempts by client address and by user name.
type limiter struct {
	now   func() time.Time
	mu    sync.Mutex
	addrs map[string]*throttle
	names map[string]*throttle
	pairs map[string]*throttle // address+name: the address's failures for that name
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, addrs: map[string]*throttle{}, names: map[string]*throttle{}, pairs: map[string]*throttle{}}
}

// pairKey is the key of an address's failures for one name.
func pairKey(ak, nk string) string { return ak + "\x00" + nk }

// addrKey is the address throttled: an IPv6 address's /64, which one
// host usually holds whole.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// attempt asks whether a login from addr for name may be tried now. If so,
// it counts as a failure until succeeded says otherwise; if not, wait is
// how long until it may.
func (l *limiter) attempt(addr, name string) (wait time.Duration, ok bool) {
	now := l.now()
	ak, nk := addrKey(addr), strings.ToLower(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	a, n := l.get(l.addrs, ak, now), l.get(l.names, nk, now)
	if a != nil {
		wait = a.until.Sub(now)
		if n != nil && a.fails > 0 { // a clean address never waits for a name
			wait = max(wait, n.until.Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	if a == nil {
		a = l.put(l.addrs, ak, now)
	}
	a.fails++
	a.last, a.until = now, now.Add(delay(a.fails, freeAddrFails, maxAddrDelay))
	p := l.get(l.pairs, pairKey(ak, nk), now)
	if p == nil {
		p = l.put(l.pairs, pairKey(ak, nk), now)
	}
	p.fails++
	p.last = now
	if n == nil {
		n = l.put(l.names, nk, now)
	}
	n.fails++
	n.last = now
	if !now.Before(n.until) { // failures while a name waits do not push it further
		n.until = now.Add(delay(n.fails, freeNameFails, maxNameDelay))
	}
	return 0, true
}

// succeeded records that the attempt from addr for name was right: the
// address's failures for that name (this attempt among them) are taken
// back — the address starts over unless it failed for other names — and
// the attempt no longer counts against the name.
func (l *limiter) succeeded(addr, name string) {
	ak, nk := addrKey(addr), strings.ToLower(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	pk := pairKey(ak, nk)
	mine := 1 // this attempt, counted when it began
	if p := l.pairs[pk]; p != nil {
		mine = max(mine, p.fails)
		delete(l.pairs, pk)
	}
	if a := l.addrs[ak]; a != nil {
		if a.fails -= mine; a.fails <= 0 {
			delete(l.addrs, ak)
		} else {
			a.until = a.last.Add(delay(a.fails, freeAddrFails, maxAddrDelay))
		}
	}
	if n := l.names[nk]; n != nil && n.fails > 0 {
		n.fails--
	}
}

// get returns k's entry, nil when there is none or it went stale.
// Caller holds l.mu.
func (l *limiter) get(t map[string]*throttle, k string, now time.Time) *throttle {
	e := t[k]
	if e != nil && e.stale(now) {
		delete(t, k)
		return nil
	}
	return e
}

// put adds an empty entry for k, making room first when the table is
// full: stale entries go, then, down to 7/8 of the cap, those that failed
// longest ago. Caller holds l.mu.
func (l *limiter) put(t map[string]*throttle, k string, now time.Time) *throttle {
	if len(t) >= maxTrackedKeys {
		maps.DeleteFunc(t, func(_ string, e *throttle) bool { return e.stale(now) })
		if keep := maxTrackedKeys * 7 / 8; len(t) > keep {
			keys := slices.SortedFunc(maps.Keys(t), func(a, b string) int { return t[a].last.Compare(t[b].last) })
			for _, old := range keys[:len(t)-keep] {
				delete(t, old)
			}
		}
	}
	e := &throttle{}
	t[k] = e
	return e
}
