package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestAckLinkHiddenFromReadScope: a message's one-time ack link is a
// credential; a read-scope token sees it redacted (and cannot find the
// message by searching for part of the token), a send-scope one sees it
// whole (issue 11, item 7).
func TestAckLinkHiddenFromReadScope(t *testing.T) {
	f := newFixture(t)
	const tok = "Zx9_kQ2-mN4pL7rT1vW3yA"
	text := "[경고] httpd 프로세스가 동작하지 않습니다.\n확인: https://munja.example.com/ack/" + tok
	body, err := json.Marshal(map[string]any{"to": []string{"01012345678"}, "text": text})
	noErr(t, err)
	m := f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: string(body)}, 202)
	one := fmt.Sprintf("/api/v1/messages/%v", m["id"])

	for _, tc := range []struct {
		scope, path string
		want        bool // the token is in the answer
	}{
		{"read", one, false},
		{"read", "/api/v1/messages", false},
		{"read", "/api/v1/messages?text=Zx9_kQ", false},
		{"send", one, true},
		{"send", "/api/v1/messages", true},
		{"send", "/api/v1/messages?text=Zx9_kQ", true},
		{"admin", one, true},
	} {
		w := f.do(req{path: tc.path, token: tc.scope})
		if w.Code != 200 {
			t.Fatalf("%s %s: %d %s", tc.scope, tc.path, w.Code, w.Body)
		}
		if got := strings.Contains(w.Body.String(), tok); got != tc.want {
			t.Errorf("%s %s: token shown %v, want %v: %s", tc.scope, tc.path, got, tc.want, w.Body)
		}
	}
	out := f.must(req{path: one, token: "read"}, 200)
	if want := strings.Replace(text, tok, "…", 1); out["text"] != want {
		t.Errorf("read scope text %q, want %q", out["text"], want)
	}
	// The search finds the message by its visible text for everyone, and
	// by its token only for those who may see the token.
	for _, tc := range []struct {
		scope, q string
		n        int
	}{{"read", "httpd", 1}, {"read", "Zx9_kQ", 0}, {"read", "ack/", 1}, {"send", "Zx9_kQ", 1}} {
		out := f.must(req{path: "/api/v1/messages?text=" + tc.q, token: tc.scope}, 200)
		if n := len(out["messages"].([]any)); n != tc.n {
			t.Errorf("%s search %q: %d messages, want %d", tc.scope, tc.q, n, tc.n)
		}
	}
}
