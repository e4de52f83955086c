package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// validateErrs parses src (which must parse) and returns Validate's lines.
func validateErrs(t *testing.T, src string, more ...func(*Config) []error) []string {
	t.Helper()
	c := mustParse(t, src, nil)
	err := c.Validate(more...)
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Validate returned %T, want Errors", err)
	}
	if err.Error() != joinErrs(es) || strings.Count(err.Error(), "\n") != len(es)-1 {
		t.Errorf("Errors.Error() = %q, want the lines joined", err.Error())
	}
	lines := make([]string, len(es))
	for i, e := range es {
		if e.Line != 0 {
			t.Errorf("Validate set Line on %q", e.Error())
		}
		lines[i] = e.Error()
	}
	return lines
}

func joinErrs(es Errors) string {
	var parts []string
	for _, e := range es {
		if e.Path == "" {
			parts = append(parts, e.Msg)
		} else {
			parts = append(parts, e.Path+": "+e.Msg)
		}
	}
	return strings.Join(parts, "\n")
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // exact lines, in order; nil = valid
	}{
		{"defaults", "", nil},
		{"listen", "server:\n  listen: x\n", []string{`server.listen: invalid address "x" (want host:port, e.g. 127.0.0.1:8080 or :8080)`}},
		{"listen port range", "server:\n  listen: \":70000\"\n", []string{`server.listen: invalid address ":70000" (want host:port, e.g. 127.0.0.1:8080 or :8080)`}},
		{"listen ok forms", "server:\n  listen: \":8080\"\n", nil},
		{"listen ipv6", "server:\n  listen: \"[::1]:8080\"\n", nil},
		{"listen empty", "server:\n  listen: \"\"\n", []string{"server.listen: required"}},
		{"redirect without tls", "server:\n  redirect_http: \":80\"\n", []string{"server.redirect_http: needs tls_cert and tls_key (it redirects to HTTPS)"}},
		{"tls cert without key", "server:\n  tls_cert: /etc/munja/cert.pem\n", []string{"server.tls_key: required when tls_cert is set"}},
		{"tls key without cert", "server:\n  tls_key: /etc/munja/key.pem\n", []string{"server.tls_cert: required when tls_key is set"}},
		{"tls both", "server:\n  tls_cert: c.pem\n  tls_key: k.pem\n  redirect_http: \":80\"\n", nil},
		{"public url", "server:\n  public_url: munja.example.com\n", []string{`server.public_url: invalid URL "munja.example.com" (want http:// or https://host…)`}},
		{"trusted networks", "server:\n  trusted_networks: [\"127.0.0.1/32\", \"10.0.0.300/8\", \"::1/128\", \"192.168.0.1\"]\n", []string{
			`server.trusted_networks[1]: invalid CIDR "10.0.0.300/8" (e.g. 10.0.0.0/8, ::1/128)`,
			`server.trusted_networks[3]: invalid CIDR "192.168.0.1" (e.g. 10.0.0.0/8, ::1/128)`,
		}},
		{"trusted proxies", "server:\n  trusted_proxies: [nope]\n", []string{`server.trusted_proxies[0]: invalid CIDR "nope" (e.g. 10.0.0.0/8, ::1/128)`}},
		{"database empty", "database: \"\"\n", []string{"database: required (an SQLite file like munja.db, or postgres://user@host:5432/db)"}},
		{"database postgres", "database: postgres://munja@127.0.0.1:5432/munja?sslmode=disable\n", nil},
		{"database postgresql", "database: postgresql://munja@db/munja\n", nil},
		{"database sqlite path", "database: /var/lib/munja/munja.db\n", nil},
		{"database mysql", "database: mysql://root@db/munja\n", []string{`database: unsupported scheme "mysql" (want an SQLite file path or postgres://…)`}},
		{"timezone", "timezone: Asia/Seul\n", []string{`timezone: unknown time zone "Asia/Seul"`}},
		{"timezone utc", "timezone: UTC\n", nil},
		{"log level", "log:\n  level: verbose\n", []string{`log.level: must be debug, info, warn or error, not "verbose"`}},
		{"log format", "log:\n  format: xml\n", []string{`log.format: must be text or json, not "xml"`}},
		{"sender ok", "sms:\n  sender: 02-1234-5678\n", nil},
		{"sender short", "sms:\n  sender: \"1234567\"\n", []string{`sms.sender: invalid sender number "1234567" (8 to 16 digits, hyphens allowed)`}},
		{"sender letters", "sms:\n  sender: 02-ABCD-5678\n", []string{`sms.sender: invalid sender number "02-ABCD-5678" (8 to 16 digits, hyphens allowed)`}},
		{"sender long", "sms:\n  sender: \"12345678901234567\"\n", []string{`sms.sender: invalid sender number "12345678901234567" (8 to 16 digits, hyphens allowed)`}},
		{"providers", "sms:\n  providers:\n    - type: aligo\n    - name: a\n    - name: a\n      type: webhook\n      sender: \"12\"\n", []string{
			"sms.providers[0].name: required",
			"sms.providers[1].type: required (aligo, webhook, dryrun, …)",
			`sms.providers[2].name: duplicate "a"`,
			`sms.providers[2].sender: invalid sender number "12" (8 to 16 digits, hyphens allowed)`,
		}},
		{"limits", "sms:\n  limits:\n    per_day: -1\n    per_recipient_per_hour: -2\n", []string{
			"sms.limits.per_day: must not be negative (0 = unlimited)",
			"sms.limits.per_recipient_per_hour: must not be negative (0 = unlimited)",
		}},
		{"limits zero", "sms:\n  limits:\n    per_day: 0\n    per_recipient_per_hour: 0\n", nil},
		{"retry", "sms:\n  retry:\n    initial: 0s\n    max: 0s\n    give_up_after: 0s\n", []string{
			"sms.retry.initial: must be positive",
			"sms.retry.max: must be positive",
			"sms.retry.give_up_after: must be positive",
		}},
		{"retry max below initial", "sms:\n  retry:\n    initial: 1m\n    max: 10s\n", []string{"sms.retry.max: must not be less than initial (1m0s)"}},
		{"checks", "checks:\n  - type: process\n  - name: httpd\n  - name: x\n    type: http\n    severity: high\n    failures: -1\n  - name: httpd\n    type: process\n", []string{
			"checks[0].name: required",
			"checks[1].type: required (process, listen, tcp, http, log, disk, memory, load, command, heartbeat)",
			`checks[2].severity: must be info, warning or critical, not "high"`,
			"checks[2].failures: must not be negative",
			`checks[3].name: duplicate "httpd"`,
		}},
		{"check recipients", "checks:\n  - name: a\n    type: http\n    recipients: [\"010-1234-5678\", \"010x\"]\n", []string{
			`checks[0].recipients[1]: invalid phone number "010x" (digits, +, - and spaces; or group:NAME)`,
		}},
		{"recipients", "alerting:\n  recipients: [\"01012345678\", \"group:ops\", \"+82 10 1234 5678\", \"group:\", \"12\", \"010-1234-5678-9999-1\", \"1+2\", \"group:book-only\"]\n", []string{
			`alerting.recipients[3]: group name missing after "group:"`,
			`alerting.recipients[4]: invalid phone number "12" (8 to 15 digits; or group:NAME)`,
			`alerting.recipients[5]: invalid phone number "010-1234-5678-9999-1" (8 to 15 digits; or group:NAME)`,
			`alerting.recipients[6]: invalid phone number "1+2" (digits, +, - and spaces; or group:NAME)`,
		}},
		{"oncall recipients", "oncall:\n  schedules:\n    - name: ops\n      layers: [{members: [\"01012345678\"], rotation: weekly, handoff: \"mon 09:00\", start: 2026-12-07}]\n" +
			"alerting:\n  recipients: [\"oncall:ops\", \"oncall:ops:next\", \"oncall:ops:all\", \"oncall:dev\", \"oncall:ops:first\"]\n  groups: [{name: g, members: [\"oncall:ops\"]}]\n", []string{
			`alerting.recipients[3]: "oncall:dev" names no schedule in oncall.schedules`,
			`alerting.recipients[4]: "oncall:ops:first": after the schedule, only :next (the next in the rotation) or :all (every member)`,
			`alerting.groups[0].members[0]: "oncall:ops": a group lists people; name the schedule where the group is used`,
		}},
		{"quiet days", "alerting:\n  groups:\n    - {name: a, members: [\"01012345678\"], quiet_hours: \"18:00-09:00\", quiet_days: workdays}\n" +
			"    - {name: b, members: [\"01012345678\"], quiet_days: \"sat,sun,holidays\"}\n    - {name: c, members: [\"01012345678\"], quiet_hours: \"22:00-07:00\", quiet_days: someday}\n", []string{
			"alerting.groups[1].quiet_days: needs quiet_hours (the hours that are quiet on those days)",
			`alerting.groups[2].quiet_days: unknown days "someday" (workdays, offdays, weekdays, weekends, holidays, mon … sun, or a range like mon-fri)`,
		}},
		{"alerting numbers", "alerting:\n  interval: 0s\n  failures: 0\n  successes: 0\n  flapping:\n    window: 0s\n", []string{
			"alerting.interval: must be positive",
			"alerting.failures: must be at least 1",
			"alerting.successes: must be at least 1",
			"alerting.flapping.window: must be positive when changes is set",
		}},
		{"flapping off", "alerting:\n  flapping:\n    changes: 0\n    window: 0s\n", nil},
		{"groups", "alerting:\n  groups:\n    - name: ops\n      members: [\"01012345678\"]\n      quiet_hours: \"22:00-07:00\"\n    - name: ops\n      quiet_hours: \"22-07\"\n    - members: [bad]\n      quiet_hours: \"25:00-07:00\"\n    - name: a b\n      quiet_hours: \"07:00-07:00\"\n", []string{
			`alerting.groups[1].name: duplicate "ops"`,
			`alerting.groups[1].quiet_hours: invalid quiet hours "22-07" (want HH:MM-HH:MM, e.g. 22:00-07:00)`,
			"alerting.groups[2].name: required",
			`alerting.groups[2].members[0]: invalid phone number "bad" (digits, +, - and spaces; or group:NAME)`,
			`alerting.groups[2].quiet_hours: invalid quiet hours "25:00-07:00" (want HH:MM-HH:MM, e.g. 22:00-07:00)`,
			`alerting.groups[3].name: invalid name "a b" (no spaces or commas)`,
			`alerting.groups[3].quiet_hours: invalid quiet hours "07:00-07:00": start and end are the same`,
		}},
		{"silences", "alerting:\n  silences:\n    - check: httpd\n      until: 2026-12-01 09:00\n    - until: 2026-12-01T09:00:00+09:00\n    - check: x\n    - until: tomorrow\n", []string{
			`alerting.silences[2].until: required (a silence must end; RFC3339 or "2006-01-02 15:04")`,
			`alerting.silences[3].until: invalid time "tomorrow" (want RFC3339 or "2006-01-02 15:04")`,
		}},
		{"escalation", "alerting:\n  escalation:\n    - after: 0s\n      to: [\"group:boss\"]\n    - after: 30m\n    - after: 1h\n      to: [\"x\"]\n", []string{
			"alerting.escalation[0].after: must be positive",
			"alerting.escalation[1].to: required",
			`alerting.escalation[2].to[0]: invalid phone number "x" (digits, +, - and spaces; or group:NAME)`,
		}},
		{"agent server", "agent:\n  server: 10.0.0.1:8080\n", []string{`agent.server: invalid URL "10.0.0.1:8080" (want http:// or https://host…)`}},
		{"agent ok", "agent:\n  server: https://munja.example.com\n  token: t\n", nil},
		{"heartbeat ok", "server:\n  heartbeat_url: https://hc-ping.com/0c3d2a6e-6f5b-4c1e-9a67-0d1f2e3a4b5c\n  heartbeat_interval: 30s\n", nil},
		{"heartbeat munja", "server:\n  heartbeat_url: http://token:T0KEN@10.0.0.2:8080/api/v1/heartbeat/munja-a\n", nil},
		// The URL is a secret (a push token): the error does not repeat it.
		{"heartbeat url", "server:\n  heartbeat_url: hc-ping.com/SECRET-UUID\n  heartbeat_interval: 500ms\n", []string{
			"server.heartbeat_url: must be an http:// or https:// URL with a host (e.g. https://hc-ping.com/UUID)",
			"server.heartbeat_interval: must be at least 1s (default 1m)",
		}},
		{"heartbeat scheme", "server:\n  heartbeat_url: ftp://example.com/SECRET\n", []string{
			"server.heartbeat_url: must be an http:// or https:// URL with a host (e.g. https://hc-ping.com/UUID)",
		}},
		{"heartbeat interval unused", "server:\n  heartbeat_interval: 0s\n", nil},
		{"down after", "sms:\n  down_after: 5s\n", []string{"sms.down_after: must be at least 10s (0 = off; default 5m)"}},
		{"down after off", "sms:\n  down_after: 0s\n", nil},
		{"down after ok", "sms:\n  down_after: 2m\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validateErrs(t, tt.src)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Validate =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestValidateDocumentOrder: errors come in the order their keys appear in
// the file, whatever order the sections are written in; validators passed in
// are merged into that order by their path.
func TestValidateDocumentOrder(t *testing.T) {
	src := `alerting:
  recipients: ["nope"]
checks:
  - name: web
    type: http
sms:
  providers:
    - name: aligo
      type: aligo
log:
  level: loud
server:
  listen: x
`
	providerV := func(c *Config) []error {
		var errs []error
		for i, p := range c.SMS.Providers {
			if p.Type == "aligo" && p.Option("key") == "" {
				errs = append(errs, FieldError{Path: fmt.Sprintf("sms.providers[%d].key", i), Msg: "required"})
			}
		}
		return errs
	}
	checkV := func(c *Config) []error {
		return []error{
			&FieldError{Path: "checks[0].url", Msg: "required for type http"},
			Errors{{Path: "checks[0].status", Msg: "x"}},
			errors.New("a plain error"),
			nil,
			fmt.Errorf("sms.providers[0].user_id: required"),                 // split into path and message
			fmt.Errorf("log.level: %q is not a level", "loud"),               // same path as a generic check: dropped
			fmt.Errorf("aligo: not a config path"),                           // first segment is no config key
			FieldError{Path: "checks[0].url", Msg: "required for type http"}, // exact repeat: dropped
		}
	}
	got := validateErrs(t, src, providerV, nil, checkV)
	want := []string{
		"a plain error",
		"aligo: not a config path",
		`alerting.recipients[0]: invalid phone number "nope" (digits, +, - and spaces; or group:NAME)`,
		"checks[0].url: required for type http",
		"checks[0].status: x",
		"sms.providers[0].key: required", // both fall back to the provider's line; a gateway's own keys then keep the order they were reported in
		"sms.providers[0].user_id: required",
		`log.level: must be debug, info, warn or error, not "loud"`,
		`server.listen: invalid address "x" (want host:port, e.g. 127.0.0.1:8080 or :8080)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	c := mustParse(t, src, nil)
	if l := c.Line("sms.providers[0].key"); l != 8 {
		t.Errorf("Line(sms.providers[0].key) = %d, want 8 (its provider)", l)
	}
	if l := c.Line("server.listen"); l != 13 {
		t.Errorf("Line(server.listen) = %d, want 13", l)
	}
	if l := Default().Line("server.listen"); l != 0 {
		t.Errorf("Line without a file = %d, want 0", l)
	}
}

// TestValidateStructOrder: a Config built in code sorts by field order.
func TestValidateStructOrder(t *testing.T) {
	c := Default()
	c.Alerting.Failures = 0
	c.Checks = []Check{{Name: "a", Type: "x"}, {Name: "a"}}
	c.Log.Format = "yaml"
	c.Server.Listen = "nope"
	err := c.Validate()
	want := strings.Join([]string{
		`server.listen: invalid address "nope" (want host:port, e.g. 127.0.0.1:8080 or :8080)`,
		`log.format: must be text or json, not "yaml"`,
		`checks[1].name: duplicate "a"`,
		"checks[1].type: required (process, listen, tcp, http, log, disk, memory, load, command, heartbeat)",
		"alerting.failures: must be at least 1",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Validate =\n%v\nwant\n%s", err, want)
	}
}

func TestParseQuietHours(t *testing.T) {
	tests := []struct {
		in         string
		start, end time.Duration
		ok         bool
	}{
		{"22:00-07:00", 22 * time.Hour, 7 * time.Hour, true},
		{"00:30-06:15", 30 * time.Minute, 6*time.Hour + 15*time.Minute, true},
		{" 09:00 - 18:00 ", 9 * time.Hour, 18 * time.Hour, true},
		{"9:00-18:00", 0, 0, false},
		{"22:00", 0, 0, false},
		{"22:00-24:00", 0, 0, false},
		{"22:60-23:00", 0, 0, false},
		{"10:00-10:00", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, err := ParseQuietHours(tt.in)
		if (err == nil) != tt.ok || s != tt.start || e != tt.end {
			t.Errorf("ParseQuietHours(%q) = %v, %v, %v", tt.in, s, e, err)
		}
	}
}

func TestParseUntil(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-12-01T09:00:00+09:00", "2026-12-01 09:00", "2026-12-01 09:00:00", "2026-12-01T00:00:00Z"} {
		got, err := ParseUntil(in, seoul)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseUntil(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tomorrow", "2026-12-01", "12/01/2026 09:00"} {
		if _, err := ParseUntil(in, seoul); err == nil {
			t.Errorf("ParseUntil(%q) succeeded", in)
		}
	}
}

func TestLocationAndHostName(t *testing.T) {
	c := Default()
	if got := c.Location().String(); got != "Asia/Seoul" {
		t.Errorf("Location = %q", got)
	}
	noon := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC).In(c.Location())
	if noon.Hour() != 12 {
		t.Errorf("03:00 UTC in Asia/Seoul = %v, want 12:00 (embedded tzdata)", noon)
	}
	c.Timezone = "Nowhere/Nothing"
	if c.Location() != time.UTC {
		t.Errorf("unknown zone: Location = %v, want UTC", c.Location())
	}
	c.Host = " web01 "
	if c.HostName() != "web01" {
		t.Errorf("HostName = %q", c.HostName())
	}
	c.Host = ""
	if c.HostName() == "" {
		t.Error("HostName empty without host")
	}
}
