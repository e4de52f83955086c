package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

func TestSendThroughAligo(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	r := runCLI(t, cfg, fake.Key, "", "send", "--to", "010-1234-5678,01098765432", "[경고] httpd 프로세스가 동작하지 않습니다.")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "010-1234-5678") || strings.Count(r.stdout, "sent") != 2 {
		t.Fatalf("output:\n%s", r.stdout)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || len(reqs[0].Receivers) != 2 || reqs[0].Form.Get("msg_type") != "SMS" {
		t.Fatalf("gateway got %+v", reqs)
	}
	// stdin text, LMS with title, test mode
	long := strings.Repeat("서버 점검 안내 ", 10)
	r = runCLI(t, cfg, fake.Key, long, "send", "--to", "01012345678", "--title", "점검", "--test", "-")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	last := fake.Requests()[1].Form
	if last.Get("msg_type") != "LMS" || last.Get("title") != "점검" || last.Get("testmode_yn") != "Y" {
		t.Fatalf("form %v", last)
	}
	h := runCLI(t, cfg, fake.Key, "", "history", "--limit", "5")
	if h.code != 0 || !strings.Contains(h.stdout, "LMS") || !strings.Contains(h.stdout, "010-9876-5432") {
		t.Fatalf("history:\n%s\n%s", h.stdout, h.stderr)
	}
	rem := runCLI(t, cfg, fake.Key, "", "remain")
	if rem.code != 0 || !strings.Contains(rem.stdout, "aligo") {
		t.Fatalf("remain:\n%s\n%s", rem.stdout, rem.stderr)
	}
}

func TestSendFailsWithGatewayReason(t *testing.T) {
	fake := aligotest.New(t)
	fake.SetFailure(aligotest.Failure{Mode: aligotest.IPNotAllowed})
	cfg := writeConfig(t, fake, "")
	r := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "hello")
	if r.code == 0 || !strings.Contains(r.stdout, "failed") || !strings.Contains(r.stdout, "IP") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, fake.Key) {
		t.Fatal("the API key was printed")
	}
}

func TestSendRefusesEmojiAndSendsNothing(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	r := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "서버 다운 😀")
	if r.code == 0 || !strings.Contains(r.stderr, "U+1F600") || !strings.Contains(r.stderr, "position 7") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("something was sent")
	}
	h := runCLI(t, cfg, fake.Key, "", "history")
	if strings.Contains(h.stdout, "서버 다운") {
		t.Fatal("a refused message was stored")
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "munja.yaml")
	os.WriteFile(path, []byte(`server:
  listen: "127.0.0.1:8080"
sms:
  providers:
    - name: aligo
      type: aligo
alerting:
  intervall: 5s
`), 0o600)
	r := runCLI(t, path, "", "", "config", "check")
	if r.code == 0 || !strings.Contains(r.stdout, `unknown key "intervall"`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(path, []byte(`sms:
  providers:
    - name: aligo
      type: aligo
checks:
  - name: web
    type: listen
`), 0o600)
	r = runCLI(t, path, "", "", "config", "check")
	for _, want := range []string{"sms.providers[0].user_id", "sms.providers[0].key", "checks[0].port"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.stdout)
		}
	}
	if r.code == 0 {
		t.Fatal("exit 0")
	}
	fake := aligotest.New(t)
	ok := runCLI(t, writeConfig(t, fake, ""), fake.Key, "", "config", "check")
	if ok.code != 0 || !strings.Contains(ok.stdout, "ok") {
		t.Fatalf("valid config: %d %s %s", ok.code, ok.stdout, ok.stderr)
	}
}

func TestTokenCreateAndUse(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	cfgNoTrust := strings.Replace(readFile(t, cfg), `trusted_networks: ["127.0.0.1/32"]`, `trusted_networks: []`, 1)
	os.WriteFile(cfg, []byte(cfgNoTrust), 0o600)
	r := runCLI(t, cfg, fake.Key, "", "token", "create", "deploy", "--scope", "send")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "munja_") {
		t.Fatalf("last line %q is not the token", token)
	}
	p := startServe(t, cfg, fake.Key)
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/messages", strings.NewReader(`{"to":["01012345678"],"text":"토큰"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", "http://"+p.addr+"/api/v1/messages", strings.NewReader(`{"to":["01012345678"],"text":"토큰"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("with token: %d", resp.StatusCode)
	}
	if rv := runCLI(t, cfg, fake.Key, "", "token", "revoke", "deploy"); rv.code != 0 {
		t.Fatal(rv.stderr)
	}
	req, _ = http.NewRequest("POST", "http://"+p.addr+"/api/v1/messages", strings.NewReader(`{"to":["01012345678"],"text":"토큰"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked: %d", resp.StatusCode)
	}
	l := runCLI(t, cfg, fake.Key, "", "token", "list")
	if strings.Contains(l.stdout, token) {
		t.Fatal("token list shows the token")
	}
}

func TestHelpListsOnlyWorkingCommands(t *testing.T) {
	fake := aligotest.New(t)
	r := runCLI(t, writeConfig(t, fake, ""), fake.Key, "", "help")
	for _, c := range commands() {
		if !strings.Contains(r.stdout, "  "+c.name) {
			t.Errorf("help misses %s", c.name)
		}
	}
	v := runCLI(t, writeConfig(t, fake, ""), fake.Key, "", "version")
	if v.code != 0 || !strings.Contains(v.stdout, "go1.") {
		t.Fatalf("version: %s", v.stdout)
	}
	u := runCLI(t, writeConfig(t, fake, ""), fake.Key, "", "frobnicate")
	if u.code != 2 {
		t.Fatalf("unknown command exit %d", u.code)
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
