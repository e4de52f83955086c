package attack

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/reliability/report"
)

// csrfForm is a console form that changes something.
type csrfForm struct {
	path string
	form func(i int) url.Values // i makes names unique
}

// csrfCase is one way a forged request may come.
type csrfCase struct {
	name string
	// send makes the forged request with the victim's session c.
	send func(c, other *client, f csrfForm, i int) *response
}

// TestCSRF posts every changing console form with a valid session but
// no, a wrong, another user's or a forged CSRF token, or from another
// origin, and token-less API calls from a trusted network across sites:
// each must be refused and change nothing.
func TestCSRF(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := startServer(t, func(c *config.Config) {
		// A proxy on 127.0.0.1 forwards browsers of a trusted network, which
		// may call the API without a token: their browsers must not be
		// usable by other sites.
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.TrustedNetworks = []string{"192.0.2.0/24"}
	})
	s.addUser("kim", "admin")
	s.addUser("mallory", "operator")
	victim, other := s.client(), s.client()
	victim.mustLogin("kim")
	other.mustLogin("mallory")

	forms := []csrfForm{
		{"/contacts", func(i int) url.Values {
			return url.Values{"name": {fmt.Sprint("csrf", i)}, "phone": {fmt.Sprintf("0109999%04d", i)}}
		}},
		{"/groups", func(i int) url.Values { return url.Values{"name": {fmt.Sprint("csrf", i)}} }},
		{"/templates", func(i int) url.Values { return url.Values{"name": {fmt.Sprint("csrf", i)}, "text": {"forged"}} }},
		{"/send", func(int) url.Values { return url.Values{"to": {"01012345678"}, "text": {"forged"}, "confirmed": {"1"}} }},
		{"/silences", func(i int) url.Values { return url.Values{"for": {"1h"}, "comment": {fmt.Sprint("csrf", i)}} }},
		{"/settings/tokens", func(i int) url.Values { return url.Values{"name": {fmt.Sprint("csrf", i)}, "scope": {"admin"}} }},
		{"/settings/users", func(i int) url.Values {
			return url.Values{"name": {fmt.Sprint("csrf", i)}, "role": {"admin"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}}
		}},
		{"/logout", func(int) url.Values { return url.Values{} }},
	}
	with := func(v url.Values, csrf []string) url.Values {
		v["csrf"] = csrf
		return v
	}
	cases := []csrfCase{
		{"(a) no CSRF token", func(c, _ *client, f csrfForm, i int) *response {
			return c.post(f.path, f.form(i))
		}},
		{"(b) empty token", func(c, _ *client, f csrfForm, i int) *response {
			return c.post(f.path, with(f.form(i), []string{""}))
		}},
		{"(b) wrong token", func(c, _ *client, f csrfForm, i int) *response {
			return c.post(f.path, with(f.form(i), []string{strings.Repeat("A", 43)}))
		}},
		{"(b) another user's valid token", func(c, o *client, f csrfForm, i int) *response {
			return c.post(f.path, with(f.form(i), []string{o.csrf}))
		}},
		{"(b) forged pre-session cookie = token", func(c, _ *client, f csrfForm, i int) *response {
			tok := strings.Repeat("B", 43)
			return c.post(f.path, with(f.form(i), []string{tok}), "Cookie", "munja_csrf="+tok)
		}},
		{"(b) two tokens, wrong one first", func(c, _ *client, f csrfForm, i int) *response {
			return c.post(f.path, with(f.form(i), []string{strings.Repeat("A", 43), c.csrf}))
		}},
		{"(c) right token, Origin: https://evil.example", func(c, _ *client, f csrfForm, i int) *response {
			return c.form(f.path, f.form(i), "Origin", "https://evil.example")
		}},
		{"(c) right token, Origin: null", func(c, _ *client, f csrfForm, i int) *response {
			return c.form(f.path, f.form(i), "Origin", "null")
		}},
		{"(c) right token, Sec-Fetch-Site: cross-site", func(c, _ *client, f csrfForm, i int) *response {
			return c.form(f.path, f.form(i), "Sec-Fetch-Site", "cross-site")
		}},
		{"(c) right token, Sec-Fetch-Site: same-site (a sibling subdomain)", func(c, _ *client, f csrfForm, i int) *response {
			return c.form(f.path, f.form(i), "Sec-Fetch-Site", "same-site")
		}},
		{"(d) right token, the form as a GET query", func(c, _ *client, f csrfForm, i int) *response {
			v := f.form(i)
			v.Set("csrf", c.csrf)
			return c.get(f.path + "?" + v.Encode())
		}},
	}

	rows := [][]string{{"forged request", "requests", "answers", "changed something (must be 0)"}}
	var findings []string
	i := 0
	for _, cs := range cases {
		changed := 0
		answers := map[int]int{}
		for _, f := range forms {
			i++
			before := s.counts()
			r := cs.send(victim, other, f, i)
			answers[r.status]++
			after := s.counts()
			alive := victim.get("/account").status == http.StatusOK
			if after != before || !alive {
				changed++
				findings = append(findings, fmt.Sprintf("%s: POST %s answered %d and changed the store (%+v → %+v) or ended the session (alive %v)",
					cs.name, f.path, r.status, before, after, alive))
				if !alive {
					victim.mustLogin("kim")
				}
			}
		}
		rows = append(rows, []string{cs.name, strconv.Itoa(len(forms)), statuses(answers), strconv.Itoa(changed)})
	}

	// Login CSRF: a login form posted by another site or without its token
	// must not sign the browser in.
	loginCases := []struct {
		name   string
		header []string
		csrf   bool
	}{
		{"login without the pre-session token", nil, false},
		{"login with its token, Origin: https://evil.example", []string{"Origin", "https://evil.example"}, true},
		{"login with its token, Sec-Fetch-Site: cross-site", []string{"Sec-Fetch-Site", "cross-site"}, true},
	}
	for _, lc := range loginCases {
		c := s.client()
		c.get("/login")
		v := url.Values{"name": {"kim"}, "password": {password}}
		if lc.csrf {
			v.Set("csrf", c.csrf)
		}
		r := c.post("/login", v, lc.header...)
		in := c.get("/account").status == http.StatusOK
		ch := 0
		if in {
			ch = 1
			findings = append(findings, fmt.Sprintf("%s: answered %d and signed the browser in", lc.name, r.status))
		}
		rows = append(rows, []string{lc.name, "1", statuses(map[int]int{r.status: 1}), strconv.Itoa(ch)})
	}

	// The API without a token, from a browser on a trusted network (the
	// proxy forwards 192.0.2.7): other sites must not use it.
	api := s.client()
	api.headers.Set("X-Forwarded-For", "192.0.2.7")
	msg := func(h ...string) *response {
		return api.do(http.MethodPost, "/api/v1/messages", "application/json",
			strings.NewReader(`{"to":["01012345678"],"text":"forged"}`), h...)
	}
	compat := func(h ...string) *response {
		return api.do(http.MethodPost, "/sms/aligo_send.php", "application/x-www-form-urlencoded",
			strings.NewReader(url.Values{"receiver": {"01012345678"}, "msg": {"forged"}}.Encode()), h...)
	}
	apiCases := []struct {
		name string
		send func() *response
	}{
		{"API, no token, trusted network: Sec-Fetch-Site: cross-site", func() *response { return msg("Sec-Fetch-Site", "cross-site") }},
		{"API, no token, trusted network: Origin: https://evil.example", func() *response { return msg("Origin", "https://evil.example") }},
		{"API, no token, trusted network: Host: evil.example (DNS rebinding)", func() *response { return msg("Host", "evil.example") }},
		{"aligo_send.php form, no token, trusted network: cross-site", func() *response { return compat("Sec-Fetch-Site", "cross-site") }},
		{"aligo_send.php form, no token, trusted network: Origin: null", func() *response { return compat("Origin", "null") }},
	}
	for _, ac := range apiCases {
		before := s.counts()
		r := ac.send()
		ch := 0
		if s.counts() != before {
			ch = 1
			findings = append(findings, fmt.Sprintf("%s: answered %d and stored a message", ac.name, r.status))
		}
		rows = append(rows, []string{ac.name, "1", statuses(map[int]int{r.status: 1}), strconv.Itoa(ch)})
	}

	// Controls: the same requests, made rightly, do change the store, so
	// "changed nothing" above is not the forms' fault.
	controls := 0
	for _, f := range forms {
		i++
		if f.path == "/logout" {
			continue
		}
		before := s.counts()
		r := victim.form(f.path, f.form(i), "Sec-Fetch-Site", "same-origin")
		if s.counts() == before {
			t.Errorf("control: POST %s with the right token answered %d and changed nothing:\n%s", f.path, r.status, r.body)
		} else {
			controls++
		}
	}
	if r := victim.form("/logout", nil); r.status != http.StatusSeeOther || victim.get("/account").status == http.StatusOK {
		t.Errorf("control: logout with the right token did not end the session (%d)", r.status)
	} else {
		controls++
	}
	before := s.counts()
	if r := msg(); r.status != http.StatusAccepted || s.counts() == before {
		t.Errorf("control: token-less API call from the trusted network answered %d, stored nothing", r.status)
	} else {
		controls++
	}

	body := fmt.Sprintf(`Command: %s

A signed-in admin's browser session (cookie and CSRF token of their own) posts each of %d
console forms that change something (contact, group, template, send, silence, API token,
user, logout) forged in each way below; after each request the store's counts (messages,
contacts, groups, templates, users, tokens, silences) are compared and the session must still be
alive. Then the login form, and the API without a token from a browser of a trusted network
(server.trusted_networks 192.0.2.0/24 behind a trusted proxy), are forged across sites.
Controls: the same %d requests made rightly changed the store %d times out of %d.

%s
Took %s.`, "`go test ./reliability/attack -run TestCSRF -args -full`", len(forms), len(forms)+1, controls, len(forms)+1,
		report.Table(rows), report.Since(start))
	if len(findings) > 0 {
		body += "\n\nFindings:\n\n- " + strings.Join(findings, "\n- ")
	}
	report.Section(t, "attack-2-csrf", "Attack 2: cross-site request forgery", body)
	for _, f := range findings {
		t.Errorf("SECURITY: forged request acted: %s", f)
	}
}

// statuses renders status → count as "403 ×8".
func statuses(m map[int]int) string {
	var parts []string
	for code := 100; code < 600; code++ {
		if n := m[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d ×%d", code, n))
		}
	}
	return strings.Join(parts, ", ")
}
