package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/munja-sms/munja/auth"
)

// TestStoreNotWritableBanner: every page carries a banner, in the user's
// language and with the error, while StoreWritable reports one, and none
// once it does not.
func TestStoreNotWritableBanner(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	var mu sync.Mutex
	var writeErr error
	h.con.opt.StoreWritable = func(context.Context) error { // before any request
		mu.Lock()
		defer mu.Unlock()
		return writeErr
	}
	setErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		writeErr = err
	}
	h.addUser("kim", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	if r := c.get("/"); strings.Contains(r.body, "store-not-writable") {
		t.Fatalf("banner while the store takes writes:\n%s", r.body)
	}

	setErr(errors.New("claim: attempt to write a readonly database"))
	c.get("/").mustStatus(t, http.StatusOK).mustContain(t, `id="store-not-writable"`,
		"저장소에 기록할 수 없습니다: 메시지를 받을 수 없습니다 (claim: attempt to write a readonly database)")
	c.get("/history").mustStatus(t, http.StatusOK).mustContain(t, `id="store-not-writable"`)
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/").mustStatus(t, http.StatusOK).mustContain(t,
		"The database cannot be written: messages cannot be accepted (claim: attempt to write a readonly database)")

	setErr(nil)
	if r := c.get("/"); strings.Contains(r.body, "store-not-writable") {
		t.Fatalf("banner after the store recovered:\n%s", r.body)
	}
}
