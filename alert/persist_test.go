package alert

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

func TestRestartKeepsOpenIncident(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	before := openIncident(t, h.e, "httpd")

	h.step(40 * time.Minute)
	h.restart(cfg)
	h.fail("httpd") // still failing after the restart: no new incident
	h.step(19 * time.Minute)
	h.expect()
	after := openIncident(t, h.e, "httpd")
	if after.ID != before.ID || !after.Started.Equal(before.Started) || after.NotificationCount != 1 {
		t.Errorf("incident after restart %+v, before %+v", after, before)
	}
	h.step(time.Minute) // an hour after the first message
	if got := h.expect(txtHttpd); got[0].Reason != ReasonRepeat {
		t.Errorf("reason %s", got[0].Reason)
	}
	h.restart(cfg)
	h.pass("httpd")
	h.flush()
	h.expect(resHttpd)
	if st := h.e.Checks()[0]; st.Check != "httpd" || st.State != StateOK || len(st.History) != 3 {
		t.Errorf("check after restarts: %+v", st)
	}
}

func TestRestartDuringGroupWaitLosesNothing(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(time.Minute)
	h := newHarness(t, cfg)
	h.fail("httpd", "web-port")
	h.step(10 * time.Second)
	h.expect()
	h.restart(cfg)
	h.step(50 * time.Second)
	h.expect(txtHttpd + "\n" + txtPort)
}

func TestConfigChangeResetsOnlyThatCheck(t *testing.T) {
	cfg := baseConfig()
	h := newHarness(t, cfg)
	h.fail("httpd", "web-port", "oom")
	h.flush()
	h.expect(txtHttpd + "\n" + txtPort + "\n" + txtOOM)
	port := openIncident(t, h.e, "web-port")
	httpd := openIncident(t, h.e, "httpd")

	changed := baseConfig()
	changed.Checks[0].Process = "nginx" // httpd's own config changed
	changed.Checks = changed.Checks[:2] // oom removed
	h.step(time.Minute)
	h.restart(changed)
	h.step(time.Minute)
	h.expect() // nothing re-sent, nothing resolved aloud

	if got := openIncident(t, h.e, "web-port"); got.ID != port.ID {
		t.Errorf("web-port incident replaced: %s -> %s", port.ID, got.ID)
	}
	old, _ := h.e.Incident(httpd.ID)
	if old.Open() || old.Note != "check config changed" {
		t.Errorf("httpd's old incident: %+v", old)
	}
	for _, inc := range h.e.Incidents(false) {
		if inc.Check == "oom" && (inc.Open() || inc.Note != "check removed from config") {
			t.Errorf("oom incident: %+v", inc)
		}
	}
	for _, st := range h.e.Checks() {
		switch st.Check {
		case "httpd":
			if st.State != StateUnknown {
				t.Errorf("httpd not reset: %+v", st)
			}
		case "web-port":
			if st.State != StateFiring {
				t.Errorf("web-port lost its state: %+v", st)
			}
		case "oom":
			t.Errorf("removed check still listed")
		}
	}
	if keys := h.st.keys(prefixCheck); strings.Join(keys, " ") != "alert/check/web-port/" {
		t.Errorf("stored check keys: %v", keys)
	}
	// httpd still failing under its new config is a new incident.
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
}

func TestChecksAndIncidentsAPI(t *testing.T) {
	h := newHarness(t, baseConfig())
	for i := range 60 {
		if i%10 == 9 {
			h.fail("httpd")
		} else {
			h.pass("httpd")
		}
		h.step(time.Minute)
	}
	var httpd CheckStatus
	for _, st := range h.e.Checks() {
		if st.Check == "httpd" {
			httpd = st
		} else if st.State != StateUnknown {
			t.Errorf("%s: %+v", st.Check, st)
		}
	}
	if len(httpd.History) != historySize || httpd.History[historySize-1].OK || !httpd.History[0].OK ||
		!httpd.History[0].At.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("history: %d points, first %+v last %+v", len(httpd.History), httpd.History[0], httpd.History[len(httpd.History)-1])
	}
	if httpd.State != StateFiring || httpd.Last.OK || httpd.Last.Firing != txtHttpd || httpd.Incident == "" {
		t.Errorf("httpd: %+v", httpd)
	}
	all := h.e.Incidents(false)
	if len(all) != 6 || !all[0].Open() || all[1].Open() || !all[0].Started.After(all[1].Started) {
		t.Fatalf("incidents: %d, newest first expected", len(all))
	}
	if n := all[1].Notifications; len(n) != 2 || n[0].Reason != ReasonFirst || n[1].Reason != ReasonResolved ||
		n[1].Recipients[0] != phoneA {
		t.Errorf("sent: %+v", n)
	}
	if open := h.e.Incidents(true); len(open) != 1 || open[0].ID != httpd.Incident {
		t.Errorf("open: %+v", open)
	}
	// Finished incidents are forgotten after the retention.
	h.pass("httpd")
	h.flush()
	h.step(incidentRetention + time.Hour)
	if all := h.e.Incidents(false); len(all) != 0 {
		t.Errorf("after retention: %d incidents", len(all))
	}
	if keys := h.st.keys(prefixIncident); len(keys) != 0 {
		t.Errorf("stored: %v", keys)
	}
}

func TestHistoryOnlyChangesAreBatched(t *testing.T) {
	h := newHarness(t, baseConfig())
	ctx := context.Background()
	h.pass("httpd")
	h.flush()
	puts := h.st.puts
	// Run's ticks write steady results at most once a minute…
	for range 5 {
		h.pass("httpd")
		h.clock.Advance(10 * time.Second)
		h.e.tick(ctx)
	}
	if h.st.puts != puts {
		t.Errorf("steady results wrote %d times", h.st.puts-puts)
	}
	h.clock.Advance(10 * time.Second)
	h.e.tick(ctx)
	load := func() storedCheck {
		raw, err := h.st.GetState(ctx, checkKey("httpd", ""))
		if err != nil {
			t.Fatal(err)
		}
		var st storedCheck
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := load(); st.History.len() != 6 {
		t.Errorf("history not written after a minute: %d points", st.History.len())
	}
	// …and Flush (cron mode) writes them at once.
	h.pass("httpd")
	h.flush()
	if st := load(); st.History.len() != 7 {
		t.Errorf("history not written by Flush: %d points", st.History.len())
	}
}

func TestUnreadableStateIsDropped(t *testing.T) {
	h := newHarness(t, baseConfig())
	ctx := context.Background()
	_ = h.st.PutState(ctx, "alert/incident/broken", []byte("{not json"))
	h.restart(h.cfg)
	if _, err := h.st.GetState(ctx, "alert/incident/broken"); err == nil {
		t.Error("broken record kept")
	}
}

func TestLostIncidentRecordFiresAgain(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	for _, k := range h.st.keys(prefixIncident) {
		_ = h.st.DeleteState(context.Background(), k)
	}
	h.restart(h.cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	h.fail("httpd")
	h.step(time.Minute)
	h.expect()
}
