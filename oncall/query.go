package oncall

import (
	"slices"
	"time"

	"github.com/munja-sms/munja/holiday"
)

// At returns who is on call at t, with the whole contiguous span (Start,
// End) of that person's shift around t; ok is false when nobody is.
func (s *Schedule) At(t time.Time) (sh Shift, ok bool) {
	for _, x := range s.Shifts(t, t.Add(time.Nanosecond)) {
		if !x.Start.After(t) && x.End.After(t) {
			return x, true
		}
	}
	return Shift{}, false
}

// Shifts returns the spans with someone on call that overlap [from, to),
// in order, each whole (the first may start before from, the last end after
// to) so that a span keeps its start and end, and its iCalendar UID,
// whatever window it is asked in. Spans are contiguous where someone is on
// call throughout, never overlap, and are split where the person, the layer,
// the layer's turn or the override changes. Gaps (nobody on call) are left
// out.
func (s *Schedule) Shifts(from, to time.Time) []Shift {
	if !to.After(from) {
		return nil
	}
	loc := s.loc()
	from, to = from.In(loc), to.In(loc)
	// Widen the window to the start of whatever is current at from and the
	// end of whatever is current just before to: a span never outlives the
	// layer's turn or the override that makes it.
	lo, hi := from, to
	last := to.Add(-time.Nanosecond)
	for i := range s.Layers {
		if _, start, _ := s.turn(i, from); start.Before(lo) {
			lo = start
		}
		if _, _, end := s.turn(i, last); end.After(hi) {
			hi = end
		}
	}
	for _, o := range s.Overrides {
		if covers(o, from) && o.From.Before(lo) {
			lo = o.From.In(loc)
		}
		if covers(o, last) && o.To.After(hi) {
			hi = o.To.In(loc)
		}
	}
	var out []Shift
	for _, sh := range s.spans(lo, hi) {
		if sh.Start.Before(to) && sh.End.After(from) {
			out = append(out, sh)
		}
	}
	return out
}

// NextHandoff returns the first change of who is on call after t (within a
// year): the person (or nobody) on call before it and the one after. A
// change of layer or turn that keeps the same person on call is not a
// handoff.
func (s *Schedule) NextHandoff(t time.Time) (Handoff, bool) {
	const chunk = 35 * 24 * time.Hour
	prev, _ := s.At(t)
	p := t // covered up to here
	if prev.Member != "" {
		p = prev.End
	}
	for w := t; w.Before(t.Add(400 * 24 * time.Hour)); w = w.Add(chunk) {
		for _, sh := range s.Shifts(w, w.Add(chunk)) {
			if !sh.End.After(p) {
				continue
			}
			if sh.Start.After(p) && prev.Member != "" {
				return Handoff{At: p, Outgoing: prev}, true
			}
			if sh.Member != prev.Member {
				if sh.Start.After(p) {
					prev = Shift{} // after a gap
				}
				return Handoff{At: sh.Start, Outgoing: prev, Incoming: sh}, true
			}
			prev, p = sh, sh.End
		}
		if prev.Member != "" && p.Before(w.Add(chunk)) {
			return Handoff{At: p, Outgoing: prev}, true
		}
	}
	return Handoff{}, false
}

// NextInRotation returns who follows the person on call at t in the turn
// order of the layer that applies at t (overrides aside): the next member
// who is not the one on call now, for an escalation step "next". ok is
// false when no layer applies at t or nobody else is in that layer.
func (s *Schedule) NextInRotation(t time.Time) (member string, ok bool) {
	li, k := s.layerAt(t)
	if li < 0 {
		return "", false
	}
	cur, _ := s.At(t)
	ms := s.Layers[li].Members
	for i := 1; i <= len(ms); i++ {
		if m := ms[mod(k+i, len(ms))]; m != cur.Member {
			return m, true
		}
	}
	return "", false
}

// slot is what decides who is on call at an instant.
type slot struct {
	override int // index in Overrides, or -1
	layer    int // index in Layers, or -1
	turn     int
}

var nobody = slot{-1, -1, 0}

func covers(o Override, t time.Time) bool { return !o.From.After(t) && o.To.After(t) }

func (s *Schedule) slotAt(t time.Time) slot {
	for i := len(s.Overrides) - 1; i >= 0; i-- {
		if covers(s.Overrides[i], t) {
			return slot{override: i, layer: -1}
		}
	}
	li, k := s.layerAt(t)
	return slot{override: -1, layer: li, turn: k}
}

// layerAt returns the last layer that applies at t and its turn, or -1.
func (s *Schedule) layerAt(t time.Time) (int, int) {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if len(s.Layers[i].Members) > 0 && s.applies(i, t) {
			k, _, _ := s.turn(i, t)
			return i, k
		}
	}
	return -1, 0
}

// epoch is the date of layer i's first handoff: Start, or for a weekday
// handoff the first such weekday on or after Start.
func (s *Schedule) epoch(i int) holiday.Date {
	l := s.Layers[i]
	d := l.Start
	if l.Handoff.HasWeekday {
		d = d.AddDays(mod(int(l.Handoff.Weekday)-int(d.Weekday()), 7))
	}
	return d
}

// turn returns the number of layer i's turn at t (0 from the first handoff,
// negative before) and that turn's start and end.
func (s *Schedule) turn(i int, t time.Time) (k int, start, end time.Time) {
	l := s.Layers[i]
	loc := s.loc()
	days := max(l.Rotation.Days, 1)
	e := s.epoch(i)
	d := holiday.DateOf(t.In(loc))
	n := d.DaysSince(e)
	if t.Before(d.In(loc, l.Handoff.Hour, l.Handoff.Min)) {
		n--
	}
	k = floorDiv(n, days)
	start = e.AddDays(k*days).In(loc, l.Handoff.Hour, l.Handoff.Min)
	end = e.AddDays((k+1)*days).In(loc, l.Handoff.Hour, l.Handoff.Min)
	return k, start, end
}

// applies reports whether layer i's days and hours include t. A window
// past midnight belongs to the day it starts: "18:00-09:00" on workdays
// covers Friday 18:00 to Saturday 09:00, not Saturday night.
func (s *Schedule) applies(i int, t time.Time) bool {
	l := s.Layers[i]
	lt := t.In(s.loc())
	d := holiday.DateOf(lt)
	if l.Hours.IsZero() {
		return l.Days.Match(d, s.cal())
	}
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	start, end := l.Hours.Start*60, l.Hours.End*60
	if !l.Hours.wraps() {
		return sec >= start && sec < end && l.Days.Match(d, s.cal())
	}
	return (sec >= start && l.Days.Match(d, s.cal())) || (sec < end && l.Days.Match(d.AddDays(-1), s.cal()))
}

// spans computes the shifts in [lo, hi), cut at lo and hi: every instant
// where the slot may change is a candidate boundary, the slot is evaluated
// at each, and equal neighbours are merged.
func (s *Schedule) spans(lo, hi time.Time) []Shift {
	loc := s.loc()
	points := []time.Time{lo}
	add := func(t time.Time) {
		if t.After(lo) && t.Before(hi) {
			points = append(points, t)
		}
	}
	first, lastDay := holiday.DateOf(lo).AddDays(-1), holiday.DateOf(hi).AddDays(1)
	for i, l := range s.Layers {
		days := max(l.Rotation.Days, 1)
		k, _, _ := s.turn(i, lo)
		e := s.epoch(i)
		for j := k + 1; ; j++ {
			t := e.AddDays(j*days).In(loc, l.Handoff.Hour, l.Handoff.Min)
			if !t.Before(hi) {
				break
			}
			add(t)
		}
		if l.Days.IsZero() && l.Hours.IsZero() {
			continue
		}
		for d := first; !lastDay.Before(d); d = d.AddDays(1) {
			add(d.In(loc, 0, 0))
			if !l.Hours.IsZero() {
				add(d.In(loc, l.Hours.Start/60, l.Hours.Start%60))
				add(d.In(loc, l.Hours.End/60, l.Hours.End%60)) // 24:00 is the next midnight
			}
		}
	}
	for _, o := range s.Overrides {
		add(o.From.In(loc))
		add(o.To.In(loc))
	}
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })

	var out []Shift
	cur, curStart := nobody, lo
	flush := func(end time.Time) {
		if cur != nobody && end.After(curStart) {
			out = append(out, s.shift(cur, curStart, end))
		}
	}
	for _, p := range points {
		sl := s.slotAt(p)
		if sl == cur {
			continue
		}
		flush(p)
		cur, curStart = sl, p
	}
	flush(hi)
	return out
}

func (s *Schedule) shift(sl slot, start, end time.Time) Shift {
	if sl.override >= 0 {
		o := s.Overrides[sl.override]
		return Shift{Member: o.Member, LayerIndex: -1, Start: start, End: end, Override: true, OverrideID: o.ID}
	}
	l := s.Layers[sl.layer]
	_, ts, te := s.turn(sl.layer, start)
	return Shift{
		Member: l.Members[mod(sl.turn, len(l.Members))], Layer: l.Name, LayerIndex: sl.layer,
		Start: start, End: end, TurnStart: ts, TurnEnd: te,
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func mod(a, b int) int { return ((a % b) + b) % b }
