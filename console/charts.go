package console

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/checkhist"
	"github.com/munja-sms/munja/store"
)

// The check page's charts are inline SVG drawn here: geometry in Go, markup
// in check.html, colours from classes in style.css (the CSP allows no
// inline style). Horizontal positions are percentages of the chart's
// width, so a chart fills a phone's screen and a desktop's alike without
// stretching its text; the latency line alone sits in a nested SVG scaled
// to the width (its strokes do not scale).

// chartRange is a range the check page can show.
type chartRange struct {
	Key string // the query value: 1h, 6h, 24h, 7d, 30d
	D   time.Duration
}

var chartRanges = []chartRange{
	{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour},
}

const defaultRange = "24h"

// parseRange finds the range named s ("" = the default).
func parseRange(s string) (chartRange, bool) {
	if s == "" {
		s = defaultRange
	}
	for _, r := range chartRanges {
		if r.Key == s {
			return r, true
		}
	}
	return chartRange{}, false
}

func rangeKeys() string {
	keys := make([]string, len(chartRanges))
	for i, r := range chartRanges {
		keys[i] = r.Key
	}
	return strings.Join(keys, ", ")
}

// Timeline statuses as CSS classes: the store's statuses plus no data.
const statusNoData = "nodata"

func statusClass(s string) string {
	if s == "" {
		return statusNoData
	}
	return s
}

// segment is a stretch of the timeline in one status.
type segment struct {
	Status   string // store.CheckOK, CheckFailing, CheckCannotCheck, statusNoData
	From, To time.Time
	Detail   string
	DetailKo string
}

// gapAfter is how long a check may leave no sample before the timeline
// calls the stretch "no data" (munja stopped, the agent silent): three
// intervals, and at least a few minutes, so a check that runs every few
// minutes is not striped grey.
func gapAfter(interval time.Duration, known bool) time.Duration {
	if !known {
		return 10 * time.Minute
	}
	return max(3*interval, 5*time.Minute)
}

// gaps returns the stretches of [from, to) in which points (one per step
// with results, oldest first) show no result for longer than gap.
func gaps(points []checkhist.Point, from, to time.Time, step, gap time.Duration) []segment {
	var out []segment
	cursor := from
	add := func(end time.Time) {
		if end.Sub(cursor) > gap {
			out = append(out, segment{Status: statusNoData, From: cursor, To: end})
		}
	}
	for _, p := range points {
		add(p.At)
		if next := p.At.Add(step); next.After(cursor) {
			cursor = next
		}
	}
	add(to)
	return out
}

// segments lays the spans of checkhist.Timeline and the stretches without
// data over each other: no data wins, since a status that was never
// measured is not known. Adjacent segments of one status are merged.
func segments(spans []checkhist.Span, holes []segment) []segment {
	var out []segment
	emit := func(s segment) {
		if !s.To.After(s.From) {
			return
		}
		if n := len(out); n > 0 && out[n-1].Status == s.Status && !out[n-1].To.Before(s.From) {
			out[n-1].To = s.To
			return
		}
		out = append(out, s)
	}
	h := 0
	for _, sp := range spans {
		cur := segment{Status: statusClass(sp.Status), From: sp.From, To: sp.To, Detail: sp.Detail, DetailKo: sp.DetailKo}
		for h < len(holes) && holes[h].From.Before(cur.To) {
			hole := holes[h]
			if hole.To.After(cur.From) {
				emit(segment{Status: cur.Status, From: cur.From, To: minTime(hole.From, cur.To), Detail: cur.Detail, DetailKo: cur.DetailKo})
				emit(segment{Status: statusNoData, From: maxTime(hole.From, cur.From), To: minTime(hole.To, cur.To)})
				if !hole.To.Before(cur.To) {
					cur.From = cur.To
					break
				}
				cur.From = hole.To
			}
			h++
		}
		emit(cur)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// maxSegments bounds the rectangles of one timeline; a flapping check
// over 30 days is drawn in buckets of its worst status instead.
const maxSegments = 1000

// severity orders statuses for a bucket: the worst is drawn.
func severity(status string) int {
	switch status {
	case store.CheckFailing:
		return 3
	case store.CheckCannotCheck:
		return 2
	case store.CheckOK:
		return 1
	}
	return 0
}

// bucketed redraws segs as n equal buckets of [from, to), each in the
// worst status it holds.
func bucketed(segs []segment, from, to time.Time, n int) []segment {
	width := to.Sub(from) / time.Duration(n)
	var out []segment
	i := 0
	for b := range n {
		bf, bt := from.Add(time.Duration(b)*width), from.Add(time.Duration(b+1)*width)
		if b == n-1 {
			bt = to
		}
		worst := segment{Status: "", From: bf, To: bt}
		for i < len(segs) && !segs[i].From.After(bt) {
			s := segs[i]
			if s.To.After(bf) && s.From.Before(bt) && (worst.Status == "" || severity(s.Status) > severity(worst.Status)) {
				worst.Status, worst.Detail, worst.DetailKo = s.Status, s.Detail, s.DetailKo
			}
			if s.To.After(bt) {
				break
			}
			i++
		}
		if worst.Status == "" {
			worst.Status = statusNoData
		}
		if k := len(out); k > 0 && out[k-1].Status == worst.Status {
			out[k-1].To = bt
			continue
		}
		out = append(out, worst)
	}
	return out
}

// pct places t on [from, to) as a percentage of the width.
func pct(t, from, to time.Time) float64 {
	span := to.Sub(from)
	if span <= 0 {
		return 0
	}
	return math.Max(0, math.Min(100, float64(t.Sub(from))/float64(span)*100))
}

func fmtPct(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "%" }

// tick is a label on a time axis.
type tick struct {
	X      string // percentage
	Label  string
	Anchor string // SVG text-anchor
	Minor  bool   // hidden on narrow screens
}

// timeTicks are round times within [from, to) in loc, labelled for the
// range's length.
func timeTicks(from, to time.Time, loc *time.Location) []tick {
	span := to.Sub(from)
	var every time.Duration
	layout := "15:04"
	switch {
	case span <= time.Hour:
		every = 10 * time.Minute
	case span <= 6*time.Hour:
		every = time.Hour
	case span <= 24*time.Hour:
		every = 3 * time.Hour
	case span <= 7*24*time.Hour:
		every, layout = 24*time.Hour, "01-02"
	default:
		every, layout = 5*24*time.Hour, "01-02"
	}
	l := from.In(loc)
	t := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	if every >= 24*time.Hour {
		t = t.AddDate(0, 0, 1)
	}
	for t.Before(from) {
		t = t.Add(every)
	}
	var out []tick
	for i := 0; t.Before(to); i++ {
		p := pct(t, from, to)
		tk := tick{X: fmtPct(p), Label: t.In(loc).Format(layout), Anchor: "middle", Minor: i%2 == 1}
		switch {
		case p < 4:
			tk.Anchor = "start"
		case p > 96:
			tk.Anchor = "end"
		}
		out = append(out, tk)
		if every >= 24*time.Hour {
			d := int(every / (24 * time.Hour))
			tl := t.In(loc)
			t = time.Date(tl.Year(), tl.Month(), tl.Day()+d, 0, 0, 0, 0, loc)
		} else {
			t = t.Add(every)
		}
	}
	return out
}

// timelineView is the status timeline as the template draws it.
type timelineView struct {
	Label string // the whole chart in words (aria-label, <title>)
	Rects []timelineRect
	Ticks []tick
	Share []statusShare
	Spans []spanRow // newest first, at most maxSpanRows
	More  int       // spans left out of Spans
}

type timelineRect struct {
	X, W, Class, Title string
}

// statusShare is the time spent in one status over the range.
type statusShare struct {
	Status, Class, Label, Percent string
}

type spanRow struct {
	Status, Class, Label string
	From, To             time.Time
	Duration, Detail     string
}

const maxSpanRows = 50

// timeline draws segs over [from, to).
func (c *Console) timeline(lang string, segs []segment, from, to time.Time) timelineView {
	var v timelineView
	total := map[string]time.Duration{}
	for _, s := range segs {
		total[s.Status] += s.To.Sub(s.From)
	}
	drawn := segs
	if len(drawn) > maxSegments {
		drawn = bucketed(segs, from, to, maxSegments)
	}
	// Good and unknown stretches first, then the bad ones on top, at
	// least 0.25 % wide so that a minute of failure shows in 30 days.
	for pass := range 2 {
		for _, s := range drawn {
			bad := s.Status == store.CheckFailing || s.Status == store.CheckCannotCheck
			if bad != (pass == 1) {
				continue
			}
			x, w := pct(s.From, from, to), pct(s.To, from, to)-pct(s.From, from, to)
			if bad && w < 0.25 {
				w = 0.25
				x = math.Min(x, 100-w)
			}
			title := c.t(lang, "timeline."+s.Status) + " · " + c.fmtTime(s.From) + " – " + c.fmtTime(s.To) +
				" (" + c.fmtDur(lang, s.To.Sub(s.From)) + ")"
			if d := inLang(lang, s.Detail, s.DetailKo); d != "" {
				title += " · " + d
			}
			v.Rects = append(v.Rects, timelineRect{X: fmtPct(x), W: fmtPct(w), Class: "tl-" + s.Status, Title: title})
		}
	}
	span := to.Sub(from)
	var words []string
	for _, st := range []string{store.CheckOK, store.CheckFailing, store.CheckCannotCheck, statusNoData} {
		d := total[st]
		if d <= 0 || span <= 0 {
			continue
		}
		p := float64(d) / float64(span) * 100
		percent := strconv.FormatFloat(p, 'f', 1, 64) + "%"
		if p < 0.05 { // a minute in 30 days is there, not 0.0 %
			percent = "<0.1%"
		}
		share := statusShare{Status: st, Class: "tl-" + st, Label: c.t(lang, "timeline."+st), Percent: percent}
		v.Share = append(v.Share, share)
		words = append(words, share.Label+" "+share.Percent)
	}
	v.Label = c.tf(lang, "timeline.label", c.fmtTime(from), c.fmtTime(to), strings.Join(words, ", "))
	v.Ticks = timeTicks(from, to, c.loc)
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if len(v.Spans) == maxSpanRows {
			v.More = i + 1
			break
		}
		v.Spans = append(v.Spans, spanRow{Status: s.Status, Class: "tl-" + s.Status, Label: c.t(lang, "timeline."+s.Status),
			From: s.From, To: s.To, Duration: c.fmtDur(lang, s.To.Sub(s.From)), Detail: inLang(lang, s.Detail, s.DetailKo)})
	}
	return v
}

// Latency chart geometry: the plot's height in pixels (its width is the
// nested SVG's viewBox width, scaled to the page).
const (
	plotW   = 1000.0
	plotH   = 150.0
	plotTop = 8.0
)

// latencyView is the latency chart as the template draws it.
type latencyView struct {
	Label            string // the chart in words
	Empty            bool   // no result in the range measured a latency
	AvgPath, MaxPath string // SVG path data in the plot's viewBox
	YTicks           []ytick
	Ticks            []tick
	Avg, Max         string // over the range
	MaxAt            time.Time
	PlotH, PlotTop   float64
	Bottom           float64 // the plot's bottom line
	ViewBox          string
}

type ytick struct {
	Y, LabelY float64 // from the chart's top, in pixels
	Label     string
}

// latency draws the average and maximum latency of points over [from, to).
func (c *Console) latency(lang string, points []checkhist.Point, from, to time.Time, step time.Duration) latencyView {
	v := latencyView{Ticks: timeTicks(from, to, c.loc), PlotH: plotH, PlotTop: plotTop, Bottom: plotTop + plotH,
		ViewBox: fmt.Sprintf("0 0 %g %g", plotW, plotH)}
	var n int
	var sum, top time.Duration
	var maxes []time.Duration
	for _, p := range points {
		if p.LatencyN == 0 {
			continue
		}
		n += p.LatencyN
		sum += p.LatencyAvg * time.Duration(p.LatencyN)
		if p.LatencyMax > top {
			top, v.MaxAt = p.LatencyMax, p.At
		}
		maxes = append(maxes, p.LatencyMax)
	}
	if n == 0 {
		v.Empty = true
		v.Label = c.t(lang, "latency.none")
		return v
	}
	avg := sum / time.Duration(n)
	v.Avg, v.Max = fmtLatency(avg), fmtLatency(top)
	v.Label = c.tf(lang, "latency.label", c.fmtTime(from), c.fmtTime(to), v.Avg, v.Max, c.fmtTime(v.MaxAt))

	// The scale fits the 99th percentile of the maxima (one timeout does
	// not flatten the line); higher points are drawn at the top.
	slices.Sort(maxes)
	scale := niceCeil(max(maxes[len(maxes)*99/100], avg))
	y := func(d time.Duration) float64 {
		return plotH - math.Min(1, float64(d)/float64(scale))*plotH
	}
	x := func(t time.Time) float64 { return pct(t, from, to) / 100 * plotW }
	var avgPath, maxPath strings.Builder
	var prev time.Time
	for _, p := range points {
		if p.LatencyN == 0 {
			continue
		}
		cmd := "L"
		if prev.IsZero() || p.At.Sub(prev) > step {
			cmd = "M"
		}
		mid := p.At.Add(step / 2)
		fmt.Fprintf(&avgPath, "%s%.1f %.1f", cmd, x(mid), y(p.LatencyAvg))
		fmt.Fprintf(&maxPath, "%s%.1f %.1f", cmd, x(mid), y(p.LatencyMax))
		if cmd == "M" { // a lone point still shows: a short level stroke
			fmt.Fprintf(&avgPath, "h0.5")
			fmt.Fprintf(&maxPath, "h0.5")
		}
		prev = p.At
	}
	v.AvgPath, v.MaxPath = avgPath.String(), maxPath.String()
	for _, f := range []float64{1, 0.5} {
		y := plotTop + plotH - f*plotH
		v.YTicks = append(v.YTicks, ytick{Y: y, LabelY: y + 12, Label: fmtLatency(time.Duration(f * float64(scale)))})
	}
	return v
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten (of microseconds).
func niceCeil(d time.Duration) time.Duration {
	if d <= time.Millisecond {
		return time.Millisecond
	}
	us := float64(d.Microseconds())
	p := math.Pow(10, math.Floor(math.Log10(us)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= us {
			return time.Duration(m*p) * time.Microsecond
		}
	}
	return d
}

// fmtLatency shows a latency in ms, or s from 10 s.
func fmtLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	case ms < 10000:
		return strconv.FormatFloat(math.Round(ms), 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', 1, 64) + " s"
}

// fmtDur shows a duration in its two largest units: "2시간 5분", "2h 5m".
func (c *Console) fmtDur(lang string, d time.Duration) string {
	d = d.Round(time.Second)
	units := []struct {
		key string
		n   int
	}{{"dur.days", int(d / (24 * time.Hour))}, {"dur.hours", int(d % (24 * time.Hour) / time.Hour)},
		{"dur.minutes", int(d % time.Hour / time.Minute)}, {"dur.seconds", int(d % time.Minute / time.Second)}}
	for i, u := range units {
		if u.n == 0 && i < len(units)-1 {
			continue
		}
		s := c.tf(lang, u.key, u.n)
		if i+1 < len(units) && units[i+1].n > 0 {
			s += " " + c.tf(lang, units[i+1].key, units[i+1].n)
		}
		return s
	}
	return ""
}

// uptimeView is an uptime as the pages show it.
type uptimeView struct {
	Window  string // "24시간"
	Known   bool   // the window holds results
	Percent string // "99.95%": rounded down, 100% only when every result was ok
	Class   string // up-good, up-warn, up-bad
	Counts  string // "1,440회 중 실패 1회, 점검 불가 0회"
}

func (c *Console) uptime(lang string, u checkhist.Uptime) uptimeView {
	v := uptimeView{Window: c.windowName(lang, u.Window)}
	ratio, ok := u.Ratio()
	if !ok {
		v.Percent, v.Counts = c.t(lang, "uptime.none"), c.t(lang, "uptime.none_long")
		return v
	}
	v.Known = true
	v.Percent = fmtUptime(u.OK, u.Total())
	switch {
	case ratio >= 0.999:
		v.Class = "up-good"
	case ratio >= 0.99:
		v.Class = "up-warn"
	default:
		v.Class = "up-bad"
	}
	v.Counts = c.tf(lang, "uptime.counts", thousands(u.Total()), thousands(u.OK), thousands(u.Failing), thousands(u.Unknown))
	return v
}

// fmtUptime is ok of total as a percentage with two decimals, rounded
// down: 1 failure in 100,000 is 99.99 %, never 100 %.
func fmtUptime(ok, total int) string {
	if ok >= total {
		return "100%"
	}
	basis := math.Floor(float64(ok) / float64(total) * 10000)
	return strconv.FormatFloat(basis/100, 'f', 2, 64) + "%"
}

func (c *Console) windowName(lang string, w time.Duration) string {
	if w%(24*time.Hour) == 0 && w > 24*time.Hour {
		return c.tf(lang, "window.days", int(w/(24*time.Hour)))
	}
	return c.tf(lang, "window.hours", int(w/time.Hour))
}
