package console

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
)

var hrefAttr = regexp.MustCompile(`href="([^"]+)"`)

// hrefs lists the links in body that contain sub.
func hrefs(body, sub string) []string {
	var out []string
	for _, m := range hrefAttr.FindAllStringSubmatch(body, -1) {
		if u := html.UnescapeString(m[1]); strings.Contains(u, sub) {
			out = append(out, u)
		}
	}
	return out
}

// TestKoreanNamesInLinks: links built from Korean group, check and host
// names lead to the page of that group, check or host, not to a name
// escaped twice (issue 11, item 11).
func TestKoreanNamesInLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	const group, host, chk = "운영팀", "웹서버01", "디스크 점검"

	c.post("/groups", url.Values{"name": {group}}).mustStatus(t, http.StatusSeeOther)
	links := hrefs(c.get("/contacts").mustStatus(t, http.StatusOK).body, "group=")
	if len(links) != 2 {
		t.Fatalf("group links %q, want send and add contact", links)
	}
	picked := regexp.MustCompile(`value="` + group + `"[^>]*checked`)
	for _, l := range links {
		if r := c.get(l).mustStatus(t, http.StatusOK); !picked.MatchString(r.body) {
			t.Errorf("%s: group %s not picked:\n%s", l, group, r.body)
		}
	}

	h.engine.Observe(check.Result{Check: chk, Host: host, OK: false, At: time.Now(),
		Firing: "[" + host + "] [경고] 디스크 부족", Detail: "97%"})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/", "/checks"} {
		links := hrefs(c.get(page).mustStatus(t, http.StatusOK).body, "host=")
		if len(links) == 0 {
			t.Fatalf("%s: no link to the check on %s", page, host)
		}
		for _, l := range links {
			r := c.get(l).mustStatus(t, http.StatusOK).mustContain(t, chk, host)
			// The incident's page links back to the same check.
			for _, inc := range hrefs(r.body, "/incidents/") {
				if strings.Contains(inc, "/sent?") { // a message it sent, not the incident
					continue
				}
				back := hrefs(c.get(inc).mustStatus(t, http.StatusOK).body, "host=")
				if len(back) != 1 || back[0] != l {
					t.Errorf("incident %s links to %q, want %q", inc, back, l)
				}
			}
		}
	}
}
