package attack

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/reliability/report"
)

// guesser tries passwords on the login form from one client address (sent
// as X-Forwarded-For when addr is set, which only a trusted proxy may do).
type guesser struct {
	s    *server
	c    *client
	addr string
}

func (s *server) guesser(addr string) *guesser {
	g := &guesser{s: s, c: s.client(), addr: addr}
	g.c.get("/login", g.header()...)
	return g
}

func (g *guesser) header() []string {
	if g.addr == "" {
		return nil
	}
	return []string{"X-Forwarded-For", g.addr}
}

// try posts one login with the form's pre-session token.
func (g *guesser) try(name, pw string) *response {
	return g.c.post("/login", url.Values{"name": {name}, "password": {pw}, "csrf": {g.c.csrf}}, g.header()...)
}

// guesses tallies login answers.
type guesses struct {
	tried, checked, throttled, in int // checked: the password was compared (401 or 303)
	retryMin, retryMax            int // Retry-After seconds of the 429s
	other                         map[int]int
	took                          time.Duration
}

func (g *guesses) add(r *response) {
	g.tried++
	switch r.status {
	case http.StatusUnauthorized:
		g.checked++
	case http.StatusSeeOther:
		g.checked++
		g.in++
	case http.StatusTooManyRequests:
		g.throttled++
		ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if g.throttled == 1 || ra < g.retryMin {
			g.retryMin = ra
		}
		g.retryMax = max(g.retryMax, ra)
	default:
		if g.other == nil {
			g.other = map[int]int{}
		}
		g.other[r.status]++
	}
}

// single tallies one answer.
func single(r *response) *guesses {
	g := &guesses{took: r.took}
	g.add(r)
	return g
}

func (g *guesses) row(what string) []string {
	retry := "–"
	if g.throttled > 0 {
		retry = fmt.Sprintf("%d–%d s", g.retryMin, g.retryMax)
	}
	other := ""
	if len(g.other) > 0 {
		other = " (other: " + statuses(g.other) + ")"
	}
	return []string{what, strconv.Itoa(g.tried), strconv.Itoa(g.checked) + other, strconv.Itoa(g.throttled), retry,
		g.took.Round(10 * time.Millisecond).String()}
}

// scheduleAllows is how many passwords one address may have checked in d
// by the README's schedule: 3 free, then each after 1 s, 2 s, 4 s … more.
func scheduleAllows(d time.Duration) int {
	return 3 + int(math.Log2(d.Seconds()+1))
}

// TestBruteForce guesses the admin's password from one address, from
// many, through forged X-Forwarded-For, and from an account of the
// attacker's own, and checks that the admin still logs in.
func TestBruteForce(t *testing.T) {
	t.Parallel()
	start := time.Now()
	n := report.Pick(30, 200)
	s := startServer(t, func(c *config.Config) {
		// The console's client address is the connection's peer unless a
		// trusted proxy forwards it: a proxy on 127.0.0.1 lets the test
		// play several addresses.
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
	})
	s.addUser("kim", "admin")
	s.addUser("mallory", "viewer") // the insider's own account
	rows := [][]string{{"attack", "attempts", "passwords checked", "429", "Retry-After seen", "took"}}
	var findings []string
	finding := func(format string, a ...any) {
		findings = append(findings, fmt.Sprintf(format, a...))
	}

	// 1. One address, as fast as it can.
	one := s.guesser("203.0.113.10")
	var g1 guesses
	t0 := time.Now()
	var last time.Time
	for i := range n {
		g1.add(one.try("kim", fmt.Sprintf("wrong password %d", i)))
		last = time.Now()
	}
	g1.took = time.Since(t0)
	rows = append(rows, g1.row(fmt.Sprintf("one address (203.0.113.10), %d wrong passwords back to back", n)))
	if allowed := scheduleAllows(g1.took); g1.checked > allowed || g1.in > 0 {
		finding("one address had %d passwords checked in %s; the schedule allows %d", g1.checked, g1.took, allowed)
	}
	// The right password from that address while it waits (its wait is at
	// least 1 s after the last attempt) is throttled too: the answer tells
	// nothing about the password.
	gap := time.Since(last)
	right := single(one.try("kim", password))
	if right.throttled == 0 && gap < 900*time.Millisecond {
		finding("the right password from the throttled address, %s after its last attempt, was checked", gap.Round(time.Millisecond))
	}
	rows = append(rows, right.row("… then the right password from that address"))

	// 2. The admin, from another address, at once.
	admin := s.client()
	r := admin.login("kim", password, "X-Forwarded-For", "198.51.100.20")
	if r.status != http.StatusSeeOther {
		finding("the admin from a clean address (198.51.100.20) could not log in during the attack: %d", r.status)
	}
	rows = append(rows, single(r).row(fmt.Sprintf("the admin from another address (198.51.100.20), right password: %d", r.status)))

	// 3. Forged X-Forwarded-For from a peer that is no trusted proxy: all
	// of it is one address.
	direct := startServer(t, nil)
	direct.addUser("kim", "admin")
	rot := direct.guesser("")
	var g3 guesses
	t0 = time.Now()
	for i := range n {
		g3.add(rot.c.post("/login", url.Values{"name": {"kim"}, "password": {"wrong"}, "csrf": {rot.c.csrf}},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", 1+i%250)))
	}
	g3.took = time.Since(t0)
	rows = append(rows, g3.row("no trusted proxy: a different X-Forwarded-For on each attempt"))
	if allowed := scheduleAllows(g3.took); g3.checked > allowed {
		finding("rotating X-Forwarded-For without a trusted proxy had %d passwords checked in %s; the schedule allows %d", g3.checked, g3.took, allowed)
	}

	// 4. IPv6: the addresses of one /64 are one client.
	var g4 guesses
	t0 = time.Now()
	for i := range n {
		g := s.guesser(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		g4.add(g.try("kim", "wrong"))
	}
	g4.took = time.Since(t0)
	rows = append(rows, g4.row("a new IPv6 address of one /64 (2001:db8:1:2::/64) for each attempt"))
	if allowed := scheduleAllows(g4.took); g4.checked > allowed {
		finding("addresses of one IPv6 /64 had %d passwords checked in %s; the schedule allows %d", g4.checked, g4.took, allowed)
	}

	// 5. Many addresses, a few attempts each.
	addrs, each := report.Pick(6, 50), report.Pick(3, 10)
	var g5 guesses
	t0 = time.Now()
	for a := range addrs {
		g := s.guesser(fmt.Sprintf("198.18.%d.%d", a/250, 1+a%250))
		for i := range each {
			g5.add(g.try("kim", fmt.Sprintf("wrong %d %d", a, i)))
		}
	}
	g5.took = time.Since(t0)
	rows = append(rows, g5.row(fmt.Sprintf("%d addresses × %d wrong passwords", addrs, each)))
	if g5.in > 0 {
		finding("a wrong password logged in")
	}
	r = s.client().login("kim", password, "X-Forwarded-For", "198.51.100.21")
	if r.status != http.StatusSeeOther {
		finding("the admin from a clean address could not log in after the many-address attack: %d", r.status)
	}
	rows = append(rows, single(r).row(fmt.Sprintf("… then the admin from a clean address (198.51.100.21), right password: %d", r.status)))
	// The admin mistyped once from their own address: the name's slowdown
	// costs them at most 4 s.
	mistyped := s.guesser("198.51.100.22")
	t0 = time.Now()
	var waited guesses
	waited.add(mistyped.try("kim", "a typo in it"))
	for {
		r := mistyped.try("kim", password)
		waited.add(r)
		if r.status != http.StatusTooManyRequests || time.Since(t0) > 20*time.Second {
			break
		}
		ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
		time.Sleep(time.Duration(max(ra, 1)) * time.Second)
	}
	waited.took = time.Since(t0)
	if waited.in != 1 || waited.retryMax > 4 {
		finding("the admin who mistyped once: logged in %v, told to wait up to %d s (README: at most 4 s)", waited.in == 1, waited.retryMax)
	}
	rows = append(rows, waited.row("… the admin from 198.51.100.22: a typo, then the right password until in"))

	// 6. Patient: one address that waits as told (long version only).
	if report.Full() {
		patient := s.guesser("203.0.113.11")
		var g6 guesses
		t0 = time.Now()
		for end := t0.Add(90 * time.Second); time.Now().Before(end); {
			r := patient.try("kim", "patient guess")
			g6.add(r)
			if r.status == http.StatusTooManyRequests {
				ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
				time.Sleep(min(time.Duration(max(ra, 1))*time.Second, time.Until(end)))
			}
		}
		g6.took = time.Since(t0)
		rows = append(rows, g6.row("one address for 90 s, waiting each Retry-After"))
		if allowed := scheduleAllows(g6.took); g6.checked > allowed {
			finding("a patient address had %d passwords checked in %s; the schedule allows %d", g6.checked, g6.took, allowed)
		}
	}

	// 7. The insider: guesses the admin's password from one address and
	// logs into their own account between guesses. Short: until the
	// schedule is clearly beaten (3 more passwords checked than it allows
	// in the time taken, however slow the machine) or a 429 shows the
	// throttle holds; long: for a minute, waiting as told, to measure the
	// rate.
	limit := report.Pick(20*time.Second, time.Minute)
	inside := s.guesser("203.0.113.12")
	var g7 guesses
	t0 = time.Now()
	end := t0.Add(limit)
	wait := func(r *response) bool { // false: stop
		if r.status != http.StatusTooManyRequests {
			return true
		}
		if !report.Full() {
			return false
		}
		ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
		time.Sleep(min(time.Duration(max(ra, 1))*time.Second, time.Until(end)))
		return true
	}
	for i := 0; time.Now().Before(end); i++ {
		r := inside.try("kim", fmt.Sprintf("insider guess %d", i))
		g7.add(r)
		if !wait(r) || !report.Full() && g7.checked > scheduleAllows(time.Since(t0))+3 {
			break
		}
		if r.status == http.StatusTooManyRequests {
			continue
		}
		if !wait(s.guesser("203.0.113.12").try("mallory", password)) {
			break
		}
	}
	g7.took = time.Since(t0)
	rows = append(rows, g7.row("an insider (203.0.113.12): a guess for kim, then a login to their own account, repeated"))
	if allowed := scheduleAllows(g7.took); g7.checked > allowed {
		finding("an attacker with an account of their own, logging into it between guesses, had %d of kim's passwords "+
			"checked from one address in %s (%.1f a second); the schedule allows %d: a login to another account "+
			"must not take back the address's failures for kim (console/ratelimit.go)",
			g7.checked, g7.took.Round(10*time.Millisecond), float64(g7.checked)/g7.took.Seconds(), allowed)
	}

	body := fmt.Sprintf(`Command: %s

Wrong passwords for the admin (kim) on the login form, each with the form's pre-session CSRF
token. munja trusts a proxy on 127.0.0.1 (server.trusted_proxies), so X-Forwarded-For plays the
client's address; row 3 runs on a server without a trusted proxy. The README promises: after 3
failures from an address each further attempt waits 1 s, 2 s, 4 s … up to 15 min (429 with
Retry-After), a right password takes back the failures its address made for that name (not those
for other names), and failures for a name from many addresses slow that name by at most 4 s and
only for addresses that failed themselves — so in t seconds one address gets at most 3 + log2(t+1)
passwords checked, and nobody can lock the admin out. The last row is an insider: a guess for kim,
then a login to their own account (mallory, a viewer), again and again from one address; before
commit 2c5ec2f each login cleared the address, and 8 of 8 guesses were checked in 2.7 s (4 allowed).

%s
Findings: %d.
Took %s.`, "`go test ./reliability/attack -run TestBruteForce -args -full`", report.Table(rows), len(findings), report.Since(start))
	if len(findings) > 0 {
		body += "\n\n- " + strings.Join(findings, "\n- ")
	}
	report.Section(t, "attack-4-bruteforce", "Attack 4: password guessing", body)
	for _, f := range findings {
		t.Errorf("SECURITY: %s", f)
	}
}
