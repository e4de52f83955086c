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
	keyFile := writeFile(t, dir, "aligo.key", "s3cr3t-key\n")
	crlfFile := writeFile(t, dir, "hmac", "hmac-value\r\n")
	tokenFile := writeFile(t, dir, "token", "tok-value")
	emptyFile := writeFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "missing")
	unreadable := dir // a directory cannot be read as a file

	c := mustParse(t, `
sms:
  providers:
    - name: aligo
      type: aligo
      key_file: `+keyFile+`
    - name: hook
      type: webhook
      secret_file: `+crlfFile+`
agent:
  token_file: `+tokenFile+`
`, nil)
	if got := c.SMS.Providers[0].Key.Reveal(); got != "s3cr3t-key" {
		t.Errorf("key = %q", got)
	}
	if got := c.SMS.Providers[1].Secret.Reveal(); got != "hmac-value" {
		t.Errorf("secret = %q", got)
	}
	if got := c.Agent.Token.Reveal(); got != "tok-value" {
		t.Errorf("token = %q", got)
	}
	// The *_file keys are consumed: the secret now sits in X alone, so
	// provider validators that refuse "both X and X_file" accept it.
	if c.SMS.Providers[0].KeyFile != "" || c.SMS.Providers[1].SecretFile != "" || c.Agent.TokenFile != "" {
		t.Errorf("*_file keys not cleared: %q %q %q", c.SMS.Providers[0].KeyFile, c.SMS.Providers[1].SecretFile, c.Agent.TokenFile)
	}

	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"both key and key_file", "sms:\n  providers:\n    - name: a\n      type: aligo\n      key: inline-secret\n      key_file: " + keyFile + "\n",
			[]string{"line 6: sms.providers[0]: key and key_file are both set; use one"}},
		{"missing file", "sms:\n  providers:\n    - name: a\n      type: aligo\n      key_file: " + missing + "\n",
			[]string{"line 5: sms.providers[0].key_file: cannot read key: open " + missing + ": no such file or directory"}},
		{"unreadable", "agent:\n  token_file: " + unreadable + "\n",
			[]string{"line 2: agent.token_file: cannot read token: read " + unreadable + ": is a directory"}},
		{"empty file", "agent:\n  token_file: " + emptyFile + "\n",
			[]string{`line 2: agent.token_file: file "` + emptyFile + `" is empty`}},
		{"both secret and secret_file", "sms:\n  providers:\n    - name: w\n      type: webhook\n      secret: inline-secret\n      secret_file: " + crlfFile + "\n",
			[]string{"line 6: sms.providers[0]: secret and secret_file are both set; use one"}},
		{"both token and token_file", "agent:\n  token: inline-secret\n  token_file: " + tokenFile + "\n",
			[]string{"line 3: agent: token and token_file are both set; use one"}},
		{"all reported", "agent:\n  token_file: " + missing + "\nsms:\n  providers:\n    - name: a\n      type: aligo\n      key: inline-secret\n      key_file: " + keyFile + "\n",
			[]string{
				"line 2: agent.token_file: cannot read token",
				"line 8: sms.providers[0]: key and key_file are both set",
			}},
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
			for _, secret := range []string{"s3cr3t-key", "hmac-value", "tok-value", "inline-secret"} {
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
