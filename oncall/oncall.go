// Package oncall computes who is on call (당직자) from a schedule: layers of
// members taking turns (daily, weekly or every N days, handing off at a time
// of day), each optionally restricted to some days and hours (workdays,
// offdays, holidays, "18:00-09:00" …), with overrides where someone covers a
// range of time. It is pure: no store, no clock, no network; every query
// takes the time it is about, and all calendar arithmetic is done in the
// schedule's *time.Location (Asia/Seoul by default), by calendar days, so a
// zone with daylight saving time keeps handoffs at their wall-clock time.
//
// Precedence, like PagerDuty: an override beats every layer; among layers
// a later one beats an earlier one wherever it applies. Where no layer
// applies and no override covers, nobody is on call.
//
// Members are kept as written in the config (a contact's name, a phone
// number, group:NAME): turning them into phone numbers is the caller's.
//
// Holidays come from package holiday (the built-in Korean table plus
// company days off).
package oncall

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Asia/Seoul on hosts without /usr/share/zoneinfo

	"github.com/munja-sms/munja/holiday"
)

// DefaultZone is the location used when a Schedule has none.
const DefaultZone = "Asia/Seoul"

// Schedule is one on-call schedule. Build it, Validate it, then treat it
// as read-only: its methods are safe for concurrent use.
type Schedule struct {
	Name      string
	Layers    []Layer
	Overrides []Override
	// Location for handoff times, hours and dates; nil = Asia/Seoul.
	Location *time.Location
	// Holidays for the workdays/offdays/holidays restrictions; nil = the
	// built-in Korean table (holiday.Default()).
	Holidays *holiday.Calendar
}

// Layer is one rotation: Members take turns, one shift each of
// Rotation.Days days, handing off at Handoff. Start anchors the turns:
// Members[0] takes over at the first handoff on or after Start (for a
// weekly handoff "mon 09:00", the first Monday on or after Start), and the
// turns run on in both directions of time from there. When and Hours
// restrict where the layer applies; outside them the layers below (or
// nobody) are on call, and the turn keeps counting.
type Layer struct {
	Name     string
	Members  []string
	Rotation Rotation
	Handoff  HandoffTime
	Start    holiday.Date
	Days     Days  // zero: every day
	Hours    Hours // zero: all day; a window past midnight belongs to the day it starts
}

// Rotation is the length of one turn in calendar days: 1 (daily), 7
// (weekly) or any N.
type Rotation struct{ Days int }

var (
	Daily  = Rotation{Days: 1}
	Weekly = Rotation{Days: 7}
)

// Every returns a rotation of n days.
func Every(n int) Rotation { return Rotation{Days: n} }

// Override puts Member on call for [From, To), above every layer. Where
// overrides overlap, the later one in Schedule.Overrides wins.
type Override struct {
	ID     string // the caller's id (a store row); kept in Shift.OverrideID
	Member string
	From   time.Time
	To     time.Time
}

// Shift is a contiguous span of time with one person on call.
type Shift struct {
	Member string
	// Layer is the name of the layer, and LayerIndex its index, that put
	// Member on call; empty and -1 for an override.
	Layer      string
	LayerIndex int
	Start, End time.Time // [Start, End), in the schedule's location
	Override   bool
	OverrideID string
	// Turn is the layer's whole turn this span belongs to, handoff to
	// handoff ("12/08 09:00 ~ 12/15 09:00" in a handoff notice); it equals
	// [Start, End) for an unrestricted layer and is zero for an override.
	TurnStart, TurnEnd time.Time
}

// Handoff is a change of who is on call.
type Handoff struct {
	At       time.Time
	Outgoing Shift // zero Member: nobody was on call
	Incoming Shift // zero Member: nobody is on call from At
}

// Validate reports every problem of s, naming the field, e.g.
// "layers[1].members: required".
func (s *Schedule) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(s.Name) == "" {
		add("name: required")
	}
	if len(s.Layers) == 0 {
		add("layers: at least one layer is required")
	}
	for i, l := range s.Layers {
		p := fmt.Sprintf("layers[%d]", i)
		if len(l.Members) == 0 {
			add("%s.members: at least one member is required", p)
		}
		for j, m := range l.Members {
			if err := ValidMember(m); err != nil {
				add("%s.members[%d]: %v", p, j, err)
			}
		}
		if err := l.Rotation.validate(l.Handoff); err != nil {
			add("%s.rotation: %v", p, err)
		}
		if l.Start.IsZero() {
			add("%s.start: required", p)
		}
	}
	for i, o := range s.Overrides {
		if err := o.Validate(); err != nil {
			add("overrides[%d]: %v", i, err)
		}
	}
	return errors.Join(errs...)
}

func (r Rotation) validate(h HandoffTime) error {
	switch {
	case r.Days < 1:
		return fmt.Errorf("a turn must last at least one day")
	case r.Days > 366:
		return fmt.Errorf("a turn of %d days is longer than a year", r.Days)
	case h.HasWeekday && r.Days%7 != 0:
		return fmt.Errorf("a handoff on a weekday (%s) needs turns of whole weeks, not %d days", h, r.Days)
	}
	return nil
}

// ValidMember checks a member as written: not empty, no comma, no line break.
func ValidMember(m string) error {
	switch {
	case strings.TrimSpace(m) == "":
		return fmt.Errorf("empty member")
	case strings.ContainsAny(m, ",\r\n"):
		return fmt.Errorf("invalid member %q (one name, phone number or group:NAME)", m)
	case strings.HasPrefix(m, "group:") && strings.TrimSpace(m[len("group:"):]) == "":
		return fmt.Errorf("group name missing after \"group:\"")
	}
	return nil
}

// Validate checks one override (for the API and the console).
func (o Override) Validate() error {
	if err := ValidMember(o.Member); err != nil {
		return fmt.Errorf("member: %w", err)
	}
	if o.From.IsZero() || o.To.IsZero() {
		return fmt.Errorf("from and to are required")
	}
	if !o.To.After(o.From) {
		return fmt.Errorf("to (%s) must be after from (%s)", o.To.Format(time.RFC3339), o.From.Format(time.RFC3339))
	}
	return nil
}

// UsesHolidays reports whether a layer's days depend on holidays: then
// munja should warn before the holiday table runs out (holiday.Covered
// of a date some weeks ahead).
func (s *Schedule) UsesHolidays() bool {
	for _, l := range s.Layers {
		if l.Days.UsesHolidays() {
			return true
		}
	}
	return false
}

// Members returns every member of every layer, each once, in the order
// they first appear (an escalation step to "the whole group").
func (s *Schedule) Members() []string {
	var out []string
	for _, l := range s.Layers {
		for _, m := range l.Members {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (s *Schedule) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return seoul()
}

func (s *Schedule) cal() *holiday.Calendar {
	if s.Holidays != nil {
		return s.Holidays
	}
	return holiday.Default()
}

// seoul is loaded on first use: every munja command links this package.
var seoul = sync.OnceValue(func() *time.Location { return mustLoad(DefaultZone) })

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	return loc
}
