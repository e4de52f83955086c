package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// amAlert builds one alert of an Alertmanager notification.
func amAlert(status, name, instance, summary string) map[string]any {
	return map[string]any{
		"status":       status,
		"labels":       map[string]string{"alertname": name, "instance": instance, "severity": "critical"},
		"annotations":  map[string]string{"summary": summary},
		"startsAt":     "2026-11-25T09:00:00+09:00",
		"endsAt":       "0001-01-01T00:00:00Z",
		"generatorURL": "http://prometheus:9090/graph?g0.expr=up",
		"fingerprint":  "5f1d2c3b4a596877",
		"futureField":  true, // Alertmanager may add fields; they are ignored
	}
}

func amBody(t testing.TB, status string, alerts ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="HighLoad"}`, "status": status, "receiver": "munja",
		"groupLabels": map[string]string{"alertname": "HighLoad"}, "commonLabels": map[string]string{},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093",
		"truncatedAlerts": 0, "alerts": alerts,
	})
	noErr(t, err)
	return string(b)
}

// postAlertmanager posts body and returns the stored message.
func (f *fixture) postAlertmanager(query, body string) *sms.Message {
	f.t.Helper()
	out := f.must(req{method: http.MethodPost, path: "/api/v1/alertmanager" + query, body: body, token: "send"}, http.StatusAccepted)
	m, err := f.db.GetMessage(context.Background(), int64(out["id"].(float64)))
	noErr(f.t, err)
	return m
}

func phonesOf(m *sms.Message) string {
	var out []string
	for _, d := range m.Deliveries {
		out = append(out, string(d.Phone))
	}
	return strings.Join(out, ",")
}

func TestAlertmanagerFiringAndResolved(t *testing.T) {
	f := newFixture(t)
	m := f.postAlertmanager("?to=010-2222-3333,01044445555", amBody(t, "firing",
		amAlert("firing", "HighLoad", "web01:9100", "부하가 10을 넘었습니다."),
		amAlert("resolved", "DiskFull", "db01:9100", "  디스크가\n 가득 찼습니다. "),
		amAlert("firing", "InstanceDown", "web02:9100", ""),
	))
	want := "[경고] HighLoad (web01:9100): 부하가 10을 넘었습니다.\n" +
		"[경고] InstanceDown (web02:9100)\n" +
		"[복구] DiskFull (db01:9100): 디스크가 가득 찼습니다."
	if m.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", m.Text, want)
	}
	if m.Kind != sms.KindLMS || m.Title != "[munja] 경고 2건, 복구 1건" {
		t.Errorf("kind %s title %q, want LMS with the counts", m.Kind, m.Title)
	}
	if m.Source != "alertmanager" || m.CreatedBy == "" {
		t.Errorf("source %q by %q", m.Source, m.CreatedBy)
	}
	if got := phonesOf(m); got != "01022223333,01044445555" {
		t.Errorf("recipients %s", got)
	}

	// A short resolved notification is one SMS, to alerting.recipients.
	m = f.postAlertmanager("", amBody(t, "resolved", amAlert("resolved", "HighLoad", "web01:9100", "")))
	if m.Text != "[복구] HighLoad (web01:9100)" || m.Kind != sms.KindSMS {
		t.Errorf("resolved: %q %s", m.Text, m.Kind)
	}
	if got := phonesOf(m); got != "01012345678" {
		t.Errorf("default recipients %s, want alerting.recipients", got)
	}
}

func TestAlertmanagerUnsendableAndLong(t *testing.T) {
	f := newFixture(t)
	// Emoji and other characters CP949 lacks must not stop the page.
	m := f.postAlertmanager("", amBody(t, "firing", amAlert("firing", "Hot🔥", "", "✔ 온도 ₩ 초과")))
	if m.Text != "[경고] Hot?: ? 온도 ? 초과" {
		t.Errorf("sanitized text %q", m.Text)
	}
	// 200 alerts: whole lines up to the LMS limit, then "(외 N건)".
	var alerts []map[string]any
	for i := range 200 {
		alerts = append(alerts, amAlert("firing", fmt.Sprintf("Alert%03d", i), "host:9100", "서비스 응답이 느립니다."))
	}
	m = f.postAlertmanager("?group=", amBody(t, "firing", alerts...))
	n, err := sms.CountBytes(m.Text)
	if err != nil || n > sms.MaxLMSBytes || m.Kind != sms.KindLMS {
		t.Fatalf("long: %d bytes (%v), kind %s", n, err, m.Kind)
	}
	lines := strings.Split(m.Text, "\n")
	last := lines[len(lines)-1]
	if want := fmt.Sprintf("(외 %d건)", 200-(len(lines)-1)); last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	if !strings.HasPrefix(lines[0], "[경고] Alert000 (host:9100): ") || len(lines) < 20 {
		t.Errorf("kept %d lines, first %q", len(lines)-1, lines[0])
	}
	if m.Title != "[munja] 경고 200건" {
		t.Errorf("title %q", m.Title)
	}
}

func TestAlertmanagerBadInput(t *testing.T) {
	f := newFixture(t)
	ok := amBody(t, "firing", amAlert("firing", "HighLoad", "web01:9100", "x"))
	for _, tc := range []struct {
		name, query, body, field string
	}{
		{"version 3", "", strings.Replace(ok, `"version":"4"`, `"version":"3"`, 1), "version"},
		{"no alerts", "", amBody(t, "firing"), "alerts"},
		{"odd status", "", amBody(t, "firing", amAlert("pending", "A", "", "")), "alerts[0].status"},
		{"bad start", "", strings.Replace(ok, "2026-11-25T09:00:00+09:00", "2026-11-25 09:00", 1), "alerts[0].startsAt"},
		{"bad end", "", strings.Replace(ok, "0001-01-01T00:00:00Z", "never", 1), "alerts[0].endsAt"},
		{"negative truncated", "", strings.Replace(ok, `"truncatedAlerts":0`, `"truncatedAlerts":-1`, 1), "truncatedAlerts"},
		{"bad dedupe", "?dedupe=1d", ok, "dedupe"},
		{"bad number", "?to=12345", ok, "to[0]"},
		{"bad test flag", "?test=maybe", ok, "test"},
		{"not JSON", "", "{", ""},
		{"wrong type", "", `{"version":4,"alerts":[]}`, "version"},
	} {
		out := f.must(req{method: http.MethodPost, path: "/api/v1/alertmanager" + tc.query, body: tc.body, token: "send"}, http.StatusBadRequest)
		if out["field"] != tc.field && !(tc.field == "" && out["field"] == nil) {
			t.Errorf("%s: %v, want field %q", tc.name, out, tc.field)
		}
	}
	// Without any recipient the error says where to put one.
	g := newFixture(t, func(o *Options) { o.AlertRecipients = nil })
	out := g.must(req{method: http.MethodPost, path: "/api/v1/alertmanager", body: ok, token: "send"}, http.StatusBadRequest)
	if out["field"] != "to" || !strings.Contains(fmt.Sprint(out["error"]), "?to=") {
		t.Errorf("no recipients: %v", out)
	}
	// Read tokens cannot page.
	f.must(req{method: http.MethodPost, path: "/api/v1/alertmanager", body: ok, token: "read"}, http.StatusForbidden)
	// Nothing above was stored.
	if ms, err := f.db.ListMessages(context.Background(), store.MessageFilter{Limit: 10}); err != nil || len(ms) != 0 {
		t.Errorf("%d messages stored by refused requests (%v)", len(ms), err)
	}
}
