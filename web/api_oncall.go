package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/oncall/roster"
)

// On-call: who is on call now on each schedule, a schedule's shifts and
// overrides, overrides made and removed by operators (scope send; the
// roster audits them), and an iCalendar feed per schedule for calendar
// apps, which cannot send headers: the feed also takes the token as
// ?token=. Nothing in the web package logs a request's query, so the token
// is not written to the logs.

// Ranges of GET /api/v1/oncall/{name} and of the calendar feed.
const (
	onCallDefaultRange = 28 * 24 * time.Hour
	onCallMaxRange     = 366 * 24 * time.Hour
	icsBefore          = 7 * 24 * time.Hour
	icsAfter           = 90 * 24 * time.Hour
)

func (s *Server) oncallRoutes() {
	s.api("GET /api/v1/oncall", "read", s.listOnCall)
	// GET /api/v1/oncall/{name}.ics shares the mux pattern of
	// GET /api/v1/oncall/{name} (a wildcard is a whole path segment), so
	// both are registered by hand; Routes lists both.
	s.routes = append(s.routes,
		Route{Pattern: "GET /api/v1/oncall/{name}", Scope: auth.ScopeRead},
		Route{Pattern: "GET /api/v1/oncall/{name}.ics", Scope: auth.ScopeRead})
	s.mux.HandleFunc("GET /api/v1/oncall/{name}", func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutSuffix(r.PathValue("name"), ".ics"); ok {
			s.onCallICS(w, r, name)
			return
		}
		s.serveAPI(w, r, auth.ScopeRead, s.getOnCall)
	})
	s.api("POST /api/v1/oncall/{name}/overrides", "send", s.addOverride)
	s.api("DELETE /api/v1/oncall/{name}/overrides/{id}", "send", s.deleteOverride)
}

// roster returns the on-call roster, or answers 404 and returns nil when
// no schedules are configured.
func (s *Server) roster(w http.ResponseWriter) *roster.Roster {
	if s.opt.OnCall == nil || len(s.opt.OnCall.Names()) == 0 {
		writeError(w, s.opt.Log, &apiError{status: http.StatusNotFound, msg: "no on-call schedules configured (oncall.schedules in the config)"})
		return nil
	}
	return s.opt.OnCall
}

// onCallError maps the roster's errors: an unknown schedule is 404, a
// refused override 400 naming the field.
func onCallError(name string, err error) error {
	var oe *roster.OverrideError
	switch {
	case errors.Is(err, roster.ErrNoSchedule):
		return &apiError{status: http.StatusNotFound, field: "name", msg: "no on-call schedule named " + name}
	case errors.As(err, &oe):
		return badRequest(oe.Field, oe.Field+": "+oe.Msg)
	}
	return err
}

type shiftJSON struct {
	Member     string     `json:"member"`
	Name       string     `json:"name"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	Layer      string     `json:"layer,omitempty"`
	Override   bool       `json:"override"`
	OverrideID string     `json:"override_id,omitempty"`
	TurnStart  *time.Time `json:"turn_start,omitempty"`
	TurnEnd    *time.Time `json:"turn_end,omitempty"`
}

type nextJSON struct {
	At     time.Time `json:"at"`
	Member string    `json:"member,omitempty"` // empty: nobody is on call from At
	Name   string    `json:"name,omitempty"`
}

type onCallJSON struct {
	Schedule string     `json:"schedule"`
	OnCall   bool       `json:"on_call"`
	Member   string     `json:"member,omitempty"`
	Name     string     `json:"name,omitempty"`
	Shift    *shiftJSON `json:"shift,omitempty"`
	Next     *nextJSON  `json:"next,omitempty"`
}

type overrideJSON struct {
	ID        string    `json:"id"`
	Schedule  string    `json:"schedule"`
	Member    string    `json:"member"`
	Name      string    `json:"name"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// names caches DisplayName within one request (a month of daily shifts
// names the same few people).
type names struct {
	ctx context.Context
	r   *roster.Roster
	m   map[string]string
}

func (n *names) of(member string) string {
	if v, ok := n.m[member]; ok {
		return v
	}
	if n.m == nil {
		n.m = map[string]string{}
	}
	v := n.r.DisplayName(n.ctx, member)
	n.m[member] = v
	return v
}

func (s *Server) shiftJSON(sh oncall.Shift, nm *names) *shiftJSON {
	out := &shiftJSON{Member: sh.Member, Name: nm.of(sh.Member), Start: sh.Start.In(s.opt.Location), End: sh.End.In(s.opt.Location),
		Layer: sh.Layer, Override: sh.Override, OverrideID: sh.OverrideID}
	if !sh.TurnStart.IsZero() {
		ts, te := sh.TurnStart.In(s.opt.Location), sh.TurnEnd.In(s.opt.Location)
		out.TurnStart, out.TurnEnd = &ts, &te
	}
	return out
}

func (s *Server) overrideJSON(o roster.StoredOverride, nm *names) overrideJSON {
	return overrideJSON{ID: o.ID, Schedule: o.Schedule, Member: o.Member, Name: nm.of(o.Member),
		From: o.From.In(s.opt.Location), To: o.To.In(s.opt.Location), Note: o.Note,
		CreatedBy: o.CreatedBy, CreatedAt: localTime(o.CreatedAt, s.opt.Location)}
}

func (s *Server) listOnCall(w http.ResponseWriter, r *http.Request, _ Caller) {
	ro := s.roster(w)
	if ro == nil {
		return
	}
	sts, err := ro.All(r.Context(), s.opt.Now())
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	nm := &names{ctx: r.Context(), r: ro}
	out := make([]onCallJSON, 0, len(sts))
	for _, st := range sts {
		j := onCallJSON{Schedule: st.Schedule, OnCall: st.OnCall}
		if st.OnCall {
			j.Member, j.Name = st.Shift.Member, st.Name
			j.Shift = s.shiftJSON(st.Shift, nm)
		}
		if !st.Next.At.IsZero() {
			j.Next = &nextJSON{At: st.Next.At.In(s.opt.Location), Member: st.Next.Incoming.Member, Name: st.NextName}
		}
		out = append(out, j)
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"schedules": out})
}

func (s *Server) getOnCall(w http.ResponseWriter, r *http.Request, _ Caller) {
	ro := s.roster(w)
	if ro == nil {
		return
	}
	name := r.PathValue("name")
	from, err := timeParam(r, "from", s.opt.Now())
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	to, err := timeParam(r, "to", from.Add(onCallDefaultRange))
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	switch {
	case !to.After(from):
		writeError(w, s.opt.Log, badRequest("to", "to must be after from"))
		return
	case to.Sub(from) > onCallMaxRange:
		writeError(w, s.opt.Log, badRequest("to", "the range may be at most 366 days"))
		return
	}
	shifts, err := ro.Shifts(r.Context(), name, from, to)
	if err != nil {
		writeError(w, s.opt.Log, onCallError(name, err))
		return
	}
	ovs, err := ro.Overrides(r.Context(), name)
	if err != nil {
		writeError(w, s.opt.Log, onCallError(name, err))
		return
	}
	nm := &names{ctx: r.Context(), r: ro}
	sj := make([]*shiftJSON, 0, len(shifts))
	for _, sh := range shifts {
		sj = append(sj, s.shiftJSON(sh, nm))
	}
	oj := make([]overrideJSON, 0, len(ovs))
	for _, o := range ovs {
		oj = append(oj, s.overrideJSON(o, nm))
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{
		"schedule": name, "from": from.In(s.opt.Location), "to": to.In(s.opt.Location),
		"shifts": sj, "overrides": oj,
	})
}

type overrideRequest struct {
	Member string `json:"member"`
	From   string `json:"from"`
	To     string `json:"to"`
	Note   string `json:"note"`
}

// overrideTime parses an override's from or to.
func overrideTime(field, v string) (time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return time.Time{}, badRequest(field, field+" is required")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest(field, field+" must be an RFC 3339 time, e.g. 2026-12-24T18:00:00+09:00")
	}
	return t, nil
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request, c Caller) {
	ro := s.roster(w)
	if ro == nil {
		return
	}
	name := r.PathValue("name")
	var req overrideRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	if _, err := cleanText("note", req.Note, 200); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	o := roster.StoredOverride{Member: req.Member, Note: req.Note}
	var err error
	if strings.TrimSpace(req.Member) != "" { // a missing member is named first
		if o.From, err = overrideTime("from", req.From); err == nil {
			o.To, err = overrideTime("to", req.To)
		}
		if err != nil {
			writeError(w, s.opt.Log, err)
			return
		}
	}
	saved, err := ro.AddOverride(r.Context(), name, o, c.Name, s.opt.Now())
	if err != nil {
		writeError(w, s.opt.Log, onCallError(name, err))
		return
	}
	writeJSON(w, s.opt.Log, http.StatusCreated, s.overrideJSON(saved, &names{ctx: r.Context(), r: ro}))
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request, c Caller) {
	ro := s.roster(w)
	if ro == nil {
		return
	}
	name := r.PathValue("name")
	if err := ro.DeleteOverride(r.Context(), name, r.PathValue("id"), c.Name, s.opt.Now()); err != nil {
		writeError(w, s.opt.Log, onCallError(name, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onCallICS serves the schedule's shifts from a week back to 90 days on as
// an iCalendar feed. A calendar app subscribes with the token in the URL
// (?token=); a Bearer token or a trusted network works as elsewhere.
func (s *Server) onCallICS(w http.ResponseWriter, r *http.Request, name string) {
	var err error
	if tok := r.URL.Query().Get("token"); tok != "" && r.Header.Get("Authorization") == "" {
		_, err = s.tokenCaller(r.Context(), tok, auth.ScopeRead)
	} else {
		_, err = s.authenticate(r, auth.ScopeRead)
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	ro := s.roster(w)
	if ro == nil {
		return
	}
	now := s.opt.Now()
	b, err := ro.ICalendar(r.Context(), name, now.Add(-icsBefore), now.Add(icsAfter), now)
	if err != nil {
		writeError(w, s.opt.Log, onCallError(name, err))
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
