package alert

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
	"unique"

	"github.com/munja-sms/munja/check"
)

// history is a check's latest results, oldest first, at most historySize:
// their times (Unix nanoseconds) and two bit sets, 8 bytes a point where
// []HistoryPoint takes 32. A server taking 10,000 agents' reports keeps
// 200,000 of them.
type history struct {
	at          []int64
	ok, unknown uint64 // bit i: point i was ok / could not check
}

func (h *history) len() int { return len(h.at) }

// IsZero reports whether there is no point (json omitzero).
func (h history) IsZero() bool { return len(h.at) == 0 }

// add appends a point, dropping the oldest when full.
func (h *history) add(at time.Time, ok, unknown bool) {
	if len(h.at) >= historySize {
		n := copy(h.at, h.at[len(h.at)-historySize+1:])
		drop := len(h.at) - n
		h.at = h.at[:n]
		h.ok >>= drop
		h.unknown >>= drop
	}
	if h.at == nil {
		h.at = make([]int64, 0, historySize)
	}
	i := len(h.at)
	h.at = append(h.at, at.UnixNano())
	h.ok &^= 1 << i
	h.unknown &^= 1 << i
	if ok {
		h.ok |= 1 << i
	}
	if unknown {
		h.unknown |= 1 << i
	}
}

// points returns the history as HistoryPoints (times in time.Local).
func (h *history) points() []HistoryPoint {
	if len(h.at) == 0 {
		return nil
	}
	out := make([]HistoryPoint, len(h.at))
	for i, ns := range h.at {
		out[i] = HistoryPoint{At: time.Unix(0, ns), OK: h.ok&(1<<i) != 0, Unknown: h.unknown&(1<<i) != 0}
	}
	return out
}

// setPoints replaces the history with ps (the last historySize of them).
func (h *history) setPoints(ps []HistoryPoint) {
	*h = history{}
	if len(ps) > historySize {
		ps = ps[len(ps)-historySize:]
	}
	for _, p := range ps {
		h.add(p.At, p.OK, p.Unknown)
	}
}

// historyJSON is history as stored: the times as zigzag varints, the first
// absolute and each next one from the one before (about 5 bytes a point at
// a result every 10 s), base64.
type historyJSON struct {
	At      string `json:"at"`
	OK      uint64 `json:"ok,omitempty"`
	Unknown uint64 `json:"unknown,omitempty"`
}

func (h history) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 0, 6*len(h.at)+4)
	var prev int64
	for _, ns := range h.at {
		buf = binary.AppendVarint(buf, ns-prev)
		prev = ns
	}
	return json.Marshal(historyJSON{At: base64.RawStdEncoding.EncodeToString(buf), OK: h.ok, Unknown: h.unknown})
}

var errHistory = errors.New("alert: unreadable result history")

func (h *history) UnmarshalJSON(b []byte) error {
	var j historyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	buf, err := base64.RawStdEncoding.DecodeString(j.At)
	if err != nil {
		return errHistory
	}
	*h = history{ok: j.OK, unknown: j.Unknown}
	var prev int64
	for len(buf) > 0 {
		d, n := binary.Varint(buf)
		if n <= 0 || len(h.at) >= historySize {
			return errHistory
		}
		buf = buf[n:]
		prev += d
		if h.at == nil {
			h.at = make([]int64, 0, historySize)
		}
		h.at = append(h.at, prev)
	}
	mask := uint64(1)<<len(h.at) - 1
	h.ok &= mask
	h.unknown &= mask
	return nil
}

// keep makes r share the strings st already holds where they are equal:
// a report decodes its texts afresh every time, and a check's stay the
// same, so the state keeps one copy instead of pinning each report's.
// The texts every host's check of one name shares (its name, the host's
// name, the alert texts) are interned: 10,000 hosts keep one copy.
func (st *checkState) keep(r *check.Result) {
	r.Check = same(st.Check, r.Check)
	r.Host = same(st.Host, r.Host)
	r.Firing = intern(same(st.Last.Firing, r.Firing))
	r.Resolved = intern(same(st.Last.Resolved, r.Resolved))
	r.Detail = same(st.Last.Detail, r.Detail)
	r.DetailKo = same(st.Last.DetailKo, r.DetailKo)
	r.Severity = same(st.Last.Severity, r.Severity)
}

// intern returns the canonical copy of s (package unique: dropped once no
// state holds it).
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

func same[S ~string](old, s S) S {
	if old == s {
		return old
	}
	return s
}
