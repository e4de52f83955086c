package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone works on hosts without /usr/share/zoneinfo

	"github.com/munja-sms/munja/oncall"
)

// Validate reports every problem in c as Errors in document order. The
// checks here are the generic ones; more are the type-specific validators of
// the provider and check packages, whose errors are appended: a FieldError
// or Errors keeps its path, a plain "path: msg" error is split. Only the
// first error per key path is kept, so a validator repeating a generic
// check ("checks[1].type: required") does not show it twice.
func (c *Config) Validate(more ...func(*Config) []error) error {
	v := &validator{oncall: map[string]bool{}}
	for _, s := range c.Oncall.Schedules {
		v.oncall[strings.TrimSpace(s.Name)] = true
	}
	c.validateServer(v)
	c.validateTop(v)
	c.validateSMS(v)
	c.validateChecks(v)
	c.validateAlerting(v)
	c.validateAgent(v)
	c.validateOncall(v)
	for _, f := range more {
		if f == nil {
			continue
		}
		for _, err := range f(c) {
			if err != nil {
				v.errs = append(v.errs, toFieldErrors(err)...)
			}
		}
	}
	v.errs = dedupe(v.errs)
	sortErrors(v.errs, c.src)
	return v.errs.err()
}

type validator struct {
	errs Errors
	// oncall are the names of oncall.schedules, for oncall:NAME recipients.
	oncall map[string]bool
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validateServer(v *validator) {
	s := c.Server
	if s.Listen == "" {
		v.add("server.listen", "required")
	} else if !validAddr(s.Listen) {
		v.add("server.listen", "invalid address %q (want host:port, e.g. 127.0.0.1:8080 or :8080)", s.Listen)
	}
	if s.RedirectHTTP != "" && !validAddr(s.RedirectHTTP) {
		v.add("server.redirect_http", "invalid address %q (want host:port, e.g. :80)", s.RedirectHTTP)
	}
	if s.RedirectHTTP != "" && s.TLSCert == "" {
		v.add("server.redirect_http", "needs tls_cert and tls_key (it redirects to HTTPS)")
	}
	if s.PublicURL != "" {
		if err := checkURL(s.PublicURL); err != nil {
			v.add("server.public_url", "%v", err)
		}
	}
	if s.TLSCert != "" && s.TLSKey == "" {
		v.add("server.tls_key", "required when tls_cert is set")
	}
	if s.TLSKey != "" && s.TLSCert == "" {
		v.add("server.tls_cert", "required when tls_key is set")
	}
	for i, n := range s.TrustedNetworks {
		if _, err := netip.ParsePrefix(strings.TrimSpace(n)); err != nil {
			v.add(joinIndex("server.trusted_networks", i), "invalid CIDR %q (e.g. 10.0.0.0/8, ::1/128)", n)
		}
	}
	for i, n := range s.TrustedProxies {
		if _, err := netip.ParsePrefix(strings.TrimSpace(n)); err != nil {
			v.add(joinIndex("server.trusted_proxies", i), "invalid CIDR %q (e.g. 10.0.0.0/8, ::1/128)", n)
		}
	}
	if s.ShutdownTimeout < 0 {
		v.add("server.shutdown_timeout", "must not be negative")
	}
	if !s.HeartbeatURL.IsZero() {
		// The URL is a secret (a push URL carries its token): never echoed.
		if u, err := url.Parse(strings.TrimSpace(s.HeartbeatURL.Reveal())); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("server.heartbeat_url", "must be an http:// or https:// URL with a host (e.g. https://hc-ping.com/UUID)")
		}
		if s.HeartbeatInterval < Duration(time.Second) {
			v.add("server.heartbeat_interval", "must be at least 1s (default 1m)")
		}
	}
}

func (c *Config) validateTop(v *validator) {
	switch db := strings.TrimSpace(c.Database); {
	case db == "":
		v.add("database", "required (an SQLite file like munja.db, or postgres://user@host:5432/db)")
	case strings.Contains(db, "://"):
		u, err := url.Parse(db)
		if err != nil {
			v.add("database", "invalid URL (want postgres://user@host:5432/db)")
		} else if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			v.add("database", "unsupported scheme %q (want an SQLite file path or postgres://…)", u.Scheme)
		}
	}
	if c.Retention < 0 {
		v.add("retention", "must not be negative")
	}
	if c.Alerting.HistoryRetention < 0 {
		v.add("alerting.history_retention", "must not be negative")
	}
	if c.Timezone == "" {
		v.add("timezone", "required (e.g. Asia/Seoul)")
	} else if _, err := time.LoadLocation(c.Timezone); err != nil {
		v.add("timezone", "unknown time zone %q", c.Timezone)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		v.add("log.format", "must be text or json, not %q", c.Log.Format)
	}
}

func (c *Config) validateSMS(v *validator) {
	s := c.SMS
	if s.Sender != "" && !validSender(s.Sender) {
		v.add("sms.sender", "invalid sender number %q (8 to 16 digits, hyphens allowed)", s.Sender)
	}
	names := map[string]bool{}
	for i, p := range s.Providers {
		path := joinIndex("sms.providers", i)
		v.uniqueName(path+".name", p.Name, names)
		if strings.TrimSpace(p.Type) == "" {
			v.add(path+".type", "required (aligo, webhook, dryrun, …)")
		}
		if p.Sender != "" && !validSender(p.Sender) {
			v.add(path+".sender", "invalid sender number %q (8 to 16 digits, hyphens allowed)", p.Sender)
		}
		if p.Timeout <= 0 {
			v.add(path+".timeout", "must be positive")
		}
	}
	if s.Limits.PerDay < 0 {
		v.add("sms.limits.per_day", "must not be negative (0 = unlimited)")
	}
	if s.Limits.PerRecipientPerHour < 0 {
		v.add("sms.limits.per_recipient_per_hour", "must not be negative (0 = unlimited)")
	}
	if s.LowBalance < 0 {
		v.add("sms.low_balance", "must not be negative (0 = off)")
	}
	if s.DownAfter != 0 && s.DownAfter < Duration(10*time.Second) {
		v.add("sms.down_after", "must be at least 10s (0 = off; default 5m)")
	}
	if s.Retry.Initial <= 0 {
		v.add("sms.retry.initial", "must be positive")
	}
	if s.Retry.Max <= 0 {
		v.add("sms.retry.max", "must be positive")
	} else if s.Retry.Max < s.Retry.Initial {
		v.add("sms.retry.max", "must not be less than initial (%s)", s.Retry.Initial)
	}
	if s.Retry.GiveUpAfter <= 0 {
		v.add("sms.retry.give_up_after", "must be positive")
	}
}

func (c *Config) validateChecks(v *validator) {
	names := map[string]bool{}
	for i, ch := range c.Checks {
		path := joinIndex("checks", i)
		v.uniqueName(path+".name", ch.Name, names)
		if strings.TrimSpace(ch.Type) == "" {
			v.add(path+".type", "required (process, listen, tcp, http, log, disk, memory, load, command, heartbeat)")
		}
		if ch.Interval < 0 {
			v.add(path+".interval", "must not be negative")
		}
		if ch.Timeout < 0 {
			v.add(path+".timeout", "must not be negative")
		}
		if _, err := ParseSeverity(string(ch.Severity)); err != nil {
			v.add(path+".severity", "%v, not %q", err, ch.Severity)
		}
		if ch.Failures < 0 {
			v.add(path+".failures", "must not be negative")
		}
		if ch.Successes < 0 {
			v.add(path+".successes", "must not be negative")
		}
		validRecipients(v, path+".recipients", ch.Recipients)
	}
	c.validateDepends(v)
}

// HostDependency starts a depends_on entry naming an agent's host
// ("host:web01"): the check's alerts are held while that host's agent does
// not report.
const HostDependency = "host:"

// validateDepends checks checks[*].depends_on: each entry names another
// check of this file (the same host's) or host:NAME, once; and no check
// depends on itself through others, since a cycle would hold the alerts of
// the root cause too.
func (c *Config) validateDepends(v *validator) {
	index := map[string]int{}
	for i, ch := range c.Checks {
		if _, dup := index[ch.Name]; !dup && ch.Name != "" {
			index[ch.Name] = i
		}
	}
	reported := map[string]bool{} // cycles, by their sorted check names
	for i, ch := range c.Checks {
		seen := map[string]bool{}
		for j, dep := range ch.DependsOn {
			p := joinIndex(joinIndex("checks", i)+".depends_on", j)
			host, isHost := strings.CutPrefix(dep, HostDependency)
			_, known := index[dep]
			switch {
			case strings.TrimSpace(dep) == "":
				v.add(p, "required (a check name, or host:NAME for an agent's host)")
			case seen[dep]:
				v.add(p, "duplicate %q", dep)
			case isHost:
				if strings.TrimSpace(host) == "" || strings.ContainsAny(host, "/ \t\r\n") {
					v.add(p, "invalid host %q after \"host:\" (an agent's host name)", host)
				}
			case dep == ch.Name:
				v.add(p, "cycle %s -> %s (a check cannot depend on itself)", dep, dep)
			case !known:
				v.add(p, "unknown check %q (depends_on names checks of this file, or host:NAME)", dep)
			default:
				path := c.dependsPath(index, dep, ch.Name)
				if path == nil {
					break
				}
				cycle := append([]string{ch.Name}, path...)
				key := slices.Clone(cycle[1:])
				slices.Sort(key)
				if k := strings.Join(key, "\x00"); !reported[k] {
					reported[k] = true
					v.add(p, "cycle %s (a cycle would hold the root cause's alert too)", strings.Join(cycle, " -> "))
				}
			}
			seen[dep] = true
		}
	}
}

// dependsPath returns the shortest chain of depends_on from check from to
// check to (from first, to last), or nil when there is none.
func (c *Config) dependsPath(index map[string]int, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == to {
			var path []string
			for ; n != ""; n = prev[n] {
				path = append(path, n)
			}
			slices.Reverse(path)
			return path
		}
		for _, d := range c.Checks[index[n]].DependsOn {
			if _, ok := index[d]; !ok {
				continue
			}
			if _, ok := prev[d]; !ok {
				prev[d] = n
				queue = append(queue, d)
			}
		}
	}
	return nil
}

func (c *Config) validateAlerting(v *validator) {
	a := c.Alerting
	if a.Interval <= 0 {
		v.add("alerting.interval", "must be positive")
	}
	if a.Failures < 1 {
		v.add("alerting.failures", "must be at least 1")
	}
	if a.Successes < 1 {
		v.add("alerting.successes", "must be at least 1")
	}
	if a.GroupWait < 0 {
		v.add("alerting.group_wait", "must not be negative")
	}
	if a.Repeat < 0 {
		v.add("alerting.repeat", "must not be negative (0 = never)")
	}
	validRecipients(v, "alerting.recipients", a.Recipients)
	if a.Flapping.Changes < 0 {
		v.add("alerting.flapping.changes", "must not be negative (0 = off)")
	}
	if a.Flapping.Changes > 0 && a.Flapping.Window <= 0 {
		v.add("alerting.flapping.window", "must be positive when changes is set")
	}
	groups := map[string]bool{}
	for i, g := range a.Groups {
		path := joinIndex("alerting.groups", i)
		switch {
		case strings.TrimSpace(g.Name) == "":
			v.add(path+".name", "required")
		case badGroupName(g.Name):
			v.add(path+".name", "invalid name %q (no spaces or commas)", g.Name)
		case groups[g.Name]:
			v.add(path+".name", "duplicate %q", g.Name)
		}
		groups[g.Name] = true
		validRecipients(v, path+".members", g.Members)
		if g.QuietHours != "" {
			if _, _, err := ParseQuietHours(g.QuietHours); err != nil {
				v.add(path+".quiet_hours", "%v", err)
			}
		}
		if g.QuietDays != "" {
			if _, err := oncall.ParseDays(g.QuietDays); err != nil {
				v.add(path+".quiet_days", "%v", err)
			} else if g.QuietHours == "" {
				v.add(path+".quiet_days", "needs quiet_hours (the hours that are quiet on those days)")
			}
		}
	}
	loc := c.Location()
	for i, s := range a.Silences {
		path := joinIndex("alerting.silences", i)
		if s.Until == "" {
			v.add(path+".until", "required (a silence must end; RFC3339 or \"2006-01-02 15:04\")")
		} else if _, err := ParseUntil(s.Until, loc); err != nil {
			v.add(path+".until", "%v", err)
		}
	}
	for i, e := range a.Escalation {
		path := joinIndex("alerting.escalation", i)
		if e.After <= 0 {
			v.add(path+".after", "must be positive")
		}
		if len(e.To) == 0 {
			v.add(path+".to", "required")
		}
		validRecipients(v, path+".to", e.To)
	}
}

// badGroupName reports a group name that cannot be written in "group:NAME" lists.
func badGroupName(s string) bool { return strings.ContainsAny(s, " ,\t\r\n") }

func (c *Config) validateAgent(v *validator) {
	if c.Agent.Server != "" {
		if err := checkURL(c.Agent.Server); err != nil {
			v.add("agent.server", "%v", err)
		}
	}
}

// validAddr accepts host:port with a numeric port (host may be empty).
func validAddr(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(host, " /") {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid URL %q (want http:// or https://host…)", s)
	}
	return nil
}

// validSender: 8 to 16 digits once hyphens are removed.
func validSender(s string) bool {
	d := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(d) < 8 || len(d) > 16 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validRecipients checks the syntax of recipient entries: a phone number or
// "group:NAME" (a group of alerting.groups or of the address book).
func validRecipients(v *validator, path string, list []string) {
	for i, r := range list {
		p := joinIndex(path, i)
		if name, ok := strings.CutPrefix(strings.TrimSpace(r), "group:"); ok {
			if strings.TrimSpace(name) == "" {
				v.add(p, "group name missing after \"group:\"")
			}
			continue
		}
		if ref, ok := strings.CutPrefix(strings.TrimSpace(r), "oncall:"); ok {
			name, mode, _ := strings.Cut(ref, ":")
			switch {
			case strings.HasSuffix(path, ".members"):
				v.add(p, "%q: a group lists people; name the schedule where the group is used", r)
			case !v.oncall[name]:
				v.add(p, "%q names no schedule in oncall.schedules", r)
			case mode != "" && mode != "next" && mode != "all":
				v.add(p, "%q: after the schedule, only :next (the next in the rotation) or :all (every member)", r)
			}
			continue
		}
		if err := checkPhone(r); err != nil {
			v.add(p, "%v", err)
		}
	}
}

// checkPhone is a syntax check only (digits, a leading +, hyphens, spaces;
// 8 to 15 digits); the sms package parses numbers for real.
func checkPhone(s string) error {
	t := strings.TrimSpace(s)
	digits := 0
	for i, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == '-', r == ' ':
		default:
			return fmt.Errorf("invalid phone number %q (digits, +, - and spaces; or group:NAME)", truncate(s, 40))
		}
	}
	if digits < 8 || digits > 15 {
		return fmt.Errorf("invalid phone number %q (8 to 15 digits; or group:NAME)", truncate(s, 40))
	}
	return nil
}

// uniqueName reports an empty name or one already in seen, then adds it.
func (v *validator) uniqueName(path, name string, seen map[string]bool) {
	switch {
	case strings.TrimSpace(name) == "":
		v.add(path, "required")
	case seen[name]:
		v.add(path, "duplicate %q", name)
	}
	seen[name] = true
}
