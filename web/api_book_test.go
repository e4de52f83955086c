package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func (f *fixture) auditActions() []string {
	f.t.Helper()
	es, err := f.db.ListAudit(context.Background(), 1000)
	noErr(f.t, err)
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action+" "+es[i].Target+" by "+es[i].Actor)
	}
	return out
}

func TestContactLifecycle(t *testing.T) {
	f := newFixture(t)
	c := f.must(req{method: "POST", path: "/api/v1/contacts", token: "admin",
		body: `{"name":" 홍길동 ","phone":"+82 10-1234-5678","memo":"서버 담당\n야간","groups":["ops","dev","ops"]}`}, 201)
	id := fmt.Sprint(c["id"])
	if c["name"] != "홍길동" || c["phone"] != "01012345678" || c["phone_display"] != "010-1234-5678" ||
		fmt.Sprint(c["groups"]) != "[dev ops]" || c["memo"] != "서버 담당\n야간" {
		t.Errorf("created %v", c)
	}
	got := f.must(req{path: "/api/v1/contacts/" + id, token: "read"}, 200)
	if got["phone"] != "01012345678" || fmt.Sprint(got["groups"]) != "[dev ops]" {
		t.Errorf("get %v", got)
	}
	// The group is usable as a recipient at once.
	m := f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: `{"groups":["ops"],"text":"hi"}`}, 202)
	if rs := m["recipients"].([]any); len(rs) != 1 || rs[0].(map[string]any)["to"] != "01012345678" {
		t.Errorf("message to group ops: %v", m["recipients"])
	}
	up := f.must(req{method: "PUT", path: "/api/v1/contacts/" + id, token: "admin",
		body: `{"name":"홍길동","phone":"010-9999-0000"}`}, 200)
	if up["phone"] != "01099990000" || fmt.Sprint(up["groups"]) != "[]" || up["memo"] != "" {
		t.Errorf("updated %v", up)
	}
	list := f.must(req{path: "/api/v1/contacts?q=9999", token: "read"}, 200)
	if cs := list["contacts"].([]any); len(cs) != 1 {
		t.Errorf("search 9999: %v", list)
	}
	f.must(req{method: "DELETE", path: "/api/v1/contacts/" + id, token: "admin"}, 204)
	f.must(req{path: "/api/v1/contacts/" + id, token: "read"}, 404)
	f.must(req{method: "DELETE", path: "/api/v1/contacts/" + id, token: "admin"}, 404)
	f.must(req{method: "PUT", path: "/api/v1/contacts/" + id, token: "admin", body: `{"name":"x","phone":"01011112222"}`}, 404)
	want := []string{
		"contact.create contact:" + id + " by token:t-admin",
		"message.create message 1 by token:t-send", // the send to a group above
		"contact.update contact:" + id + " by token:t-admin",
		"contact.delete contact:" + id + " by token:t-admin",
	}
	if got := f.auditActions(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestContactPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.must(req{method: "POST", path: "/api/v1/contacts", token: "admin",
			body: fmt.Sprintf(`{"name":"n%d","phone":"0101234000%d"}`, i, i)}, 201)
	}
	var names []string
	next := "/api/v1/contacts?limit=2"
	for next != "" {
		page := f.must(req{path: next, token: "read"}, 200)
		for _, c := range page["contacts"].([]any) {
			names = append(names, c.(map[string]any)["name"].(string))
		}
		next, _ = page["next"].(string)
	}
	if got := strings.Join(names, ","); got != "n0,n1,n2,n3,n4" {
		t.Errorf("paged names %s", got)
	}
}

func TestBookValidation(t *testing.T) {
	f := newFixture(t)
	f.must(req{method: "POST", path: "/api/v1/contacts", token: "admin", body: `{"name":"a","phone":"01012345678"}`}, 201)
	f.must(req{method: "POST", path: "/api/v1/groups", token: "admin", body: `{"name":"ops"}`}, 201)
	f.must(req{method: "POST", path: "/api/v1/templates", token: "admin", body: `{"name":"t","text":"x"}`}, 201)
	long := strings.Repeat("가", 101)
	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"contact phone letters", "POST", "/api/v1/contacts", `{"name":"a","phone":"010-abcd-5678"}`, 400, "phone"},
		{"contact phone too short", "POST", "/api/v1/contacts", `{"name":"a","phone":"0101"}`, 400, "phone"},
		{"contact phone missing", "POST", "/api/v1/contacts", `{"name":"a"}`, 400, "phone"},
		{"contact phone blank", "POST", "/api/v1/contacts", `{"name":"a","phone":"  "}`, 400, "phone"},
		{"contact name blank", "POST", "/api/v1/contacts", `{"name":"  ","phone":"01011112222"}`, 400, "name"},
		{"contact name too long", "POST", "/api/v1/contacts", `{"name":"` + long + `","phone":"01011112222"}`, 400, "name"},
		{"contact name line break", "POST", "/api/v1/contacts", `{"name":"a\nb","phone":"01011112222"}`, 400, "name"},
		{"contact memo control", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","memo":"\u0007"}`, 400, "memo"},
		{"contact group comma", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","groups":["ok","a,b"]}`, 400, "groups[1]"},
		{"contact group prefix", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","groups":["group:x"]}`, 400, "groups[0]"},
		{"contact group empty", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","groups":[""]}`, 400, "groups[0]"},
		{"contact groups wrong type", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","groups":"ops"}`, 400, "groups"},
		{"contact unknown field", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222","email":"x"}`, 400, "email"},
		{"contact name wrong type", "POST", "/api/v1/contacts", `{"name":1,"phone":"01011112222"}`, 400, "name"},
		{"contact duplicate phone", "POST", "/api/v1/contacts", `{"name":"b","phone":"010-1234-5678"}`, 409, "phone"},
		{"contact bad id", "GET", "/api/v1/contacts/abc", ``, 400, "id"},
		{"contact zero id", "PUT", "/api/v1/contacts/0", `{"name":"a","phone":"01011112222"}`, 400, "id"},
		{"contact list bad limit", "GET", "/api/v1/contacts?limit=0", ``, 400, "limit"},
		{"contact list bad offset", "GET", "/api/v1/contacts?offset=-1", ``, 400, "offset"},
		{"not JSON", "POST", "/api/v1/contacts", `name=a`, 400, ""},
		{"two objects", "POST", "/api/v1/contacts", `{"name":"a","phone":"01011112222"}{}`, 400, ""},
		{"empty body", "POST", "/api/v1/contacts", ``, 400, ""},
		{"group duplicate", "POST", "/api/v1/groups", `{"name":"ops"}`, 409, "name"},
		{"group semicolon", "POST", "/api/v1/groups", `{"name":"a;b"}`, 400, "name"},
		{"group missing", "POST", "/api/v1/groups", `{}`, 400, "name"},
		{"group delete unknown", "DELETE", "/api/v1/groups/nope", ``, 404, ""},
		{"template emoji", "POST", "/api/v1/templates", `{"name":"e","text":"서버 다운 🔥"}`, 400, "text"},
		{"template title emoji", "POST", "/api/v1/templates", `{"name":"e","text":"x","title":"🔥"}`, 400, "title"},
		{"template title too long", "POST", "/api/v1/templates", `{"name":"e","text":"x","title":"` + strings.Repeat("가", 23) + `"}`, 400, "title"},
		{"template too long", "POST", "/api/v1/templates", `{"name":"e","text":"` + strings.Repeat("가", 1001) + `"}`, 400, "text"},
		{"template text blank", "POST", "/api/v1/templates", `{"name":"e","text":" \n "}`, 400, "text"},
		{"template duplicate", "POST", "/api/v1/templates", `{"name":"t","text":"y"}`, 409, "name"},
		{"template missing", "GET", "/api/v1/templates/999", ``, 404, ""},
		{"template delete missing", "DELETE", "/api/v1/templates/999", ``, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot()
			out := f.must(req{method: tc.method, path: tc.path, body: tc.body, token: "admin"}, tc.status)
			if field, _ := out["field"].(string); field != tc.field {
				t.Errorf("field %q, want %q (%v)", field, tc.field, out)
			}
			if msg, _ := out["error"].(string); msg == "" {
				t.Errorf("no error message: %v", out)
			}
			if after := f.snapshot(); after != before {
				t.Errorf("refused request changed state")
			}
		})
	}
}

func TestTemplateLifecycle(t *testing.T) {
	f := newFixture(t)
	tp := f.must(req{method: "POST", path: "/api/v1/templates", token: "admin",
		body: `{"name":"장애","text":"[경고] {{.Check}} 장애\r\n확인 바랍니다.","title":" 알림 "}`}, 201)
	id := fmt.Sprint(tp["id"])
	if tp["type"] != "LMS" || tp["title"] != "알림" || tp["text"] != "[경고] {{.Check}} 장애\n확인 바랍니다." {
		t.Errorf("created %v", tp)
	}
	up := f.must(req{method: "PUT", path: "/api/v1/templates/" + id, token: "admin", body: `{"name":"장애","text":"짧게"}`}, 200)
	if up["type"] != "SMS" || up["bytes"] != float64(4) {
		t.Errorf("updated %v", up)
	}
	list := f.must(req{path: "/api/v1/templates", token: "read"}, 200)
	if ts := list["templates"].([]any); len(ts) != 1 {
		t.Errorf("list %v", list)
	}
	f.must(req{method: "DELETE", path: "/api/v1/templates/" + id, token: "admin"}, 204)
	f.must(req{path: "/api/v1/templates/" + id, token: "read"}, 404)
	g := f.must(req{method: "POST", path: "/api/v1/groups", token: "admin", body: `{"name":"야간 당직"}`}, 201)
	if g["name"] != "야간 당직" || g["members"] != float64(0) {
		t.Errorf("group %v", g)
	}
	f.must(req{method: "DELETE", path: "/api/v1/groups/%EC%95%BC%EA%B0%84%20%EB%8B%B9%EC%A7%81", token: "admin"}, 204)
	want := "template.create template:" + id + " by token:t-admin\n" +
		"template.update template:" + id + " by token:t-admin\n" +
		"template.delete template:" + id + " by token:t-admin\n" +
		"group.create group:야간 당직 by token:t-admin\n" +
		"group.delete group:야간 당직 by token:t-admin"
	if got := strings.Join(f.auditActions(), "\n"); got != want {
		t.Errorf("audit:\n%s\nwant:\n%s", got, want)
	}
}
