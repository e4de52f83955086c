package web

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

func TestCheckHistoryAndUptime(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	// Two hours of a check every 10 s: failing for ten minutes, with a
	// latency; an agent's check of the same name on another host.
	var samples []store.CheckSample
	for i := range 120 {
		s := store.CheckSample{Check: "httpd", At: now.Add(-2*time.Hour + time.Duration(i)*time.Minute), OK: 6,
			LatencyN: 6, LatencySum: 6 * 4 * time.Millisecond, LatencyMax: 9 * time.Millisecond}
		if i >= 60 && i < 70 {
			s.OK, s.Failing = 0, 6
		}
		samples = append(samples, s)
	}
	samples = append(samples, store.CheckSample{Check: "httpd", Host: "web01", At: now.Add(-time.Hour), Unknown: 1})
	if err := f.db.AddCheckHistory(ctx, samples, []store.CheckChange{
		{Check: "httpd", At: now.Add(-3 * time.Hour), Status: store.CheckOK, Detail: "1 process"},
		{Check: "httpd", At: now.Add(-time.Hour), Status: store.CheckFailing, Detail: "no process named httpd"},
		{Check: "httpd", At: now.Add(-50 * time.Minute), Status: store.CheckOK},
		{Check: "httpd", Host: "web01", At: now.Add(-time.Hour), Status: store.CheckCannotCheck, Detail: "/proc"},
	}); err != nil {
		t.Fatal(err)
	}

	var h struct {
		Check       string `json:"check"`
		StepSeconds int    `json:"step_seconds"`
		Points      []struct {
			At           time.Time `json:"at"`
			OK, Failing  int
			LatencyAvgMS *float64 `json:"latency_avg_ms"`
			LatencyMaxMS *float64 `json:"latency_max_ms"`
		} `json:"points"`
		Changes []struct {
			At     time.Time `json:"at"`
			Status string    `json:"status"`
			Detail string    `json:"detail"`
		} `json:"changes"`
	}
	w := f.do(req{path: "/api/v1/checks/httpd/history", token: "read"})
	if w.Code != 200 {
		t.Fatalf("history: %d %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	if h.StepSeconds != 60 || len(h.Points) != 120 || h.Points[60].Failing != 6 || *h.Points[0].LatencyAvgMS != 4 ||
		*h.Points[0].LatencyMaxMS != 9 || len(h.Changes) != 3 || h.Changes[1].Detail != "no process named httpd" {
		t.Errorf("default range (24 h, a point a minute): step %d, %d points, changes %+v", h.StepSeconds, len(h.Points), h.Changes)
	}

	// A chosen range and step; times given with an offset.
	q := url.Values{"from": {now.Add(-90 * time.Minute).In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339)},
		"to": {now.Format(time.RFC3339)}, "step": {"30m"}}
	w = f.do(req{path: "/api/v1/checks/httpd/history?" + q.Encode(), token: "read"})
	h.Points, h.Changes = nil, nil
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if h.StepSeconds != 1800 || len(h.Points) != 3 || h.Points[1].Failing != 60 || h.Points[1].OK != 120 ||
		len(h.Changes) != 3 || h.Changes[0].Status != "ok" || !h.Changes[0].At.Equal(now.Add(-3*time.Hour)) {
		t.Errorf("90 minutes by 30: %+v", h)
	}

	// An agent's check is asked for with host.
	w = f.do(req{path: "/api/v1/checks/httpd/history?host=web01", token: "read"})
	h.Points, h.Changes = nil, nil
	json.Unmarshal(w.Body.Bytes(), &h)
	if w.Code != 200 || len(h.Points) != 1 || h.Points[0].LatencyAvgMS != nil || len(h.Changes) != 1 || h.Changes[0].Status != "cannot_check" {
		t.Errorf("agent's check: %d %s", w.Code, w.Body)
	}

	var u struct {
		Uptime map[string]struct {
			Ratio   *float64 `json:"ratio"`
			OK      int      `json:"ok"`
			Failing int      `json:"failing"`
			Unknown int      `json:"unknown"`
		} `json:"uptime"`
	}
	w = f.do(req{path: "/api/v1/checks/httpd/uptime", token: "read"})
	if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil || w.Code != 200 {
		t.Fatalf("uptime: %d %s", w.Code, w.Body)
	}
	for _, k := range []string{"24h", "7d", "30d"} {
		if x := u.Uptime[k]; x.Ratio == nil || *x.Ratio != 660.0/720 || x.OK != 660 || x.Failing != 60 {
			t.Errorf("uptime %s: %+v", k, x)
		}
	}
	w = f.do(req{path: "/api/v1/checks/httpd/uptime?host=web01", token: "read"})
	json.Unmarshal(w.Body.Bytes(), &u)
	if x := u.Uptime["24h"]; x.Ratio == nil || *x.Ratio != 0 || x.Unknown != 1 {
		t.Errorf("a check that could not check was not up: %+v", x)
	}

	// A configured check without history yet: no ratio.
	w = f.do(req{path: "/api/v1/checks/nightly/uptime", token: "read"})
	json.Unmarshal(w.Body.Bytes(), &u)
	if w.Code != 200 || u.Uptime["30d"].Ratio != nil {
		t.Errorf("no results yet: %d %s", w.Code, w.Body)
	}
}

func TestCheckHistoryErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path  string
		code  int
		field string
	}{
		{"/api/v1/checks/nope/history", 404, "name"},
		{"/api/v1/checks/nope/uptime", 404, "name"},
		{"/api/v1/checks/httpd/uptime?host=ghost", 404, "name"},
		{"/api/v1/checks/httpd/history?from=yesterday", 400, "from"},
		{"/api/v1/checks/httpd/history?to=2026-13-01T00:00:00Z", 400, "to"},
		{"/api/v1/checks/httpd/history?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z", 400, "from"},
		{"/api/v1/checks/httpd/history?from=2025-01-01T00:00:00Z&to=2026-11-24T00:00:00Z", 400, "from"},
		{"/api/v1/checks/httpd/history?step=30s", 400, "step"},
		{"/api/v1/checks/httpd/history?step=90s", 400, "step"},
		{"/api/v1/checks/httpd/history?step=often", 400, "step"},
		{"/api/v1/checks/httpd/history?from=2026-10-01T00:00:00Z&to=2026-11-24T00:00:00Z&step=1m", 400, "step"},
	} {
		w := f.do(req{path: tc.path, token: "read"})
		var out map[string]string
		json.Unmarshal(w.Body.Bytes(), &out)
		if w.Code != tc.code || out["field"] != tc.field {
			t.Errorf("%s: %d %s, want %d naming %s", tc.path, w.Code, w.Body, tc.code, tc.field)
		}
	}
	// Read scope at least.
	if w := f.do(req{path: "/api/v1/checks/httpd/history"}); w.Code != 401 {
		t.Errorf("without a token: %d", w.Code)
	}
}
