package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/check"
)

// monitorRoutes mounts the routes that need the alert engine: heartbeats,
// checks, incidents, silences, agent reports and one-time ack links. Their
// engine is Options.Monitor's at the time of each request.
func (s *Server) monitorRoutes() {
	s.api("POST /api/v1/heartbeat/{name}", "send", s.heartbeat)
	s.api("GET /api/v1/heartbeat/{name}", "send", s.heartbeat)
	s.api("GET /api/v1/checks", "read", s.listChecks)
	s.api("GET /api/v1/incidents", "read", s.listIncidents)
	s.api("GET /api/v1/incidents/{id}", "read", s.getIncident)
	s.api("POST /api/v1/incidents/{id}/ack", "send", s.ackIncident)
	s.api("GET /api/v1/silences", "read", s.listSilences)
	s.api("POST /api/v1/silences", "send", s.createSilence)
	s.api("DELETE /api/v1/silences/{id}", "send", s.deleteSilence)
	s.api("POST /api/v1/agents/report", "send", s.agentReport)
	s.api("DELETE /api/v1/agents/{name}", "admin", s.forgetAgent)
	// The one-time token in the link is the credential. GET only shows a
	// confirmation page, so link previews in messengers cannot acknowledge.
	s.link("GET /ack/{token}", s.ackPage)
	s.link("POST /ack/{token}", s.ackByLink)
}

// engine returns the engine the API shows and acts on, or answers 503
// (try again) and returns nil while there is none yet (start-up).
func (s *Server) engine(w http.ResponseWriter) *alert.Engine {
	e := s.opt.Monitor.Engine()
	if e == nil {
		writeError(w, s.opt.Log, &apiError{status: http.StatusServiceUnavailable, msg: "the monitor is starting; try again", retryAfter: 5})
	}
	return e
}

func (s *Server) link(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Pattern: pattern, Scope: "link"})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		h(w, r)
	})
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, c Caller) {
	name := r.PathValue("name")
	if !s.isHeartbeat(name) {
		writeError(w, s.opt.Log, &apiError{status: http.StatusNotFound, field: "name", msg: "no heartbeat check named " + name})
		return
	}
	now := s.opt.Now()
	if err := check.RecordHeartbeat(r.Context(), s.opt.Store, name, now); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"check": name, "at": now.In(s.opt.Location)})
}

func (s *Server) isHeartbeat(name string) bool {
	for _, c := range s.opt.Checks {
		if c.Name == name && c.Type == "heartbeat" {
			return true
		}
	}
	return false
}

// The API writes every time in RFC 3339 with the configured zone's offset
// (2026-11-25T18:00:00+09:00), as the messages do: the engine keeps UTC.

// localTime is t in loc; a zero time stays zero (and omitted).
func localTime(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

// localIncident is inc with its times in loc (its own copy of the slices).
func localIncident(inc alert.Incident, loc *time.Location) alert.Incident {
	inc.Started, inc.Resolved, inc.AckedAt = localTime(inc.Started, loc), localTime(inc.Resolved, loc), localTime(inc.AckedAt, loc)
	if inc.Notifications != nil {
		ns := make([]alert.SentNotification, len(inc.Notifications))
		for i, n := range inc.Notifications {
			n.At = localTime(n.At, loc)
			ns[i] = n
		}
		inc.Notifications = ns
	}
	return inc
}

// localHistory is a copy of h with its times in loc.
func localHistory(h []alert.HistoryPoint, loc *time.Location) []alert.HistoryPoint {
	out := make([]alert.HistoryPoint, len(h))
	for i, p := range h {
		p.At = localTime(p.At, loc)
		out[i] = p
	}
	return out
}

type checkJSON struct {
	Check    string               `json:"check"`
	Host     string               `json:"host,omitempty"`
	State    string               `json:"state"`
	Since    *time.Time           `json:"since,omitempty"`
	Detail   string               `json:"detail,omitempty"`
	DetailKo string               `json:"detail_ko,omitempty"` // the detail in Korean
	Incident string               `json:"incident,omitempty"`
	Flapping bool                 `json:"flapping,omitempty"`
	Silenced bool                 `json:"silenced,omitempty"`
	History  []alert.HistoryPoint `json:"history"`
	// SuppressedBy: while it fails, the checks it depends on that fail too
	// (depends_on; "host:NAME" for a silent agent), holding its alerts.
	SuppressedBy []string `json:"suppressed_by,omitempty"`
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request, _ Caller) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	out := []checkJSON{}
	for _, c := range eng.Checks() {
		out = append(out, checkJSON{
			Check: c.Check, Host: c.Host, State: c.State, Since: timePtr(c.Since, s.opt.Location),
			Detail: c.Last.Detail, DetailKo: c.Last.DetailKo, Incident: c.Incident, Flapping: c.Flapping, Silenced: c.Silenced,
			History: localHistory(c.History, s.opt.Location), SuppressedBy: c.SuppressedBy,
		})
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"checks": out})
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, _ Caller) {
	open := r.URL.Query().Get("open") != "false"
	eng := s.engine(w)
	if eng == nil {
		return
	}
	out := []alert.Incident{}
	for _, inc := range eng.Incidents(open) {
		out = append(out, localIncident(inc, s.opt.Location))
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"incidents": out})
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, _ Caller) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	inc, err := eng.Incident(r.PathValue("id"))
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, localIncident(inc, s.opt.Location))
}

func (s *Server) ackIncident(w http.ResponseWriter, r *http.Request, c Caller) {
	id := r.PathValue("id")
	eng := s.engine(w)
	if eng == nil {
		return
	}
	if err := eng.Ack(r.Context(), id, c.Name); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, c, "incident.ack", id, "")
	inc, err := eng.Incident(id)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, localIncident(inc, s.opt.Location))
}

// silenceTarget names what a silence covers, as the console's audit does
// (CHECK, * for every check, @HOST when it is one host's).
func silenceTarget(check, host string) string {
	if check == "" {
		check = "*"
	}
	if host != "" {
		check += "@" + host
	}
	return check
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request, _ Caller) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	out := []alert.Silence{}
	for _, sl := range eng.Silences() {
		sl.Until, sl.Created = localTime(sl.Until, s.opt.Location), localTime(sl.Created, s.opt.Location)
		out = append(out, sl)
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"silences": out})
}

type silenceRequest struct {
	Check   string `json:"check"`
	Host    string `json:"host"`
	Until   string `json:"until"`
	Comment string `json:"comment"`
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request, c Caller) {
	var req silenceRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	for _, f := range []struct{ name, v string }{{"check", req.Check}, {"host", req.Host}, {"comment", req.Comment}} {
		if _, err := cleanText(f.name, f.v, maxMemoLen); err != nil {
			writeError(w, s.opt.Log, err)
			return
		}
	}
	until, err := time.Parse(time.RFC3339, req.Until)
	if err != nil {
		writeError(w, s.opt.Log, badRequest("until", "must be RFC3339, e.g. 2026-11-25T18:00:00+09:00"))
		return
	}
	if !until.After(s.opt.Now()) {
		writeError(w, s.opt.Log, badRequest("until", "must be in the future"))
		return
	}
	eng := s.engine(w)
	if eng == nil {
		return
	}
	id, err := eng.Silence(r.Context(), alert.SilenceSpec{Check: req.Check, Host: req.Host, Until: until, By: c.Name, Comment: req.Comment})
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, c, "silence.create", silenceTarget(req.Check, req.Host), "until "+until.In(s.opt.Location).Format(time.RFC3339)+" id "+id)
	writeJSON(w, s.opt.Log, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request, c Caller) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	if err := eng.Unsilence(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, c, "silence.delete", r.PathValue("id"), "")
	w.WriteHeader(http.StatusNoContent)
}

var ackTmpl = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>munja — 장애 확인</title></head><body style="font-family:sans-serif;max-width:30em;margin:2em auto">
{{if .Done}}<h1>확인되었습니다</h1><p>{{.Msg}}</p>
{{else}}<h1>장애 확인 (acknowledge)</h1>
<p>이 장애를 확인 처리하면 반복 알림과 에스컬레이션이 멈춥니다.<br>Acknowledging stops reminders and escalation.</p>
<form method="post"><button type="submit" style="font-size:1.2em;padding:.5em 1em">확인 (Acknowledge)</button></form>{{end}}
</body></html>`))

func (s *Server) ackPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ackTmpl.Execute(w, map[string]any{})
}

func (s *Server) ackByLink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	token := r.PathValue("token")
	ip, _ := ClientIP(r)
	eng := s.engine(w)
	if eng == nil {
		return
	}
	id, err := eng.AckByToken(r.Context(), token, "link:"+ip.String())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if errors.Is(err, alert.ErrInvalidToken) {
		w.WriteHeader(http.StatusNotFound)
		_ = ackTmpl.Execute(w, map[string]any{"Done": true, "Msg": "링크가 유효하지 않거나 이미 사용되었습니다. (invalid, used or expired link)"})
		return
	}
	if errors.Is(err, alert.ErrReadOnly) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = ackTmpl.Execute(w, map[string]any{"Done": true, "Msg": "지금 이 서버는 알림을 처리하지 않습니다. 잠시 후 다시 시도하세요. (this replica does not run alerts now; try again shortly)"})
		return
	}
	if err != nil {
		s.opt.Log.Error("ack by link", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// The actor is the network address that followed the link; never the
	// link's token.
	s.audit(r, Caller{Name: "link:" + ip.String()}, "incident.ack", strings.TrimSpace(id), "by link")
	_ = ackTmpl.Execute(w, map[string]any{"Done": true, "Msg": "장애 " + strings.TrimSpace(id) + " 확인 처리됨 (acknowledged)."})
}
