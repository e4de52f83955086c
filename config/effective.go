package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DryRunProvider is the provider used when none is configured: messages go
// through the whole pipeline into history and nothing is delivered.
func DryRunProvider() Provider {
	return Provider{Name: "dryrun", Type: "dryrun", Timeout: DefaultProviderTimeout}
}

// EffectiveProviders returns the configured providers in failover order, or
// the single dryrun provider when there are none.
func (c *Config) EffectiveProviders() []Provider {
	if len(c.SMS.Providers) == 0 {
		return []Provider{DryRunProvider()}
	}
	return c.SMS.Providers
}

// DryRun reports whether nothing can be delivered: every effective provider
// is of type dryrun (true when no provider is configured). The console says
// so on every page.
func (c *Config) DryRun() bool {
	for _, p := range c.EffectiveProviders() {
		if p.Type != "dryrun" {
			return false
		}
	}
	return true
}

// Location is the configured time zone; UTC when it is unknown (Validate
// reports that).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return time.UTC
	}
	return loc
}

// HostName is this host's name in messages: host, else the OS hostname,
// else "localhost".
func (c *Config) HostName() string {
	if h := strings.TrimSpace(c.Host); h != "" {
		return h
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// Line returns the line of path (or of its nearest ancestor) in the file c
// was parsed from, 0 when unknown — for `munja config check` output.
func (c *Config) Line(path string) int { return c.src.line(path) }

// ForgetLines drops what c remembers of where each key was in its file:
// the line of every key path, for error messages and their order. A
// long-running command (munja serve, the agents) calls it once its config
// is validated: it keeps the config for as long as it runs, and the paths
// take about 500 bytes of heap a check (TestForgetLines; munja serve's RSS
// at 1,000 checks did not move beyond the noise, docs/BENCHMARKS.md
// section 9). Errors found later name their keys without lines.
func (c *Config) ForgetLines() { c.src = nil }

// Redacted is the effective config as YAML, every secret shown as <secret>.
func (c *Config) Redacted() ([]byte, error) {
	eff := *c
	eff.SMS.Providers = redactOptions(c.EffectiveProviders())
	out, err := yaml.Marshal(&eff)
	if err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	return out, nil
}

// ParseQuietHours parses "HH:MM-HH:MM" into offsets from midnight. The end
// may be before the start ("22:00-07:00" spans midnight); equal is refused.
func ParseQuietHours(s string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if ok {
		start, err = parseClock(a)
		if err == nil {
			end, err = parseClock(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("invalid quiet hours %q (want HH:MM-HH:MM, e.g. 22:00-07:00)", s)
	}
	if start == end {
		return 0, 0, fmt.Errorf("invalid quiet hours %q: start and end are the same", s)
	}
	return start, end, nil
}

func parseClock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// ParseUntil parses a silence end: RFC3339, or "2006-01-02 15:04" (seconds
// optional) in loc.
func ParseUntil(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want RFC3339 or \"2006-01-02 15:04\")", truncate(s, 40))
}
