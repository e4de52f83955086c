package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

const (
	blindOOM = "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다."
	seesOOM  = "[복구] oom 점검이 다시 동작합니다."
)

// blind is a result of oom that cannot check.
func (h *harness) blind() {
	h.e.Observe(check.Result{Check: "oom", Unknown: true, At: h.clock.Now(), Firing: blindOOM, Resolved: seesOOM,
		Detail: "cannot check: journal not available on this host: journalctl: not found", Severity: "warning"})
}

func statusOf(t *testing.T, e *Engine, name string) CheckStatus {
	t.Helper()
	for _, c := range e.Checks() {
		if c.Check == name {
			return c
		}
	}
	t.Fatalf("no status of %s", name)
	return CheckStatus{}
}

// TestCannotCheckTransitions feeds oom one result per interval (ok, fail
// or unknown) and lists the messages sent after each. It pins the rule of
// the two machines (see checkState): a cannot-check incident of its own,
// which pages like a failure and resolves once the check can look again;
// a failing incident that a blind spell neither resolves nor repeats; and
// never two messages in one interval.
func TestCannotCheckTransitions(t *testing.T) {
	both := func(lines ...string) string { return strings.Join(lines, "\n") }
	type step struct {
		res  string   // ok, fail, unknown
		want []string // messages sent after this result
	}
	tests := []struct {
		name                string
		failures, successes int
		steps               []step
	}{
		{"cannot check pages, and recovers when the check can look", 1, 1, []step{
			{"ok", nil}, {"unknown", []string{blindOOM}}, {"unknown", nil}, {"unknown", nil}, {"ok", []string{seesOOM}}, {"ok", nil}}},
		{"cannot check from the first result", 1, 1, []step{
			{"unknown", []string{blindOOM}}, {"ok", []string{seesOOM}}}},
		{"after failures results that cannot check", 3, 1, []step{
			{"unknown", nil}, {"unknown", nil}, {"unknown", []string{blindOOM}}, {"unknown", nil}, {"ok", []string{seesOOM}}}},
		{"a result that can look restarts the count", 2, 1, []step{
			{"unknown", nil}, {"ok", nil}, {"unknown", nil}, {"fail", nil}, {"unknown", nil}, {"unknown", []string{blindOOM}}}},
		{"recovers after successes results that can look", 1, 2, []step{
			{"unknown", []string{blindOOM}}, {"ok", nil}, {"unknown", nil}, {"ok", nil}, {"ok", []string{seesOOM}}}},
		{"cannot check, then failing: one message with both", 1, 1, []step{
			{"unknown", []string{blindOOM}}, {"fail", []string{both(seesOOM, txtOOM)}}, {"fail", nil}, {"ok", []string{resOOM}}}},
		{"cannot check, then failing below the threshold", 2, 1, []step{
			{"unknown", nil}, {"unknown", []string{blindOOM}}, {"fail", []string{seesOOM}}, {"fail", []string{txtOOM}}, {"ok", []string{resOOM}}}},
		{"failing, then cannot check: the failure stays open", 1, 1, []step{
			{"fail", []string{txtOOM}}, {"unknown", []string{blindOOM}}, {"unknown", nil}, {"fail", []string{seesOOM}}, {"fail", nil}, {"ok", []string{resOOM}}}},
		{"failing, blind, then ok: both recoveries in one message", 1, 1, []step{
			{"fail", []string{txtOOM}}, {"unknown", []string{blindOOM}}, {"ok", []string{both(resOOM, seesOOM)}}}},
		{"failing, briefly blind below the threshold, recovers", 1, 1, []step{
			{"fail", []string{txtOOM}}, {"ok", []string{resOOM}}}},
		{"a blind result does not reset pending failures", 2, 1, []step{
			{"fail", nil}, {"unknown", nil}, {"fail", []string{txtOOM}}}},
		{"a blind result breaks a streak of successes", 1, 2, []step{
			{"fail", []string{txtOOM}}, {"ok", nil}, {"unknown", []string{blindOOM}}, {"ok", nil}, {"ok", []string{both(resOOM, seesOOM)}}}},
		{"blind and failing in turn: at most one message per interval, the failure sent once", 1, 1, []step{
			{"unknown", []string{blindOOM}}, {"fail", []string{both(seesOOM, txtOOM)}}, {"unknown", []string{blindOOM}},
			{"fail", []string{seesOOM}}, {"unknown", []string{blindOOM}}, {"fail", []string{seesOOM}}, {"ok", []string{resOOM}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Alerting.Failures, cfg.Alerting.Successes = tt.failures, tt.successes
			h := newHarness(t, cfg)
			for i, s := range tt.steps {
				switch s.res {
				case "ok":
					h.pass("oom")
				case "fail":
					h.fail("oom")
				case "unknown":
					h.blind()
				}
				h.step(10 * time.Second)
				var got []string
				for _, n := range h.n.take() {
					got = append(got, n.Text)
				}
				if strings.Join(got, "|") != strings.Join(s.want, "|") {
					t.Fatalf("step %d (%s): sent\n%s want\n%s", i, s.res, show(got), show(s.want))
				}
				st := statusOf(t, h.e, "oom")
				if want := map[bool]string{true: StateCannotCheck}[s.res == "unknown"]; want != "" && st.State != want {
					t.Fatalf("step %d: state %s, want %s", i, st.State, want)
				} else if want == "" && st.State == StateCannotCheck {
					t.Fatalf("step %d (%s): state %s", i, s.res, st.State)
				}
			}
		})
	}
}

func TestCannotCheckIncident(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.pass("oom")
	h.step(10 * time.Second)
	h.blind()
	h.flush()
	got := h.expect(blindOOM)
	if got[0].Reason != ReasonFirst || got[0].Checks[0] != "oom" || got[0].Title != "" {
		t.Errorf("notification %+v", got[0])
	}
	inc := openIncident(t, h.e, "oom")
	if inc.Kind != KindCannotCheck || inc.Text != blindOOM || !strings.Contains(inc.Detail, "journalctl: not found") {
		t.Errorf("incident %+v", inc)
	}
	st := statusOf(t, h.e, "oom")
	if st.State != StateCannotCheck || st.Incident != inc.ID || !st.Since.Equal(h.clock.Now()) || st.Last.OK || !st.Last.Unknown {
		t.Errorf("status %+v", st)
	}
	if n := len(st.History); n != 2 || !st.History[0].OK || st.History[1].OK || !st.History[1].Unknown {
		t.Errorf("history %+v", st.History)
	}
	// Still blind an hour later: one message per incident (repeat 0).
	for range 6 {
		h.blind()
		h.step(10 * time.Minute)
	}
	h.expect()
	if st := statusOf(t, h.e, "oom"); !st.Since.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("since moved while blind: %v", st.Since)
	}
}

func TestCannotCheckRepeatsAndSilences(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.blind()
	h.flush()
	h.expect(blindOOM)
	h.step(time.Hour)
	if got := h.expect(blindOOM); got[0].Reason != ReasonRepeat {
		t.Errorf("reason %s", got[0].Reason)
	}
	// Acknowledged: no more reminders, the recovery still comes.
	inc := openIncident(t, h.e, "oom")
	if err := h.e.Ack(t.Context(), inc.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	h.step(3 * time.Hour)
	h.expect()
	h.pass("oom")
	h.flush()
	h.expect(seesOOM)
}

func TestRestartKeepsCannotCheckIncident(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.blind()
	h.flush()
	h.expect(blindOOM)
	id := openIncident(t, h.e, "oom").ID
	if keys := h.st.keys(prefixIncident); len(keys) != 1 {
		t.Fatalf("incident keys %v", keys)
	}

	h.restart(h.cfg)
	h.blind()
	h.step(time.Minute)
	h.expect() // neither re-sent nor opened anew
	if inc := openIncident(t, h.e, "oom"); inc.ID != id || inc.Kind != KindCannotCheck {
		t.Fatalf("after a restart: %+v", inc)
	}
	if st := statusOf(t, h.e, "oom"); st.State != StateCannotCheck || st.Incident != id {
		t.Errorf("status after a restart: %+v", st)
	}
	h.restart(h.cfg)
	h.fail("oom")
	h.flush()
	h.expect(seesOOM + "\n" + txtOOM)
	inc, _ := h.e.Incident(id)
	if inc.Open() || len(inc.Notifications) != 2 || inc.Notifications[1].Reason != ReasonResolved {
		t.Errorf("cannot-check incident after its recovery: %+v", inc)
	}

	// Failing and blind: both incidents open. A config change resets the
	// check, and both close without a message.
	h.blind()
	h.flush()
	h.expect(blindOOM)
	if n := len(h.e.Incidents(true)); n != 2 {
		t.Fatalf("%d open incidents, want the failing and the cannot-check one", n)
	}
	cfg2 := baseConfig()
	cfg2.Checks[2].Window = config.Duration(time.Minute)
	h.restart(cfg2)
	h.step(time.Minute)
	h.expect()
	if open := h.e.Incidents(true); len(open) != 0 {
		t.Errorf("open after a config change: %+v", open)
	}
}
