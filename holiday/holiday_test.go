package holiday

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestReferencePoints: dates announced in the 월력요항 (and the brief of
// issue 16) are in the table with the right kind.
func TestReferencePoints(t *testing.T) {
	for _, tc := range []struct {
		date, name string
		kind       Kind
	}{
		{"2026-02-16", "설날 전날", Lunar},
		{"2026-02-17", "설날", Lunar},
		{"2026-02-18", "설날 다음 날", Lunar},
		{"2026-09-24", "추석 전날", Lunar},
		{"2026-09-25", "추석", Lunar},
		{"2026-09-26", "추석 다음 날", Lunar},
		{"2026-03-02", "대체공휴일(3·1절)", Substitute},
		{"2026-05-24", "부처님 오신 날", Lunar},
		{"2026-05-25", "대체공휴일(부처님 오신 날)", Substitute},
		{"2026-08-17", "대체공휴일(광복절)", Substitute},
		{"2026-10-05", "대체공휴일(개천절)", Substitute},
		{"2026-06-03", "제9회 전국동시지방선거", Election},
		{"2027-02-06", "설날 전날", Lunar},
		{"2027-02-07", "설날", Lunar},
		{"2027-02-08", "설날 다음 날", Lunar},
		{"2027-02-09", "대체공휴일(설날)", Substitute},
		{"2027-09-14", "추석 전날", Lunar},
		{"2027-09-15", "추석", Lunar},
		{"2027-09-16", "추석 다음 날", Lunar},
		{"2027-08-16", "대체공휴일(광복절)", Substitute},
		{"2027-10-04", "대체공휴일(개천절)", Substitute},
		{"2027-10-11", "대체공휴일(한글날)", Substitute},
		{"2027-12-27", "대체공휴일(기독탄신일)", Substitute},
		{"2028-01-27", "설날", Lunar}, // Korea; the Chinese calendar says 01-26
		{"2025-10-08", "대체공휴일(추석)", Substitute},
		{"2024-10-01", "임시공휴일(국군의 날)", Temporary},
	} {
		hs := Default().On(date(tc.date))
		if !slices.Contains(hs, Holiday{Date: date(tc.date), Name: tc.name, Kind: tc.kind}) {
			t.Errorf("%s: got %v, want %s (%s)", tc.date, hs, tc.name, tc.kind)
		}
	}
	for _, d := range []string{"2026-02-19", "2026-09-23", "2026-09-28", "2027-02-10", "2026-12-24", "2026-12-31"} {
		if name, ok := Default().IsHolidayDate(date(d)); ok {
			t.Errorf("%s is not a holiday, got %q", d, name)
		}
	}
	if name, _ := Default().IsHolidayDate(date("2025-05-05")); name != "어린이날, 부처님 오신 날" {
		t.Errorf("2025-05-05: %q", name)
	}
}

// TestIsHolidayUsesTheTimesZone: a time is looked up by its date in its
// own location: 2026-09-24 00:30 KST is 추석 전날, though still the 23rd in UTC.
func TestIsHolidayUsesTheTimesZone(t *testing.T) {
	kst, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 9, 24, 0, 30, 0, 0, kst)
	if name, ok := IsHoliday(at); !ok || name != "추석 전날" {
		t.Errorf("KST: %q %v", name, ok)
	}
	if name, ok := IsHoliday(at.UTC()); ok {
		t.Errorf("UTC (09-23): %q", name)
	}
}

// TestEveryYearHasSeollalAndChuseok: each covered year has the three days of
// 설날 and of 추석, consecutive, and 부처님 오신 날.
func TestEveryYearHasSeollalAndChuseok(t *testing.T) {
	first, last := Default().Range()
	if first.Year > 2024 || last.Year < 2030 || first != (Date{first.Year, 1, 1}) || last != (Date{last.Year, 12, 31}) {
		t.Fatalf("range %s..%s: want whole years covering at least 2024-2030", first, last)
	}
	for y := first.Year; y <= last.Year; y++ {
		hs := Default().Between(Date{y, 1, 1}, Date{y, 12, 31})
		for _, names := range [][]string{{"설날 전날", "설날", "설날 다음 날"}, {"추석 전날", "추석", "추석 다음 날"}, {"부처님 오신 날"}} {
			var days []Date
			for _, n := range names {
				for _, h := range hs {
					if h.Name == n && h.Kind == Lunar {
						days = append(days, h.Date)
					}
				}
			}
			if len(days) != len(names) {
				t.Errorf("%d: %v: found %v", y, names, days)
				continue
			}
			for i := 1; i < len(days); i++ {
				if days[i] != days[i-1].AddDays(1) {
					t.Errorf("%d: %v not consecutive: %v", y, names, days)
				}
			}
		}
	}
}

// TestSubstitutesFollowTheRules re-derives every 대체공휴일 of the table
// from the other holidays by 관공서의 공휴일에 관한 규정 제3조:
//   - a day of the 설날 or 추석 period on a Sunday or on another holiday;
//   - 3·1절, 어린이날, 광복절, 개천절, 한글날, 부처님 오신 날, 기독탄신일 (and
//     노동절, 제헌절 from 2026) on a Saturday, a Sunday or another holiday
//
// give the first following day that is neither a weekend nor a holiday
// (one day per date, however many holidays share it: 2025-05-05).
func TestSubstitutesFollowTheRules(t *testing.T) {
	c := Default()
	first, last := c.Range()
	base := map[Date][]Holiday{}
	var table []Date
	for d := first; !last.Before(d); d = d.AddDays(1) {
		for _, h := range c.On(d) {
			if h.Kind == Substitute {
				table = append(table, d)
			} else {
				base[d] = append(base[d], h)
			}
		}
	}
	substituted := map[string]bool{"3·1절": true, "어린이날": true, "광복절": true, "개천절": true, "한글날": true,
		"부처님 오신 날": true, "기독탄신일": true, "노동절": true, "제헌절": true}
	period := func(name string) bool { return strings.Contains(name, "설날") || strings.Contains(name, "추석") }
	var derived []Date
	taken := map[Date]bool{}
	free := func(d Date) bool {
		wd := d.Weekday()
		return wd != time.Saturday && wd != time.Sunday && len(base[d]) == 0 && !taken[d]
	}
	for d := first; !last.Before(d); d = d.AddDays(1) {
		hs := base[d]
		var need, inPeriod bool
		for _, h := range hs {
			switch {
			case period(h.Name):
				inPeriod = true
				need = need || d.Weekday() == time.Sunday || len(hs) > 1
			case substituted[h.Name]:
				need = need || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || len(hs) > 1
			}
		}
		if !need {
			continue
		}
		from := d
		if inPeriod { // after the whole period
			for slices.ContainsFunc(base[from.AddDays(1)], func(h Holiday) bool { return period(h.Name) }) {
				from = from.AddDays(1)
			}
		}
		s := from.AddDays(1)
		for !free(s) {
			s = s.AddDays(1)
		}
		taken[s] = true
		derived = append(derived, s)
	}
	slices.SortFunc(derived, func(a, b Date) int { return a.DaysSince(b) })
	if !slices.Equal(derived, table) {
		t.Errorf("substitutes by the rules:\n%v\nin the table:\n%v", derived, table)
	}
}

func TestCoveredAndDaysOff(t *testing.T) {
	kst, _ := time.LoadLocation("Asia/Seoul")
	if !Covered(time.Date(2024, 1, 1, 0, 0, 0, 0, kst)) || !Covered(time.Date(2030, 12, 31, 23, 59, 0, 0, kst)) {
		t.Error("2024-2030 not covered")
	}
	if Covered(time.Date(2023, 12, 31, 12, 0, 0, 0, kst)) || Covered(time.Date(2099, 1, 1, 0, 0, 0, 0, kst)) {
		t.Error("covered outside the table")
	}
	c := Default().With(DayOff{Date: date("2026-12-31")}, DayOff{Date: date("2026-02-17"), Name: "창립기념일"})
	if name, ok := c.IsHolidayDate(date("2026-12-31")); !ok || name != DefaultDayOffName {
		t.Errorf("day off: %q %v", name, ok)
	}
	if name, _ := c.IsHolidayDate(date("2026-02-17")); name != "설날, 창립기념일" {
		t.Errorf("day off on 설날: %q", name)
	}
	// The built-in table is unchanged.
	if _, ok := Default().IsHolidayDate(date("2026-12-31")); ok {
		t.Error("With changed the built-in table")
	}
	if name, _ := Default().IsHolidayDate(date("2026-02-17")); name != "설날" {
		t.Errorf("With changed the built-in table: %q", name)
	}
}

func TestParseRefusesBadTables(t *testing.T) {
	for _, s := range []string{
		"",
		"range\t2024-01-01\t2024-12-31\n2025-01-01\tx\tfixed\n",
		"range\t2024-01-01\t2024-12-31\n2024-01-01\tx\tweird\n",
		"range\t2024-01-01\t2024-12-31\n2024-01-01 x fixed\n",
		"range\t2024-12-31\t2024-01-01\n",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("accepted %q", s)
		}
	}
}
