package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

// auditJSON is one audit log entry.
type auditJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
}

// listAudit is GET /api/v1/audit: who did what, newest first, with the
// console's filters (scope admin: the log names every user, token and
// trusted address).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, _ Caller) {
	q, err := auditQuery(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	es, err := s.opt.Store.FindAudit(r.Context(), q)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := struct {
		Entries []auditJSON `json:"entries"`
		Next    string      `json:"next,omitempty"`
	}{Entries: []auditJSON{}}
	for _, e := range es {
		out.Entries = append(out.Entries, auditJSON{ID: e.ID, At: e.At.In(s.opt.Location), Actor: e.Actor,
			Action: e.Action, Target: e.Target, Detail: e.Detail})
	}
	if len(es) == q.Limit {
		v := r.URL.Query()
		v.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		v.Set("limit", strconv.Itoa(q.Limit))
		out.Next = "/api/v1/audit?" + v.Encode()
	}
	writeJSON(w, s.opt.Log, http.StatusOK, out)
}

// auditQuery reads GET /api/v1/audit's query parameters.
func auditQuery(r *http.Request) (store.AuditQuery, error) {
	v := r.URL.Query()
	q := store.AuditQuery{Actor: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("action"))}
	var err error
	if q.Limit, err = queryInt(r, "limit", 100, 1, 1000); err != nil {
		return q, err
	}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return q, badRequest("before", "must be an audit entry id")
		}
		q.Before = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, badRequest(p.name, "must be RFC3339, e.g. 2026-11-25T14:03:00+09:00")
			}
			*p.dst = t
		}
	}
	return q, nil
}
