package alert

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

const (
	txtAgent = "[경고] munja agent 보고가 없습니다."
	resAgent = "[복구] munja agent 보고가 다시 들어옵니다."
)

// dependsConfig is baseConfig with httpd depending on web-port and a
// reminder every hour.
func dependsConfig() *config.Config {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	cfg.Checks[0].DependsOn = []string{"web-port"}
	return cfg
}

// dependsOn makes check i of cfg depend on deps.
func dependsOn(i int, deps ...string) func(*config.Config) {
	return func(c *config.Config) { c.Checks[i].DependsOn = deps }
}

// depStep is one line of a dependency scenario: do, then evaluate (Flush),
// then exactly sent went out, and each check named in held (NAME or
// NAME@HOST) shows that SuppressedBy, comma-separated ("" = none).
type depStep struct {
	do   string
	sent []string
	held map[string]string
}

// run applies one step's actions, in order:
//
//	fail|pass|blind NAME[@HOST]...   results (blind: cannot check)
//	silent|alive HOST...             an agent's host stops or resumes reporting
//	deps HOST NAME=DEP,DEP...        what HOST's agent says its checks depend on (rest of the line)
//	wait DURATION                    advance the clock
//	restart                          a fresh engine on the same store
//	nothing                          just evaluate
func (h *harness) run(do string) {
	h.t.Helper()
	op := ""
	f := strings.Fields(do)
	for i := 0; i < len(f); i++ {
		switch w := f[i]; w {
		case "fail", "pass", "blind", "silent", "alive":
			op = w
			continue
		case "deps":
			deps := map[string][]string{}
			for _, d := range f[i+2:] {
				name, list, _ := strings.Cut(d, "=")
				deps[name] = strings.Split(list, ",")
			}
			h.e.SetDepends(f[i+1], deps)
			return
		case "wait":
			d, err := time.ParseDuration(f[i+1])
			if err != nil {
				h.t.Fatal(err)
			}
			h.clock.Advance(d)
			i++
			continue
		case "restart":
			h.restart(h.cfg)
			continue
		case "nothing":
			continue
		}
		switch arg := f[i]; op {
		case "fail", "pass", "blind":
			name, host, _ := strings.Cut(arg, "@")
			r := h.result(name, op == "pass")
			r.Host = host
			if op == "blind" {
				r.Unknown = true
				r.Firing = check.CannotCheckText(name, check.ReasonJournal)
				r.Resolved = check.SeesAgainText(name)
			}
			h.e.Observe(r)
		case "silent", "alive":
			h.e.Observe(check.Result{Check: "agent", Host: arg, OK: op == "alive", At: h.clock.Now(),
				Severity: config.SeverityCritical, Firing: txtAgent, Resolved: resAgent})
		default:
			h.t.Fatalf("step %q: %q without an action", do, arg)
		}
	}
}

func TestDependsOn(t *testing.T) {
	port := txtPort
	web01 := func(s string) string { return "[web01] " + s }
	tests := []struct {
		name  string
		cfg   func(*config.Config)
		steps []depStep
	}{
		{"dependent fails while its dependency fails: held, shown suppressed", nil, []depStep{
			{do: "fail web-port httpd", sent: []string{port}, held: map[string]string{"httpd": "web-port", "web-port": ""}},
			{do: "wait 10m"},
		}},
		{"order within one evaluation does not matter", nil, []depStep{
			{do: "fail httpd web-port", sent: []string{port}, held: map[string]string{"httpd": "web-port"}},
		}},
		{"dependency recovers while the dependent still fails: its alert goes out then", nil, []depStep{
			{do: "fail web-port httpd", sent: []string{port}},
			{do: "wait 1m"},
			{do: "pass web-port", sent: []string{txtHttpd, resPort}, held: map[string]string{"httpd": ""}},
			{do: "wait 59m"},
			{do: "wait 1m", sent: []string{txtHttpd}}, // its own reminder, an hour after its first alert
		}},
		{"dependent recovers while held: nothing is sent for it", nil, []depStep{
			{do: "fail web-port httpd", sent: []string{port}},
			{do: "pass httpd", held: map[string]string{"httpd": ""}},
			{do: "wait 2h", sent: []string{port}},
			{do: "pass web-port", sent: []string{resPort}},
		}},
		{"dependent paged before its dependency failed: reminders held, recovery sent", nil, []depStep{
			{do: "fail httpd", sent: []string{txtHttpd}},
			{do: "wait 10m"},
			{do: "fail web-port", sent: []string{port}, held: map[string]string{"httpd": "web-port"}},
			{do: "wait 50m"}, // httpd's reminder is due: held
			{do: "wait 10m", sent: []string{port}},
			{do: "pass httpd", sent: []string{resHttpd}},
			{do: "pass web-port", sent: []string{resPort}},
		}},
		{"a reminder held while the dependency failed goes out when it recovers", nil, []depStep{
			{do: "fail httpd", sent: []string{txtHttpd}},
			{do: "fail web-port", sent: []string{port}},
			{do: "wait 30m"},
			{do: "pass web-port", sent: []string{resPort}},
			{do: "wait 30m", sent: []string{txtHttpd}},
		}},
		{"a dependency that cannot check holds its dependents", nil, []depStep{
			{do: "blind web-port", sent: []string{"[경고] web-port 점검 불가: 시스템 저널을 읽을 수 없습니다."}},
			{do: "fail httpd", held: map[string]string{"httpd": "web-port"}},
			{do: "pass web-port", sent: []string{txtHttpd, "[복구] web-port 점검이 다시 동작합니다."}},
		}},
		{"the dependent's own cannot-check alert is held", nil, []depStep{
			{do: "fail web-port blind httpd", sent: []string{port}, held: map[string]string{"httpd": "web-port"}},
			{do: "pass web-port", sent: []string{"[경고] httpd 점검 불가: 시스템 저널을 읽을 수 없습니다.", resPort}},
		}},
		{"a dependency below its failures threshold already holds", func(c *config.Config) { c.Checks[1].Failures = 3 }, []depStep{
			{do: "fail web-port httpd", held: map[string]string{"httpd": "web-port"}},
			{do: "pass web-port", sent: []string{txtHttpd}},
		}},
		{"chain: only the root cause pages", dependsOn(2, "httpd"), []depStep{
			{do: "fail web-port httpd oom", sent: []string{port}, held: map[string]string{"httpd": "web-port", "oom": "httpd"}},
			{do: "pass web-port", sent: []string{txtHttpd, resPort}, held: map[string]string{"oom": "httpd"}},
		}},
		{"a check may depend on several", dependsOn(2, "httpd", "web-port"), []depStep{
			{do: "fail web-port httpd oom", sent: []string{port}, held: map[string]string{"oom": "httpd,web-port"}},
		}},
		{"a restart keeps the hold", nil, []depStep{
			{do: "fail web-port httpd", sent: []string{port}},
			{do: "restart", held: map[string]string{"httpd": "web-port"}},
			{do: "wait 1h", sent: []string{port}},
			{do: "restart pass httpd"},
			{do: "restart pass web-port", sent: []string{resPort}},
		}},
		{"an agent's host that stops reporting holds its checks", nil, []depStep{
			{do: "alive web01 fail httpd@web01", sent: []string{web01(txtHttpd)}},
			{do: "silent web01", sent: []string{web01(txtAgent)}, held: map[string]string{"httpd@web01": "host:web01"}},
			{do: "fail oom@web01", held: map[string]string{"oom@web01": "host:web01"}},
			{do: "wait 1h", sent: []string{web01(txtAgent)}}, // the host's reminder, not httpd's
			{do: "restart", held: map[string]string{"httpd@web01": "host:web01"}},
			{do: "alive web01", sent: []string{web01(txtOOM), web01(txtHttpd), web01(resAgent)}},
		}},
		{"an agent's check depends on the same agent's check", nil, []depStep{
			{do: "deps web01 httpd=web-port"},
			{do: "fail web-port@web01 httpd@web01", sent: []string{web01(port)}, held: map[string]string{"httpd@web01": "web-port"}},
			{do: "restart", held: map[string]string{"httpd@web01": "web-port"}},
			{do: "deps web01", sent: []string{web01(txtHttpd)}, held: map[string]string{"httpd@web01": ""}},
		}},
		{"the server's depends_on is not an agent's", nil, []depStep{
			{do: "fail web-port@web01 httpd@web01", sent: []string{web01(txtHttpd) + "\n" + web01(port)}},
		}},
		{"a local check depends on an agent's host", dependsOn(2, "host:web01"), []depStep{
			{do: "silent web01 fail oom", sent: []string{web01(txtAgent)}, held: map[string]string{"oom": "host:web01"}},
			{do: "alive web01", sent: []string{txtOOM, web01(resAgent)}},
		}},
		{"a cycle reported by an agent never hides the root cause", nil, []depStep{
			{do: "deps web01 httpd=web-port web-port=httpd"},
			{do: "fail web-port@web01 httpd@web01", sent: []string{web01(txtHttpd) + "\n" + web01(port)},
				held: map[string]string{"httpd@web01": "", "web-port@web01": ""}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dependsConfig()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			h := newHarness(t, cfg)
			for i, s := range tt.steps {
				h.run(s.do)
				h.flush()
				var texts []string
				for _, n := range h.n.take() {
					texts = append(texts, n.Text)
				}
				if !slices.Equal(texts, s.sent) {
					t.Fatalf("step %d %q: sent\n%swant\n%s", i, s.do, show(texts), show(s.sent))
				}
				for name, want := range s.held {
					if got := strings.Join(suppressed(t, h.e, name), ","); got != want {
						t.Fatalf("step %d %q: %s suppressed by %q, want %q", i, s.do, name, got, want)
					}
				}
			}
		})
	}
}

// suppressed returns what Checks shows as SuppressedBy for NAME[@HOST].
func suppressed(t *testing.T, e *Engine, which string) []string {
	t.Helper()
	name, host, _ := strings.Cut(which, "@")
	for _, c := range e.Checks() {
		if c.Check == name && c.Host == host {
			return c.SuppressedBy
		}
	}
	t.Fatalf("no check %s", which)
	return nil
}

// TestDependsOnIncident: the incident of a held check shows who holds it,
// and keeps it once it resolved with nothing sent; persisted like the rest.
func TestDependsOnIncident(t *testing.T) {
	h := newHarness(t, dependsConfig())
	h.run("fail web-port httpd")
	h.flush()
	h.expect(txtPort)
	inc := openIncident(t, h.e, "httpd")
	if !slices.Equal(inc.SuppressedBy, []string{"web-port"}) {
		t.Fatalf("held incident: suppressed_by %v", inc.SuppressedBy)
	}
	if port := openIncident(t, h.e, "web-port"); port.SuppressedBy != nil {
		t.Fatalf("the dependency's incident shows suppressed_by %v", port.SuppressedBy)
	}
	h.pass("httpd")
	h.flush()
	h.restart(h.cfg)
	got, err := h.e.Incident(inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Open() || !slices.Equal(got.SuppressedBy, []string{"web-port"}) || got.NotificationCount != 0 {
		t.Fatalf("resolved held incident after a restart: %+v", got)
	}
	h.expect()
}

// TestDependsOnWaitsForTheDependency: a process exit is seen at once, the
// closed port it caused only at the port check's next run. Under Run, the
// dependent's first alert waits for that run (at most the dependency's
// interval and timeout), so only the port's alert goes out; when the
// dependency is fine, the dependent's alert goes out as soon as the
// dependency was looked at.
func TestDependsOnWaitsForTheDependency(t *testing.T) {
	cfg := dependsConfig()
	cfg.Alerting.Interval = config.Duration(5 * time.Second) // web-port: settles within 5+5+2 s
	h := newHarness(t, cfg)
	h.n.ch = make(chan Notification, 10)
	stop := runEngine(t, h.e)
	defer stop()

	h.pass("web-port", "httpd")
	h.clock.Advance(time.Second)
	h.fail("httpd") // the process exited
	time.Sleep(20 * time.Millisecond)
	h.clock.Advance(3 * time.Second)
	h.fail("web-port") // the port check's next run
	if n := h.advanceUntil(h.n.ch); n.Text != txtPort {
		t.Fatalf("first message %q, want only the port's", n.Text)
	}
	h.clock.Advance(time.Minute)
	time.Sleep(50 * time.Millisecond)
	if got := h.n.take(); len(got) != 1 {
		t.Fatalf("sent %d messages, want the port's only", len(got))
	}

	// The port recovers; httpd still fails: its alert waits for httpd to be
	// looked at again, then goes out.
	h.pass("web-port")
	if n := h.advanceUntil(h.n.ch); n.Text != resPort {
		t.Fatalf("got %q, want the port's recovery", n.Text)
	}
	select {
	case n := <-h.n.ch:
		t.Fatalf("%q sent before httpd was looked at again", n.Text)
	case <-time.After(50 * time.Millisecond):
	}
	start := h.clock.Now()
	h.fail("httpd")
	if n := h.advanceUntil(h.n.ch); n.Text != txtHttpd || h.clock.Now().Sub(start) > 5*time.Second {
		t.Fatalf("got %q after %s, want httpd's alert at once", n.Text, h.clock.Now().Sub(start))
	}

	// Without a result from the dependency, the wait ends after its
	// interval and timeout.
	h.pass("httpd")
	h.advanceUntil(h.n.ch) // httpd's recovery
	h.clock.Advance(time.Minute)
	start = h.clock.Now()
	h.fail("httpd")
	n := h.advanceUntil(h.n.ch)
	if waited := h.clock.Now().Sub(start); n.Text != txtHttpd || waited < 12*time.Second || waited > 14*time.Second {
		t.Fatalf("got %q after %s, want httpd's alert after 12 s", n.Text, waited)
	}
}

// TestDependsOnConfigChange: adding depends_on to a check that is already
// paged keeps its incident (no second first alert) and holds its reminders.
func TestDependsOnConfigChange(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.flush()
	h.expect(txtHttpd)
	before := openIncident(t, h.e, "httpd")

	h.restart(dependsConfig())
	h.fail("web-port", "httpd")
	h.flush()
	h.expect(txtPort)
	if after := openIncident(t, h.e, "httpd"); after.ID != before.ID {
		t.Fatalf("adding depends_on reset httpd's incident: %s, was %s", after.ID, before.ID)
	}
	h.step(time.Hour)
	h.expect(txtPort) // the port's reminder; httpd's is held
	h.pass("httpd")
	h.flush()
	h.expect(resHttpd)
}
