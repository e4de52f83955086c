package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretsNeverShown(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", "SECRET-FROM-FILE-1\n")
	env := map[string]string{"ALIGO_KEY": "SECRET-ENV-2", "HOOK_AUTH": "Bearer SECRET-HEADER-3"}
	c := mustParse(t, `
server:
  heartbeat_url: https://hc-ping.com/SECRET-PUSH-7
sms:
  providers:
    - name: aligo
      type: aligo
      user_id: munja
      key: ${ALIGO_KEY}
    - name: backup
      type: aligo
      user_id: munja2
      key_file: `+keyFile+`
    - name: hook
      type: webhook
      url: http://127.0.0.1:9/hook
      secret: SECRET-INLINE-4
      headers:
        Authorization: ${HOOK_AUTH}
        X-Other: SECRET-HEADER-5
agent:
  server: http://127.0.0.1:8080
  token: SECRET-TOKEN-6
`, env)
	secrets := []string{"SECRET-FROM-FILE-1", "SECRET-ENV-2", "SECRET-HEADER-3", "SECRET-INLINE-4", "SECRET-HEADER-5", "SECRET-TOKEN-6", "SECRET-PUSH-7", "SECRET"}
	// The secrets are really there, for the gateway to decode.
	g1, _ := decodeGateway(t, c.SMS.Providers[1], "sms.providers[1]")
	g2, _ := decodeGateway(t, c.SMS.Providers[2], "sms.providers[2]")
	if g1.Key.Reveal() != "SECRET-FROM-FILE-1" || g2.Headers["Authorization"].Reveal() != "Bearer SECRET-HEADER-3" {
		t.Fatal("secrets not loaded")
	}

	red, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	var text, jsonOut bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", c, "value", *c, "provider", c.SMS.Providers[2])
	slog.New(slog.NewJSONHandler(&jsonOut, nil)).Info("config", "cfg", c, "provider", c.SMS.Providers[2])
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"Redacted":  string(red),
		"%v":        fmt.Sprintf("%v", c),
		"%+v":       fmt.Sprintf("%+v", *c),
		"%#v":       fmt.Sprintf("%#v", *c),
		"%v slice":  fmt.Sprintf("%v", c.SMS.Providers),
		"%v map":    fmt.Sprintf("%v", g2.Headers),
		"%v opts":   fmt.Sprintf("%v", c.SMS.Providers[0].Options),
		"%#v ptr":   fmt.Sprintf("%#v", c),
		"slog text": text.String(),
		"slog json": jsonOut.String(),
		"json":      string(js),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains %q:\n%s", name, s, out)
			}
		}
	}
	if !strings.Contains(text.String(), "<secret>") {
		t.Errorf("slog text shows no <secret> marker: %s", text.String())
	}

	// Redacted is valid YAML of the effective config, secrets masked, and
	// loads back (the masks become values: it is for showing, not reuse).
	var back Config
	if err := yaml.Unmarshal(red, &back); err != nil {
		t.Fatalf("Redacted is not YAML: %v\n%s", err, red)
	}
	b0, _ := decodeGateway(t, back.SMS.Providers[0], "sms.providers[0]")
	b2, _ := decodeGateway(t, back.SMS.Providers[2], "sms.providers[2]")
	if b0.Key.Reveal() != "<secret>" || b2.Headers["X-Other"].Reveal() != "<secret>" ||
		back.Agent.Token.Reveal() != "<secret>" || b2.Secret.Reveal() != "<secret>" || back.Server.HeartbeatURL.Reveal() != "<secret>" {
		t.Errorf("Redacted secrets not masked:\n%s", red)
	}
	if back.SMS.Providers[0].Option("user_id") != "munja" || back.Server.Listen != DefaultListen || back.Retention.String() != "400d" {
		t.Errorf("Redacted lost values:\n%s", red)
	}
}

func TestRedactedShowsDryRun(t *testing.T) {
	red, err := Default().Redacted()
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := yaml.Unmarshal(red, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.SMS.Providers) != 1 || back.SMS.Providers[0].Type != "dryrun" {
		t.Errorf("Redacted of defaults should show the effective dryrun provider:\n%s", red)
	}
	if len(Default().SMS.Providers) != 0 {
		t.Error("Redacted changed the config")
	}
}
