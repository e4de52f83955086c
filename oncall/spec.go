package oncall

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/holiday"
)

// HandoffTime is when a layer's shifts change hands: a time of day, and for
// rotations of whole weeks optionally a weekday ("mon 09:00").
type HandoffTime struct {
	Weekday    time.Weekday
	HasWeekday bool
	Hour, Min  int
}

func (h HandoffTime) String() string {
	s := fmt.Sprintf("%02d:%02d", h.Hour, h.Min)
	if h.HasWeekday {
		s = weekdayNames[h.Weekday] + " " + s
	}
	return s
}

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseWeekday accepts "mon" … "sun" and the full English names, any case,
// and the Korean 월 … 일 (also 월요일).
func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range weekdayNames {
		if s == n || s == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), true
		}
	}
	for i, n := range []string{"일", "월", "화", "수", "목", "금", "토"} {
		if s == n || s == n+"요일" {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// ParseHandoff reads "09:00" or "mon 09:00".
func ParseHandoff(s string) (HandoffTime, error) {
	var h HandoffTime
	f := strings.Fields(s)
	switch len(f) {
	case 1:
	case 2:
		wd, ok := parseWeekday(f[0])
		if !ok {
			return h, fmt.Errorf("unknown weekday %q (mon, tue, … sun)", f[0])
		}
		h.Weekday, h.HasWeekday = wd, true
	default:
		return h, fmt.Errorf("invalid handoff %q (want HH:MM, or a weekday and HH:MM like \"mon 09:00\")", s)
	}
	m, err := parseClock(f[len(f)-1], false)
	if err != nil {
		return h, err
	}
	h.Hour, h.Min = m/60, m%60
	return h, nil
}

// parseClock reads "HH:MM" into minutes after midnight; allow24 accepts
// "24:00" (the end of a day).
func parseClock(s string, allow24 bool) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24)) {
		if allow24 {
			return 0, fmt.Errorf("invalid time %q (want HH:MM, 00:00 to 24:00)", s)
		}
		return 0, fmt.Errorf("invalid time %q (want HH:MM, 00:00 to 23:59)", s)
	}
	return h*60 + m, nil
}

// Hours is a daily window of time, [Start, End) in minutes after midnight;
// End <= Start wraps past midnight ("22:00-07:00"). The zero value is the
// whole day.
type Hours struct {
	Start, End int
	set        bool
}

// ParseHours reads "HH:MM-HH:MM"; "" is the whole day. "22:00-07:00"
// runs past midnight; "09:00-09:00" is 24 hours from 09:00.
func ParseHours(s string) (Hours, error) {
	if strings.TrimSpace(s) == "" {
		return Hours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Hours{}, fmt.Errorf("invalid hours %q (want HH:MM-HH:MM, e.g. 09:00-18:00 or 18:00-09:00)", s)
	}
	start, err := parseClock(a, false)
	if err != nil {
		return Hours{}, err
	}
	end, err := parseClock(b, true)
	if err != nil {
		return Hours{}, err
	}
	return Hours{Start: start, End: end, set: true}, nil
}

// IsZero reports the whole day.
func (h Hours) IsZero() bool { return !h.set }

func (h Hours) String() string {
	if !h.set {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.Start/60, h.Start%60, h.End/60, h.End%60)
}

// wraps reports a window that ends on the next day.
func (h Hours) wraps() bool { return h.set && h.End <= h.Start }

// Days is a set of days a layer applies on. Day classes:
//
//	workdays  Monday to Friday, except holidays (평일, 공휴일 제외)
//	offdays   Saturdays, Sundays and holidays (휴일)
//	weekdays  Monday to Friday, holidays included
//	weekends  Saturdays and Sundays
//	holidays  public holidays and company days off
//
// and weekdays by name (mon … sun, or ranges like mon-fri). A date matches
// when any listed item does. The zero value is every day.
type Days struct {
	weekdays [7]bool
	classes  []string // workdays, offdays, holidays (weekdays and weekends set weekdays)
	text     string
}

// ParseDays reads a comma-separated list of day classes and weekdays,
// e.g. "workdays", "sat,sun,holidays", "mon-fri". "" is every day.
func ParseDays(s string) (Days, error) {
	d := Days{text: strings.TrimSpace(s)}
	if d.text == "" {
		return Days{}, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		switch item {
		case "workdays", "offdays", "holidays":
			d.classes = append(d.classes, item)
			continue
		case "weekdays":
			for w := time.Monday; w <= time.Friday; w++ {
				d.weekdays[w] = true
			}
			continue
		case "weekends":
			d.weekdays[time.Saturday], d.weekdays[time.Sunday] = true, true
			continue
		}
		a, b, isRange := strings.Cut(item, "-")
		from, ok1 := parseWeekday(a)
		to, ok2 := from, true
		if isRange {
			to, ok2 = parseWeekday(b)
		}
		if !ok1 || !ok2 {
			return Days{}, fmt.Errorf("unknown days %q (workdays, offdays, weekdays, weekends, holidays, mon … sun, or a range like mon-fri)", item)
		}
		for w := from; ; w = (w + 1) % 7 {
			d.weekdays[w] = true
			if w == to {
				break
			}
		}
	}
	return d, nil
}

// IsZero reports every day.
func (d Days) IsZero() bool { return d.text == "" }

// UsesHolidays reports whether matching depends on holidays (workdays,
// offdays, holidays): only then does the holiday table's range matter.
func (d Days) UsesHolidays() bool { return len(d.classes) > 0 }

func (d Days) String() string { return d.text }

// Match reports whether date matches, with cal telling holidays (nil: none).
func (d Days) Match(date holiday.Date, cal *holiday.Calendar) bool {
	if d.IsZero() {
		return true
	}
	wd := date.Weekday()
	if d.weekdays[wd] {
		return true
	}
	weekend := wd == time.Saturday || wd == time.Sunday
	for _, c := range d.classes {
		_, hol := cal.IsHolidayDate(date)
		switch {
		case c == "holidays" && hol,
			c == "offdays" && (hol || weekend),
			c == "workdays" && !hol && !weekend:
			return true
		}
	}
	return false
}
