package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/munja-sms/munja/web"
)

// TestMountOnWebServer mounts the console on the API server the way the
// app does: both route sets live side by side, the alert engine's routes
// among them.
func TestMountOnWebServer(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.monitor.Set(h.newEngine())
	srv := web.New(web.Options{Store: h.st, Outbox: h.ob, Mount: h.con.Mount, Monitor: h.monitor})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := h.client()
	c.h = &harness{t: t, ctx: h.ctx, st: h.st, srv: ts}
	c.get("/login").mustStatus(t, http.StatusOK).mustContain(t, "login-form")
	if r := c.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("GET / through the web server: %d %s", r.status, r.header.Get("Location"))
	}
	c.get("/api/v1/messages").mustStatus(t, http.StatusUnauthorized)
	c.get("/healthz").mustStatus(t, http.StatusOK)
	if r := c.get("/static/app.js"); r.status != http.StatusOK || r.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("static through the web server: %d", r.status)
	}
}
