package alert

import (
	"iter"
	"net/url"
	"slices"
	"strings"
)

// checkTable holds the check states by host, each host's in one slice
// ordered by check name (binary search), with no key per check: a server
// taking 10,000 agents' reports holds 200,000 states, and a map by store
// key ("alert/check/NAME/HOST") cost each a 32- to 48-byte key string and
// about 40 bytes of map, where this costs 8 bytes and the slice's room to
// grow. A check's name and host are interned (checkState.Check, Host), so
// the hosts' keys and the names share one copy each. A host with more than
// indexFrom checks (this server's own, up to thousands) also gets a map by
// name: a binary search over 500 names took a quarter of an evaluation.
type checkTable struct {
	hosts map[string]*hostChecks // by host ("" = this server)
	n     int
}

// hostChecks are one host's check states.
type hostChecks struct {
	sts    []*checkState          // ordered by Check
	byName map[string]*checkState // the same, while len(sts) > indexFrom
}

// indexFrom is how many checks a host has before it is also indexed by
// name (an agent host has about 20).
const indexFrom = 32

func newCheckTable() checkTable { return checkTable{hosts: map[string]*hostChecks{}} }

func byCheckName(st *checkState, name string) int { return strings.Compare(st.Check, name) }

// len is how many check states the table holds.
func (t *checkTable) len() int { return t.n }

// get returns the state of check name on host, or nil.
func (t *checkTable) get(name, host string) *checkState {
	h := t.hosts[host]
	switch {
	case h == nil:
		return nil
	case h.byName != nil:
		return h.byName[name]
	}
	if i, ok := slices.BinarySearchFunc(h.sts, name, byCheckName); ok {
		return h.sts[i]
	}
	return nil
}

// put adds st under its Check and Host, replacing the state held for
// them.
func (t *checkTable) put(st *checkState) {
	h := t.hosts[st.Host]
	if h == nil {
		h = &hostChecks{}
		t.hosts[st.Host] = h
	}
	i, ok := slices.BinarySearchFunc(h.sts, st.Check, byCheckName)
	if ok {
		h.sts[i] = st
		if h.byName != nil {
			h.byName[st.Check] = st
		}
		return
	}
	if len(h.sts) == cap(h.sts) {
		// By an eighth, not append's doubling: a host's checks come
		// once, then stay.
		h.sts = slices.Grow(h.sts, 1+len(h.sts)/8)
	}
	h.sts = slices.Insert(h.sts, i, st)
	switch {
	case h.byName != nil:
		h.byName[st.Check] = st
	case len(h.sts) > indexFrom:
		h.byName = make(map[string]*checkState, len(h.sts))
		for _, s := range h.sts {
			h.byName[s.Check] = s
		}
	}
	t.n++
}

// remove drops st, if the table holds it.
func (t *checkTable) remove(st *checkState) {
	h := t.hosts[st.Host]
	if h == nil {
		return
	}
	i, ok := slices.BinarySearchFunc(h.sts, st.Check, byCheckName)
	if !ok || h.sts[i] != st {
		return
	}
	h.sts = slices.Delete(h.sts, i, i+1)
	switch {
	case len(h.sts) == 0:
		delete(t.hosts, st.Host)
	case len(h.sts) <= indexFrom/2:
		h.byName = nil
	case h.byName != nil:
		delete(h.byName, st.Check)
	}
	t.n--
}

// host is the check states of host, ordered by name; the table's own
// slice, so a caller that drops some clones it first.
func (t *checkTable) host(host string) []*checkState {
	if h := t.hosts[host]; h != nil {
		return h.sts
	}
	return nil
}

// holds reports whether st is the table's state of its check (not one
// dropped or replaced since).
func (t *checkTable) holds(st *checkState) bool { return t.get(st.Check, st.Host) == st }

// all yields every state, host by host in no set order. The table must
// not change while it runs (collect, then drop).
func (t *checkTable) all() iter.Seq[*checkState] {
	return func(yield func(*checkState) bool) {
		for _, h := range t.hosts {
			for _, st := range h.sts {
				if !yield(st) {
					return
				}
			}
		}
	}
}

// key is the store key of st: "alert/check/NAME/HOST", each part
// path-escaped.
func (st *checkState) key() string { return checkKey(st.Check, st.Host) }

// parseCheckKey is the check name and host of a store key checkKey made.
func parseCheckKey(key string) (name, host string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefixCheck)
	if !ok {
		return "", "", false
	}
	n, h, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	var err1, err2 error
	name, err1 = url.PathUnescape(n)
	host, err2 = url.PathUnescape(h)
	return name, host, err1 == nil && err2 == nil
}

// checkAt returns the state stored under key, or nil.
func (t *checkTable) checkAt(key string) *checkState {
	name, host, ok := parseCheckKey(key)
	if !ok {
		return nil
	}
	return t.get(name, host)
}
