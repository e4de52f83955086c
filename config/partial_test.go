package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadPartialReportsEveryParseProblem: unknown keys, every bad
// duration (each named by its key) and unset variables come together, with
// the config as far as it was read.
func TestLoadPartialReportsEveryParseProblem(t *testing.T) {
	t.Setenv("MUNJA_TEST_UNSET_KEY", "")
	os.Unsetenv("MUNJA_TEST_UNSET_KEY")
	path := filepath.Join(t.TempDir(), "munja.yaml")
	os.WriteFile(path, []byte(`alerting:
  intervall: 5s
  interval: 5q
sms:
  providers:
    - name: aligo
      type: aligo
      key: "${MUNJA_TEST_UNSET_KEY}"
checks:
  - name: w
    type: listen
    window: 5x
`), 0o600)
	cfg, err := LoadPartial(path)
	if cfg == nil || err == nil {
		t.Fatalf("cfg %v err %v", cfg, err)
	}
	got := cfg.Problems(err)
	text := got.Error()
	for _, want := range []string{`unknown key "intervall"`, `alerting.interval: invalid duration "5q"`,
		`checks[0].window: invalid duration "5x"`, "sms.providers[0].key: environment variable MUNJA_TEST_UNSET_KEY is not set"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if cfg.Checks[0].Name != "w" || cfg.Alerting.Interval != Default().Alerting.Interval {
		t.Errorf("partial config: %+v", cfg.Alerting)
	}
	var unset int
	for _, f := range got {
		if f.Unset != "" {
			unset++
			if f.Unset != "MUNJA_TEST_UNSET_KEY" || !f.ProviderOption() {
				t.Errorf("%+v", f)
			}
		}
	}
	if unset != 1 {
		t.Fatalf("%d unset errors", unset)
	}
	if _, err := Load(path); err == nil {
		t.Fatal("Load accepted it")
	}
}

func TestProviderOption(t *testing.T) {
	for path, want := range map[string]bool{
		"sms.providers[0].key":             true,
		"sms.providers[1].headers.X-Token": true,
		"sms.providers[0].name":            false,
		"sms.providers[0].base_url":        false,
		"sms.sender":                       false,
		"checks[0].key":                    false,
	} {
		if got := (FieldError{Path: path}).ProviderOption(); got != want {
			t.Errorf("%s: %v", path, got)
		}
	}
}
