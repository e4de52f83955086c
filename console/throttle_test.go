package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
)

// fakeClock is a settable clock for the console.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loginFrom is a fresh visitor at addr ("IP:port") opening the login page
// and posting name and pw.
func (h *harness) loginFrom(addr, name, pw string) *httptest.ResponseRecorder {
	h.t.Helper()
	get := httptest.NewRequest(http.MethodGet, "/login", nil)
	get.RemoteAddr = addr
	page := httptest.NewRecorder()
	h.con.ServeHTTP(page, get)
	m := csrfField.FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		h.t.Fatalf("login page: %d", page.Code)
	}
	form := url.Values{"name": {name}, "password": {pw}, "csrf": {m[1]}}
	post := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	post.RemoteAddr = addr
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range page.Result().Cookies() {
		post.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	h.con.ServeHTTP(w, post)
	return w
}

func retryAfter(t *testing.T, w *httptest.ResponseRecorder) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if w.Code != http.StatusTooManyRequests || err != nil || n < 1 {
		t.Fatalf("status %d, Retry-After %q: want 429 with a delay", w.Code, w.Header().Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// TestLoginThrottleNeverLocksOutOwner: 50 wrong passwords for admin from
// one address slow that address down more and more, but never lock admin
// out: from another address the right password logs in at once, and even
// from an address that mistyped it waits a few seconds at most (issue 11,
// item 8).
func TestLoginThrottleNeverLocksOutOwner(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, harnessOpts{now: clock.Now})
	h.addUser("admin", auth.RoleAdmin, adminPW)
	const attacker = "203.0.113.9:5555"

	var waits []time.Duration
	for fails := 0; fails < 50; {
		w := h.loginFrom(attacker, "admin", fmt.Sprintf("guess %d", fails))
		if w.Code == http.StatusUnauthorized {
			fails++
			continue
		}
		wait := retryAfter(t, w)
		if !strings.Contains(w.Body.String(), "로그인 시도가 너무 많습니다") {
			t.Fatalf("429 without the Korean message:\n%s", w.Body)
		}
		waits = append(waits, wait)
		clock.Add(wait)
	}
	if len(waits) < 40 || waits[0] > 2*time.Second || waits[len(waits)-1] != maxAddrDelay {
		t.Fatalf("waits %v: want growing from a second to %v", waits, maxAddrDelay)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Fatalf("waits %v do not grow", waits)
		}
	}

	// The owner, from another address, right away.
	if w := h.loginFrom("198.51.100.7:4444", "admin", adminPW); w.Code != http.StatusSeeOther {
		t.Fatalf("admin from a clean address: %d\n%s", w.Code, w.Body)
	}
	// The owner mistyping first: at most a few seconds.
	const owner = "198.51.100.8:4444"
	if w := h.loginFrom(owner, "admin", "typo"); w.Code != http.StatusUnauthorized {
		t.Fatalf("mistyped password: %d", w.Code)
	}
	if w := h.loginFrom(owner, "admin", adminPW); w.Code != http.StatusSeeOther {
		wait := retryAfter(t, w)
		if wait > maxNameDelay+time.Second {
			t.Fatalf("owner after one typo waits %v", wait)
		}
		clock.Add(wait)
		if w := h.loginFrom(owner, "admin", adminPW); w.Code != http.StatusSeeOther {
			t.Fatalf("owner after the wait: %d\n%s", w.Code, w.Body)
		}
	}

	// The attacker's address: after the delay, one attempt, then wait again.
	wait := retryAfter(t, h.loginFrom(attacker, "admin", "again"))
	clock.Add(wait - time.Second)
	retryAfter(t, h.loginFrom(attacker, "admin", "too early"))
	clock.Add(time.Second)
	if w := h.loginFrom(attacker, "admin", "after the wait"); w.Code != http.StatusUnauthorized {
		t.Fatalf("attempt after the delay: %d", w.Code)
	}
	if got := retryAfter(t, h.loginFrom(attacker, "admin", "at once")); got != maxAddrDelay {
		t.Fatalf("then wait %v, want %v", got, maxAddrDelay)
	}
	if w := h.loginFrom(attacker, "admin", "x"); !strings.Contains(w.Body.String(), "15분 후에 다시 시도하세요") {
		t.Errorf("message: %s", w.Body)
	}
}

// TestLimiterDelays: the rules of the login throttle on a fake clock.
func TestLimiterDelays(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(clock.Now)
	try := func(addr, name string) (time.Duration, bool) { return l.attempt(addr, name) }

	// An address: three attempts free, then 1 s, 2 s, 4 s … between attempts.
	for i := range freeAddrFails {
		if wait, ok := try("192.0.2.1", fmt.Sprint("user", i)); !ok {
			t.Fatalf("attempt %d refused (%v)", i+1, wait)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		wait, ok := try("192.0.2.1", fmt.Sprint("other", i))
		if ok || wait != want {
			t.Fatalf("attempt %d: ok=%v wait=%v, want %v", freeAddrFails+i+1, ok, wait, want)
		}
		clock.Add(wait)
		if _, ok := try("192.0.2.1", fmt.Sprint("other", i)); !ok {
			t.Fatalf("attempt %d refused after its wait", freeAddrFails+i+1)
		}
	}
	// A success for another name does not clear the address (an attacker
	// with an account of their own cannot reset it between guesses).
	clock.Add(16 * time.Second) // the wait after eight failures
	if _, ok := try("192.0.2.1", "mallory"); !ok {
		t.Fatal("the insider's own login refused after the wait")
	}
	l.succeeded("192.0.2.1", "mallory")
	if wait, ok := try("192.0.2.1", "kim"); ok || wait <= 0 {
		t.Fatalf("a guess right after the insider's own login: ok=%v wait=%v, want a wait", ok, wait)
	}
	// The owner who mistyped their own name's password starts over once
	// they get it right.
	for range 5 {
		clock.Add(maxAddrDelay)
		try("192.0.2.9", "lee")
	}
	clock.Add(maxAddrDelay)
	if _, ok := try("192.0.2.9", "lee"); !ok {
		t.Fatal("the owner's attempt refused after the wait")
	}
	l.succeeded("192.0.2.9", "lee")
	if _, ok := try("192.0.2.9", "kim"); !ok {
		t.Fatal("refused after the owner's success")
	}
	// Another address is not slowed by this one.
	if _, ok := try("192.0.2.2", "x"); !ok {
		t.Fatal("another address refused")
	}
	// IPv6: one /64 is one address.
	for i := range freeAddrFails {
		if _, ok := try(fmt.Sprintf("2001:db8:1:2::%x", i+1), "v6"); !ok {
			t.Fatalf("v6 attempt %d refused", i+1)
		}
	}
	if _, ok := try("2001:db8:1:2:ffff::1", "v6b"); ok {
		t.Fatal("a fresh address in the same /64 was not slowed")
	}

	// A name failing from many addresses slows addresses that failed
	// before, a few seconds at most, never a clean address.
	for i := range 30 {
		try(fmt.Sprintf("198.51.100.%d", i), "Admin")
	}
	if _, ok := try("203.0.113.77", "admin"); !ok {
		t.Fatal("a clean address refused for a much-failed name")
	}
	wait, ok := try("198.51.100.3", "ADMIN")
	if ok || wait <= 0 || wait > maxNameDelay {
		t.Fatalf("a failed address for the much-failed name: ok=%v wait=%v", ok, wait)
	}
	clock.Add(wait)
	if _, ok := try("198.51.100.3", "admin"); !ok {
		t.Fatal("refused after the name's wait")
	}

	// Old entries are forgotten; the tables stay bounded.
	for range 10 {
		wait, _ := try("192.0.2.9", "kim")
		clock.Add(wait)
	}
	clock.Add(forgetAfter + maxAddrDelay)
	for i := range freeAddrFails {
		if wait, ok := try("192.0.2.9", "kim"); !ok {
			t.Fatalf("attempt %d after a quiet hour refused (%v): failures remembered for ever", i+1, wait)
		}
	}
	for i := range 3 * maxTrackedKeys {
		try(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), fmt.Sprint("n", i))
	}
	if len(l.addrs) > maxTrackedKeys || len(l.names) > maxTrackedKeys {
		t.Fatalf("tables hold %d addresses and %d names, cap %d", len(l.addrs), len(l.names), maxTrackedKeys)
	}
}

// TestPasswordChangeThrottled: guessing the current password on the
// account page is throttled like the login form.
func TestPasswordChangeThrottled(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, harnessOpts{now: clock.Now})
	h.addUser("kim", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	guess := func(pw string) *resp {
		return c.post("/account/password", url.Values{"current": {pw}, "password": {"a new passphrase"}, "password2": {"a new passphrase"}})
	}
	for i := range freeAddrFails {
		guess(fmt.Sprint("guess ", i)).mustStatus(t, http.StatusUnprocessableEntity)
	}
	r := guess("one more").mustStatus(t, http.StatusTooManyRequests).mustContain(t, "1초 후에 다시 시도하세요")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	clock.Add(time.Second)
	guess(adminPW).mustStatus(t, http.StatusSeeOther)
}
