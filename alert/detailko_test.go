package alert

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
)

// Issue 12: the Korean detail of a check's result reaches its status, its
// incident (JSON detail_ko), alerting.templates ({{.DetailKo}}) and
// survives a restart.
func TestDetailKo(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Templates.Firing = "{{range .Alerts}}{{.Text}} ({{.DetailKo}}){{end}}"
	h := newHarness(t, cfg)
	r := h.result("httpd", false)
	r.Detail, r.DetailKo = "no process named httpd (0 < min 1)", "httpd 프로세스 없음 (0개, 최소 1개)"
	h.e.Observe(r)
	h.flush()
	h.expect(txtHttpd + " (httpd 프로세스 없음 (0개, 최소 1개))")

	inc := openIncident(t, h.e, "httpd")
	if inc.Detail != r.Detail || inc.DetailKo != r.DetailKo {
		t.Errorf("incident: %+v", inc)
	}
	if b, _ := json.Marshal(inc); !strings.Contains(string(b), `"detail_ko":"httpd 프로세스 없음 (0개, 최소 1개)"`) {
		t.Errorf("incident JSON: %s", b)
	}
	// A later result's detail replaces it.
	r2 := r
	r2.At, r2.DetailKo = r.At.Add(time.Minute), "httpd 프로세스 없음 (0개, 최소 2개)"
	h.e.Observe(r2)
	h.step(time.Minute)
	if inc := openIncident(t, h.e, "httpd"); inc.DetailKo != r2.DetailKo {
		t.Errorf("incident after a new result: %+v", inc)
	}

	h.restart(cfg)
	if st := statusOf(t, h.e, "httpd"); st.Last.DetailKo != r2.DetailKo || st.Last.Detail != r.Detail {
		t.Errorf("status after a restart: %+v", st.Last)
	}
	if inc := openIncident(t, h.e, "httpd"); inc.DetailKo != r2.DetailKo {
		t.Errorf("incident after a restart: %+v", inc)
	}
	// Cannot check: its incident has the Korean reason too.
	h.e.Observe(check.Result{Check: "oom", Unknown: true, At: h.clock.Now(), Firing: blindOOM, Resolved: seesOOM,
		Detail: "cannot check: journal not available", DetailKo: "점검 불가: 시스템 저널을 읽을 수 없습니다", Severity: "warning"})
	h.flush()
	if inc := openIncident(t, h.e, "oom"); inc.DetailKo != "점검 불가: 시스템 저널을 읽을 수 없습니다" {
		t.Errorf("cannot-check incident: %+v", inc)
	}
}
