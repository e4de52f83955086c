package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
)

// tracker returns the agent tracker, or answers 503 (retry) and returns
// nil while this process does not run the alert engine.
func (s *Server) tracker(w http.ResponseWriter) *agent.Tracker {
	t := s.opt.Agents.Tracker()
	if t == nil {
		writeError(w, s.opt.Log, alert.ErrReadOnly)
	}
	return t
}

// agentReport takes a `munja agent` push: the host's check results go to
// the alert engine under the host's name, and the host counts as alive.
func (s *Server) agentReport(w http.ResponseWriter, r *http.Request, _ Caller) {
	rb, err := decodeReport(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	defer rb.release()
	rep := &rb.rep
	results, err := rep.AppendValid(rb.results[:0], s.opt.Now())
	if err == nil {
		rb.results = results
	}
	var fe *agent.FieldError
	if errors.As(err, &fe) {
		writeError(w, s.opt.Log, badRequest(fe.Field, fe.Error()))
		return
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t := s.tracker(w)
	if t == nil {
		return
	}
	var eng *alert.Engine
	if s.opt.Monitor != nil {
		eng = s.opt.Monitor.Engine()
	}
	var before uint64
	if eng != nil {
		before = eng.ChangeSeq()
	}
	t.Report(rep.Host, rep.Grace(), rep.DependsOn, results)
	// Accepted means stored: what the report changed (a failure, a check
	// turning pending) is written before the 202, so a kill -9 right after
	// it loses nothing. Reports arriving together share one write; a report
	// that changed nothing (most: the same results again) waits for none.
	if eng != nil && eng.ChangeSeq() != before {
		if err := eng.SaveChanges(r.Context()); err != nil {
			s.opt.Log.Warn("agent report not saved; the agent resends it", "host", rep.Host, "err", err)
			writeError(w, s.opt.Log, &apiError{status: http.StatusServiceUnavailable, msg: "the report could not be saved; try again", retryAfter: 5})
			return
		}
	}
	writeJSON(w, s.opt.Log, http.StatusAccepted, map[string]any{"host": rep.Host, "accepted": len(results)})
}

// forgetAgent stops watching a retired agent's host: the server no longer
// pages for its silence, and its checks and open incidents are dropped.
func (s *Server) forgetAgent(w http.ResponseWriter, r *http.Request, c Caller) {
	host := r.PathValue("name")
	t := s.tracker(w)
	if t == nil {
		return
	}
	t.Forget(host)
	eng := s.engine(w)
	if eng == nil {
		return
	}
	n, err := eng.Forget(r.Context(), host)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, c, "agent.forget", host, fmt.Sprintf("%d checks", n))
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"host": host, "forgotten": n})
}
