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
// the hosts' keys and the names share one copy each.
type checkTable struct {
	hosts map[string][]*checkState // by host ("" = this server), each ordered by Check
	n     int
}

func newCheckTable() checkTable { return checkTable{hosts: map[string][]*checkState{}} }

func byCheckName(st *checkState, name string) int { return strings.Compare(st.Check, name) }

// len is how many check states the table holds.
func (t *checkTable) len() int { return t.n }

// get returns the state of check name on host, or nil.
func (t *checkTable) get(name, host string) *checkState {
	sts := t.hosts[host]
	if i, ok := slices.BinarySearchFunc(sts, name, byCheckName); ok {
		return sts[i]
	}
	return nil
}

// put adds st under its Check and Host, replacing the state held for
// them.
func (t *checkTable) put(st *checkState) {
	sts := t.hosts[st.Host]
	i, ok := slices.BinarySearchFunc(sts, st.Check, byCheckName)
	if ok {
		sts[i] = st
		return
	}
	if len(sts) == cap(sts) {
		// By an eighth, not append's doubling: a host's checks come
		// once, then stay.
		sts = slices.Grow(sts, 1+len(sts)/8)
	}
	t.hosts[st.Host] = slices.Insert(sts, i, st)
	t.n++
}

// remove drops st, if the table holds it.
func (t *checkTable) remove(st *checkState) {
	sts := t.hosts[st.Host]
	i, ok := slices.BinarySearchFunc(sts, st.Check, byCheckName)
	if !ok || sts[i] != st {
		return
	}
	sts = slices.Delete(sts, i, i+1)
	if len(sts) == 0 {
		delete(t.hosts, st.Host)
	} else {
		t.hosts[st.Host] = sts
	}
	t.n--
}

// holds reports whether st is the table's state of its check (not one
// dropped or replaced since).
func (t *checkTable) holds(st *checkState) bool { return t.get(st.Check, st.Host) == st }

// all yields every state, host by host in no set order. The table must
// not change while it runs (collect, then drop).
func (t *checkTable) all() iter.Seq[*checkState] {
	return func(yield func(*checkState) bool) {
		for _, sts := range t.hosts {
			for _, st := range sts {
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
