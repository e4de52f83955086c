package config

import (
	"os"
	"strings"
	"testing"
)

const examplePath = "../docs/munja.example.yaml"

// TestExampleConfig: the documented example loads and validates, with the
// values DESIGN §4 shows.
func TestExampleConfig(t *testing.T) {
	t.Setenv("ALIGO_USER_ID", "munja-test")
	t.Setenv("ALIGO_KEY", "example-key-value")
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example does not validate:\n%v", err)
	}
	p := c.SMS.Providers[0]
	if p.Name != "aligo" || p.Option("user_id") != "munja-test" || p.Option("key") != "example-key-value" || p.BaseURL != "https://apis.aligo.in" || p.TestMode {
		t.Errorf("provider = %+v", p)
	}
	if c.DryRun() {
		t.Error("example is dry run")
	}
	var names []string
	for _, ch := range c.Checks {
		names = append(names, ch.Name+"/"+ch.Type)
	}
	if got := strings.Join(names, ","); got != "httpd/process,web-port/listen,oom/log" {
		t.Errorf("checks = %s", got)
	}
	if c.Checks[1].Port != 80 || !c.Checks[2].Journal || c.Checks[2].Pattern != "Out of memory" || c.Checks[2].Window.String() != "5m0s" {
		t.Errorf("check details = %+v / %+v", c.Checks[1], c.Checks[2])
	}
	if c.SMS.Sender != "0212345678" || c.SMS.Limits.PerDay != 1000 || c.Retention.String() != "400d" ||
		c.SMS.DownAfter.String() != "5m0s" || c.Server.HeartbeatInterval.String() != "1m0s" || !c.Server.HeartbeatURL.IsZero() {
		t.Errorf("sms = %+v, retention %v", c.SMS, c.Retention)
	}
	if strings.Join(c.Alerting.Recipients, ",") != "01012345678,group:ops" || !*c.Alerting.Resolved {
		t.Errorf("alerting = %+v", c.Alerting)
	}

	// Without the variables the error names them and where they are used.
	t.Setenv("ALIGO_KEY", "")
	os.Unsetenv("ALIGO_USER_ID")
	_, err = Load(examplePath)
	if err == nil || !strings.Contains(err.Error(), "sms.providers[0].user_id: environment variable ALIGO_USER_ID is not set") {
		t.Errorf("Load without ALIGO_USER_ID: %v", err)
	}
}
