package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// TestAuditEveryDoor sends through every door — the API, the Aligo
// compatible form, Alertmanager, Grafana, the alert engine, an agent's
// report that pages — and changes things through the API (contact, group,
// template, silence, ack by token and by link) and the auth service (user,
// token), and finds each in the audit log with the right actor. (The
// console's doors: console tests; the CLI's: cmd/munja's TestCLIAudited.)
func TestAuditEveryDoor(t *testing.T) {
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TrustedNetworks = []string{"127.0.0.0/8"}
	cfg.Server.PublicURL = "https://munja.example"
	cfg.Alerting.Recipients = []string{"01011112222"}
	cfg.Alerting.Interval = config.Duration(100 * time.Millisecond)
	cfg.Alerting.GroupWait = 0
	cfg.Checks = []config.Check{{Name: "probe", Type: "command", Interval: config.Duration(100 * time.Millisecond),
		Command: []string{"/bin/sh", "-c", "exit 1"}}}
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	t.Cleanup(func() { a.Close() })
	noErr(t, a.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	svc := auth.NewService(a.Store, time.Now)
	sendTok, err := svc.CreateToken(ctx, "cli:ops", "ci", auth.ScopeSend)
	noErr(t, err)
	_, err = svc.CreateToken(ctx, "cli:ops", "deploy", auth.ScopeAdmin) // revoked below
	noErr(t, err)
	_, err = svc.AddUser(ctx, "cli:ops", "kim", auth.RoleOperator, "correct horse battery")
	noErr(t, err)
	noErr(t, svc.RevokeToken(ctx, "user:boss", "deploy"))
	adminTok, err := svc.CreateToken(ctx, "user:boss", "deploy2", auth.ScopeAdmin)
	noErr(t, err)

	examples := openAPIExamples(t)
	call := func(method, path, token, ctype, body string) []byte {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+a.Addr()+path, strings.NewReader(body))
		noErr(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		noErr(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	const js = "application/json"
	call("POST", "/api/v1/messages", sendTok, js, `{"to":["01012345678","01098765432"],"text":"[경고] 비밀 hunter2"}`)
	call("POST", "/sms/aligo_send.php", "", "application/x-www-form-urlencoded", examples["/sms/aligo_send.php"])
	call("POST", "/api/v1/send", sendTok, "application/x-www-form-urlencoded", examples["/sms/aligo_send.php"])
	call("POST", "/api/v1/alertmanager?to=01012345678", sendTok, js, examples["/api/v1/alertmanager"])
	call("POST", "/api/v1/grafana?to=01012345678", sendTok, js, examples["/api/v1/grafana"])
	call("POST", "/api/v1/contacts", adminTok, js, `{"name":"홍길동","phone":"01033334444","groups":["ops"]}`)
	call("POST", "/api/v1/groups", adminTok, js, `{"name":"dba"}`)
	call("POST", "/api/v1/templates", adminTok, js, `{"name":"점검","text":"점검 안내"}`)
	until := time.Now().Add(time.Hour).Format(time.RFC3339)
	call("POST", "/api/v1/silences", sendTok, js, `{"check":"disk","until":"`+until+`"}`)

	// The engine pages for probe (this host); the agent's report pages for
	// web01's httpd.
	waitAudit(t, a.Store, store.AuditQuery{Actor: "alert:first", Action: "message.create"})
	call("POST", "/api/v1/agents/report", sendTok, js, `{"host":"web01","interval_seconds":10,"results":[
		{"check":"httpd","ok":false,"firing":"[경고] httpd 프로세스가 동작하지 않습니다. 웹 서버 점검이 필요합니다. 담당자는 즉시 확인하세요.","severity":"warning"}]}`)
	agentMsg := waitAudit(t, a.Store, store.AuditQuery{Actor: "agent:web01", Action: "message.create"})

	// Ack probe's incident by API, web01's by the link in its page (an
	// LMS: the link comes with a page longer than an SMS).
	var incs struct {
		Incidents []struct{ ID, Check, Host string }
	}
	noErr(t, json.Unmarshal(call("GET", "/api/v1/incidents", sendTok, "", ""), &incs))
	for _, inc := range incs.Incidents {
		if inc.Check == "probe" {
			call("POST", "/api/v1/incidents/"+inc.ID+"/ack", sendTok, js, "")
		}
	}
	var id int64
	_, err = fmt.Sscanf(agentMsg.Target, "message %d", &id)
	noErr(t, err)
	m, err := a.Store.GetMessage(ctx, id)
	noErr(t, err)
	link := regexp.MustCompile(`/ack/[A-Za-z0-9_-]+`).FindString(m.Text)
	if link == "" {
		t.Fatalf("no ack link in the agent's page %q", m.Text)
	}
	call("POST", link, "", "application/x-www-form-urlencoded", "")

	es, err := a.Store.FindAudit(ctx, store.AuditQuery{Limit: 1000})
	noErr(t, err)
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Actor+" "+e.Action+" "+e.Target+" "+e.Detail)
		for _, secret := range []string{"hunter2", sendTok, adminTok, strings.TrimPrefix(link, "/ack/")} {
			if strings.Contains(e.Target+e.Detail+e.Actor, secret) {
				t.Errorf("a secret or text is in the audit log: %+v", e)
			}
		}
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{
		`token:ci message\.create message \d+ SMS, 2 recipients`,
		`net:127\.0\.0\.1 message\.create message \d+ SMS, 2 recipients`, // the compat form, trusted network
		`token:ci message\.create message \d+ SMS, 2 recipients`,         // /api/v1/send
		`token:ci message\.create message \d+ (SMS|LMS), 1 recipient`,    // Alertmanager, Grafana
		`alert:first message\.create message \d+ (SMS|LMS), 1 recipient`,
		`agent:web01:first message\.create message \d+ (SMS|LMS), 1 recipient`,
		`token:deploy2 contact\.create contact:\d+`,
		`token:deploy2 group\.create group:dba`,
		`token:deploy2 template\.create template:\d+`,
		`token:ci silence\.create disk until `,
		`token:ci incident\.ack \S+`,
		`link:127\.0\.0\.1 incident\.ack \S+ by link`,
		`cli:ops token\.create ci scope send`,
		`cli:ops user\.create kim role operator`,
		`user:boss token\.revoke deploy`,
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(log) {
			t.Errorf("no audit entry %s in\n%s", want, log)
		}
	}
	for _, door := range []int{strings.Count(log, "token:ci message.create"), strings.Count(log, "message.create")} {
		if door < 4 {
			t.Errorf("%d message.create entries by token:ci or all; want every door:\n%s", door, log)
		}
	}
}

// waitAudit waits until q selects an entry and returns the newest.
func waitAudit(t *testing.T, st store.Store, q store.AuditQuery) store.AuditEntry {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		es, err := st.FindAudit(context.Background(), q)
		noErr(t, err)
		if len(es) > 0 {
			return es[0]
		}
	}
	all, _ := st.ListAudit(context.Background(), 100)
	t.Fatalf("no audit entry for %+v in %+v", q, all)
	return store.AuditEntry{}
}

// openAPIExamples are the request examples of the webhook and compat
// routes in web/openapi.json, as request bodies.
func openAPIExamples(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../web/openapi.json")
	noErr(t, err)
	var spec struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Example any `json:"example"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	noErr(t, json.Unmarshal(b, &spec))
	out := map[string]string{}
	for _, p := range []string{"/api/v1/alertmanager", "/api/v1/grafana"} {
		j, err := json.Marshal(spec.Paths[p]["post"].RequestBody.Content["application/json"].Example)
		noErr(t, err)
		out[p] = string(j)
	}
	form := url.Values{}
	for k, v := range spec.Paths["/sms/aligo_send.php"]["post"].RequestBody.Content["application/x-www-form-urlencoded"].Example.(map[string]any) {
		form.Set(k, fmt.Sprint(v))
	}
	out["/sms/aligo_send.php"] = form.Encode()
	return out
}
