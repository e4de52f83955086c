package checkhist

import (
	"context"
	"fmt"
	"time"

	"github.com/munja-sms/munja/store"
)

// Uptime is a check's results over a window ending now.
type Uptime struct {
	Window               time.Duration
	OK, Failing, Unknown int
}

// Total is how many results the window holds.
func (u Uptime) Total() int { return u.OK + u.Failing + u.Unknown }

// Ratio is the share of results that were ok, 0…1. A result that could not
// check counts against it: a check that saw nothing was not seen up. ok is
// false when the window holds no result.
func (u Uptime) Ratio() (ratio float64, ok bool) {
	if u.Total() == 0 {
		return 0, false
	}
	return float64(u.OK) / float64(u.Total()), true
}

// Windows are the uptime windows the console and the API show.
var Windows = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// Uptimes returns check's uptime on host over each of Windows, ending at
// now, from one read: the store sums the longest window by the hour,
// counted back from now, so every window (a whole number of hours) starts
// on an hour of the sums.
func Uptimes(ctx context.Context, st store.CheckHistory, check, host string, now time.Time) ([]Uptime, error) {
	now = now.Truncate(time.Minute).Add(time.Minute) // the running minute counts
	longest := Windows[len(Windows)-1]
	sums, err := st.CheckSeries(ctx, check, host, now.Add(-longest), now, time.Hour)
	if err != nil {
		return nil, err
	}
	out := make([]Uptime, len(Windows))
	for i, w := range Windows {
		out[i].Window = w
		from := now.Add(-w)
		for _, s := range sums {
			if s.At.Before(from) {
				continue
			}
			out[i].OK += s.OK
			out[i].Failing += s.Failing
			out[i].Unknown += s.Unknown
		}
	}
	return out, nil
}

// AllUptimes returns every check's uptime over the window ending at now,
// by check and host (one query: the dashboard).
func AllUptimes(ctx context.Context, st store.CheckHistory, window time.Duration, now time.Time) (map[[2]string]Uptime, error) {
	totals, err := st.CheckTotals(ctx, now.Add(-window), now.Add(time.Minute))
	if err != nil {
		return nil, err
	}
	out := make(map[[2]string]Uptime, len(totals))
	for _, s := range totals {
		out[[2]string{s.Check, s.Host}] = Uptime{Window: window, OK: s.OK, Failing: s.Failing, Unknown: s.Unknown}
	}
	return out, nil
}

// Point is the results of a check within one step of a chart.
type Point struct {
	At                   time.Time // start of the step
	OK, Failing, Unknown int
	LatencyN             int
	LatencyAvg           time.Duration // of the results that measured one
	LatencyMax           time.Duration
}

// Total is how many results the point holds.
func (p Point) Total() int { return p.OK + p.Failing + p.Unknown }

// MaxPoints bounds the points Series returns (a chart's width).
const MaxPoints = 1440

// Step returns the step of a chart over [from, to) with at most MaxPoints
// points: a whole number of minutes, rounded up to a readable one.
func Step(from, to time.Time) time.Duration {
	span := to.Sub(from)
	for _, s := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/s <= MaxPoints {
			return s
		}
	}
	return 24 * time.Hour
}

// Series sums check's samples on host in [from, to) into points of step
// (rounded to whole minutes, at least one) counted from from's minute,
// oldest first; steps without a result are left out. The sums are the
// store's: a month's chart reads a point per step, not a sample per minute.
func Series(ctx context.Context, st store.CheckHistory, check, host string, from, to time.Time, step time.Duration) ([]Point, error) {
	step = max(step.Round(time.Minute), time.Minute)
	if to.Sub(from)/step > 10*MaxPoints {
		return nil, fmt.Errorf("range of %s in steps of %s is too many points", to.Sub(from), step)
	}
	sums, err := st.CheckSeries(ctx, check, host, from, to, step)
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(sums))
	for i, s := range sums {
		out[i] = Point{At: s.At, OK: s.OK, Failing: s.Failing, Unknown: s.Unknown, LatencyN: s.LatencyN, LatencyMax: s.LatencyMax}
		if s.LatencyN > 0 {
			out[i].LatencyAvg = s.LatencySum / time.Duration(s.LatencyN)
		}
	}
	return out, nil
}

// Span is a stretch of time a check spent in one status.
type Span struct {
	Status   string // store.CheckOK, CheckFailing, CheckCannotCheck; "" = no record
	From, To time.Time
	Detail   string // of the change that began it
	DetailKo string // Detail in Korean ("" for none)
}

// Timeline returns check's statuses on host over [from, to) as spans
// covering the whole range (a leading span of status "" when nothing was
// recorded before the first change).
func Timeline(ctx context.Context, st store.CheckHistory, check, host string, from, to time.Time) ([]Span, error) {
	changes, err := st.CheckChanges(ctx, check, host, from, to)
	if err != nil {
		return nil, err
	}
	var out []Span
	cur := Span{From: from}
	for _, c := range changes {
		at := c.At
		if at.Before(from) {
			at = from
		}
		if at.After(cur.From) {
			cur.To = at
			out = append(out, cur)
		}
		cur = Span{Status: c.Status, From: at, Detail: c.Detail, DetailKo: c.DetailKo}
	}
	if to.After(cur.From) {
		cur.To = to
		out = append(out, cur)
	}
	return out, nil
}
