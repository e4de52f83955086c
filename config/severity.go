package config

import "errors"

// Severity is how urgent a check's failure is: a check's severity key, a
// check result, an incident and the notification that reports it all carry
// one. Quiet hours hold back everything but critical alerts, and a message
// grouping several alerts takes the highest severity among them.
type Severity string

// The severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// DefaultSeverity is the severity of a check or result that names none.
const DefaultSeverity = SeverityWarning

// Severities lists every severity, least urgent first.
var Severities = []Severity{SeverityInfo, SeverityWarning, SeverityCritical}

// errSeverity is the one wording of the rule; callers add where it broke.
var errSeverity = errors.New("must be info, warning or critical")

// ParseSeverity reads a severity as configured or reported: "" is
// DefaultSeverity, anything else must be one of Severities.
func ParseSeverity(s string) (Severity, error) {
	if s == "" {
		return DefaultSeverity, nil
	}
	if sev := Severity(s); sev.Valid() {
		return sev, nil
	}
	return "", errSeverity
}

// Valid reports whether s is one of Severities ("" is not).
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Rank orders severities: info 1, warning 2, critical 3; anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// OrDefault returns s, or DefaultSeverity when s is "".
func (s Severity) OrDefault() Severity {
	if s == "" {
		return DefaultSeverity
	}
	return s
}
