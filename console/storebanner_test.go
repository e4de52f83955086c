package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestGatewayDownBanner: while a provider is in an outage (GatewaysDown),
// every page says so, with the reason in Korean and the time in the
// configured zone, escaped; none once it works again.
func TestGatewayDownBanner(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	var mu sync.Mutex
	var down []GatewayDown
	h.con.opt.GatewaysDown = func() []GatewayDown {
		mu.Lock()
		defer mu.Unlock()
		return down
	}
	h.addUser("kim", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	if r := c.get("/"); strings.Contains(r.body, "gateway-down") {
		t.Fatalf("banner with every gateway up:\n%s", r.body)
	}
	mu.Lock()
	down = []GatewayDown{{Name: "aligo<b>", Since: time.Date(2026, 11, 25, 5, 3, 0, 0, time.UTC), Reason: "5분째 응답 없음"}}
	mu.Unlock()
	c.get("/history").mustStatus(t, http.StatusOK).mustContain(t, `class="banner bad gateway-down"`,
		"문자 게이트웨이 aligo&lt;b&gt; 장애 (5분째 응답 없음, 2026-11-25 14:03부터): 다음 게이트웨이로 발송합니다.")
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/").mustStatus(t, http.StatusOK).mustContain(t,
		"SMS gateway aligo&lt;b&gt; is down (every call failed since 2026-11-25 14:03): messages go through the next gateway.")
	mu.Lock()
	down = nil
	mu.Unlock()
	if r := c.get("/"); strings.Contains(r.body, "gateway-down") {
		t.Fatalf("banner after the gateway came back:\n%s", r.body)
	}
}
