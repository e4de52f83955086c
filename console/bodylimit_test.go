package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
)

// TestOversizedFormIs413: a form over its route's size limit, from a
// signed-in user with a valid CSRF token, is answered 413 with a message
// naming the limit, not as a CSRF failure; nothing is stored (issue 11,
// item 11).
func TestOversizedFormIs413(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	c.get("/contacts/new")

	before := snapshot(t, h)
	big := strings.Repeat("가", maxFormBody/len("가")+1)
	c.post("/contacts", url.Values{"name": {"김철수"}, "phone": {"01012345678"}, "memo": {big}}).
		mustStatus(t, http.StatusRequestEntityTooLarge).mustContain(t, "요청이 너무 큽니다", "1 MB")

	c.get("/contacts/import")
	r := upload(t, c, "book.csv", bytes.Repeat([]byte("김철수,010-1234-5678\n"), maxImportBody/20+1), nil)
	r.mustStatus(t, http.StatusRequestEntityTooLarge).mustContain(t, "8 MB")
	// In English too.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/contacts/new"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/contacts/new")
	c.post("/contacts", url.Values{"memo": {big}}).
		mustStatus(t, http.StatusRequestEntityTooLarge).mustContain(t, "too large", "1 MB")
	if after := snapshot(t, h); after != before {
		t.Errorf("an oversized form changed the store")
	}
	// Just under the limit is no error of size.
	if r := c.post("/contacts", url.Values{"name": {"김철수"}, "phone": {"01012345678"}}); r.status == http.StatusRequestEntityTooLarge {
		t.Fatal("a small form answered 413")
	}
}
