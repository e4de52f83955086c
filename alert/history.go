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
	"github.com/munja-sms/munja/config"
)

// history is a check's latest results, oldest first, at most historySize:
// their times, kept to the millisecond (to the second for a history
// spanning more than ±24 days), and two bit sets. A server taking 10,000
// agents' reports keeps 200,000 of them. While every point is at most
// 65.535 s after the one before (an agent reporting every 10 s, a check
// running every minute) the times are 2-byte steps, one 128-byte
// allocation (histNarrow); otherwise 4-byte offsets from the first point,
// 224 bytes (histWide). Unix nanoseconds took 416 bytes, []HistoryPoint
// 1,600.
type history struct {
	narrow *histNarrow // at most one of the two is set
	wide   *histWide
	n      uint8 // points
	sec    bool  // wide offsets count seconds
}

// histBits is the first point's time and which points were ok or could
// not check (bit i: point i).
type histBits struct {
	base        int64 // Unix nanoseconds of the first point
	ok, unknown uint64
}

// histNarrow holds each point's time as milliseconds after the point
// before (step[0] is 0).
type histNarrow struct {
	histBits
	step [historySize]uint16
}

// histWide holds each point's time as an offset from base, in ms (in s
// when history.sec).
type histWide struct {
	histBits
	off [historySize]int32
}

func (h *history) len() int { return int(h.n) }

// IsZero reports whether there is no point (json omitzero).
func (h history) IsZero() bool { return h.n == 0 }

func (h *history) bits() *histBits {
	if h.wide != nil {
		return &h.wide.histBits
	}
	return &h.narrow.histBits
}

// unit is what an offset or a step counts, in nanoseconds.
func (h *history) unit() int64 {
	if h.sec {
		return int64(time.Second)
	}
	return int64(time.Millisecond)
}

// each calls f with each point's index and time in Unix nanoseconds.
func (h *history) each(f func(i int, ns int64)) {
	if h.n == 0 {
		return
	}
	b := h.bits()
	if h.wide != nil {
		for i := range int(h.n) {
			f(i, b.base+int64(h.wide.off[i])*h.unit())
		}
		return
	}
	ns := b.base
	for i := range int(h.n) {
		ns += int64(h.narrow.step[i]) * int64(time.Millisecond)
		f(i, ns)
	}
}

// lastNs is the latest point's time (the first's when there is none).
func (h *history) lastNs() int64 {
	b := h.bits()
	if h.n == 0 {
		return b.base
	}
	if h.wide != nil {
		return b.base + int64(h.wide.off[h.n-1])*h.unit()
	}
	var ms int64
	for _, d := range h.narrow.step[:h.n] {
		ms += int64(d)
	}
	return b.base + ms*int64(time.Millisecond)
}

// add appends a point, dropping the oldest when full.
func (h *history) add(at time.Time, ok, unknown bool) { h.addNs(at.UnixNano(), ok, unknown) }

func (h *history) addNs(ns int64, ok, unknown bool) {
	if h.narrow == nil && h.wide == nil {
		h.narrow = new(histNarrow)
	}
	b := h.bits()
	if h.n == 0 {
		b.base, b.ok, b.unknown = floor(ns, h.unit()), 0, 0
	}
	if h.n >= historySize {
		h.dropOldest()
	}
	if h.narrow != nil {
		d := (floor(ns, int64(time.Millisecond)) - h.lastNs()) / int64(time.Millisecond)
		if d >= 0 && d <= math.MaxUint16 && (h.n > 0 || d == 0) {
			h.narrow.step[h.n] = uint16(d)
			h.set(ok, unknown)
			return
		}
		h.widen()
		b = h.bits()
	}
	o, fits := h.offset(ns)
	if !fits && !h.sec {
		// More than ±24 days from the first point: count seconds.
		base := b.base
		h.sec = true
		b.base = floor(base, h.unit())
		for i := range int(h.n) {
			h.wide.off[i], _ = h.offset(base + int64(h.wide.off[i])*int64(time.Millisecond))
		}
		o, fits = h.offset(ns)
	}
	if !fits {
		// More than ±68 years from the first point: a clock gone wrong;
		// this point starts the history again.
		h.n, b.base, b.ok, b.unknown, o = 0, floor(ns, h.unit()), 0, 0, 0
	}
	h.wide.off[h.n] = o
	h.set(ok, unknown)
}

// set completes point h.n with its bits and counts it.
func (h *history) set(ok, unknown bool) {
	b, i := h.bits(), h.n
	b.ok &^= 1 << i
	b.unknown &^= 1 << i
	if ok {
		b.ok |= 1 << i
	}
	if unknown {
		b.unknown |= 1 << i
	}
	h.n++
}

// dropOldest drops the first point: the next one becomes the base.
func (h *history) dropOldest() {
	b := h.bits()
	if h.wide != nil {
		d := h.wide.off[1]
		b.base += int64(d) * h.unit()
		for i := 1; i < int(h.n); i++ {
			h.wide.off[i-1] = h.wide.off[i] - d
		}
	} else {
		b.base += int64(h.narrow.step[1]) * int64(time.Millisecond)
		copy(h.narrow.step[1:h.n-1], h.narrow.step[2:h.n])
	}
	h.n--
	b.ok >>= 1
	b.unknown >>= 1
}

// widen turns the steps into offsets from the first point, in ms (50
// steps of at most 65,535 fit in 32 bits).
func (h *history) widen() {
	w := &histWide{histBits: h.narrow.histBits}
	var o int32
	for i := range int(h.n) {
		o += int32(h.narrow.step[i])
		w.off[i] = o
	}
	h.wide, h.narrow = w, nil
}

// offset is ns as an offset from base (ns truncated to the unit), and
// whether it fits in 32 bits. Wide only.
func (h *history) offset(ns int64) (int32, bool) {
	d := (floor(ns, h.unit()) - h.wide.base) / h.unit()
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
	b := h.bits()
	h.each(func(i int, ns int64) {
		out[i] = HistoryPoint{At: time.Unix(0, ns), OK: b.ok&(1<<i) != 0, Unknown: b.unknown&(1<<i) != 0}
	})
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
	buf := make([]byte, 0, 6*int(h.n)+4)
	var prev int64
	h.each(func(_ int, ns int64) {
		buf = binary.AppendVarint(buf, ns-prev)
		prev = ns
	})
	var j historyJSON
	if h.n > 0 {
		j.OK, j.Unknown = h.bits().ok, h.bits().unknown
	}
	j.At = base64.RawStdEncoding.EncodeToString(buf)
	return json.Marshal(j)
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

// lastResult is what a check state keeps of its latest result; Checks
// gives it back as the check.Result it was (result). The check's and the
// host's names are the state's; the texts every host's check of one name
// shares (alert texts, severity) are one interned handle, so 10,000 hosts
// keep one copy; the two details are one string, kept as it came when
// either is empty or both are as before (a report decodes its texts
// afresh every time; a check's seldom change).
type lastResult struct {
	At       time.Time
	Duration time.Duration
	texts    unique.Handle[resultTexts] // zero: none
	detail   string                     // Detail, then DetailKo
	split    int32                      // len(Detail)
	OK       bool
	Unknown  bool
}

type resultTexts struct {
	firing, resolved string
	severity         config.Severity
}

// set keeps r as the latest result.
func (l *lastResult) set(r *check.Result) {
	l.At, l.Duration, l.OK, l.Unknown = r.At, r.Duration, r.OK, r.Unknown
	t := resultTexts{r.Firing, r.Resolved, r.Severity}
	if t != l.shared() {
		l.texts = unique.Make(t)
	}
	if r.Detail != l.Detail() || r.DetailKo != l.DetailKo() {
		switch {
		case r.DetailKo == "":
			l.detail = r.Detail
		case r.Detail == "":
			l.detail = r.DetailKo
		default:
			l.detail = r.Detail + r.DetailKo
		}
		l.split = int32(len(r.Detail))
	}
}

// shared returns the texts of l every host's check of its name shares.
func (l *lastResult) shared() resultTexts {
	if l.texts == (unique.Handle[resultTexts]{}) {
		return resultTexts{}
	}
	return l.texts.Value()
}

// Detail is the last result's Detail.
func (l *lastResult) Detail() string { return l.detail[:l.split] }

// DetailKo is the last result's DetailKo.
func (l *lastResult) DetailKo() string {
	if l.split == 0 {
		return l.detail
	}
	return l.detail[l.split:]
}

// result is the latest result of st as it came (with st's names).
func (l *lastResult) result(st *checkState) check.Result {
	t := l.shared()
	return check.Result{Check: st.Check, Host: st.Host, OK: l.OK, Unknown: l.Unknown, At: l.At,
		Firing: t.firing, Resolved: t.resolved, Detail: l.Detail(), DetailKo: l.DetailKo(),
		Severity: t.severity, Duration: l.Duration}
}

// intern returns the canonical copy of s (package unique: dropped once no
// state holds it).
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}
