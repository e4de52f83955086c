package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	// Quiet hours and config silences are read in the configured time zone,
	// which must work on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
)

const (
	defaultTimezone    = "Asia/Seoul"
	defaultFlapWindow  = 10 * time.Minute
	silenceLocalLayout = "2006-01-02 15:04"
)

// compiled is the config as the engine uses it, validated once.
type compiled struct {
	loc        *time.Location
	localHost  string
	failures   int
	successes  int
	groupWait  time.Duration
	repeat     time.Duration
	resolved   bool
	recipients []string
	flapWindow time.Duration
	flapChange int
	quiet      map[string]quietHours // by recipient "group:NAME"
	escalation []escStep
	silences   []Silence
	firing     *template.Template
	resolvedT  *template.Template
	checks     map[string]checkCfg
	order      map[string]int // check name → position in the config
	// settle bounds how long a dependent's first alert waits for a check
	// not in the config (an agent's) to be looked at again; see notBefore.
	settle time.Duration
}

type checkCfg struct {
	configured bool
	hash       string
	failures   int
	successes  int
	recipients []string
	severity   config.Severity // override; "" = from the result
	dependsOn  []string        // as written: check names, "host:NAME"
	// settle is the longest this check may take to report again (its
	// interval and timeout, and a little): a dependent's first alert
	// waits at most this long for it to be looked at; see notBefore.
	settle time.Duration
}

type escStep struct {
	After time.Duration
	To    []string
}

func compile(c *config.Config) (*compiled, error) {
	if c == nil {
		return nil, fmt.Errorf("alert: config is nil")
	}
	a := c.Alerting
	tz := c.Timezone
	if tz == "" {
		tz = defaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	cc := &compiled{
		loc:        loc,
		localHost:  c.Host,
		failures:   max(a.Failures, 1),
		successes:  max(a.Successes, 1),
		groupWait:  a.GroupWait.D(),
		repeat:     a.Repeat.D(),
		resolved:   a.Resolved == nil || *a.Resolved,
		recipients: a.Recipients,
		flapWindow: a.Flapping.Window.D(),
		flapChange: a.Flapping.Changes,
		quiet:      map[string]quietHours{},
		checks:     map[string]checkCfg{},
		order:      map[string]int{},
	}
	if cc.localHost == "" {
		if h, err := os.Hostname(); err == nil {
			cc.localHost = h
		}
	}
	if cc.localHost == "" {
		cc.localHost = "localhost"
	}
	if cc.flapWindow <= 0 {
		cc.flapWindow = defaultFlapWindow
	}
	for i, g := range a.Groups {
		if g.QuietHours == "" {
			continue
		}
		q, err := parseQuietHours(g.QuietHours)
		if err != nil {
			return nil, fmt.Errorf("alerting.groups[%d].quiet_hours: %w", i, err)
		}
		if q.days, err = oncall.ParseDays(g.QuietDays); err != nil {
			return nil, fmt.Errorf("alerting.groups[%d].quiet_days: %w", i, err)
		}
		if q.days.UsesHolidays() {
			q.cal = c.OncallHolidays()
		}
		cc.quiet["group:"+g.Name] = q
	}
	for i, e := range a.Escalation {
		if e.After.D() <= 0 {
			return nil, fmt.Errorf("alerting.escalation[%d].after: must be positive", i)
		}
		if len(e.To) == 0 {
			return nil, fmt.Errorf("alerting.escalation[%d].to: no recipients", i)
		}
		cc.escalation = append(cc.escalation, escStep{After: e.After.D(), To: e.To})
	}
	for i, s := range a.Silences {
		until, err := parseUntil(s.Until, loc)
		if err != nil {
			return nil, fmt.Errorf("alerting.silences[%d].until: %w", i, err)
		}
		cc.silences = append(cc.silences, Silence{
			ID: fmt.Sprintf("config-%d", i), Check: s.Check, Host: s.Host,
			Until: until, Comment: s.Comment, By: "config", FromConfig: true,
		})
	}
	if cc.firing, err = parseTemplate("firing", a.Templates.Firing); err != nil {
		return nil, fmt.Errorf("alerting.templates.firing: %w", err)
	}
	if cc.resolvedT, err = parseTemplate("resolved", a.Templates.Resolved); err != nil {
		return nil, fmt.Errorf("alerting.templates.resolved: %w", err)
	}
	cc.settle = settleTime(0, 0, a.Interval.D())
	for _, ch := range c.Checks {
		// What a check depends on is not part of its state: changing it
		// keeps the check's open incident.
		hashed := ch
		hashed.DependsOn = nil
		b, err := json.Marshal(hashed)
		if err != nil {
			return nil, fmt.Errorf("checks %q: %w", ch.Name, err)
		}
		sum := sha256.Sum256(b)
		k := checkCfg{
			configured: true,
			hash:       hex.EncodeToString(sum[:8]),
			failures:   cc.failures,
			successes:  cc.successes,
			recipients: cc.recipients,
			severity:   ch.Severity,
			dependsOn:  ch.DependsOn,
			settle:     settleTime(ch.Interval.D(), ch.Timeout.D(), a.Interval.D()),
		}
		if ch.Failures > 0 {
			k.failures = ch.Failures
		}
		if ch.Successes > 0 {
			k.successes = ch.Successes
		}
		if len(ch.Recipients) > 0 {
			k.recipients = ch.Recipients
		}
		cc.checks[ch.Name] = k
		cc.order[ch.Name] = len(cc.order)
	}
	return cc, nil
}

// check returns the settings for a check name; unconfigured checks (agent
// pushes, webhooks) get the alerting defaults.
func (c *compiled) check(name string) checkCfg {
	if k, ok := c.checks[name]; ok {
		return k
	}
	return checkCfg{failures: c.failures, successes: c.successes, recipients: c.recipients, settle: c.settle}
}

// settleSlack covers the runner's alignment to whole seconds and an
// agent's push once a second.
const settleSlack = 2 * time.Second

// settleTime is how long a check of this interval and timeout (0 = the
// defaults, as check/checks resolves them) may take to report again.
func settleTime(interval, timeout, defaultInterval time.Duration) time.Duration {
	if interval <= 0 {
		interval = defaultInterval
	}
	if interval <= 0 {
		interval = check.DefaultInterval
	}
	if timeout <= 0 {
		timeout = min(check.DefaultTimeout, interval)
	}
	return interval + timeout + settleSlack
}

// position orders alerts of one message like the config lists the checks
// (the original script's order); unconfigured checks come last.
func (c *compiled) position(name string) int {
	if i, ok := c.order[name]; ok {
		return i
	}
	return len(c.order)
}

func parseTemplate(name, text string) (*template.Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return t, nil
}

func parseUntil(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("required (RFC3339 or %q)", silenceLocalLayout)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(silenceLocalLayout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q (use RFC3339 or %q)", s, silenceLocalLayout)
	}
	return t, nil
}

// quietHours is a daily range [start, end) in minutes after midnight; start >
// end wraps past midnight ("22:00-07:00"), on the days that match days
// (the day a window starts; zero: every day), holidays told by cal.
type quietHours struct {
	start, end int
	days       oncall.Days
	cal        *holiday.Calendar
}

func parseQuietHours(s string) (quietHours, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return quietHours{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(a)
	if err != nil {
		return quietHours{}, fmt.Errorf("%q: %w", s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return quietHours{}, fmt.Errorf("%q: %w", s, err)
	}
	if start == end {
		return quietHours{}, fmt.Errorf("%q: start and end are equal", s)
	}
	return quietHours{start: start, end: end}, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid time of day %q (want HH:MM)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// until reports whether t is inside the quiet hours and, if so, when they end.
func (q quietHours) until(t time.Time, loc *time.Location) (time.Time, bool) {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	in := q.start < q.end && m >= q.start && m < q.end ||
		q.start > q.end && (m >= q.start || m < q.end)
	if !in {
		return time.Time{}, false
	}
	if !q.days.IsZero() {
		day := lt
		if q.start > q.end && m < q.end { // the window began yesterday
			day = lt.AddDate(0, 0, -1)
		}
		if !q.days.Match(holiday.DateOf(day), q.cal) {
			return time.Time{}, false
		}
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.end/60, q.end%60, 0, 0, loc)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}
