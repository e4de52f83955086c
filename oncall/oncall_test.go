package oncall

import (
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/holiday"
)

var kst = mustLoad("Asia/Seoul")

// at is a KST wall-clock time "2006-01-02 15:04:05" (seconds optional).
func at(s string) time.Time {
	layout := "2006-01-02 15:04:05"
	if len(s) == len("2006-01-02 15:04") {
		layout = "2006-01-02 15:04"
	}
	t, err := time.ParseInLocation(layout, s, kst)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) holiday.Date {
	d, err := holiday.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func mustHandoff(s string) HandoffTime {
	h, err := ParseHandoff(s)
	if err != nil {
		panic(err)
	}
	return h
}

func mustDays(s string) Days {
	d, err := ParseDays(s)
	if err != nil {
		panic(err)
	}
	return d
}

func mustHours(s string) Hours {
	h, err := ParseHours(s)
	if err != nil {
		panic(err)
	}
	return h
}

// weekly is one layer A, B, C handing off on Mondays at 09:00 from
// 2026-12-07 (a Monday).
func weekly() *Schedule {
	return &Schedule{Name: "ops", Layers: []Layer{{
		Name: "주간", Members: []string{"A", "B", "C"}, Rotation: Weekly,
		Handoff: mustHandoff("mon 09:00"), Start: day("2026-12-07"),
	}}}
}

// dayNight is the brief's example: 야간·휴일 (N1, N2) all the time, and
// above it 주간 (D1, D2) on workdays 09:00-18:00, both weekly on Mondays.
func dayNight() *Schedule {
	return &Schedule{Name: "ops", Layers: []Layer{
		{Name: "야간·휴일", Members: []string{"N1", "N2"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-01-05")},
		{Name: "주간", Members: []string{"D1", "D2"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-01-05"),
			Days: mustDays("workdays"), Hours: mustHours("09:00-18:00")},
	}}
}

type want struct {
	member     string
	start, end string // KST "2006-01-02 15:04"
	override   bool
}

func check(t *testing.T, s *Schedule, when string, w want) {
	t.Helper()
	sh, ok := s.At(at(when))
	if w.member == "" {
		if ok {
			t.Errorf("%s: %s on call, want nobody", when, sh.Member)
		}
		return
	}
	if !ok {
		t.Errorf("%s: nobody on call, want %s", when, w.member)
		return
	}
	got := want{sh.Member, sh.Start.In(kst).Format("2006-01-02 15:04"), sh.End.In(kst).Format("2006-01-02 15:04"), sh.Override}
	if w.start == "" {
		got.start, got.end = "", ""
	}
	if got != w {
		t.Errorf("%s: got %+v, want %+v", when, got, w)
	}
	if !sh.Start.After(at(when)) && sh.End.After(at(when)) {
		return
	}
	t.Errorf("%s: shift %v-%v does not contain it", when, sh.Start, sh.End)
}

func TestWeeklyHandoffAtMonday0900KST(t *testing.T) {
	s := weekly()
	check(t, s, "2026-12-07 09:00:00", want{"A", "2026-12-07 09:00", "2026-12-14 09:00", false})
	check(t, s, "2026-12-14 08:59:59", want{"A", "2026-12-07 09:00", "2026-12-14 09:00", false})
	check(t, s, "2026-12-14 09:00:00", want{"B", "2026-12-14 09:00", "2026-12-21 09:00", false})
	check(t, s, "2026-12-21 09:00:00", want{"C", "2026-12-21 09:00", "2026-12-28 09:00", false})
	check(t, s, "2026-12-28 09:00:00", want{"A", "2026-12-28 09:00", "2027-01-04 09:00", false})
	// The turns run back in time from the anchor too.
	check(t, s, "2026-12-07 08:59:59", want{"C", "2026-11-30 09:00", "2026-12-07 09:00", false})
	// The same instant in UTC (Monday 00:00 UTC) gives the same answer.
	if sh, _ := s.At(time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)); sh.Member != "B" {
		t.Errorf("UTC instant: %s", sh.Member)
	}
	if sh, _ := s.At(time.Date(2026, 12, 13, 23, 59, 59, 999999999, time.UTC)); sh.Member != "A" {
		t.Errorf("UTC instant before: %s", sh.Member)
	}
	// A start that is not a Monday: the first turn begins the Monday after.
	s.Layers[0].Start = day("2026-12-03")
	check(t, s, "2026-12-07 09:00", want{"A", "2026-12-07 09:00", "2026-12-14 09:00", false})
}

func TestDailyAndEveryThreeDays(t *testing.T) {
	s := &Schedule{Name: "d", Layers: []Layer{{Name: "l", Members: []string{"A", "B"}, Rotation: Daily,
		Handoff: mustHandoff("09:00"), Start: day("2026-12-01")}}}
	check(t, s, "2026-12-01 09:00", want{"A", "2026-12-01 09:00", "2026-12-02 09:00", false})
	check(t, s, "2026-12-02 08:59:59", want{"A", "", "", false})
	check(t, s, "2026-12-02 09:00", want{"B", "2026-12-02 09:00", "2026-12-03 09:00", false})
	check(t, s, "2026-12-31 12:00", want{"A", "2026-12-31 09:00", "2027-01-01 09:00", false})

	s.Layers[0].Members = []string{"A", "B", "C"}
	s.Layers[0].Rotation = Every(3)
	check(t, s, "2026-12-04 08:59:59", want{"A", "2026-12-01 09:00", "2026-12-04 09:00", false})
	check(t, s, "2026-12-04 09:00", want{"B", "2026-12-04 09:00", "2026-12-07 09:00", false})
	check(t, s, "2026-12-07 09:00", want{"C", "2026-12-07 09:00", "2026-12-10 09:00", false})
	check(t, s, "2026-12-10 09:00", want{"A", "2026-12-10 09:00", "2026-12-13 09:00", false})
	check(t, s, "2026-11-30 12:00", want{"C", "2026-11-28 09:00", "2026-12-01 09:00", false})
}

// TestWorkdaysLayerOverHolidays: on 설날 2027 (with its substitute), 추석
// 2026, a substitute holiday and a company day off the day layer does not
// apply, so the 야간·휴일 layer has the whole day.
func TestWorkdaysLayerOverHolidays(t *testing.T) {
	s := dayNight()
	s.Holidays = holiday.Default().With(holiday.DayOff{Date: day("2026-12-31")})
	// Turns: weekly from 2026-01-05, N1/D1 in even weeks (2026-08-17, 2026-12-07,
	// 2027-02-01), N2/D2 in odd ones (2026-09-21, 2027-02-08).
	for _, tc := range []struct {
		when, member string
	}{
		{"2027-02-05 10:00", "D1"}, // Friday before 설날: a workday
		{"2027-02-05 18:00", "N1"},
		{"2027-02-08 10:00", "N2"}, // 설날 다음 날 (Monday; the turn changed at 09:00)
		{"2027-02-09 10:00", "N2"}, // 대체공휴일(설날)
		{"2027-02-10 08:59", "N2"},
		{"2027-02-10 09:00", "D2"}, // back to work
		{"2026-09-23 10:00", "D2"}, // the day before 추석 전날
		{"2026-09-23 18:00", "N2"},
		{"2026-09-24 10:00", "N2"}, // 추석 전날
		{"2026-09-25 10:00", "N2"}, // 추석
		{"2026-09-28 10:00", "D1"}, // Monday after (26 was Saturday: no substitute)
		{"2026-08-17 10:00", "N1"}, // 대체공휴일(광복절)
		{"2026-08-18 10:00", "D1"},
		{"2026-12-31 10:00", "N2"}, // company day off
		{"2026-12-30 10:00", "D2"},
		{"2026-12-12 10:00", "N1"}, // Saturday
	} {
		check(t, s, tc.when, want{member: tc.member})
	}
	// The span on 추석: from the evening before to the next workday morning.
	check(t, s, "2026-09-25 10:00", want{"N2", "2026-09-23 18:00", "2026-09-28 09:00", false})
	sh, _ := s.At(at("2026-09-25 10:00"))
	if sh.Layer != "야간·휴일" || sh.LayerIndex != 0 || !sh.TurnStart.Equal(at("2026-09-21 09:00")) || !sh.TurnEnd.Equal(at("2026-09-28 09:00")) {
		t.Errorf("추석 shift: %+v", sh)
	}
}

func TestRestrictionAcrossMidnight(t *testing.T) {
	s := &Schedule{Name: "n", Layers: []Layer{
		{Name: "base", Members: []string{"B"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-12-07")},
		{Name: "night", Members: []string{"N"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-12-07"),
			Days: mustDays("workdays"), Hours: mustHours("18:00-09:00")},
	}}
	for _, tc := range []struct{ when, member string }{
		{"2026-12-11 17:59:59", "B"},
		{"2026-12-11 18:00", "N"},    // Friday night: a workday's night
		{"2026-12-12 08:59:59", "N"}, // Saturday morning still belongs to Friday
		{"2026-12-12 09:00", "B"},
		{"2026-12-12 23:00", "B"}, // Saturday night: not a workday
		{"2026-12-14 03:00", "B"}, // Sunday night
		{"2026-12-14 19:00", "N"},
		{"2026-12-15 08:00", "N"},
		{"2027-02-09 03:00", "B"}, // night of 설날 다음 날 (a holiday)
		{"2027-02-10 03:00", "B"}, // night of the substitute holiday
		{"2027-02-10 19:00", "N"},
	} {
		check(t, s, tc.when, want{member: tc.member})
	}
	check(t, s, "2026-12-12 03:00", want{"N", "2026-12-11 18:00", "2026-12-12 09:00", false})
}

func TestOverrides(t *testing.T) {
	s := weekly()
	s.Overrides = []Override{
		{ID: "1", Member: "X", From: at("2026-12-09 12:00"), To: at("2026-12-10 12:00")}, // inside A's turn
		{ID: "2", Member: "Y", From: at("2026-12-13 20:00"), To: at("2026-12-14 12:00")}, // across the handoff
	}
	check(t, s, "2026-12-09 11:59:59", want{"A", "2026-12-07 09:00", "2026-12-09 12:00", false})
	check(t, s, "2026-12-09 12:00", want{"X", "2026-12-09 12:00", "2026-12-10 12:00", true})
	check(t, s, "2026-12-10 12:00", want{"A", "2026-12-10 12:00", "2026-12-13 20:00", false})
	check(t, s, "2026-12-14 09:00", want{"Y", "2026-12-13 20:00", "2026-12-14 12:00", true})
	check(t, s, "2026-12-14 12:00", want{"B", "2026-12-14 12:00", "2026-12-21 09:00", false})
	if sh, _ := s.At(at("2026-12-14 12:00")); !sh.TurnStart.Equal(at("2026-12-14 09:00")) || sh.OverrideID != "" {
		t.Errorf("B's turn: %+v", sh)
	}
	if sh, _ := s.At(at("2026-12-14 10:00")); sh.OverrideID != "2" || sh.LayerIndex != -1 {
		t.Errorf("override: %+v", sh)
	}
	// A later override beats an earlier one where they overlap.
	s.Overrides = append(s.Overrides, Override{ID: "3", Member: "Z", From: at("2026-12-10 00:00"), To: at("2026-12-10 06:00")})
	check(t, s, "2026-12-09 23:00", want{"X", "2026-12-09 12:00", "2026-12-10 00:00", true})
	check(t, s, "2026-12-10 03:00", want{"Z", "2026-12-10 00:00", "2026-12-10 06:00", true})
	check(t, s, "2026-12-10 07:00", want{"X", "2026-12-10 06:00", "2026-12-10 12:00", true})
	// An override where no layer applies.
	g := &Schedule{Name: "g", Layers: []Layer{{Name: "day", Members: []string{"D"}, Rotation: Daily, Handoff: mustHandoff("09:00"),
		Start: day("2026-12-01"), Hours: mustHours("09:00-18:00")}},
		Overrides: []Override{{Member: "O", From: at("2026-12-08 20:00"), To: at("2026-12-08 22:00")}}}
	check(t, g, "2026-12-08 21:00", want{"O", "2026-12-08 20:00", "2026-12-08 22:00", true})
	check(t, g, "2026-12-08 22:00", want{member: ""})
}

// TestShiftsOverAMonth: the shifts of December 2026 (two layers, overrides,
// a company day off) cover the month without gap or overlap, each is whole,
// neighbours differ, and every 10 minutes At agrees with the list.
func TestShiftsOverAMonth(t *testing.T) {
	s := dayNight()
	s.Holidays = holiday.Default().With(holiday.DayOff{Date: day("2026-12-31")})
	s.Overrides = []Override{
		{ID: "a", Member: "X", From: at("2026-12-13 20:00"), To: at("2026-12-14 12:00")},
		{ID: "b", Member: "D1", From: at("2026-12-24 18:00"), To: at("2026-12-26 09:00")},
	}
	from, to := at("2026-12-01 00:00"), at("2027-01-01 00:00")
	shifts := s.Shifts(from, to)
	if len(shifts) < 40 {
		t.Fatalf("%d shifts", len(shifts))
	}
	if shifts[0].Start.After(from) || shifts[len(shifts)-1].End.Before(to) {
		t.Errorf("not covering: %v .. %v", shifts[0].Start, shifts[len(shifts)-1].End)
	}
	// The first is whole: 12-01 00:00 is in the night layer's span from
	// Monday 11-30 18:00, not cut at from.
	if !shifts[0].Start.Equal(at("2026-11-30 18:00")) {
		t.Errorf("first shift starts %v, want 2026-11-30 18:00 (whole, not cut at from)", shifts[0].Start.In(kst))
	}
	for i, sh := range shifts {
		if !sh.End.After(sh.Start) {
			t.Errorf("empty shift %+v", sh)
		}
		if i == 0 {
			continue
		}
		p := shifts[i-1]
		if !p.End.Equal(sh.Start) {
			t.Errorf("gap or overlap between %v-%v and %v-%v", p.Start, p.End, sh.Start, sh.End)
		}
		if p.Member == sh.Member && p.LayerIndex == sh.LayerIndex && p.TurnStart.Equal(sh.TurnStart) && p.OverrideID == sh.OverrideID {
			t.Errorf("not merged: %+v / %+v", p, sh)
		}
	}
	for tt := from; tt.Before(to); tt = tt.Add(10 * time.Minute) {
		sh, ok := s.At(tt)
		var in Shift
		for _, x := range shifts {
			if !x.Start.After(tt) && x.End.After(tt) {
				in = x
			}
		}
		if !ok || sh != in {
			t.Fatalf("%v: At %+v, list %+v", tt.In(kst), sh, in)
		}
	}
	// Asked for a window inside, a shift keeps its start and end.
	part := s.Shifts(at("2026-12-25 12:00"), at("2026-12-25 13:00"))
	if len(part) != 1 || part[0].Member != "D1" || !part[0].Start.Equal(at("2026-12-24 18:00")) || !part[0].End.Equal(at("2026-12-26 09:00")) {
		t.Errorf("inner window: %+v", part)
	}
	if got := s.Shifts(to, from); got != nil {
		t.Errorf("reversed window: %v", got)
	}
}

func TestNextHandoff(t *testing.T) {
	s := weekly()
	h, ok := s.NextHandoff(at("2026-12-08 10:00"))
	if !ok || !h.At.Equal(at("2026-12-14 09:00")) || h.Outgoing.Member != "A" || h.Incoming.Member != "B" {
		t.Errorf("weekly: %+v", h)
	}
	// At the handoff instant, the next one is a week later.
	if h, _ := s.NextHandoff(at("2026-12-14 09:00")); !h.At.Equal(at("2026-12-21 09:00")) || h.Incoming.Member != "C" {
		t.Errorf("at the handoff: %+v", h)
	}
	// An override is a handoff, and so is its end.
	s.Overrides = []Override{{Member: "X", From: at("2026-12-09 12:00"), To: at("2026-12-10 12:00")}}
	if h, _ := s.NextHandoff(at("2026-12-08 10:00")); !h.At.Equal(at("2026-12-09 12:00")) || h.Outgoing.Member != "A" || h.Incoming.Member != "X" || !h.Incoming.Override {
		t.Errorf("override: %+v", h)
	}
	if h, _ := s.NextHandoff(at("2026-12-09 13:00")); !h.At.Equal(at("2026-12-10 12:00")) || h.Outgoing.Member != "X" || h.Incoming.Member != "A" {
		t.Errorf("override end: %+v", h)
	}
	// The same person staying on through a layer change is no handoff.
	s.Overrides = []Override{{Member: "A", From: at("2026-12-13 09:00"), To: at("2026-12-14 12:00")}}
	if h, _ := s.NextHandoff(at("2026-12-08 10:00")); !h.At.Equal(at("2026-12-14 12:00")) || h.Outgoing.Member != "A" || h.Incoming.Member != "B" {
		t.Errorf("same person: %+v", h)
	}
	// Day and night layers hand off twice a day.
	dn := dayNight()
	if h, _ := dn.NextHandoff(at("2026-12-08 10:00")); !h.At.Equal(at("2026-12-08 18:00")) || h.Outgoing.Member != "D1" || h.Incoming.Member != "N1" {
		t.Errorf("day/night: %+v", h)
	}
	// Gaps: a workdays-only layer hands off to nobody and back.
	g := &Schedule{Name: "g", Layers: []Layer{{Name: "day", Members: []string{"D"}, Rotation: Daily, Handoff: mustHandoff("09:00"),
		Start: day("2026-12-01"), Days: mustDays("workdays"), Hours: mustHours("09:00-18:00")}}}
	if h, _ := g.NextHandoff(at("2026-12-11 10:00")); !h.At.Equal(at("2026-12-11 18:00")) || h.Outgoing.Member != "D" || h.Incoming.Member != "" {
		t.Errorf("to nobody: %+v", h)
	}
	if h, _ := g.NextHandoff(at("2026-12-11 19:00")); !h.At.Equal(at("2026-12-14 09:00")) || h.Outgoing.Member != "" || h.Incoming.Member != "D" {
		t.Errorf("from nobody: %+v", h)
	}
	// One member, no restriction: no handoff ever.
	one := &Schedule{Name: "1", Layers: []Layer{{Name: "l", Members: []string{"A"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-12-07")}}}
	if h, ok := one.NextHandoff(at("2026-12-08 10:00")); ok {
		t.Errorf("one member: %+v", h)
	}
}

func TestNextInRotationAndMembers(t *testing.T) {
	s := weekly()
	if m, ok := s.NextInRotation(at("2026-12-08 10:00")); !ok || m != "B" {
		t.Errorf("next after A: %q %v", m, ok)
	}
	if m, _ := s.NextInRotation(at("2026-12-22 10:00")); m != "A" {
		t.Errorf("next after C: %q", m)
	}
	// B covers A's turn: the next is C, not B again.
	s.Overrides = []Override{{Member: "B", From: at("2026-12-08 00:00"), To: at("2026-12-09 00:00")}}
	if m, _ := s.NextInRotation(at("2026-12-08 10:00")); m != "C" {
		t.Errorf("next with B covering: %q", m)
	}
	dn := dayNight()
	if m, _ := dn.NextInRotation(at("2026-12-08 10:00")); m != "D2" {
		t.Errorf("day layer: %q", m)
	}
	if m, _ := dn.NextInRotation(at("2026-12-08 20:00")); m != "N2" {
		t.Errorf("night layer: %q", m)
	}
	one := &Schedule{Name: "1", Layers: []Layer{{Name: "l", Members: []string{"A"}, Rotation: Weekly, Handoff: mustHandoff("mon 09:00"), Start: day("2026-12-07")}}}
	if m, ok := one.NextInRotation(at("2026-12-08 10:00")); ok {
		t.Errorf("one member: %q", m)
	}
	if got := strings.Join(dn.Members(), ","); got != "N1,N2,D1,D2" {
		t.Errorf("members: %s", got)
	}
}

// TestDaylightSavingTime: nothing assumes KST's fixed offset: in New York a
// daily 09:00 handoff stays at 09:00 across the spring change (a 23-hour
// turn).
func TestDaylightSavingTime(t *testing.T) {
	ny := mustLoad("America/New_York")
	s := &Schedule{Name: "ny", Location: ny, Layers: []Layer{{Name: "l", Members: []string{"A", "B"}, Rotation: Daily,
		Handoff: mustHandoff("09:00"), Start: day("2026-03-01")}}}
	sh, _ := s.At(time.Date(2026, 3, 8, 8, 0, 0, 0, ny))
	if sh.Member != "A" || !sh.Start.Equal(time.Date(2026, 3, 7, 9, 0, 0, 0, ny)) || sh.End.Sub(sh.Start) != 23*time.Hour {
		t.Errorf("%+v (%v)", sh, sh.End.Sub(sh.Start))
	}
	if sh, _ := s.At(time.Date(2026, 3, 8, 9, 0, 0, 0, ny)); sh.Member != "B" {
		t.Errorf("after the change: %+v", sh)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"09:00", "mon 09:00", "Monday 9:05", "월 09:00", "sun 23:59"} {
		if _, err := ParseHandoff(s); err != nil {
			t.Errorf("ParseHandoff(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "9", "24:00", "mon", "xyz 09:00", "mon 09:00 x", "09:60", "9:5"} {
		if _, err := ParseHandoff(s); err == nil {
			t.Errorf("ParseHandoff(%q) accepted", s)
		}
	}
	for _, s := range []string{"", "09:00-18:00", "18:00-09:00", "00:00-24:00", "09:00-09:00"} {
		if _, err := ParseHours(s); err != nil {
			t.Errorf("ParseHours(%q): %v", s, err)
		}
	}
	for _, s := range []string{"9", "09:00", "09:00-25:00", "24:00-09:00", "a-b"} {
		if _, err := ParseHours(s); err == nil {
			t.Errorf("ParseHours(%q) accepted", s)
		}
	}
	cal := holiday.Default()
	for _, tc := range []struct {
		days, date string
		want       bool
	}{
		{"", "2026-12-12", true},
		{"workdays", "2026-12-11", true},
		{"workdays", "2026-12-12", false},
		{"workdays", "2026-09-25", false},
		{"offdays", "2026-09-25", true},
		{"offdays", "2026-12-13", true},
		{"offdays", "2026-12-14", false},
		{"weekdays", "2026-09-25", true},
		{"weekends", "2026-09-26", true},
		{"holidays", "2026-09-26", true},
		{"holidays", "2026-12-12", false},
		{"mon-fri", "2026-12-11", true},
		{"fri-mon", "2026-12-13", true},
		{"fri-mon", "2026-12-15", false},
		{"sat, sun, holidays", "2026-08-17", true},
		{"tue,thu", "2026-12-10", true},
	} {
		d, err := ParseDays(tc.days)
		if err != nil {
			t.Errorf("ParseDays(%q): %v", tc.days, err)
			continue
		}
		if got := d.Match(day(tc.date), cal); got != tc.want {
			t.Errorf("%q on %s: %v", tc.days, tc.date, got)
		}
	}
	for _, s := range []string{"workday", "mon-xyz", "mon,,tue"} {
		if _, err := ParseDays(s); err == nil {
			t.Errorf("ParseDays(%q) accepted", s)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := dayNight().Validate(); err != nil {
		t.Fatal(err)
	}
	s := &Schedule{Layers: []Layer{
		{Members: nil, Rotation: Every(3), Handoff: mustHandoff("mon 09:00")},
		{Members: []string{"", "group:"}, Rotation: Every(0), Start: day("2026-12-07")},
	}, Overrides: []Override{{Member: "X", From: at("2026-12-10 00:00"), To: at("2026-12-09 00:00")}}}
	err := s.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"name: required", "layers[0].members: at least one", "layers[0].rotation: a handoff on a weekday", "layers[0].start: required",
		"layers[1].members[0]: empty member", "layers[1].members[1]: group name missing", "layers[1].rotation: a turn must last", "overrides[0]: to "} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

func TestUsesHolidays(t *testing.T) {
	if weekly().UsesHolidays() || !dayNight().UsesHolidays() {
		t.Error("UsesHolidays")
	}
}

// BenchmarkAt: resolving oncall:NAME at send time on the day/night
// schedule with two overrides.
func BenchmarkAt(b *testing.B) {
	s := dayNight()
	s.Overrides = []Override{
		{Member: "X", From: at("2026-12-13 20:00"), To: at("2026-12-14 12:00")},
		{Member: "Y", From: at("2026-12-24 18:00"), To: at("2026-12-26 09:00")},
	}
	t0 := at("2026-12-01 00:00")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.At(t0.Add(time.Duration(i%4464) * 10 * time.Minute))
	}
}

// BenchmarkShiftsMonth: a month's calendar.
func BenchmarkShiftsMonth(b *testing.B) {
	s := dayNight()
	b.ReportAllocs()
	for b.Loop() {
		s.Shifts(at("2026-12-01 00:00"), at("2027-01-01 00:00"))
	}
}
