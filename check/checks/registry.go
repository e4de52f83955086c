// Package checks is the registry of check types: the one map from a config
// type name to its constructor, its validator and the config keys it uses.
// Adding a type is its constructor and validator plus one line here.
package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/logcheck"
	"github.com/munja-sms/munja/config"
)

// kind is one check type.
type kind struct {
	New      func(cfg config.Check, d check.Deps) (check.Checker, error)
	Validate func(cfg config.Check, path string) []error
	Keys     []string // config.Check keys of this type beyond commonKeys
	// Probe, when set, says whether what the check reads (its journal, log
	// file, program) can be read on this host now; see Unreadable.
	Probe func(ctx context.Context, cfg config.Check) error
}

var registry = map[string]kind{
	"process":   {check.NewProcess, check.ValidateProcess, []string{"process", "cmdline", "pidfile", "min_count", "max_count"}, nil},
	"listen":    {check.NewListen, check.ValidateListen, []string{"port", "protocol"}, nil},
	"tcp":       {check.NewTCP, check.ValidateTCP, []string{"address"}, nil},
	"http":      {check.NewHTTP, check.ValidateHTTP, []string{"url", "status", "body_contains", "body_regex", "max_latency", "cert_days", "insecure"}, nil},
	"log":       {logcheck.New, logcheck.Validate, []string{"path", "journal", "unit", "pattern", "regex", "window", "count", "encoding"}, logcheck.Probe},
	"disk":      {check.NewDisk, check.ValidateDisk, []string{"mount", "max_used_percent", "min_free"}, nil},
	"memory":    {check.NewMemory, check.ValidateMemory, []string{"max_used_percent"}, nil},
	"load":      {check.NewLoad, check.ValidateLoad, []string{"max_load", "load_period"}, nil},
	"command":   {check.NewCommand, check.ValidateCommand, []string{"command", "shell", "output_regex", "exit_code"}, check.ProbeCommand},
	"heartbeat": {check.NewHeartbeat, check.ValidateHeartbeat, []string{"grace"}, nil},
}

// commonKeys may be set on a check of any type.
var commonKeys = []string{"name", "type", "interval", "timeout", "message", "resolved", "severity", "failures", "successes", "recipients", "depends_on"}

// Types returns the known check types, sorted.
func Types() []string {
	ts := make([]string, 0, len(registry))
	for t := range registry {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// New builds the checker for cfg. A zero cfg.Interval or cfg.Timeout is
// taken from defaults before the type's constructor sees cfg.
func New(cfg config.Check, defaults check.Defaults, d check.Deps) (check.Checker, error) {
	k, ok := registry[cfg.Type]
	if !ok {
		return nil, fmt.Errorf("check %s: unknown type %q (known: %s)", cfg.Name, cfg.Type, strings.Join(Types(), ", "))
	}
	s := schedule(cfg, defaults)
	cfg.Interval, cfg.Timeout = config.Duration(s.Interval), config.Duration(s.Timeout)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	c, err := k.New(cfg, d)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", cfg.Name, err)
	}
	return c, nil
}

// Build builds every check of cfgs with its schedule, for check.NewRunner
// and check.RunOnce. It reports every check that fails to build.
func Build(cfgs []config.Check, defaults check.Defaults, d check.Deps) ([]check.Scheduled, error) {
	out := make([]check.Scheduled, 0, len(cfgs))
	var errs []error
	for _, cfg := range cfgs {
		c, err := New(cfg, defaults, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s := schedule(cfg, defaults)
		s.Checker = c
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// schedule resolves a check's interval and timeout: its own, else the
// alerting defaults, else check.DefaultInterval and check.DefaultTimeout
// (at most the interval).
func schedule(cfg config.Check, defaults check.Defaults) check.Scheduled {
	s := check.Scheduled{Interval: cfg.Interval.D(), Timeout: cfg.Timeout.D()}
	if s.Interval <= 0 {
		s.Interval = defaults.Interval
	}
	if s.Interval <= 0 {
		s.Interval = check.DefaultInterval
	}
	if s.Timeout <= 0 {
		s.Timeout = defaults.Timeout
	}
	if s.Timeout <= 0 {
		s.Timeout = min(check.DefaultTimeout, s.Interval)
	}
	return s
}

// Unreadable looks, for each check of a valid config whose type reads a
// source (a log file, the journal, a program), whether it can be read on
// this host now, and returns a warning for each one that cannot, e.g.
// "checks[2] (oom): journal: cannot read the system journal here
// (journalctl: not found)". Such a check would run, but cannot check: a
// typo caught here does not silently turn alerting off. Agents' checks run
// elsewhere and are not looked at.
func Unreadable(ctx context.Context, cfgs []config.Check) []string {
	var out []string
	for i, ck := range cfgs {
		k, ok := registry[ck.Type]
		if !ok || k.Probe == nil {
			continue
		}
		if err := k.Probe(ctx, ck); err != nil {
			out = append(out, fmt.Sprintf("checks[%d] (%s): %v", i, ck.Name, err))
		}
	}
	return out
}

// Validate checks c.Checks and returns every problem with its key path,
// e.g. "checks[2].port: required for type listen".
func Validate(c *config.Config) []error {
	var errs []error
	seen := map[string]int{}
	for i, ck := range c.Checks {
		path := fmt.Sprintf("checks[%d]", i)
		errs = append(errs, validateName(ck.Name, path, i, seen)...)
		errs = append(errs, validateCommon(ck, path)...)
		if ck.Type == "" {
			errs = append(errs, fmt.Errorf("%s.type: required (one of %s)", path, strings.Join(Types(), ", ")))
			continue
		}
		k, ok := registry[ck.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.type: unknown type %q (known: %s)", path, ck.Type, strings.Join(Types(), ", ")))
			continue
		}
		for _, key := range setKeys(ck) {
			if !slices.Contains(commonKeys, key) && !slices.Contains(k.Keys, key) {
				errs = append(errs, fmt.Errorf("%s.%s: not used by type %s", path, key, ck.Type))
			}
		}
		errs = append(errs, k.Validate(ck, path)...)
	}
	return errs
}

func validateName(name, path string, i int, seen map[string]int) []error {
	if name == "" {
		return []error{fmt.Errorf("%s.name: required", path)}
	}
	// The name is a URL path segment (/api/v1/heartbeat/{name}) and a
	// state key, so no slashes, spaces or control characters.
	if strings.IndexFunc(name, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return []error{fmt.Errorf("%s.name: %q must not contain spaces, '/' or control characters", path, name)}
	}
	if j, dup := seen[name]; dup {
		return []error{fmt.Errorf("%s.name: %q is already used by checks[%d]", path, name, j)}
	}
	seen[name] = i
	return nil
}

func validateCommon(ck config.Check, path string) []error {
	var errs []error
	if _, err := config.ParseSeverity(string(ck.Severity)); err != nil {
		names := make([]string, len(config.Severities))
		for i, s := range config.Severities {
			names[i] = string(s)
		}
		errs = append(errs, fmt.Errorf("%s.severity: %q is not one of %s", path, ck.Severity, strings.Join(names, ", ")))
	}
	if ck.Failures < 0 {
		errs = append(errs, fmt.Errorf("%s.failures: must not be negative", path))
	}
	if ck.Successes < 0 {
		errs = append(errs, fmt.Errorf("%s.successes: must not be negative", path))
	}
	return errs
}

// setKeys lists the yaml keys of ck that hold a value, in field order.
func setKeys(ck config.Check) []string {
	v := reflect.ValueOf(ck)
	t := v.Type()
	var keys []string
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		f := v.Field(i)
		if f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
			continue
		}
		keys = append(keys, key)
	}
	return keys
}
