package alimtalk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider/internal/clienttest"
)

// parse reads a munja.yaml and validates its providers with Validate.
func parse(t *testing.T, src string) []string {
	t.Helper()
	c := clienttest.ParseConfig(t, src)
	var got []string
	for i, p := range c.SMS.Providers {
		for _, e := range Validate(p, "sms.providers["+string(rune('0'+i))+"]") {
			var fe config.FieldError
			if !errors.As(e, &fe) || fe.Path == "" {
				t.Errorf("%v is not a FieldError with a path", e)
			}
			got = append(got, e.Error())
		}
	}
	return got
}

const good = `
sms:
  providers:
    - name: aligo
      type: aligo
      user_id: me
      key: k
    - name: kakao
      type: aligo_alimtalk
      user_id: me
      key: k
      sender_key: sk
      sender: "02-1234-5678"
      templates:
        - for: alert
          tpl_code: TA_0001
          content: "[서버 알림]\n#{내용}"
          variables: {내용: text}
        - for: resolved
          tpl_code: TA_0002
          content: "[서버 복구]\n#{내용}"
          variables: {내용: text}
        - for: template:정기점검
          tpl_code: TA_0003
          content: "[#{회사}] #{제목}\n#{내용}"
          variables: {회사: "=munja", 제목: title, 내용: text}
`

func TestValidateGood(t *testing.T) {
	c := clienttest.ParseConfig(t, good)
	p := c.SMS.Providers[1]
	if errs := Validate(p, "sms.providers[1]"); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	cl, err := NewClient(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Name() != "kakao" || cl.sender != "0212345678" || len(cl.templates) != 3 || cl.base != DefaultBaseURL {
		t.Errorf("client %+v", cl)
	}
	if tp := cl.templates["template:정기점검"]; tp.Code != "TA_0003" || tp.Variables["회사"] != "=munja" || tp.Content != "[#{회사}] #{제목}\n#{내용}" {
		t.Errorf("template %+v", tp)
	}
	// The effective config shows no key.
	if s := p.Options.String(); strings.Contains(s, "sk") && !strings.Contains(s, "sender_key:<secret>") {
		t.Errorf("options %s", s)
	}
}

func TestValidateErrors(t *testing.T) {
	src := `
sms:
  providers:
    - name: kakao
      type: aligo_alimtalk
      user_id: me
      key: k
      sender_key: sk
      sender: "02-1234-5678"
      templates:
        - for: alert
          tpl_code: TA_0001
          content: "[서버 알림]\n#{내용}"
          variables: {내용: text, 호스트: text}
        - for: alert
          tpl_code: TA_0002
          content: "#{내용}"
          variables: {내용: text}
        - for: "template:"
          content: "#{제목} #{내용}"
          variables: {제목: subject}
        - for: firing
          tpl_code: "TA 1"
          content: "고정 문구"
          colour: red
        - "TA_0005"
        - for: resolved
          tpl_code: TA_0006
          content: "✔ #{내용}"
          variables: {내용: text}
    - name: bare
      type: aligo_alimtalk
    - name: empty
      type: aligo_alimtalk
      user_id: me
      key: k
      sender_key: sk
      sender: "02-1234-56x8"
      templates: []
`
	want := []string{
		`line 14: sms.providers[0].templates[0].variables.호스트: content has no #{호스트}`,
		`line 15: sms.providers[0].templates[1].for: "alert" is already set by sms.providers[0].templates[0]; one template per message kind`,
		`line 19: sms.providers[0].templates[2].for: template: needs the name of a munja message template, e.g. template:정기점검`,
		`sms.providers[0].templates[2].tpl_code: required (the approved template's code in the Aligo console, e.g. TA_0001)`,
		`line 21: sms.providers[0].templates[2].variables.제목: unknown "subject": use text (the message), title (its title) or "=a fixed value"`,
		`line 20: sms.providers[0].templates[2].variables.내용: missing: content has #{내용}; say what fills it (text, title or "=a fixed value")`,
		`line 25: sms.providers[0].templates[3].colour: unknown key "colour" in a template (known: for, tpl_code, content, variables)`,
		`line 22: sms.providers[0].templates[3].for: unknown "firing": use alert, resolved or template:NAME (a munja message template)`,
		`line 23: sms.providers[0].templates[3].tpl_code: "TA 1" is not a template code`,
		`line 24: sms.providers[0].templates[3].content: has no #{variable}: munja's text must go into one (e.g. #{내용} with variables: {내용: text})`,
		`line 26: sms.providers[0].templates[4]: must be a mapping with for, tpl_code, content and variables`,
		`line 29: sms.providers[0].templates[5].content: character '✔' (U+2714) at position 1 cannot be sent by SMS (not in CP949) (the failover SMS carries the same text)`,
		`sms.providers[1].user_id: required (your Aligo login ID)`,
		`sms.providers[1].key: required (API key from the Aligo console, or key_file)`,
		`sms.providers[1].sender_key: required (the Kakao channel's sender key (발신프로필 키) from the Aligo console, or sender_key_file)`,
		`sms.providers[1].sender: required: the registered number the failover SMS/LMS is sent from (발신번호)`,
		`sms.providers[1].templates: required (at least one approved template: - for: alert, tpl_code: …, content: …, variables: {…})`,
		`sms.providers[2].sender: must be a registered number (digits, at most 16), got "02-1234-56x8"`,
		`line 39: sms.providers[2].templates: must be a list of approved templates (- for: alert, tpl_code: …, content: …, variables: {…})`,
	}
	got := parse(t, src)
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSecretFiles: key and sender_key come from files as KEY_file.
func TestSecretFiles(t *testing.T) {
	src := `
sms:
  providers:
    - name: kakao
      type: aligo_alimtalk
      user_id: me
      key_file: ` + clienttest.File(t, "key", "from-file\n") + `
      sender_key_file: ` + clienttest.File(t, "sk", "sk-from-file\n") + `
      sender: "0212345678"
      templates:
        - {for: alert, tpl_code: TA_0001, content: "#{a}", variables: {a: text}}
`
	c := clienttest.ParseConfig(t, src)
	cl, err := NewClient(c.SMS.Providers[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl.key.Reveal() != "from-file" || cl.senderKey.Reveal() != "sk-from-file" {
		t.Errorf("key %q sender_key %q", cl.key.Reveal(), cl.senderKey.Reveal())
	}
}

func TestKindOfAndRender(t *testing.T) {
	cl, err := NewClient(config.Provider{Name: "k", Type: "aligo_alimtalk", Sender: "0212345678",
		Options: config.Opts("user_id", "u", "key", "k", "sender_key", "s", "templates", []map[string]any{
			{"for": "alert", "tpl_code": "A", "content": "#{x} and #{x}", "variables": map[string]string{"x": "text"}},
		})}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A text holding a placeholder is put in once, not substituted again.
	m, err := cl.render(alert("#{x}"))
	if err != nil || m.text != "#{x} and #{x}" {
		t.Errorf("%q %v", m.text, err)
	}
}
