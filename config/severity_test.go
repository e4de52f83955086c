package config

import "testing"

func TestSeverity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Severity
		rank int
		ok   bool
	}{
		{"", SeverityWarning, 2, true},
		{"info", SeverityInfo, 1, true},
		{"warning", SeverityWarning, 2, true},
		{"critical", SeverityCritical, 3, true},
		{"high", "", 0, false},
		{"Critical", "", 0, false},
	} {
		got, err := ParseSeverity(tt.in)
		if (err == nil) != tt.ok || got != tt.want || got.Rank() != tt.rank {
			t.Errorf("ParseSeverity(%q) = %q (rank %d), %v", tt.in, got, got.Rank(), err)
		}
		if err != nil && err.Error() != "must be info, warning or critical" {
			t.Errorf("ParseSeverity(%q): %v", tt.in, err)
		}
	}
	if Severity("").Valid() || Severity("").OrDefault() != DefaultSeverity || SeverityInfo.OrDefault() != SeverityInfo {
		t.Error("empty severity")
	}
}
