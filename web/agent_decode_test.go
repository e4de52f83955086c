package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAgentReportsReuseNothingStale: reports decoded with kept buffers
// carry nothing of the report before them (a field a result omits is not
// the previous result's), and refuse and word bad bodies as every other
// handler does (decodeJSON), also after kept buffers were used.
func TestAgentReportsReuseNothingStale(t *testing.T) {
	f := newFixture(t)
	post := func(body string, want int) map[string]any {
		t.Helper()
		return f.must(req{method: http.MethodPost, path: "/api/v1/agents/report", body: body, token: "send"}, want)
	}
	full := func(host string) string {
		var rs []string
		for c := range 30 {
			rs = append(rs, fmt.Sprintf(`{"check":"c%02d","ok":false,"unknown":true,"duration_ms":7,"firing":"[경고] c%02d","resolved":"[복구] c%02d","detail":"cannot look %d","detail_ko":"볼 수 없음 %d","severity":"critical"}`,
				c, c, c, c, c))
		}
		return `{"host":"` + host + `","interval_seconds":10,"results":[` + strings.Join(rs, ",") + `],"depends_on":{"c01":["c00"]}}`
	}
	for i := range 20 {
		post(full(fmt.Sprintf("full%02d", i)), http.StatusAccepted)
		// Only names and ok: the rest must be empty, not the report's before.
		out := post(fmt.Sprintf(`{"host":"bare%02d","interval_seconds":10,"results":[{"check":"c00","ok":true},{"check":"c01","ok":true}]}`+"\n", i), http.StatusAccepted)
		if out["accepted"] != float64(2) {
			t.Fatalf("bare report: %v", out)
		}
	}
	bare := 0
	for _, st := range f.engine.Checks() {
		if !strings.HasPrefix(st.Host, "bare") || st.Check == "agent" {
			continue
		}
		bare++
		l := st.Last
		if !l.OK || l.Unknown || l.Detail != "" || l.DetailKo != "" || l.Firing != "" || l.Resolved != "" || l.Duration != 0 || len(st.SuppressedBy) > 0 {
			t.Fatalf("%s/%s carries an earlier report's result: %+v (suppressed by %v)", st.Host, st.Check, l, st.SuppressedBy)
		}
	}
	if bare != 40 {
		t.Fatalf("%d checks of bare hosts, want 40", bare)
	}

	// Bad bodies, each after a good one: the same status, field and
	// message as decodeJSON gives.
	for _, bad := range []string{
		`{"host":"web01","interval_seconds":10,"bogus":1}`,
		`{"host":"web01","interval_seconds":"ten"}`,
		`{"host":"web01","interval_seconds":10,"results":[{"check":"c00","ok":true}`,
		`{"host":"web01",,}`,
		``,
		`[1]`,
	} {
		post(full("good"), http.StatusAccepted)
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(bad))
		var rep struct {
			Host            string `json:"host"`
			IntervalSeconds int    `json:"interval_seconds"`
			Results         []struct {
				Check string `json:"check"`
				OK    bool   `json:"ok"`
			} `json:"results"`
		}
		wantErr := decodeJSON(r, &rep)
		if wantErr == nil {
			t.Fatalf("%q decodes", bad)
		}
		w := f.do(req{method: http.MethodPost, path: "/api/v1/agents/report", body: bad, token: "send"})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), jsonText(wantErr.Error())) {
			t.Errorf("%q: %d %s, want 400 with %q", bad, w.Code, w.Body.String(), wantErr)
		}
	}
	// A value followed by more: the value is taken, as decodeJSON does.
	post(`{"host":"tail","interval_seconds":10,"results":[{"check":"c00","ok":true}]} trailing`, http.StatusAccepted)
	post(full("after-tail"), http.StatusAccepted)
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	return strings.NewReplacer(`"`, `\"`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(s)
}
