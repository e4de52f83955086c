package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and either returns an error (an Errors
// with messages, or a YAML error) or a Config that Validate, Redacted and
// the accessors handle. Secrets read from files or the environment never
// appear in an error.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/oncall.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("checks:\n  - name: ${HOME:-x}\n    intervall: 5s\n"))
	const secret = "FUZZ-SECRET-VALUE"
	env := envOf(map[string]string{"ALIGO_USER_ID": "u", "ALIGO_KEY": secret, "PORT": "8080", "EMPTY": ""})
	readFile := func(name string) ([]byte, error) {
		if strings.HasPrefix(name, "/missing") {
			return nil, os.ErrNotExist
		}
		return []byte(secret + "\n"), nil
	}
	// A secret may show only where the input itself names it, e.g.
	// "host: ${ALIGO_KEY}" puts it in a field that is not a Secret.
	mentions := func(data []byte) bool {
		return strings.Contains(string(data), secret) || strings.Contains(string(data), "ALIGO_KEY")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, env, readFile)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned both a Config and an error")
			}
			msg := err.Error()
			if msg == "" {
				t.Fatal("empty error message")
			}
			if strings.Contains(msg, secret) && !mentions(data) {
				t.Fatalf("error shows a secret: %s", msg)
			}
			var es Errors
			if errors.As(err, &es) && len(es) == 0 {
				t.Fatal("empty Errors returned as an error")
			}
			return
		}
		if verr := c.Validate(); verr != nil {
			var es Errors
			if !errors.As(verr, &es) || len(es) == 0 {
				t.Fatalf("Validate returned %T %v", verr, verr)
			}
		}
		red, err := c.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if strings.Contains(string(red), secret) && !mentions(data) {
			t.Fatalf("Redacted shows a secret:\n%s", red)
		}
		_ = c.Location()
		_ = c.EffectiveProviders()
		_ = c.DryRun()
	})
}
