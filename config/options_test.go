package config

import (
	"strings"
	"testing"
	"time"
)

// testGateway is a gateway's options as a provider package declares them.
type testGateway struct {
	UserID  string            `yaml:"user_id"`
	Key     Secret            `yaml:"key"`
	URL     string            `yaml:"url"`
	Secret  Secret            `yaml:"secret"`
	Headers map[string]Secret `yaml:"headers"`
	Count   int               `yaml:"count"`
	Wait    Duration          `yaml:"wait"`
}

func decodeGateway(t *testing.T, p Provider, path string) (testGateway, []string) {
	t.Helper()
	var g testGateway
	var msgs []string
	for _, err := range p.Decode(path, &g) {
		msgs = append(msgs, err.Error())
	}
	return g, msgs
}

func TestProviderDecode(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", "s3cr3t-key\r\n")
	c := mustParse(t, `
sms:
  providers:
    - name: a
      type: testgw
      user_id: u1
      key_file: `+keyFile+`
      count: 3
      wait: 90s
      headers: {Authorization: "Bearer x"}
`, nil)
	g, errs := decodeGateway(t, c.SMS.Providers[0], "sms.providers[0]")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if g.UserID != "u1" || g.Key.Reveal() != "s3cr3t-key" || g.Count != 3 || g.Wait.D() != 90*time.Second ||
		g.Headers["Authorization"].Reveal() != "Bearer x" {
		t.Errorf("decoded %+v", g)
	}
	if c.SMS.Providers[0].Option("user_id") != "u1" || c.SMS.Providers[0].Option("nope") != "" {
		t.Error("Option")
	}

	for _, tc := range []struct{ name, src, want string }{
		{"unknown key with a typo", "      usr_id: u\n", `line 5: sms.providers[0].usr_id: unknown key "usr_id" for type testgw (did you mean "user_id"?)`},
		{"unknown key", "      region: kr\n", `line 5: sms.providers[0].region: unknown key "region" for type testgw (known: user_id, key, url, secret, headers, count, wait)`},
		{"both", "      key: inline-secret\n      key_file: " + keyFile + "\n", "line 6: sms.providers[0].key_file: key and key_file are both set; use one"},
		{"missing file", "      key_file: " + dir + "/missing\n", "line 5: sms.providers[0].key_file: cannot read " + dir + "/missing: open"},
		{"empty file", "      secret_file: " + writeFile(t, dir, "empty", "\n") + "\n", "line 5: sms.providers[0].secret_file: file"},
		{"file of a non-secret", "      url_file: " + keyFile + "\n", `line 5: sms.providers[0].url_file: unknown key "url_file"`},
		{"wrong kind", "      count: many\n", "line 5: sms.providers[0].count: cannot unmarshal !!str `many` into int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, "sms:\n  providers:\n    - name: a\n      type: testgw\n"+tc.src, nil)
			_, errs := decodeGateway(t, c.SMS.Providers[0], "sms.providers[0]")
			if len(errs) != 1 || !strings.HasPrefix(errs[0], tc.want) {
				t.Errorf("got %q\nwant %q", errs, tc.want)
			}
			for _, e := range errs {
				if strings.Contains(e, "s3cr3t") || strings.Contains(e, "inline-secret") {
					t.Errorf("error shows a secret: %s", e)
				}
			}
		})
	}
}

func TestProviderDecodeInjectedReader(t *testing.T) {
	var asked []string
	read := func(p string) ([]byte, error) {
		asked = append(asked, p)
		return []byte("from-reader\n\n"), nil
	}
	c, err := Parse([]byte("sms:\n  providers:\n    - {name: a, type: testgw, key_file: \"${CRED_DIR}/key\"}\n"),
		envOf(map[string]string{"CRED_DIR": "/run/creds"}), read)
	if err != nil {
		t.Fatal(err)
	}
	g, errs := decodeGateway(t, c.SMS.Providers[0], "sms.providers[0]")
	if len(errs) > 0 || len(asked) != 1 || asked[0] != "/run/creds/key" || g.Key.Reveal() != "from-reader" {
		t.Errorf("asked %v, key %q, errs %v", asked, g.Key.Reveal(), errs)
	}
}

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"key": true, "api_key": true, "api_secret": true, "secret_key": true, "auth_token": true, "sender_key": true,
		"secret": true, "password": true, "headers": false, "user_id": false, "app_key": false, "access_key": false,
		"service_id": false, "account_sid": false, "url": false, "key_file": false, "api_secret_file": false,
	} {
		if IsSecretKey(k) != want {
			t.Errorf("IsSecretKey(%q) = %v", k, !want)
		}
	}
}
