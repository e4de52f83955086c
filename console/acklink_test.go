package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/outbox"
)

// TestAckLinkHiddenFromViewers: an alert's one-time ack link is a
// credential; a viewer sees it redacted wherever the text is shown and
// cannot find the message by searching for part of the token, an operator
// sees it whole (issue 11, item 7).
func TestAckLinkHiddenFromViewers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	const tok = "Zx9_kQ2-mN4pL7rT1vW3yA"
	m, err := h.ob.Submit(h.ctx, outbox.Request{To: []string{"01012345678"}, Source: "alert", Actor: "alert",
		Text: "확인: https://munja.example.com/ack/" + tok + "\n" + httpdDown})
	if err != nil {
		t.Fatal(err)
	}
	h.addUser("viewer", auth.RoleViewer, adminPW)
	h.addUser("oper", auth.RoleOperator, adminPW)
	msg := fmt.Sprintf("/messages/%d", m.ID)
	search := "/history?q=" + url.QueryEscape(tok[:6])
	for _, tc := range []struct {
		user  string
		shown bool
	}{{"viewer", false}, {"oper", true}} {
		c := h.client()
		c.login(tc.user, adminPW)
		for _, p := range []string{"/", "/history", msg} {
			r := c.get(p).mustStatus(t, http.StatusOK)
			if got := strings.Contains(r.body, tok[:5]); got != tc.shown {
				t.Errorf("%s %s: token shown %v, want %v\n%s", tc.user, p, got, tc.shown, r.body)
			}
			if !tc.shown && p == msg {
				r.mustContain(t, "https://munja.example.com/ack/…")
			}
		}
		// Searching for part of the token finds the message only for
		// those who may see it.
		if got := strings.Contains(c.get(search).body, `href="`+msg+`"`); got != tc.shown {
			t.Errorf("%s: search for the token finds the message %v, want %v", tc.user, got, tc.shown)
		}
		if !strings.Contains(c.get("/history?q=httpd").body, `href="`+msg+`"`) {
			t.Errorf("%s: search for the visible text does not find the message", tc.user)
		}
	}
}
