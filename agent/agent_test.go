package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
)

func TestReportValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ok := func() Report {
		return Report{Host: "web01", IntervalSeconds: 10, Results: []Result{{Check: "httpd", OK: false, At: now.Add(-time.Second),
			DurationMS: 3, Firing: "[경고] httpd 🔥", Resolved: "[복구] httpd", Detail: "no process", Severity: "warning"}}}
	}
	r := ok()
	got, err := r.Validate(now)
	if err != nil || len(got) != 1 {
		t.Fatalf("valid report: %v %v", got, err)
	}
	if g := got[0]; g.Host != "web01" || g.Check != "httpd" || g.OK || g.Firing != "[경고] httpd ?" ||
		g.Duration != 3*time.Millisecond || !g.At.Equal(now.Add(-time.Second)) || g.Severity != "warning" {
		t.Errorf("result %+v", g)
	}
	if r.Grace() != 30*time.Second {
		t.Errorf("grace %s, want 3 × 10 s", r.Grace())
	}
	r.IntervalSeconds = 1
	if r.Grace() != 15*time.Second {
		t.Errorf("grace %s, want the 15 s floor", r.Grace())
	}
	future := ok()
	future.Results[0].At = now.Add(time.Hour)
	if got, _ := future.Validate(now); !got[0].At.Equal(now) {
		t.Errorf("a result dated in the future kept %s", got[0].At)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*Report)
	}{
		{"host", func(r *Report) { r.Host = " " }},
		{"host", func(r *Report) { r.Host = "a/b" }},
		{"host", func(r *Report) { r.Host = strings.Repeat("h", 65) }},
		{"interval_seconds", func(r *Report) { r.IntervalSeconds = 0 }},
		{"results", func(r *Report) { r.Results = make([]Result, MaxResults+1) }},
		{"results[0].check", func(r *Report) { r.Results[0].Check = "" }},
		{"results[0].check", func(r *Report) { r.Results[0].Check = LivenessCheck }},
		{"results[0].check", func(r *Report) { r.Results[0].Check = "bad\nname" }},
		{"results[0].severity", func(r *Report) { r.Results[0].Severity = "fatal" }},
	} {
		r := ok()
		tc.mutate(&r)
		_, err := r.Validate(now)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("want an error naming %s, got %v", tc.field, err)
		}
	}
}

// results collects what a Tracker observes.
type results struct {
	mu  sync.Mutex
	got []check.Result
}

func (r *results) observe(x check.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, x)
}

func (r *results) take() []check.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func TestTrackerPagesSilentHosts(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var obs results
	clock := func() time.Time { return now }
	// db01 reported 10 minutes before a restart and never since.
	tr := NewTracker(obs.observe, map[string]time.Time{"db01": now.Add(-10 * time.Minute)}, clock)
	tr.Report("web01", 30*time.Second, nil, []check.Result{{Check: "httpd", Host: "web01", OK: true, At: now}})
	got := obs.take()
	if len(got) != 2 || got[0].Check != "httpd" || got[1].Check != LivenessCheck || !got[1].OK || got[1].Host != "web01" {
		t.Fatalf("report observed %+v", got)
	}
	tr.Check()
	got = obs.take()
	if len(got) != 1 || got[0].Host != "db01" || got[0].OK || got[0].Severity != "critical" ||
		got[0].Firing != "[경고] munja agent 보고가 없습니다." || !strings.Contains(got[0].Detail, "10m0s") {
		t.Fatalf("known silent host: %+v", got)
	}
	now = now.Add(29 * time.Second)
	tr.Check()
	for _, r := range obs.take() {
		if r.Host == "web01" {
			t.Fatalf("web01 paged within its grace: %+v", r)
		}
	}
	now = now.Add(2 * time.Second)
	tr.Check()
	var web01Down bool
	for _, r := range obs.take() {
		web01Down = web01Down || (r.Host == "web01" && !r.OK)
	}
	if !web01Down {
		t.Fatal("web01 silent past its grace, not paged")
	}
	tr.Report("web01", 30*time.Second, nil, nil)
	if got := obs.take(); len(got) != 1 || !got[0].OK || got[0].Resolved != "[복구] munja agent 보고가 다시 들어옵니다." {
		t.Fatalf("report after silence: %+v", got)
	}
	if h := tr.Hosts(); len(h) != 2 || !h["web01"].Equal(now) {
		t.Errorf("hosts %v", h)
	}
}

// fixedCheck is a check with a settable outcome.
type fixedCheck struct{ ok atomic.Bool }

func (c *fixedCheck) Name() string { return "disk" }
func (c *fixedCheck) Run(context.Context) check.Result {
	return check.Result{Check: "disk", OK: c.ok.Load(), Firing: "[경고] disk", Resolved: "[복구] disk"}
}

// TestClientRetriesAndSends: the agent keeps the latest result per check
// while the server fails, sends it when the server is back, with its token.
func TestClientRetriesAndSends(t *testing.T) {
	var mu sync.Mutex
	var reports []Report
	var fails atomic.Int32
	fails.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ReportPath || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if fails.Add(-1) >= 0 {
			http.Error(w, `{"error":"not leading"}`, http.StatusServiceUnavailable)
			return
		}
		var rep Report
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			t.Error(err)
		}
		mu.Lock()
		reports = append(reports, rep)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c := &fixedCheck{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Server: srv.URL + "/", Token: "tok", Host: "web01",
			Checks:    []check.Scheduled{{Checker: c, Interval: time.Second}},
			DependsOn: map[string][]string{"disk": {"host:nas01"}}})
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 2 {
		t.Fatalf("%d reports in 15 s after 2 failures", len(reports))
	}
	first := reports[0]
	if first.Host != "web01" || first.IntervalSeconds != 1 || len(first.Results) != 1 ||
		first.Results[0].Check != "disk" || first.Results[0].OK || first.Results[0].Firing != "[경고] disk" ||
		len(first.DependsOn["disk"]) != 1 || first.DependsOn["disk"][0] != "host:nas01" {
		t.Errorf("first report %+v", first)
	}
	if fails.Load() >= 0 {
		t.Errorf("the failing answers were not retried")
	}
	if err := Run(context.Background(), Options{Server: srv.URL}); err == nil {
		t.Error("Run without token and host: no error")
	}
}
