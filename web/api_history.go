package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/munja-sms/munja/checkhist"
)

// historyRoutes mounts the check history routes. They read the store, so
// they answer on every replica, the engine running there or not.
func (s *Server) historyRoutes() {
	s.api("GET /api/v1/checks/{name}/history", "read", s.checkHistory)
	s.api("GET /api/v1/checks/{name}/uptime", "read", s.checkUptime)
}

// maxHistoryRange is the longest range one history call may ask for.
const maxHistoryRange = 400 * 24 * time.Hour

type pointJSON struct {
	At      time.Time `json:"at"`
	OK      int       `json:"ok"`
	Failing int       `json:"failing"`
	Unknown int       `json:"unknown"`
	// Latencies in milliseconds of the results that measured one; absent
	// when none did.
	LatencyAvgMS *float64 `json:"latency_avg_ms,omitempty"`
	LatencyMaxMS *float64 `json:"latency_max_ms,omitempty"`
}

type changeJSON struct {
	At       time.Time `json:"at"`
	Status   string    `json:"status"`
	Detail   string    `json:"detail,omitempty"`
	DetailKo string    `json:"detail_ko,omitempty"`
}

func ms(d time.Duration) *float64 {
	v := float64(d.Microseconds()) / 1000
	return &v
}

// knownCheck reports whether name on host is a check munja knows: in the
// config, followed by the engine, or with history in the store.
func (s *Server) knownCheck(r *http.Request, name, host string) (bool, error) {
	if host == "" {
		for _, c := range s.opt.Checks {
			if c.Name == name {
				return true, nil
			}
		}
	}
	if s.opt.Monitor != nil {
		if e := s.opt.Monitor.Engine(); e != nil {
			for _, c := range e.Checks() {
				if c.Check == name && c.Host == host {
					return true, nil
				}
			}
		}
	}
	now := s.opt.Now()
	last, err := s.opt.Store.CheckChanges(r.Context(), name, host, now, now)
	return len(last) > 0, err
}

func (s *Server) historyCheck(w http.ResponseWriter, r *http.Request) (name, host string, ok bool) {
	name, host = r.PathValue("name"), r.URL.Query().Get("host")
	known, err := s.knownCheck(r, name, host)
	switch {
	case err != nil:
		writeError(w, s.opt.Log, err)
	case !known && host != "":
		writeError(w, s.opt.Log, &apiError{status: http.StatusNotFound, field: "name", msg: "no check named " + name + " on host " + host})
	case !known:
		writeError(w, s.opt.Log, &apiError{status: http.StatusNotFound, field: "name", msg: "no check named " + name})
	}
	return name, host, err == nil && known
}

// timeParam parses the RFC 3339 query parameter key, or returns def.
func timeParam(r *http.Request, key string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest(key, key+" must be an RFC 3339 time, e.g. 2026-11-25T14:03:00+09:00")
	}
	return t, nil
}

func (s *Server) checkHistory(w http.ResponseWriter, r *http.Request, _ Caller) {
	now := s.opt.Now()
	to, err := timeParam(r, "to", now)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	from, err := timeParam(r, "from", to.Add(-24*time.Hour))
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	switch {
	case !from.Before(to):
		writeError(w, s.opt.Log, badRequest("from", "from must be before to"))
		return
	case to.Sub(from) > maxHistoryRange:
		writeError(w, s.opt.Log, badRequest("from", "the range may be at most 400 days"))
		return
	}
	step := checkhist.Step(from, to)
	if v := r.URL.Query().Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d < time.Minute || d%time.Minute != 0:
			writeError(w, s.opt.Log, badRequest("step", "step must be a whole number of minutes, e.g. 5m or 1h"))
			return
		case to.Sub(from)/d > checkhist.MaxPoints:
			writeError(w, s.opt.Log, badRequest("step", "step is too small for the range: at most 1440 points"))
			return
		}
		step = d
	}
	name, host, ok := s.historyCheck(w, r)
	if !ok {
		return
	}
	points, err := checkhist.Series(r.Context(), s.opt.Store, name, host, from, to, step)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	changes, err := s.opt.Store.CheckChanges(r.Context(), name, host, from, to)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	loc := s.opt.Location
	pj := make([]pointJSON, len(points))
	for i, p := range points {
		pj[i] = pointJSON{At: p.At.In(loc), OK: p.OK, Failing: p.Failing, Unknown: p.Unknown}
		if p.LatencyN > 0 {
			pj[i].LatencyAvgMS, pj[i].LatencyMaxMS = ms(p.LatencyAvg), ms(p.LatencyMax)
		}
	}
	cj := make([]changeJSON, len(changes))
	for i, c := range changes {
		cj[i] = changeJSON{At: c.At.In(loc), Status: c.Status, Detail: c.Detail, DetailKo: c.DetailKo}
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{
		"check": name, "host": host, "from": from.In(loc), "to": to.In(loc),
		"step_seconds": int(step.Seconds()), "points": pj, "changes": cj,
	})
}

type uptimeJSON struct {
	// Ratio of ok results, 0…1 (a result that could not check counts
	// against it); null when the window holds no result.
	Ratio   *float64 `json:"ratio"`
	OK      int      `json:"ok"`
	Failing int      `json:"failing"`
	Unknown int      `json:"unknown"`
}

func (s *Server) checkUptime(w http.ResponseWriter, r *http.Request, _ Caller) {
	name, host, ok := s.historyCheck(w, r)
	if !ok {
		return
	}
	ups, err := checkhist.Uptimes(r.Context(), s.opt.Store, name, host, s.opt.Now())
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := map[string]uptimeJSON{}
	for _, u := range ups {
		j := uptimeJSON{OK: u.OK, Failing: u.Failing, Unknown: u.Unknown}
		if v, ok := u.Ratio(); ok {
			j.Ratio = &v
		}
		out[windowName(u.Window)] = j
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"check": name, "host": host, "uptime": out})
}

// windowName is "24h", "7d" or "30d".
func windowName(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 && d > day {
		return fmt.Sprintf("%dd", d/day)
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}
