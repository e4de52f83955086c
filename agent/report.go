// Package agent lets one munja server watch many hosts: `munja agent` runs
// a host's checks and pushes their results to the server
// (POST /api/v1/agents/report); the server feeds them to its alert engine
// with the host's name, and pages when a host stops reporting (the host, or
// its network, died — what a check on the host itself can never report).
package agent

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
)

// Report is the body of POST /api/v1/agents/report.
type Report struct {
	Host string `json:"host"`
	// IntervalSeconds is how often the agent reports at the latest (its
	// shortest check interval); the server pages when 3 of them (at least
	// 15 s) pass without a report.
	IntervalSeconds int      `json:"interval_seconds"`
	Results         []Result `json:"results"`
	// DependsOn is, for each of the host's checks that has one, its
	// depends_on as in the agent's config: other checks of the host, or
	// "host:NAME". Sent with every report; the latest replaces what the
	// server knew.
	DependsOn map[string][]string `json:"depends_on,omitempty"`
}

// Result is one check result of a Report.
type Result struct {
	Check string `json:"check"`
	OK    bool   `json:"ok"`
	// Unknown: the check could not look (its journal, file, /proc or
	// command was unreadable on the host); OK is false then.
	Unknown    bool      `json:"unknown,omitempty"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Firing     string    `json:"firing,omitempty"`
	Resolved   string    `json:"resolved,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	DetailKo   string    `json:"detail_ko,omitempty"` // Detail in Korean
	Severity   string    `json:"severity,omitempty"`
}

// Limits of a report.
const (
	MaxResults  = 1000
	maxHost     = 64
	maxName     = 100
	maxText     = 1000
	maxInterval = 24 * 60 * 60
	maxDepends  = 100 // depends_on entries of one check
)

// LivenessCheck is the check name under which the server records whether
// a host's agent reports.
const LivenessCheck = "agent"

// FieldError names what is wrong with a report.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks r and returns its results as check.Results of r.Host,
// texts made sendable (characters CP949 lacks become '?').
func (r *Report) Validate(now time.Time) ([]check.Result, error) {
	return r.AppendValid(nil, now)
}

// AppendValid is Validate appending the results to out (a server taking
// 1,000 reports a second reuses one slice per request in flight instead
// of 3 KB of garbage for each).
func (r *Report) AppendValid(out []check.Result, now time.Time) ([]check.Result, error) {
	if err := validName(r.Host, maxHost); err != nil {
		return nil, &FieldError{"host", err.Error()}
	}
	if r.IntervalSeconds < 1 || r.IntervalSeconds > maxInterval {
		return nil, &FieldError{"interval_seconds", fmt.Sprintf("must be 1 to %d", maxInterval)}
	}
	if len(r.Results) > MaxResults {
		return nil, &FieldError{"results", fmt.Sprintf("at most %d results per report", MaxResults)}
	}
	if out == nil {
		out = make([]check.Result, 0, len(r.Results))
	}
	for i, x := range r.Results {
		// The field is named only when it is wrong (fmt for every result
		// was a fifth of what Validate allocated).
		field := func(f string) string { return fmt.Sprintf("results[%d].%s", i, f) }
		if err := validName(x.Check, maxName); err != nil {
			return nil, &FieldError{field("check"), err.Error()}
		}
		if x.Check == LivenessCheck {
			return nil, &FieldError{field("check"), fmt.Sprintf("%q is the server's own check of the agent", LivenessCheck)}
		}
		sev, err := config.ParseSeverity(x.Severity)
		if err != nil {
			return nil, &FieldError{field("severity"), err.Error()}
		}
		at := x.At
		if at.IsZero() || at.After(now.Add(time.Minute)) {
			at = now // a clock running ahead must not date results in the future
		}
		out = append(out, check.Result{
			Check: x.Check, Host: r.Host, OK: x.OK && !x.Unknown, Unknown: x.Unknown, At: at,
			Duration: time.Duration(max(x.DurationMS, 0)) * time.Millisecond,
			Firing:   text(x.Firing), Resolved: text(x.Resolved), Detail: text(x.Detail), DetailKo: text(x.DetailKo),
			Severity: sev,
		})
	}
	if err := validDepends(r.DependsOn); err != nil {
		return nil, err
	}
	return out, nil
}

// validDepends checks a report's depends_on: names as check names are,
// host:NAME as host names are. Cycles are the server's to ignore (a
// dependency in a cycle holds nothing): the agent's config refuses them.
func validDepends(deps map[string][]string) error {
	if len(deps) > MaxResults {
		return &FieldError{"depends_on", fmt.Sprintf("at most %d checks", MaxResults)}
	}
	for name, list := range deps {
		field := "depends_on." + name
		if err := validName(name, maxName); err != nil {
			return &FieldError{"depends_on", fmt.Sprintf("a check name: %v", err)}
		}
		if len(list) > maxDepends {
			return &FieldError{field, fmt.Sprintf("at most %d entries", maxDepends)}
		}
		for i, dep := range list {
			if h, ok := strings.CutPrefix(dep, config.HostDependency); ok {
				dep = h
			}
			if err := validName(dep, max(maxName, maxHost)); err != nil {
				return &FieldError{fmt.Sprintf("%s[%d]", field, i), err.Error()}
			}
		}
	}
	return nil
}

// DependsOf is what a report says the checks of cfgs depend on.
func DependsOf(cfgs []config.Check) map[string][]string {
	var out map[string][]string
	for _, c := range cfgs {
		if len(c.DependsOn) > 0 {
			if out == nil {
				out = map[string][]string{}
			}
			out[c.Name] = c.DependsOn
		}
	}
	return out
}

// Grace is how long the server waits for the next report before paging.
func (r *Report) Grace() time.Duration {
	return max(3*time.Duration(r.IntervalSeconds)*time.Second, 15*time.Second)
}

func validName(s string, maxLen int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("required")
	case len(s) > maxLen:
		return fmt.Errorf("at most %d bytes", maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '/' }) >= 0:
		return fmt.Errorf("must not contain control characters or '/'")
	}
	return nil
}

func text(s string) string {
	return sms.Truncate(sms.Sanitize(s), maxText)
}

// FromCheck is a check.Result in a Report.
func FromCheck(c check.Result) Result {
	return Result{
		Check: c.Check, OK: c.OK, Unknown: c.Unknown, At: c.At, DurationMS: c.Duration.Milliseconds(),
		Firing: c.Firing, Resolved: c.Resolved, Detail: c.Detail, DetailKo: c.DetailKo, Severity: string(c.Severity),
	}
}
