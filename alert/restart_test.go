package alert

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

// Issue 12: what the engine decides over time (failure and success
// streaks, flapping, reminders, escalation, cannot-check streaks) is in
// its persisted state, so an engine built anew on the same store — a
// restart — decides exactly as the one that kept running.

func TestRestartMidFailureStreak(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Failures = 3
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.step(10 * time.Second)
	h.fail("httpd")
	h.step(10 * time.Second)
	h.expect()
	h.restart(cfg)
	if st := statusOf(t, h.e, "httpd"); st.State != StatePending {
		t.Fatalf("after the restart: %+v", st)
	}
	h.fail("httpd") // the third in a row, across the restart
	h.flush()
	h.expect(txtHttpd)
	h.restart(cfg)
	h.fail("httpd")
	h.step(time.Minute)
	h.expect() // no second first alert
}

func TestRestartMidSuccessStreak(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Successes = 3
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	h.pass("httpd")
	h.step(10 * time.Second)
	h.pass("httpd")
	h.step(10 * time.Second)
	h.restart(cfg)
	h.expect() // not recovered yet, not re-sent
	h.pass("httpd")
	h.flush()
	h.expect(resHttpd)
	h.restart(cfg)
	h.pass("httpd")
	h.step(time.Hour)
	h.expect()
}

func TestRestartMidCannotCheckStreak(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Failures = 2
	h := newHarness(t, cfg)
	h.blind()
	h.step(10 * time.Second)
	h.restart(cfg)
	h.blind()
	h.flush()
	h.expect(blindOOM)
	h.restart(cfg)
	h.blind()
	h.step(time.Minute)
	h.expect()
}

func TestRestartKeepsFlapping(t *testing.T) {
	cfg := flappingConfig()
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.step(time.Minute)
	h.pass("httpd")
	h.step(time.Minute)
	h.restart(cfg)
	h.fail("httpd")
	h.step(time.Minute)
	h.expect(txtHttpd, resHttpd, txtHttpd)
	h.restart(cfg)
	h.pass("httpd") // the 4th change within 10m, across two restarts
	h.step(time.Minute)
	h.expect(flapHttpd)
	h.restart(cfg)
	h.fail("httpd")
	h.step(time.Minute)
	h.expect() // reported once, not again after a restart
}

func TestRestartNeitherRepeatsNorEscalatesEarly(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(30 * time.Minute)
	cfg.Alerting.Escalation = []config.Escalation{{After: config.Duration(20 * time.Minute), To: []string{phoneB}}}
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	for m := 1; m < 30; m++ {
		h.step(time.Minute)
		h.restart(cfg) // a restart every minute
		h.fail("httpd")
		h.flush()
		if m == 20 {
			if got := h.expect(txtHttpd); got[0].Reason != ReasonEscalation || !slices.Equal(got[0].Recipients, []string{phoneB}) {
				t.Fatalf("escalation: %+v", got[0])
			}
			continue
		}
		h.expect()
	}
	h.step(time.Minute)
	if got := h.expect(txtHttpd); got[0].Reason != ReasonRepeat {
		t.Fatalf("after 30m: %+v", got[0])
	}
}

// TestRestartsChangeNothing runs one long random sequence of results
// through two engines: one that keeps running and one restarted after
// every step. Both must send the same messages at the same times.
func TestRestartsChangeNothing(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Failures = 2
	cfg.Alerting.Successes = 2
	cfg.Alerting.Repeat = config.Duration(20 * time.Minute)
	cfg.Alerting.Flapping = config.Flapping{Window: config.Duration(30 * time.Minute), Changes: 4}
	cfg.Alerting.Escalation = []config.Escalation{{After: config.Duration(15 * time.Minute), To: []string{phoneB}}}

	run := func(restart bool) []string {
		h := newHarness(t, cfg)
		rng := rand.New(rand.NewPCG(12, 12))
		state := map[string]int{} // 0 ok, 1 failing, 2 cannot check
		var log []string
		for step := range 300 {
			for _, name := range []string{"httpd", "web-port", "oom"} {
				if rng.IntN(4) == 0 { // results change now and then, in runs
					state[name] = rng.IntN(3)
				}
				r := h.result(name, state[name] == 0)
				if state[name] == 2 {
					r = check.Result{Check: name, Unknown: true, At: h.clock.Now(),
						Firing: "[경고] " + name + " 점검 불가", Resolved: "[복구] " + name + " 점검 재개", Severity: "warning"}
				}
				h.e.Observe(r)
			}
			h.step(time.Minute)
			for _, n := range h.n.take() {
				log = append(log, fmt.Sprintf("%3d %-10s %v %q", step, n.Reason, n.Recipients, n.Text))
			}
			if restart {
				h.restart(cfg)
			}
		}
		return log
	}
	kept, restarted := run(false), run(true)
	if len(kept) < 30 {
		t.Fatalf("the sequence sent only %d messages: not a test", len(kept))
	}
	if !slices.Equal(kept, restarted) {
		t.Fatalf("restarts changed what was sent:\nkept running (%d):\n%s\nrestarted every step (%d):\n%s",
			len(kept), strings.Join(kept, "\n"), len(restarted), strings.Join(restarted, "\n"))
	}
	t.Logf("%d messages, the same with a restart after each of 300 steps", len(kept))
	reasons := map[Reason]bool{}
	for _, l := range kept {
		reasons[Reason(strings.Fields(l)[1])] = true
	}
	for _, r := range []Reason{ReasonFirst, ReasonRepeat, ReasonResolved, ReasonEscalation, ReasonFlapping} {
		if !reasons[r] {
			t.Errorf("the sequence never sent a %s message: not a test of it", r)
		}
	}
}
