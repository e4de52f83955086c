package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSecretFiles(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "tok-value\r\n")
	emptyFile := writeFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "missing")
	unreadable := dir // a directory cannot be read as a file

	// A gateway's KEY_file options are its own (TestProviderDecode).
	c := mustParse(t, `
agent:
  token_file: `+tokenFile+`
`, nil)
	if got := c.Agent.Token.Reveal(); got != "tok-value" {
		t.Errorf("token = %q", got)
	}
	// The *_file key is consumed: the secret now sits in token alone.
	if c.Agent.TokenFile != "" {
		t.Errorf("token_file not cleared: %q", c.Agent.TokenFile)
	}

	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"missing file", "agent:\n  token_file: " + missing + "\n",
			[]string{"line 2: agent.token_file: cannot read token: open " + missing + ": no such file or directory"}},
		{"unreadable", "agent:\n  token_file: " + unreadable + "\n",
			[]string{"line 2: agent.token_file: cannot read token: read " + unreadable + ": is a directory"}},
		{"empty file", "agent:\n  token_file: " + emptyFile + "\n",
			[]string{`line 2: agent.token_file: file "` + emptyFile + `" is empty`}},
		{"both token and token_file", "agent:\n  token: inline-secret\n  token_file: " + tokenFile + "\n",
			[]string{"line 3: agent: token and token_file are both set; use one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), envOf(nil), os.ReadFile)
			if err == nil {
				t.Fatal("no error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != len(tt.want) {
				t.Fatalf("error = %q, want %d FieldErrors", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(es[i].Error(), w) {
					t.Errorf("error[%d] = %q, want prefix %q", i, es[i].Error(), w)
				}
			}
			for _, secret := range []string{"tok-value", "inline-secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestParseSecretFileInjected(t *testing.T) {
	// readFile is injectable: the path comes from the config after ${VAR}.
	var asked []string
	read := func(p string) ([]byte, error) {
		asked = append(asked, p)
		return []byte("from-reader\n\n"), nil
	}
	c, err := Parse([]byte("agent:\n  token_file: ${CRED_DIR}/token\n"), envOf(map[string]string{"CRED_DIR": "/run/creds"}), read)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "/run/creds/token" || c.Agent.Token.Reveal() != "from-reader" {
		t.Errorf("asked %v, token %q", asked, c.Agent.Token.Reveal())
	}
}
