package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// TestRedactAckLinks: the token of the link an engine composes is gone
// from the redacted text, and nothing else changes (issue 11, item 7).
func TestRedactAckLinks(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(10 * time.Second)
	h := newHarness(t, cfg)
	h.url = publicBase
	h.restart(cfg)
	h.fail("httpd", "web-port", "oom")
	h.step(10 * time.Second)
	got := h.n.take()
	if len(got) != 1 {
		t.Fatalf("got %d messages", len(got))
	}
	body, tok, ok := strings.Cut(got[0].Text, "\n확인: "+publicBase+"/ack/")
	if !ok || len(tok) != 22 {
		t.Fatalf("no ack link in %q", got[0].Text)
	}
	want := body + "\n확인: " + publicBase + "/ack/…"
	if red := RedactAckLinks(got[0].Text); red != want {
		t.Errorf("redacted\n%q\nwant\n%q", red, want)
	}

	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{txtHttpd, txtHttpd},
		{"[복구] ack/ 없음", "[복구] ack/ 없음"},
		{"a /ack/AbC_-9 b /ack/x", "a /ack/… b /ack/…"},
		{"확인: https://h/ack/Zx9_kQ2-mN4pL7rT1vW3yA?x=1", "확인: https://h/ack/…?x=1"},
	} {
		if got := RedactAckLinks(tc.in); got != tc.want {
			t.Errorf("RedactAckLinks(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFoundOnlyInAckLink: a search that finds a message only through its
// link's token must not find it for one who may not see the token, or the
// token could be guessed a character at a time.
func TestFoundOnlyInAckLink(t *testing.T) {
	text := txtHttpd + "\n확인: https://munja.example.com/ack/Zx9_kQ2-mN4pL7rT1vW3yA"
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"", false},
		{"httpd", false},
		{"HTTPD", false}, // the stores search case-insensitively
		{"/ack/", false},
		{"munja.example.com", false},
		{"Zx9", true},
		{"zx9_k", true},
		{"ack/Z", true},
		{"yA", true},
	} {
		if got := FoundOnlyInAckLink(text, "", tc.q); got != tc.want {
			t.Errorf("FoundOnlyInAckLink(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if FoundOnlyInAckLink(txtHttpd, "", "zz") {
		t.Error("a text without a link")
	}
	if FoundOnlyInAckLink(text, "[munja] Zx9 경고", "Zx9") {
		t.Error("found in the title too")
	}
}
