package alert

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"
	"unique"

	"github.com/munja-sms/munja/check"
)

// history is a check's latest results, oldest first, at most historySize:
// the first one's time, each point's time as an offset from it (4 bytes),
// in milliseconds (seconds for a history spanning more than ±24 days; the
// times are kept to that unit), and two bit sets. A server taking 10,000 agents' reports
// keeps 200,000 of them: the offsets take a 208-byte allocation where
// Unix nanoseconds took 416 (and []HistoryPoint 1,600).
type history struct {
	base        int64               // Unix nanoseconds of the first point
	off         *[historySize]int32 // offsets from base in ms (in s when sec)
	ok, unknown uint64              // bit i: point i was ok / could not check
	n           uint8               // points
	sec         bool                // off counts seconds
}

func (h *history) len() int { return int(h.n) }

// IsZero reports whether there is no point (json omitzero).
func (h history) IsZero() bool { return h.n == 0 }

// unit is what an offset counts, in nanoseconds.
func (h *history) unit() int64 {
	if h.sec {
		return int64(time.Second)
	}
	return int64(time.Millisecond)
}

// time returns point i's time in Unix nanoseconds.
func (h *history) time(i int) int64 { return h.base + int64(h.off[i])*h.unit() }

// add appends a point, dropping the oldest when full.
func (h *history) add(at time.Time, ok, unknown bool) { h.addNs(at.UnixNano(), ok, unknown) }

func (h *history) addNs(ns int64, ok, unknown bool) {
	if h.off == nil {
		h.off = new([historySize]int32)
	}
	if h.n == 0 {
		h.base, h.ok, h.unknown = floor(ns, h.unit()), 0, 0
	}
	if h.n >= historySize {
		// Drop the oldest: the next one becomes the base.
		d := h.off[1]
		h.base += int64(d) * h.unit()
		for i := 1; i < historySize; i++ {
			h.off[i-1] = h.off[i] - d
		}
		h.n--
		h.ok >>= 1
		h.unknown >>= 1
	}
	o, fits := h.offset(ns)
	if !fits && !h.sec {
		// More than ±24 days from the first point: count seconds.
		base := h.base
		h.sec = true
		h.base = floor(base, h.unit())
		for i := range int(h.n) {
			h.off[i], _ = h.offset(base + int64(h.off[i])*int64(time.Millisecond))
		}
		o, fits = h.offset(ns)
	}
	if !fits {
		// More than ±68 years from the first point: a clock gone wrong;
		// this point starts the history again.
		h.n, h.base, h.ok, h.unknown, o = 0, floor(ns, h.unit()), 0, 0, 0
	}
	i := int(h.n)
	h.off[i] = o
	h.n++
	h.ok &^= 1 << i
	h.unknown &^= 1 << i
	if ok {
		h.ok |= 1 << i
	}
	if unknown {
		h.unknown |= 1 << i
	}
}

// offset is ns as an offset from base (ns truncated to the unit), and
// whether it fits in 32 bits.
func (h *history) offset(ns int64) (int32, bool) {
	d := (floor(ns, h.unit()) - h.base) / h.unit()
	if d < math.MinInt32 || d > math.MaxInt32 {
		return 0, false
	}
	return int32(d), true
}

// floor is ns truncated to a multiple of unit (towards the past).
func floor(ns, unit int64) int64 {
	r := ns % unit
	if r < 0 {
		r += unit
	}
	return ns - r
}

// points returns the history as HistoryPoints (times in time.Local).
func (h *history) points() []HistoryPoint {
	if h.n == 0 {
		return nil
	}
	out := make([]HistoryPoint, h.n)
	for i := range out {
		out[i] = HistoryPoint{At: time.Unix(0, h.time(i)), OK: h.ok&(1<<i) != 0, Unknown: h.unknown&(1<<i) != 0}
	}
	return out
}

// setPoints replaces the history with ps (the last historySize of them).
func (h *history) setPoints(ps []HistoryPoint) {
	off := h.off
	*h = history{off: off}
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
	buf := make([]byte, 0, 6*int(h.n)+4)
	var prev int64
	for i := range int(h.n) {
		ns := h.time(i)
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
	*h = history{}
	var prev int64
	for i := 0; len(buf) > 0; i++ {
		d, n := binary.Varint(buf)
		if n <= 0 || i >= historySize {
			return errHistory
		}
		buf = buf[n:]
		prev += d
		h.addNs(prev, j.OK&(1<<i) != 0, j.Unknown&(1<<i) != 0)
	}
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
