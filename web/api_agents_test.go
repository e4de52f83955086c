package web

import (
	"net/http"
	"testing"
)

// TestAgentReportAndForget: a report's results reach the engine under the
// host's name; forgetting the host drops them and closes its incident.
func TestAgentReportAndForget(t *testing.T) {
	f := newFixture(t)
	body := `{"host":"web01","interval_seconds":10,"results":[
		{"check":"httpd","ok":false,"firing":"[경고] httpd 프로세스가 동작하지 않습니다. 🔥","severity":"warning"}]}`
	out := f.must(req{method: http.MethodPost, path: "/api/v1/agents/report", body: body, token: "send"}, http.StatusAccepted)
	if out["host"] != "web01" || out["accepted"] != float64(1) {
		t.Fatalf("report: %v", out)
	}
	var firing string
	for _, st := range f.engine.Checks() {
		if st.Host == "web01" && st.Check == "httpd" {
			firing = st.Last.Firing
		}
	}
	if firing != "[경고] httpd 프로세스가 동작하지 않습니다. ?" {
		t.Fatalf("web01/httpd in the engine: %q", firing)
	}
	open := func() int {
		n := 0
		for _, inc := range f.engine.Incidents(true) {
			if inc.Host == "web01" {
				n++
			}
		}
		return n
	}
	if open() != 1 {
		t.Fatalf("web01 incidents: %d, want 1", open())
	}
	// Bad reports name the field and change nothing.
	for field, bad := range map[string]string{
		"host":             `{"host":"","interval_seconds":10}`,
		"interval_seconds": `{"host":"web01"}`,
		"results[0].check": `{"host":"web01","interval_seconds":10,"results":[{"check":"agent","ok":true}]}`,
	} {
		out := f.must(req{method: http.MethodPost, path: "/api/v1/agents/report", body: bad, token: "send"}, http.StatusBadRequest)
		if out["field"] != field {
			t.Errorf("%s: %v", bad, out)
		}
	}

	f.must(req{method: http.MethodDelete, path: "/api/v1/agents/web01", token: "send"}, http.StatusForbidden)
	out = f.must(req{method: http.MethodDelete, path: "/api/v1/agents/web01", token: "admin"}, http.StatusOK)
	if out["forgotten"] != float64(2) { // httpd and the agent's own liveness check
		t.Errorf("forget: %v", out)
	}
	if open() != 0 {
		t.Errorf("web01 still has %d open incidents", open())
	}
	for _, st := range f.engine.Checks() {
		if st.Host == "web01" {
			t.Errorf("web01 still in the engine: %+v", st)
		}
	}
	if _, ok := f.srv.opt.Agents.Tracker().Hosts()["web01"]; ok {
		t.Error("the tracker still watches web01")
	}
	f.must(req{method: http.MethodDelete, path: "/api/v1/agents/web01", token: "admin"}, http.StatusNotFound)
	f.must(req{method: http.MethodDelete, path: "/api/v1/agents/", token: "admin"}, http.StatusNotFound)
}
