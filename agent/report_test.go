package agent

import (
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
)

// TestCannotCheckTravels: a result that could not look on the agent's host
// reaches the server as cannot check, never as ok.
func TestCannotCheckTravels(t *testing.T) {
	now := time.Now()
	in := check.Result{Check: "oom", OK: false, Unknown: true, At: now,
		Firing: "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다.", Resolved: "[복구] oom 점검이 다시 동작합니다."}
	r := Report{Host: "web01", IntervalSeconds: 10, Results: []Result{FromCheck(in)}}
	r.Results = append(r.Results, Result{Check: "lying", OK: true, Unknown: true, At: now})
	out, err := r.Validate(now)
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Unknown || out[0].OK || out[0].Host != "web01" || out[0].Firing != in.Firing {
		t.Errorf("cannot-check result arrived as %+v", out[0])
	}
	if out[1].OK || !out[1].Unknown {
		t.Errorf("ok and unknown at once arrived as %+v, want not ok", out[1])
	}
}
