package console

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func TestContactsEscapeHTML(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	evil := `<script>alert(1)</script>`
	c.post("/contacts", url.Values{"name": {evil}, "phone": {"010-1234-5678"}, "memo": {`"><img src=x onerror=alert(2)>`},
		"new_groups": {"<b>ops</b>"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/templates", url.Values{"name": {evil}, "text": {"</textarea><script>alert(3)</script>"}}).mustStatus(t, http.StatusSeeOther)
	for _, path := range []string{"/contacts", "/send", "/templates", "/contacts?q=" + url.QueryEscape(evil)} {
		r := c.get(path).mustStatus(t, http.StatusOK)
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>ops</b>", "</textarea><script>"} {
			if strings.Contains(r.body, raw) {
				t.Fatalf("%s renders %q unescaped", path, raw)
			}
		}
		if path == "/contacts" {
			r.mustContain(t, "&lt;script&gt;alert(1)&lt;/script&gt;")
		}
	}
}

func TestContactCRUD(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	c.post("/groups", url.Values{"name": {"ops"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/groups", url.Values{"name": {"ops"}}).mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, `"ops" 그룹이 이미 있습니다`)
	c.post("/groups", url.Values{"name": {"a,b"}}).mustStatus(t, http.StatusUnprocessableEntity)
	c.post("/contacts", url.Values{"name": {"홍길동"}, "phone": {"+82 10-9927-1179"}, "group": {"ops"}, "new_groups": {"dev, db"}}).
		mustStatus(t, http.StatusSeeOther)
	c.post("/contacts", url.Values{"name": {"동명이인"}, "phone": {"01099271179"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "이미 주소록에 있는 번호입니다 (홍길동)")
	c.post("/contacts", url.Values{"name": {""}, "phone": {"0212345678"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "필수 항목입니다", "휴대폰 번호가 아닙니다")
	list, err := h.st.ListContacts(h.ctx, "", 0, 0)
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	ct := list[0]
	if ct.Phone != "01099271179" || strings.Join(ct.Groups, ",") != "db,dev,ops" {
		t.Fatalf("contact %+v", ct)
	}
	id := strconv.FormatInt(ct.ID, 10)
	c.post("/contacts/"+id, url.Values{"name": {"홍길동"}, "phone": {"010-9927-1179"}, "memo": {"DB 담당"}, "group": {"ops"}}).
		mustStatus(t, http.StatusSeeOther)
	got, _ := h.st.GetContact(h.ctx, ct.ID)
	if got.Memo != "DB 담당" || strings.Join(got.Groups, ",") != "ops" {
		t.Fatalf("updated contact %+v", got)
	}
	c.get("/contacts?q="+url.QueryEscape("9927-11")).mustContain(t, "홍길동")
	c.get("/contacts?q=nobody").mustContain(t, "검색 결과가 없습니다")
	c.post("/groups/delete", url.Values{"name": {"dev"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/contacts/"+id+"/delete", nil).mustStatus(t, http.StatusSeeOther)
	c.post("/contacts/"+id+"/delete", nil).mustStatus(t, http.StatusNotFound)
	c.get("/contacts/"+id).mustStatus(t, http.StatusNotFound)
	audit, _ := h.st.ListAudit(h.ctx, 20)
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"group.create", "contact.create", "contact.update", "group.delete", "contact.delete"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestContactsPagination(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("v", auth.RoleViewer, adminPW)
	for i := 0; i < contactsPerPage+5; i++ {
		ct := &store.Contact{Name: fmt.Sprintf("사람%03d", i), Phone: sms.Phone(fmt.Sprintf("01055%06d", i))}
		if err := h.st.SaveContact(h.ctx, ct); err != nil {
			t.Fatal(err)
		}
	}
	c := h.client()
	c.login("v", adminPW)
	r := c.get("/contacts").mustContain(t, "사람000", "사람049", `id="next-page"`)
	if strings.Contains(r.body, "사람050") {
		t.Fatal("page 1 shows row 51")
	}
	c.get("/contacts?page=2").mustContain(t, "사람050", "사람054")
}

// upload posts a file to /contacts/import as a browser would.
func upload(t *testing.T, c *client, name string, data []byte, fields map[string]string) *resp {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		if err := mw.WriteField("csrf", c.csrf); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.h.srv.URL+"/contacts/import", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func TestImportOriginalAddressBook(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	c.get("/contacts/import").mustStatus(t, http.StatusOK)
	data, err := os.ReadFile("testdata/address_book.json")
	if err != nil {
		t.Fatal(err)
	}
	upload(t, c, "address_book.json", data, map[string]string{"group": "ops", "overwrite": "1"}).mustStatus(t, http.StatusOK).
		mustContain(t, "새 연락처 3명, 갱신 0명, 건너뜀 0명")
	phones, err := h.st.GroupPhones(h.ctx, "ops")
	if err != nil || len(phones) != 3 {
		t.Fatalf("group ops: %v %v", phones, err)
	}
	c.get("/contacts").mustContain(t, "홍길동", "010-9927-1179", "이영희")

	// The version edited by the PHP page: a map with holes, a number, a
	// short number and a row without phone. Bad rows are listed.
	data, err = os.ReadFile("testdata/address_book_edited.json")
	if err != nil {
		t.Fatal(err)
	}
	r := upload(t, c, "address_book.json", data, map[string]string{"overwrite": "1"}).mustStatus(t, http.StatusOK)
	r.mustContain(t, "새 연락처 1명, 갱신 2명, 건너뜀 0명", "읽지 못한 줄 2개", "전화번호를 읽을 수 없음", `("3")`, "휴대전화 번호로는 너무 짧습니다", "전화번호가 없음", `("6")`)
	if strings.Contains(r.body, "too short") {
		t.Error("the Korean import page gives the phone parser's reason in English")
	}
	if ct, _ := h.con.contactByPhone(h.ctx, "01022223333"); ct == nil || ct.Name != "최지우" {
		t.Fatalf("최지우 not imported: %+v", ct)
	}
	// An unchecked "overwrite" skips known numbers.
	upload(t, c, "book.json", data, nil).mustContain(t, "새 연락처 0명, 갱신 0명, 건너뜀 3명")
	// Not an address book at all.
	upload(t, c, "x.json", []byte("<html>"), nil).mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "파일을 읽을 수 없습니다")
	// CSV from Excel in CP949.
	cp949 := []byte{0xc0, 0xcc, 0xb8, 0xa7, ',', 0xc0, 0xfc, 0xc8, 0xad, 0xb9, 0xf8, 0xc8, 0xa3, '\r', '\n'} // 이름,전화번호
	cp949 = append(cp949, []byte{0xb9, 0xda, 0xb9, 0xce, 0xbc, 0xf6}...)                                     // 박민수
	cp949 = append(cp949, []byte(",01077778888\r\n")...)
	upload(t, c, "excel.csv", cp949, nil).mustStatus(t, http.StatusOK).mustContain(t, "새 연락처 1명")
	if ct, _ := h.con.contactByPhone(h.ctx, "01077778888"); ct == nil || ct.Name != "박민수" {
		t.Fatalf("CP949 CSV row: %+v", ct)
	}
	audit, _ := h.st.ListAudit(h.ctx, 1)
	if audit[0].Action != "contact.import" || !strings.Contains(audit[0].Detail, "1 new") {
		t.Fatalf("audit %+v", audit[0])
	}
}
