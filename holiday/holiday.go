// Package holiday knows Korean public holidays (공휴일) from a table kept in
// the repository, holidays_kr.tsv, embedded in the binary: 설날, 추석 and
// 부처님 오신 날 follow the Korean lunar calendar (which differs from the
// Chinese one in some years, so nothing is computed), substitute holidays
// (대체공휴일) and election days are announced; the table is the truth and
// says where its sources are. Company days off are added with With.
//
// A date is a civil date (Date); a time.Time is looked up by its date in its
// own location, so pass times in the schedule's zone (Asia/Seoul).
//
// The table covers whole years (Range); Covered says whether a date is in
// it, so that munja can warn before the table runs out.
package holiday

import (
	"bufio"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kind says why a day is a holiday.
type Kind string

const (
	Fixed      Kind = "fixed"      // a fixed solar date (1월 1일, 3·1절, …)
	Lunar      Kind = "lunar"      // a lunar-calendar date (설날, 추석, 부처님 오신 날)
	Substitute Kind = "substitute" // 대체공휴일
	Election   Kind = "election"   // a national election day
	Temporary  Kind = "temporary"  // 임시공휴일, designated by the government
	Company    Kind = "company"    // a company day off from the config
)

// Holiday is one holiday on one date.
type Holiday struct {
	Date Date
	Name string // in Korean, e.g. "추석", "대체공휴일(광복절)"
	Kind Kind
}

// Calendar answers whether a date is a holiday. The zero value knows no
// holidays; Default is the built-in table. A Calendar is read-only and safe
// for concurrent use.
type Calendar struct {
	days        map[Date][]Holiday
	first, last Date // the table's range (Covered)
}

//go:embed holidays_kr.tsv
var tableKR string

// builtin parses the table on first use, not at start-up: every munja
// command links this package, and most never ask about a holiday.
var builtin = sync.OnceValue(func() *Calendar { return mustParse(tableKR) })

// Default returns the built-in Korean table.
func Default() *Calendar { return builtin() }

// IsHoliday looks t's date up in the built-in table.
func IsHoliday(t time.Time) (name string, ok bool) { return builtin().IsHoliday(t) }

// Covered reports whether t's date is within the built-in table's range.
func Covered(t time.Time) bool { return builtin().Covered(t) }

// DayOff is a company day off: it counts as a holiday.
type DayOff struct {
	Date Date
	Name string // default "회사 휴무일"
}

// DefaultDayOffName names a day off given without a name.
const DefaultDayOffName = "회사 휴무일"

// With returns a copy of c with the company days off added (kind Company).
// The range stays the table's: days off do not extend what Covered says.
func (c *Calendar) With(off ...DayOff) *Calendar {
	n := &Calendar{days: make(map[Date][]Holiday, len(c.days)+len(off)), first: c.first, last: c.last}
	for d, hs := range c.days {
		n.days[d] = hs
	}
	for _, o := range off {
		name := strings.TrimSpace(o.Name)
		if name == "" {
			name = DefaultDayOffName
		}
		// A new slice: the built-in ones are shared.
		n.days[o.Date] = append(slices.Clip(n.days[o.Date]), Holiday{Date: o.Date, Name: name, Kind: Company})
	}
	return n
}

// IsHoliday reports whether t's date (in t's location) is a holiday, with
// its name; two holidays on one date are joined with ", ". Sundays are not
// holidays here (the caller decides what a weekend is).
func (c *Calendar) IsHoliday(t time.Time) (name string, ok bool) {
	return c.IsHolidayDate(DateOf(t))
}

// IsHolidayDate is IsHoliday for a civil date.
func (c *Calendar) IsHolidayDate(d Date) (name string, ok bool) {
	if c == nil {
		return "", false
	}
	hs := c.days[d]
	if len(hs) == 0 {
		return "", false
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return strings.Join(names, ", "), true
}

// On returns the holidays on d (nil when none).
func (c *Calendar) On(d Date) []Holiday {
	if c == nil {
		return nil
	}
	return slices.Clone(c.days[d])
}

// Between returns the holidays from from to to, both included, by date.
func (c *Calendar) Between(from, to Date) []Holiday {
	if c == nil {
		return nil
	}
	var out []Holiday
	for d := from; !to.Before(d); d = d.AddDays(1) {
		out = append(out, c.days[d]...)
	}
	return out
}

// Range returns the first and last dates the table is complete for.
func (c *Calendar) Range() (first, last Date) { return c.first, c.last }

// Covered reports whether t's date is within Range: outside it IsHoliday
// knows only company days off.
func (c *Calendar) Covered(t time.Time) bool { return c.CoveredDate(DateOf(t)) }

// CoveredDate is Covered for a civil date.
func (c *Calendar) CoveredDate(d Date) bool {
	return c != nil && !c.first.IsZero() && !d.Before(c.first) && !c.last.Before(d)
}

func mustParse(s string) *Calendar {
	c, err := Parse(s)
	if err != nil {
		panic("holiday: built-in table: " + err.Error())
	}
	return c
}

// Parse reads a table in the format of holidays_kr.tsv: '#' comments, one
// "range<TAB>FIRST<TAB>LAST" line, and "DATE<TAB>NAME<TAB>KIND" lines
// within the range.
func Parse(s string) (*Calendar, error) {
	c := &Calendar{days: map[Date][]Holiday{}}
	sc := bufio.NewScanner(strings.NewReader(s))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want 3 tab-separated fields, got %d", n, len(f))
		}
		if f[0] == "range" {
			var err1, err2 error
			c.first, err1 = ParseDate(f[1])
			c.last, err2 = ParseDate(f[2])
			if err1 != nil || err2 != nil || c.last.Before(c.first) {
				return nil, fmt.Errorf("line %d: bad range %q %q", n, f[1], f[2])
			}
			continue
		}
		d, err := ParseDate(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		k := Kind(f[2])
		switch k {
		case Fixed, Lunar, Substitute, Election, Temporary:
		default:
			return nil, fmt.Errorf("line %d: unknown kind %q", n, f[2])
		}
		if strings.TrimSpace(f[1]) == "" {
			return nil, fmt.Errorf("line %d: empty name", n)
		}
		c.days[d] = append(c.days[d], Holiday{Date: d, Name: f[1], Kind: k})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if c.first.IsZero() {
		return nil, fmt.Errorf("no range line")
	}
	for d := range c.days {
		if !c.CoveredDate(d) {
			return nil, fmt.Errorf("%s is outside the range %s..%s", d, c.first, c.last)
		}
	}
	return c, nil
}
