package providers

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider/internal/clienttest"
)

// TestSecretOptionsAreMasked: every gateway option that holds a secret (a
// config.Secret field) has a name the effective config masks, and every
// option map (headers) is masked whole; so `munja config show` and the
// console never print a gateway's secret, whatever package adds it.
func TestSecretOptionsAreMasked(t *testing.T) {
	for typ, e := range registry {
		rt := reflect.TypeOf(e.Options)
		if rt.Kind() != reflect.Struct {
			t.Errorf("%s: Options is %s, want a struct", typ, rt.Kind())
			continue
		}
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" {
				t.Errorf("%s.%s has no yaml tag", typ, f.Name)
			}
			if f.Type == reflect.TypeFor[config.Secret]() && !config.IsSecretKey(name) {
				t.Errorf("%s: secret option %q would be shown by the effective config: name it so config.IsSecretKey holds", typ, name)
			}
		}
	}
}

// TestConfigErrorsNameTheGatewayKey: a munja.yaml with a gateway's key
// mistyped, a secret file missing and a required key absent fails
// validation naming each key with its line.
func TestConfigErrorsNameTheGatewayKey(t *testing.T) {
	dir := t.TempDir()
	key := clienttest.File(t, "aligo.key", "from-file\n")
	src := `
sms:
  providers:
    - name: ok
      type: aligo
      user_id: me
      key_file: ` + key + `
    - name: typo
      type: aligo
      usr_id: me
      key: k
    - name: hook
      type: webhook
      secret_file: ` + filepath.Join(dir, "missing") + `
      url: http://127.0.0.1:9/x
      user_id: me
`
	c := clienttest.ParseConfig(t, src)
	err := c.Validate(Validate)
	want := []string{
		`sms.providers[1].user_id: required (your Aligo login ID)`,
		`line 10: sms.providers[1].usr_id: unknown key "usr_id" for type aligo (did you mean "user_id"?)`,
		`line 14: sms.providers[2].secret_file: cannot read ` + filepath.Join(dir, "missing"),
		`line 16: sms.providers[2].user_id: unknown key "user_id" for type webhook (known: url, headers, secret)`,
	}
	if err == nil {
		t.Fatal("validated")
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "from-file") {
		t.Error("an error shows a secret")
	}
	red, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(red), "from-file") || strings.Contains(string(red), "key: k\n") ||
		!strings.Contains(string(red), "key: <secret>") || !strings.Contains(string(red), "usr_id: me") {
		t.Errorf("effective config:\n%s", red)
	}
}
