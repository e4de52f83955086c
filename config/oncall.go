package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
)

// OncallSchedules builds the schedules of the oncall section, in the
// configured timezone, with the built-in Korean holidays plus
// oncall.days_off. The error is the same Errors Validate reports for the
// section (key paths like oncall.schedules[0].layers[1].handoff), and then
// no schedules. The schedules have no overrides (the store keeps those):
// to ask with overrides, copy a schedule (a shallow copy is enough) and set
// its Overrides.
func (c *Config) OncallSchedules() ([]*oncall.Schedule, error) {
	v := &validator{}
	out := c.buildOncall(v)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return out, nil
}

// OncallHolidays returns the holiday calendar the schedules use: the
// built-in table plus oncall.days_off (the valid ones).
func (c *Config) OncallHolidays() *holiday.Calendar {
	return c.oncallHolidays(&validator{})
}

func (c *Config) oncallHolidays(v *validator) *holiday.Calendar {
	var off []holiday.DayOff
	for i, s := range c.Oncall.DaysOff {
		p := joinIndex("oncall.days_off", i)
		date, name, _ := strings.Cut(strings.TrimSpace(s), " ")
		d, err := holiday.ParseDate(date)
		if err != nil {
			v.add(p, "invalid day off %q (want YYYY-MM-DD, optionally followed by a name)", s)
			continue
		}
		off = append(off, holiday.DayOff{Date: d, Name: strings.TrimSpace(name)})
	}
	return holiday.Default().With(off...)
}

// validateOncall reports the problems of the oncall section.
func (c *Config) validateOncall(v *validator) { c.buildOncall(v) }

func (c *Config) buildOncall(v *validator) []*oncall.Schedule {
	loc := c.Location()
	cal := c.oncallHolidays(v)
	names := map[string]bool{}
	var out []*oncall.Schedule
	for i, sc := range c.Oncall.Schedules {
		path := joinIndex("oncall.schedules", i)
		switch {
		case strings.TrimSpace(sc.Name) == "":
			v.add(path+".name", "required")
		case strings.ContainsAny(sc.Name, " ,:/?#%\t\r\n"):
			v.add(path+".name", "invalid name %q (no spaces, commas, colons or slashes: it is written oncall:NAME)", sc.Name)
		case names[sc.Name]:
			v.add(path+".name", "duplicate %q", sc.Name)
		}
		names[sc.Name] = true
		s := &oncall.Schedule{Name: sc.Name, Location: loc, Holidays: cal}
		if len(sc.Layers) == 0 {
			v.add(path+".layers", "at least one layer is required")
		}
		for j, l := range sc.Layers {
			s.Layers = append(s.Layers, buildLayer(v, joinIndex(path+".layers", j), j, l))
		}
		out = append(out, s)
	}
	return out
}

func buildLayer(v *validator, path string, index int, l OncallLayer) oncall.Layer {
	ol := oncall.Layer{Name: strings.TrimSpace(l.Name), Members: l.Members}
	if ol.Name == "" {
		ol.Name = fmt.Sprintf("순번 %d", index+1)
	}
	if len(l.Members) == 0 {
		v.add(path+".members", "at least one member is required (contact names, phone numbers or group:NAME)")
	}
	for k, m := range l.Members {
		p := joinIndex(path+".members", k)
		if err := oncall.ValidMember(m); err != nil {
			v.add(p, "%v", err)
		} else if t := strings.TrimSpace(m); t[0] == '+' || (t[0] >= '0' && t[0] <= '9') {
			if err := checkPhone(m); err != nil {
				v.add(p, "%v", err)
			}
		}
	}
	var err error
	ol.Handoff, err = oncall.ParseHandoff(l.Handoff)
	if strings.TrimSpace(l.Handoff) == "" {
		v.add(path+".handoff", `required (e.g. "mon 09:00" for weekly turns, "09:00" for daily ones)`)
	} else if err != nil {
		v.add(path+".handoff", "%v", err)
	}
	switch strings.TrimSpace(l.Rotation) {
	case "daily":
		ol.Rotation = oncall.Daily
	case "weekly":
		ol.Rotation = oncall.Weekly
	case "every":
		d := l.Every.D()
		if d < 24*time.Hour || d%(24*time.Hour) != 0 {
			v.add(path+".every", "must be whole days, at least 1d (e.g. 3d), with rotation: every")
		} else {
			ol.Rotation = oncall.Every(int(d / (24 * time.Hour)))
		}
	case "":
		v.add(path+".rotation", "required (daily, weekly or every)")
	default:
		v.add(path+".rotation", "must be daily, weekly or every, not %q", l.Rotation)
	}
	if l.Every != 0 && strings.TrimSpace(l.Rotation) != "every" {
		v.add(path+".every", "only with rotation: every")
	}
	if ol.Rotation.Days > 0 && err == nil && ol.Handoff.HasWeekday && ol.Rotation.Days%7 != 0 {
		v.add(path+".handoff", "a weekday (%s) needs turns of whole weeks; write only the time, e.g. \"09:00\"", ol.Handoff)
	}
	if ol.Rotation.Days > 366 {
		v.add(path+".every", "must not be longer than 366d")
	}
	if strings.TrimSpace(l.Start) == "" {
		v.add(path+".start", "required (YYYY-MM-DD: members[0] takes over at the first handoff on or after it)")
	} else if ol.Start, err = holiday.ParseDate(strings.TrimSpace(l.Start)); err != nil {
		v.add(path+".start", "%v", err)
	}
	if ol.Days, err = oncall.ParseDays(l.When.Days); err != nil {
		v.add(path+".when.days", "%v", err)
	}
	if ol.Hours, err = oncall.ParseHours(l.When.Hours); err != nil {
		v.add(path+".when.hours", "%v", err)
	}
	return ol
}
