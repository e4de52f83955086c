package web

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/munja-sms/munja/agent"
)

// TestAgentDependsOn: what an agent says its checks depend on reaches the
// engine with the report, and the API shows the held check suppressed_by
// the one it depends on, on the check and on its incident.
func TestAgentDependsOn(t *testing.T) {
	f := newFixture(t)
	tr := agent.NewTracker(f.engine.Observe, nil, nil)
	tr.OnDepends(f.engine.SetDepends)
	f.srv.opt.Agents.Set(tr)

	body := `{"host":"web01","interval_seconds":10,"depends_on":{"httpd":["web-port"]},"results":[
		{"check":"web-port","ok":false,"firing":"[경고] 80 포트가 열려있지 않습니다."},
		{"check":"httpd","ok":false,"firing":"[경고] httpd 프로세스가 동작하지 않습니다."}]}`
	f.must(req{method: http.MethodPost, path: "/api/v1/agents/report", body: body, token: "send"}, http.StatusAccepted)

	checks := f.must(req{path: "/api/v1/checks", token: "read"}, http.StatusOK)["checks"].([]any)
	held := map[string]string{}
	for _, c := range checks {
		c := c.(map[string]any)
		if c["host"] == "web01" {
			held[c["check"].(string)] = fmt.Sprint(c["suppressed_by"])
		}
	}
	if held["httpd"] != "[web-port]" || held["web-port"] != "<nil>" {
		t.Errorf("suppressed_by on web01's checks: %v", held)
	}
	incs := f.must(req{path: "/api/v1/incidents", token: "read"}, http.StatusOK)["incidents"].([]any)
	for _, inc := range incs {
		inc := inc.(map[string]any)
		if inc["check"] == "httpd" && fmt.Sprint(inc["suppressed_by"]) != "[web-port]" {
			t.Errorf("httpd's incident: %v", inc)
		}
	}

	bad := `{"host":"web01","interval_seconds":10,"depends_on":{"httpd":["host:"]}}`
	if out := f.must(req{method: http.MethodPost, path: "/api/v1/agents/report", body: bad, token: "send"}, http.StatusBadRequest); out["field"] != "depends_on.httpd[0]" {
		t.Errorf("bad depends_on: %v", out)
	}
}
