package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/store"
)

// The on-call page (/oncall): per schedule who is on call now and next, a
// calendar of four weeks (Monday to Sunday rows, Korean holidays marked),
// the overrides, and a form to add one. Overrides are made and removed by
// operators; the roster keeps and audits them.

// calendarWeeks is how many weeks the page's calendar shows.
const calendarWeeks = 4

// onCallConfigured reports whether there are schedules to show.
func (c *Console) onCallConfigured() bool {
	return c.opt.OnCall != nil && len(c.opt.OnCall.Names()) > 0
}

type oncallData struct {
	Configured bool
	Schedules  []scheduleView
}

type scheduleView struct {
	Name    string
	Now     nowView
	Members []memberOption
	Weeks   [][]calDay
	Layers  []string // layer names, for the calendar's legend
	Over    []overrideRow
	Form    overrideForm
	Errs    formErrs
}

// nowView is who is on call on a schedule now, and who comes next.
type nowView struct {
	Schedule string
	OnCall   bool
	Who      string
	Phones   string
	Since    time.Time
	Until    time.Time
	Layer    string
	Override bool
	NextAt   time.Time
	NextWho  string // "" with a NextAt: nobody from then
}

type memberOption struct{ Value, Label string }

type calDay struct {
	Date    string // 12/07
	Weekday string // Mon … Sun, a catalog key after "weekday."
	Holiday string
	Today   bool
	Off     bool // Saturday, Sunday or a holiday
	Entries []calEntry
}

type calEntry struct {
	Who      string
	Hours    string // "09:00–18:00"; "" all day
	Layer    int    // index for the colour; -1 for an override
	Override bool
}

type overrideRow struct {
	ID, Who, Note, By string
	From, To          time.Time
	Current           bool
}

// overrideForm is the add form as typed (kept on an error).
type overrideForm struct {
	Member, Other                      string
	FromDate, FromTime, ToDate, ToTime string
	Note                               string
}

func (c *Console) oncallPage(w http.ResponseWriter, r *http.Request, q *request) {
	d, err := c.oncallData(r.Context(), q.Lang, "", overrideForm{}, nil)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.render(w, r, q, "oncall", "oncall.title", "oncall", d)
}

// oncallData builds the page; form and errs go to schedule errFor.
func (c *Console) oncallData(ctx context.Context, lang, errFor string, form overrideForm, errs formErrs) (oncallData, error) {
	if !c.onCallConfigured() {
		return oncallData{}, nil
	}
	ro := c.opt.OnCall
	now := c.opt.Now().In(c.loc)
	d := oncallData{Configured: true}
	def := c.overrideDefaults(now)
	for _, name := range ro.Names() {
		v := scheduleView{Name: name, Form: def}
		if name == errFor {
			v.Form, v.Errs = form, errs
		}
		var err error
		if v.Now, err = c.nowView(ctx, name, now); err != nil {
			return d, err
		}
		s, err := ro.Schedule(ctx, name)
		if err != nil {
			return d, err
		}
		for _, m := range s.Members() {
			v.Members = append(v.Members, memberOption{Value: m, Label: ro.DisplayName(ctx, m)})
		}
		for _, l := range s.Layers {
			v.Layers = append(v.Layers, l.Name)
		}
		v.Weeks = c.calendar(ctx, ro, s, now)
		ovs, err := ro.Overrides(ctx, name)
		if err != nil {
			return d, err
		}
		for i := len(ovs) - 1; i >= 0; i-- { // newest first
			o := ovs[i]
			if !o.To.After(now.Add(-7 * 24 * time.Hour)) {
				continue // long over
			}
			v.Over = append(v.Over, overrideRow{ID: o.ID, Who: ro.DisplayName(ctx, o.Member), Note: o.Note,
				By: c.actorLabel(lang, o.CreatedBy), From: o.From, To: o.To, Current: !o.From.After(now) && o.To.After(now)})
		}
		d.Schedules = append(d.Schedules, v)
	}
	return d, nil
}

func (c *Console) nowView(ctx context.Context, name string, now time.Time) (nowView, error) {
	st, err := c.opt.OnCall.Now(ctx, name, now)
	if err != nil {
		return nowView{}, err
	}
	v := nowView{Schedule: name, OnCall: st.OnCall}
	if st.OnCall {
		v.Who, v.Since, v.Until, v.Layer, v.Override = st.Name, st.Shift.Start, st.Shift.End, st.Shift.Layer, st.Shift.Override
		ps := make([]string, len(st.Phones))
		for i, p := range st.Phones {
			ps[i] = p.Display()
		}
		v.Phones = strings.Join(ps, ", ")
		if strings.Contains(v.Who, v.Phones) {
			v.Phones = "" // "name (phone)" already
		}
	}
	if !st.Next.At.IsZero() {
		v.NextAt, v.NextWho = st.Next.At, st.NextName
	}
	return v, nil
}

// onCallNow is the dashboard's card: who is on call now on each schedule.
func (c *Console) onCallNow(ctx context.Context) []nowView {
	if !c.onCallConfigured() {
		return nil
	}
	var out []nowView
	for _, name := range c.opt.OnCall.Names() {
		v, err := c.nowView(ctx, name, c.opt.Now())
		if err != nil {
			c.opt.Log.Warn("console: on-call status", "schedule", name, "err", err)
			continue
		}
		out = append(out, v)
	}
	return out
}

// calendar lays the schedule's shifts over calendarWeeks weeks from this
// week's Monday, one entry per shift and day.
func (c *Console) calendar(ctx context.Context, ro *roster.Roster, s *oncall.Schedule, now time.Time) [][]calDay {
	today := holiday.DateOf(now)
	first := today.AddDays(-((int(today.Weekday()) + 6) % 7)) // Monday
	from := first.In(c.loc, 0, 0)
	to := first.AddDays(7*calendarWeeks).In(c.loc, 0, 0)
	shifts := s.Shifts(from, to)
	names := map[string]string{}
	who := func(m string) string {
		if n, ok := names[m]; ok {
			return n
		}
		n := ro.DisplayName(ctx, m)
		names[m] = n
		return n
	}
	weeks := make([][]calDay, calendarWeeks)
	for i := range 7 * calendarWeeks {
		d := first.AddDays(i)
		start, end := d.In(c.loc, 0, 0), d.AddDays(1).In(c.loc, 0, 0)
		day := calDay{Date: start.Format("1/2"), Weekday: start.Format("Mon"), Today: d == today}
		if name, ok := holiday.Default().IsHolidayDate(d); ok {
			day.Holiday, day.Off = name, true
		}
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			day.Off = true
		}
		for _, sh := range shifts {
			if !sh.Start.Before(end) || !sh.End.After(start) {
				continue
			}
			e := calEntry{Who: who(sh.Member), Layer: sh.LayerIndex, Override: sh.Override}
			if sh.Override {
				e.Layer = -1
			}
			if sh.Start.After(start) || sh.End.Before(end) {
				a, b := sh.Start, sh.End
				if a.Before(start) {
					a = start
				}
				if b.After(end) {
					b = end
				}
				hb := b.In(c.loc).Format("15:04")
				if b.Equal(end) {
					hb = "24:00"
				}
				e.Hours = a.In(c.loc).Format("15:04") + "–" + hb
			}
			day.Entries = append(day.Entries, e)
		}
		weeks[i/7] = append(weeks[i/7], day)
	}
	return weeks
}

// overrideDefaults prefill the add form: from the next full hour, for a day.
func (c *Console) overrideDefaults(now time.Time) overrideForm {
	from := now.Truncate(time.Hour).Add(time.Hour)
	to := from.Add(24 * time.Hour)
	return overrideForm{FromDate: from.Format("2006-01-02"), FromTime: from.Format("15:04"),
		ToDate: to.Format("2006-01-02"), ToTime: to.Format("15:04")}
}

// decodeOverrideForm reads the add form: the member picked or typed,
// from and to as date and time in the configured zone.
func decodeOverrideForm(v url.Values, loc *time.Location, now time.Time, tr trFunc) (overrideForm, roster.StoredOverride, formErrs) {
	errs := formErrs{}
	f := overrideForm{Member: strings.TrimSpace(v.Get("member")), Other: strings.TrimSpace(v.Get("member_other")),
		FromDate: strings.TrimSpace(v.Get("from_date")), FromTime: strings.TrimSpace(v.Get("from_time")),
		ToDate: strings.TrimSpace(v.Get("to_date")), ToTime: strings.TrimSpace(v.Get("to_time"))}
	f.Note = line(v, "note", 200, false, errs, tr)
	o := roster.StoredOverride{Member: f.Member, Note: f.Note}
	if f.Other != "" {
		o.Member = f.Other
	}
	switch {
	case o.Member == "":
		errs.set("member", tr("err.required"))
	case oncall.ValidMember(o.Member) != nil || utf8.RuneCountInString(o.Member) > 100:
		errs.set("member", tr("err.oncall_member_format"))
	}
	at := func(field, date, clock string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
		if err != nil {
			errs.set(field, tr("err.at_format"))
		}
		return t
	}
	o.From, o.To = at("from", f.FromDate, f.FromTime), at("to", f.ToDate, f.ToTime)
	switch {
	case errs["from"] != "" || errs["to"] != "":
	case !o.To.After(o.From):
		errs.set("to", tr("err.oncall_to_before"))
	case o.To.Sub(o.From) > roster.MaxOverride:
		errs.set("to", tr("err.oncall_too_long"))
	case !o.To.After(now):
		errs.set("to", tr("err.until_past"))
	}
	return f, o, errs
}

func (c *Console) overrideCreate(w http.ResponseWriter, r *http.Request, q *request) {
	if !c.onCallConfigured() {
		c.fail(w, r, q, http.StatusNotFound, "err.oncall_none")
		return
	}
	name := r.PathValue("name")
	now := c.opt.Now()
	tr := c.tr(q.Lang)
	f, o, errs := decodeOverrideForm(r.PostForm, c.loc, now, tr)
	if len(errs) == 0 {
		_, err := c.opt.OnCall.AddOverride(r.Context(), name, o, q.actor(), now)
		var oe *roster.OverrideError
		switch {
		case errors.Is(err, roster.ErrNoSchedule):
			c.fail(w, r, q, http.StatusNotFound, "err.not_found")
			return
		case errors.As(err, &oe) && oe.Field == "member":
			errs.set("member", tr("err.oncall_member", o.Member))
		case errors.As(err, &oe):
			errs.set(oe.Field, tr("err.bad_value"))
		case err != nil:
			c.internal(w, r, q, err)
			return
		default:
			redirect(w, r, "/oncall", "override_added")
			return
		}
	}
	d, err := c.oncallData(r.Context(), q.Lang, name, f, errs)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.renderStatus(w, r, q, http.StatusUnprocessableEntity, "oncall", "oncall.title", "oncall", d)
}

func (c *Console) overrideDelete(w http.ResponseWriter, r *http.Request, q *request) {
	if !c.onCallConfigured() {
		c.fail(w, r, q, http.StatusNotFound, "err.oncall_none")
		return
	}
	err := c.opt.OnCall.DeleteOverride(r.Context(), r.PathValue("name"), r.PathValue("id"), q.actor(), c.opt.Now())
	switch {
	case errors.Is(err, roster.ErrNoSchedule), errors.Is(err, store.ErrNotFound):
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	case err != nil:
		c.internal(w, r, q, err)
		return
	}
	redirect(w, r, "/oncall", "override_deleted")
}
