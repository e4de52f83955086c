package agent

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

func TestReportDependsOn(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ok := func() Report {
		return Report{Host: "web01", IntervalSeconds: 10,
			DependsOn: map[string][]string{"httpd": {"web-port", "host:db01"}}}
	}
	r := ok()
	if _, err := r.Validate(now); err != nil {
		t.Fatalf("valid depends_on: %v", err)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*Report)
	}{
		{"depends_on", func(r *Report) { r.DependsOn[""] = []string{"x"} }},
		{"depends_on", func(r *Report) { r.DependsOn["bad/name"] = []string{"x"} }},
		{"depends_on.httpd[1]", func(r *Report) { r.DependsOn["httpd"][1] = "host:" }},
		{"depends_on.httpd[0]", func(r *Report) { r.DependsOn["httpd"][0] = "a\nb" }},
		{"depends_on.httpd", func(r *Report) { r.DependsOn["httpd"] = make([]string, 101) }},
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

func TestDependsOf(t *testing.T) {
	got := DependsOf([]config.Check{
		{Name: "httpd", DependsOn: []string{"web-port"}},
		{Name: "web-port"},
		{Name: "app", DependsOn: []string{"httpd", "host:db01"}},
	})
	want := map[string][]string{"httpd": {"web-port"}, "app": {"httpd", "host:db01"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DependsOf = %v, want %v", got, want)
	}
	if DependsOf([]config.Check{{Name: "httpd"}}) != nil {
		t.Error("no depends_on: want nil (left out of reports)")
	}
}

// TestTrackerPassesDepends: what a host's checks depend on reaches the
// engine before their results, so a check failing in the first report is
// already held.
func TestTrackerPassesDepends(t *testing.T) {
	var order []string
	tr := NewTracker(func(r check.Result) { order = append(order, "result "+r.Check) }, nil, nil)
	tr.OnDepends(func(host string, deps map[string][]string) {
		order = append(order, "depends "+host+" "+strings.Join(deps["httpd"], ","))
	})
	tr.Report("web01", time.Minute, map[string][]string{"httpd": {"web-port"}},
		[]check.Result{{Check: "httpd", Host: "web01"}})
	want := []string{"depends web01 web-port", "result httpd", "result " + LivenessCheck}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order %q, want %q", order, want)
	}
}
