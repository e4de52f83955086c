package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "90s", "5m", "1h" or "400d".
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// ParseDuration accepts Go durations plus a whole-day suffix "d".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 32)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 1h, 400d)", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	if s == "0" {
		return 0, nil
	}
	td, err := time.ParseDuration(s)
	if err != nil || td < 0 {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 1h, 400d)", s)
	}
	return Duration(td), nil
}

// UnmarshalYAML reports a bad duration as a *yaml.TypeError, so decoding
// goes on and every bad value in the file is reported, not only the first.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: duration must be a string like 5m", n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
