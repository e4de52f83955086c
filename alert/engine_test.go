package alert

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

func TestThresholds(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Failures = 3
	cfg.Alerting.Successes = 2
	cfg.Checks[1].Failures = 1 // web-port overrides: fires at once
	h := newHarness(t, cfg)

	for i := range 2 {
		h.fail("httpd")
		h.step(10 * time.Second)
		if got := h.e.Checks()[0]; got.Check != "httpd" || got.State != StatePending {
			t.Fatalf("after %d failures: %+v", i+1, got)
		}
	}
	h.expect()
	h.fail("httpd")
	h.step(10 * time.Second)
	h.expect(txtHttpd)

	h.fail("web-port")
	h.flush()
	h.expect(txtPort)

	// One success is not enough, a failure in between restarts the count.
	h.pass("httpd")
	h.step(10 * time.Second)
	h.fail("httpd")
	h.step(10 * time.Second)
	h.pass("httpd")
	h.step(10 * time.Second)
	h.expect()
	h.pass("httpd")
	h.step(10 * time.Second)
	got := h.expect(resHttpd)
	if got[0].Reason != ReasonResolved || got[0].Title != "" || got[0].Recipients[0] != phoneA {
		t.Errorf("recovery notification = %+v", got[0])
	}
}

func TestOneMessagePerIncident(t *testing.T) {
	h := newHarness(t, baseConfig()) // repeat 0
	for range 60 {
		h.fail("httpd")
		h.step(time.Minute)
	}
	got := h.expect(txtHttpd)
	if got[0].Reason != ReasonFirst || got[0].Severity != "warning" || got[0].Checks[0] != "httpd" {
		t.Errorf("notification = %+v", got[0])
	}
	inc := openIncident(t, h.e, "httpd")
	if inc.NotificationCount != 1 || len(inc.Notifications) != 1 || inc.Notifications[0].Reason != ReasonFirst {
		t.Errorf("incident notifications = %+v", inc.Notifications)
	}
}

func TestRepeatUntilAck(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	h.step(59 * time.Minute)
	h.expect()
	h.step(time.Minute)
	if got := h.expect(txtHttpd); got[0].Reason != ReasonRepeat {
		t.Errorf("reason = %s, want repeat", got[0].Reason)
	}
	h.step(time.Hour)
	h.expect(txtHttpd)

	inc := openIncident(t, h.e, "httpd")
	if err := h.e.Ack(context.Background(), inc.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.fail("httpd")
		h.step(time.Hour)
	}
	h.expect()
	inc, _ = h.e.Incident(inc.ID)
	if inc.AckedBy != "kim" || inc.AckedAt.IsZero() {
		t.Errorf("ack not recorded: %+v", inc)
	}
	// The recovery still goes out after an ack.
	h.pass("httpd")
	h.flush()
	h.expect(resHttpd)
	if err := h.e.Ack(context.Background(), inc.ID, "lee"); !errors.Is(err, ErrIncidentClosed) {
		t.Errorf("ack of a resolved incident: %v", err)
	}
	if err := h.e.Ack(context.Background(), "nope", "lee"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack of an unknown incident: %v", err)
	}
}

func TestResolvedGoesToThoseNotified(t *testing.T) {
	cfg := baseConfig()
	cfg.Checks[0].Recipients = []string{phoneB, "group:web"}
	off := false
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	got := h.expect(txtHttpd)
	if strings.Join(got[0].Recipients, ",") != phoneB+",group:web" {
		t.Fatalf("paged %v", got[0].Recipients)
	}
	// Recipients change while firing (a restart with a new config): the
	// recovery still goes to those paged.
	cfg2 := baseConfig()
	cfg2.Checks[0].Recipients = []string{phoneB, "group:web"}
	cfg2.Alerting.Recipients = []string{"01099999999"}
	h.restart(cfg2)
	h.pass("httpd")
	h.flush()
	got = h.expect(resHttpd)
	if strings.Join(got[0].Recipients, ",") != phoneB+",group:web" {
		t.Errorf("recovery to %v", got[0].Recipients)
	}

	// resolved: false sends no recovery.
	cfg3 := baseConfig()
	cfg3.Alerting.Resolved = &off
	h2 := newHarness(t, cfg3)
	h2.fail("oom")
	h2.flush()
	h2.expect(txtOOM)
	h2.pass("oom")
	h2.step(time.Minute)
	h2.expect()
	if incs := h2.e.Incidents(true); len(incs) != 0 {
		t.Errorf("open incidents after recovery: %+v", incs)
	}
}

func TestNotifierFailureRetriedWithoutDuplicates(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.n.fails = 2
	h.fail("httpd")
	if err := h.e.Flush(context.Background()); err == nil {
		t.Fatal("Flush did not report the notifier error")
	}
	h.expect()
	// However often it is woken, it waits RetryInterval before trying again.
	if next := h.e.tick(context.Background()); !next.Equal(h.clock.Now().Add(10 * time.Second)) {
		t.Errorf("retry scheduled at %v, want now+10s", next)
	}
	h.clock.Advance(9 * time.Second)
	h.flush()
	if h.n.calls != 1 {
		t.Errorf("notifier called %d times within the retry interval", h.n.calls)
	}
	h.clock.Advance(time.Second)
	if err := h.e.Flush(context.Background()); err == nil {
		t.Fatal("second failure not reported")
	}
	h.step(10 * time.Second)
	h.expect(txtHttpd)
	for range 5 {
		h.step(time.Minute)
	}
	h.expect()
	if h.n.calls != 3 {
		t.Errorf("notifier called %d times, want 3", h.n.calls)
	}
	// The reminder is an hour after the accepted message, not the first try.
	h.step(time.Hour - 5*time.Minute - 1)
	h.expect()
	h.step(time.Second)
	h.expect(txtHttpd)
}

func TestStoreFailureKeepsStateDirty(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.st.fail = errors.New("disk full")
	h.fail("httpd")
	if err := h.e.Flush(context.Background()); err == nil {
		t.Fatal("want the store error")
	}
	h.expect(txtHttpd) // the message is not held back by the store
	h.st.fail = nil
	h.step(10 * time.Second)
	if keys := h.st.keys(prefixIncident); len(keys) != 1 {
		t.Fatalf("incident not saved after the store recovered: %v", keys)
	}
	// A restart now neither re-sends nor forgets.
	h.restart(h.cfg)
	h.step(time.Minute)
	h.expect()
	openIncident(t, h.e, "httpd")
}

func TestTemplates(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(30 * time.Second)
	cfg.Alerting.Templates = config.AlertTemplates{
		Firing:   `{{.Host}} 장애 {{.Count}}건{{range .Alerts}}|{{.Check}}={{.Text}}{{end}}`,
		Resolved: `{{range .Alerts}}{{.Text}} ({{.Severity}}){{end}}`,
	}
	h := newHarness(t, cfg)
	h.fail("httpd", "web-port")
	h.step(30 * time.Second)
	h.expect("web0 장애 2건|httpd=" + txtHttpd + "|web-port=" + txtPort)
	h.pass("httpd")
	h.step(30 * time.Second)
	h.expect(resHttpd + " (warning)")

	bad := baseConfig()
	bad.Alerting.Templates.Firing = "{{.Nope"
	if _, err := New(Options{Config: bad, State: newMemState(), Notifier: &recorder{}}); err == nil ||
		!strings.Contains(err.Error(), "alerting.templates.firing") {
		t.Errorf("bad template: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*config.Config)
		key  string
	}{
		{"quiet hours", func(c *config.Config) {
			c.Alerting.Groups = []config.Group{{Name: "ops", QuietHours: "22-07"}}
		}, "alerting.groups[0].quiet_hours"},
		{"silence until", func(c *config.Config) {
			c.Alerting.Silences = []config.Silence{{Check: "httpd", Until: "tomorrow"}}
		}, "alerting.silences[0].until"},
		{"escalation after", func(c *config.Config) {
			c.Alerting.Escalation = []config.Escalation{{To: []string{phoneB}}}
		}, "alerting.escalation[0].after"},
		{"timezone", func(c *config.Config) { c.Timezone = "Mars/Olympus" }, "timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			tt.mod(cfg)
			_, err := New(Options{Config: cfg, State: newMemState(), Notifier: &recorder{}})
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("err = %v, want one naming %s", err, tt.key)
			}
		})
	}
	if _, err := New(Options{Config: baseConfig(), Notifier: &recorder{}}); err == nil {
		t.Error("New without State succeeded")
	}
	if _, err := New(Options{Config: baseConfig(), State: newMemState()}); err == nil {
		t.Error("New without Notifier succeeded")
	}
}
