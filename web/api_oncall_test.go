package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

var kst = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return loc
}()

// onCallNow is Wednesday 2026-12-09 10:00 KST: 010-1111-2222's week on
// the day layer, 09:00 to 18:00, then 010-5555-6666's night.
var onCallNow = time.Date(2026, 12, 9, 10, 0, 0, 0, kst)

func onCallFixture(t *testing.T, opts ...func(*Options)) *fixture {
	t.Helper()
	f := newFixture(t, append([]func(*Options){func(o *Options) {
		o.Now = func() time.Time { return onCallNow }
		o.Location = kst
	}}, opts...)...)
	noErr(t, f.db.SaveContact(context.Background(), &store.Contact{Name: "김당직", Phone: "01011112222"}))
	return f
}

// checkSchema validates a JSON body against the documented response.
func checkSchema(t *testing.T, method, pattern string, status int, body []byte) {
	t.Helper()
	sp := loadSpec(t)
	rs, ok := sp.responseSchema(specOperation(t, method, pattern), status)
	if !ok {
		t.Errorf("%s %s: status %d not documented", method, pattern, status)
		return
	}
	var v any
	noErr(t, json.Unmarshal(body, &v))
	for _, e := range sp.validate(v, rs, "body") {
		t.Errorf("%s %s → %d: %s", method, pattern, status, e)
	}
}

func TestOnCallNow(t *testing.T) {
	f := onCallFixture(t)
	w := f.do(req{path: "/api/v1/oncall", token: "read"})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	checkSchema(t, "GET", "/api/v1/oncall", 200, w.Body.Bytes())
	var out struct {
		Schedules []map[string]any
	}
	noErr(t, json.Unmarshal(w.Body.Bytes(), &out))
	if len(out.Schedules) != 1 {
		t.Fatalf("schedules %v", out.Schedules)
	}
	s := out.Schedules[0]
	sh, _ := s["shift"].(map[string]any)
	next, _ := s["next"].(map[string]any)
	// The roster names a contact's phone "name (phone)".
	if name, _ := s["name"].(string); !strings.Contains(name, "010-1111-2222") {
		t.Errorf("name = %q", name)
	}
	for k, want := range map[string]any{
		"schedule": "ops", "on_call": true, "member": "01011112222",
	} {
		if s[k] != want {
			t.Errorf("%s = %v, want %v", k, s[k], want)
		}
	}
	for k, want := range map[string]any{
		"start": "2026-12-09T09:00:00+09:00", "end": "2026-12-09T18:00:00+09:00", "layer": "day", "override": false,
		"turn_start": "2026-12-07T09:00:00+09:00", "turn_end": "2026-12-14T09:00:00+09:00",
	} {
		if sh[k] != want {
			t.Errorf("shift.%s = %v, want %v", k, sh[k], want)
		}
	}
	if next["at"] != "2026-12-09T18:00:00+09:00" || next["member"] != "01055556666" || next["name"] != "010-5555-6666" {
		t.Errorf("next = %v", next)
	}
}

func TestOnCallShifts(t *testing.T) {
	f := onCallFixture(t)
	q := url.Values{"from": {"2026-12-07T09:00:00+09:00"}, "to": {"2026-12-08T09:00:00+09:00"}}
	w := f.do(req{path: "/api/v1/oncall/ops?" + q.Encode(), token: "read"})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	checkSchema(t, "GET", "/api/v1/oncall/{name}", 200, w.Body.Bytes())
	var out struct {
		Schedule, From, To string
		Shifts             []struct{ Member, Start, End, Layer string }
		Overrides          []any
	}
	noErr(t, json.Unmarshal(w.Body.Bytes(), &out))
	type sh = struct{ Member, Start, End, Layer string }
	want := []sh{
		{"01011112222", "2026-12-07T09:00:00+09:00", "2026-12-07T18:00:00+09:00", "day"},
		{"01055556666", "2026-12-07T18:00:00+09:00", "2026-12-08T09:00:00+09:00", "night"},
	}
	if len(out.Shifts) != len(want) {
		t.Fatalf("shifts %+v, want %+v", out.Shifts, want)
	}
	for i := range want {
		if out.Shifts[i] != want[i] {
			t.Errorf("shift %d = %+v, want %+v", i, out.Shifts[i], want[i])
		}
	}
	if out.Schedule != "ops" || out.From != "2026-12-07T09:00:00+09:00" || out.To != "2026-12-08T09:00:00+09:00" || out.Overrides == nil {
		t.Errorf("schedule %q from %q to %q overrides %v", out.Schedule, out.From, out.To, out.Overrides)
	}

	// Default: now to 28 days on.
	w = f.do(req{path: "/api/v1/oncall/ops", token: "read"})
	var def struct{ From, To string }
	noErr(t, json.Unmarshal(w.Body.Bytes(), &def))
	if w.Code != 200 || def.From != "2026-12-09T10:00:00+09:00" || def.To != "2027-01-06T10:00:00+09:00" {
		t.Errorf("default range: %d %s", w.Code, w.Body)
	}

	for _, c := range []struct {
		query, field string
	}{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"from=2026-12-09T00:00:00%2B09:00&to=2026-12-08T00:00:00%2B09:00", "to"},
		{"from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z", "to"},
	} {
		got := f.must(req{path: "/api/v1/oncall/ops?" + c.query, token: "read"}, 400)
		if got["field"] != c.field {
			t.Errorf("?%s: %v, want field %s", c.query, got, c.field)
		}
	}
	if got := f.must(req{path: "/api/v1/oncall/nope", token: "read"}, 404); got["field"] != "name" || !strings.Contains(got["error"].(string), "nope") {
		t.Errorf("unknown schedule: %v", got)
	}
}

func TestOnCallOverrides(t *testing.T) {
	f := onCallFixture(t)
	body := `{"member":"김당직","from":"2026-12-09T09:30:00+09:00","to":"2026-12-10T09:00:00+09:00","note":"교대"}`
	before := f.snapshot()
	f.must(req{method: "POST", path: "/api/v1/oncall/ops/overrides", token: "read", body: body}, 403)
	if f.snapshot() != before {
		t.Error("a refused override changed state")
	}
	w := f.do(req{method: "POST", path: "/api/v1/oncall/ops/overrides", token: "send", body: body})
	if w.Code != 201 {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	checkSchema(t, "POST", "/api/v1/oncall/{name}/overrides", 201, w.Body.Bytes())
	var ov map[string]any
	noErr(t, json.Unmarshal(w.Body.Bytes(), &ov))
	id, _ := ov["id"].(string)
	if id == "" || ov["member"] != "김당직" || ov["from"] != "2026-12-09T09:30:00+09:00" || ov["created_by"] != "token:t-send" || ov["note"] != "교대" {
		t.Errorf("override %v", ov)
	}

	// Now on call through the override, until its end (the night layer
	// is beneath it).
	now := f.must(req{path: "/api/v1/oncall", token: "read"}, 200)["schedules"].([]any)[0].(map[string]any)
	sh := now["shift"].(map[string]any)
	if now["member"] != "김당직" || sh["override"] != true || sh["override_id"] != id || sh["end"] != "2026-12-10T09:00:00+09:00" {
		t.Errorf("on call after the override: %v", now)
	}
	list := f.must(req{path: "/api/v1/oncall/ops", token: "read"}, 200)["overrides"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("overrides %v", list)
	}
	au := lastAudit(t, f)
	if au.Action != "oncall.override" || au.Actor != "token:t-send" || au.Target != "oncall:ops" || !strings.Contains(au.Detail, "김당직 from 2026-12-09T09:30:00+09:00") {
		t.Errorf("audit %+v", au)
	}

	for _, c := range []struct{ body, field string }{
		{`{"from":"2026-12-09T09:30:00+09:00","to":"2026-12-10T09:00:00+09:00"}`, "member"},
		{`{"member":"김당직","from":"tomorrow","to":"2026-12-10T09:00:00+09:00"}`, "from"},
		{`{"member":"김당직","from":"2026-12-09T09:30:00+09:00"}`, "to"},
		{`{"member":"김당직","from":"2026-12-10T09:30:00+09:00","to":"2026-12-10T09:00:00+09:00"}`, "to"},
		{`{"member":"김당직","from":"2026-12-01T09:30:00+09:00","to":"2026-12-02T09:00:00+09:00"}`, "to"},
		{`{"member":"김당직","from":"2026-12-10T09:30:00+09:00","to":"2027-06-10T09:00:00+09:00"}`, "to"},
		{`{"member":"아무개","from":"2026-12-10T09:30:00+09:00","to":"2026-12-11T09:00:00+09:00"}`, "member"},
		{`{"member":"김당직","from":"2026-12-10T09:30:00+09:00","to":"2026-12-11T09:00:00+09:00","note":"` + strings.Repeat("가", 201) + `"}`, "note"},
		{`{"member":"김당직","who":"x"}`, ""},
	} {
		before := f.snapshot()
		got := f.must(req{method: "POST", path: "/api/v1/oncall/ops/overrides", token: "send", body: c.body}, 400)
		if c.field != "" && got["field"] != c.field {
			t.Errorf("%s: %v, want field %s", c.body, got, c.field)
		}
		if f.snapshot() != before {
			t.Errorf("%s: refused, yet changed state", c.body)
		}
	}
	f.must(req{method: "POST", path: "/api/v1/oncall/nope/overrides", token: "send", body: body}, 404)

	f.must(req{method: "DELETE", path: "/api/v1/oncall/ops/overrides/" + id, token: "read"}, 403)
	f.must(req{method: "DELETE", path: "/api/v1/oncall/ops/overrides/" + id, token: "send"}, 204)
	au = lastAudit(t, f)
	if au.Action != "oncall.override_delete" || au.Actor != "token:t-send" || !strings.HasSuffix(au.Detail, "id "+id) {
		t.Errorf("audit %+v", au)
	}
	f.must(req{method: "DELETE", path: "/api/v1/oncall/ops/overrides/" + id, token: "send"}, 404)
	f.must(req{method: "DELETE", path: "/api/v1/oncall/nope/overrides/" + id, token: "send"}, 404)
	if m := f.must(req{path: "/api/v1/oncall", token: "read"}, 200)["schedules"].([]any)[0].(map[string]any); m["member"] != "01011112222" {
		t.Errorf("after the delete: %v", m)
	}
}

func lastAudit(t *testing.T, f *fixture) store.AuditEntry {
	t.Helper()
	au, err := f.db.ListAudit(context.Background(), 1)
	noErr(t, err)
	if len(au) == 0 {
		t.Fatal("no audit entry")
	}
	return au[0]
}

// TestOnCallCalendar: the feed with the token in the URL (as a calendar
// app subscribes) or as a Bearer header; a wrong, revoked or missing token
// is 401; the token never reaches the log.
func TestOnCallCalendar(t *testing.T) {
	var logs bytes.Buffer
	f := onCallFixture(t, func(o *Options) {
		o.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for _, r := range []req{
		{path: "/api/v1/oncall/ops.ics?token=" + url.QueryEscape(f.tokens["read"])},
		{path: "/api/v1/oncall/ops.ics", token: "read"},
		{path: "/api/v1/oncall/ops.ics?token=" + url.QueryEscape(f.tokens["admin"])},
	} {
		w := f.do(r)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", r.path, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		b := w.Body.String()
		for _, want := range []string{"BEGIN:VCALENDAR\r\n", "X-WR-CALNAME:당직 ops", "SUMMARY:[당직] 01011112222 (ops)",
			"DTSTART:20261202T000000Z\r\n", // Wednesday 09:00 KST a week back: the shift then
		} {
			if !strings.Contains(b, want) {
				t.Errorf("feed lacks %q:\n%s", want, b)
			}
		}
		if strings.Contains(b, "DTSTART:20261201T090000Z\r\n") { // the night before
			t.Errorf("feed starts more than 7 days back")
		}
	}
	for _, r := range []req{
		{path: "/api/v1/oncall/ops.ics?token=munja_wrongwrongwrong"},
		{path: "/api/v1/oncall/ops.ics?token=" + url.QueryEscape(f.tokens["revoked"])},
		{path: "/api/v1/oncall/ops.ics"},
		{path: "/api/v1/oncall/ops.ics", token: "munja_wrongwrongwrong"},
	} {
		if w := f.do(r); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", r.path, w.Code, w.Body)
		}
	}
	f.must(req{path: "/api/v1/oncall/nope.ics?token=" + url.QueryEscape(f.tokens["read"])}, 404)
	for _, tok := range f.tokens {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("a token is in the log:\n%s", logs.String())
		}
	}
	if strings.Contains(logs.String(), "wrongwrong") {
		t.Errorf("a wrong token is in the log:\n%s", logs.String())
	}
}

func TestOnCallNotConfigured(t *testing.T) {
	f := onCallFixture(t, func(o *Options) { o.OnCall = nil })
	for _, r := range []req{
		{path: "/api/v1/oncall", token: "read"},
		{path: "/api/v1/oncall/ops", token: "read"},
		{path: "/api/v1/oncall/ops.ics?token=" + url.QueryEscape(f.tokens["read"])},
		{method: "POST", path: "/api/v1/oncall/ops/overrides", token: "send", body: `{"member":"01012345678","from":"2099-12-24T18:00:00+09:00","to":"2099-12-26T09:00:00+09:00"}`},
		{method: "DELETE", path: "/api/v1/oncall/ops/overrides/abc", token: "send"},
	} {
		got := f.must(r, 404)
		if !strings.Contains(got["error"].(string), "no on-call schedules configured") {
			t.Errorf("%s %s: %v", r.method, r.path, got)
		}
	}
	// Authentication still comes first.
	f.must(req{path: "/api/v1/oncall"}, 401)
	f.must(req{path: "/api/v1/oncall/ops.ics?token=munja_wrong"}, 401)
}
