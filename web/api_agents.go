package web

import (
	"errors"
	"net/http"

	"github.com/munja-sms/munja/agent"
)

// SetAgents hands the server the tracker of agent reports while this
// process runs the alert engine (nil: it does not, and reports are
// answered 503 so that the agent retries, reaching the replica that does).
func (s *Server) SetAgents(t *agent.Tracker) { s.agents.Store(t) }

// agentReport takes a `munja agent` push: the host's check results go to
// the alert engine under the host's name, and the host counts as alive.
func (s *Server) agentReport(w http.ResponseWriter, r *http.Request, _ Caller) {
	var rep agent.Report
	if err := decodeJSON(r, &rep); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	results, err := rep.Validate(s.opt.Now())
	var fe *agent.FieldError
	if errors.As(err, &fe) {
		writeError(w, s.opt.Log, badRequest(fe.Field, fe.Error()))
		return
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t := s.agents.Load()
	if t == nil {
		w.Header().Set("Retry-After", "5")
		writeError(w, s.opt.Log, &apiError{status: http.StatusServiceUnavailable,
			msg: "this munja does not run the alert engine now (another replica leads); retry"})
		return
	}
	t.Report(rep.Host, rep.Grace(), results)
	writeJSON(w, http.StatusAccepted, map[string]any{"host": rep.Host, "accepted": len(results)})
}
