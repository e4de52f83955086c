package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
)

// Role is the least role a route needs: one of auth's role names, or
// roleNone for a public route.
type Role string

const (
	roleNone     Role = ""
	roleViewer   Role = auth.RoleViewer
	roleOperator Role = auth.RoleOperator
	roleAdmin    Role = auth.RoleAdmin
)

// Session lifetimes: idle expiry slides with use, up to an absolute cap.
const (
	sessionIdle     = 12 * time.Hour
	sessionAbsolute = 7 * 24 * time.Hour
	touchEvery      = time.Minute
)

// request is what the middleware learned about a request.
type request struct {
	User    *user
	Session *store.Session
	Lang    string
	CSRF    string // the token forms on this page must carry
}

// user is the signed-in user.
type user struct {
	store.User
}

func (u *user) can(r Role) bool { return u != nil && auth.RoleAllows(u.Role, string(r)) }

func newRequest(c *Console, r *http.Request) *request {
	q := &request{Lang: langKO}
	if ck, err := r.Cookie(langCookie); err == nil && c.cats[ck.Value] != nil {
		q.Lang = ck.Value
	}
	if ck, err := r.Cookie(c.cookieName(csrfCookie)); err == nil && validToken(ck.Value) {
		q.CSRF = ck.Value
	}
	return q
}

func (q *request) userName() string {
	if q.User == nil {
		return ""
	}
	return q.User.Name
}

// actor is how the audit log and history name the user.
func (q *request) actor() string { return "user:" + q.userName() }

const (
	sessionCookie = "munja_session"
	csrfCookie    = "munja_csrf" // pre-session CSRF token (login form)
	langCookie    = "munja_lang"
)

// cookieName adds the __Host- prefix under TLS: the browser then refuses
// the cookie unless it is Secure, host-only and for path /.
func (c *Console) cookieName(base string) string {
	if c.opt.Secure {
		return "__Host-" + base
	}
	return base
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: c.cookieName(name), Value: value, Path: "/", HttpOnly: true,
		Secure: c.opt.Secure, SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, ck)
}

// randomToken is 256 random bits, base64url.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

func hashToken(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// loadSession fills q.User and q.Session from the session cookie, sliding
// the expiry at most once a minute.
func (c *Console) loadSession(r *http.Request, q *request) {
	ck, err := r.Cookie(c.cookieName(sessionCookie))
	if err != nil || !validToken(ck.Value) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	now := c.opt.Now()
	s, err := c.opt.Store.SessionByHash(ctx, hashToken(ck.Value), now)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.opt.Log.Error("console: load session", "err", err)
		}
		return
	}
	u, err := c.opt.Store.UserByID(ctx, s.UserID)
	if err != nil || !u.DisabledAt.IsZero() {
		return
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		exp := min(now.Add(sessionIdle).UnixNano(), s.CreatedAt.Add(sessionAbsolute).UnixNano())
		if err := c.opt.Store.TouchSession(ctx, s.ID, now, time.Unix(0, exp)); err != nil {
			c.opt.Log.Warn("console: touch session", "err", err)
		}
	}
	q.User, q.Session, q.CSRF = &user{*u}, s, s.CSRF
	if c.cats[u.Lang] != nil {
		q.Lang = u.Lang
	}
}

// checkCSRF parses the form and compares its csrf field with the session's
// token (or, before login, the pre-session cookie) in constant time. A
// form that cannot be read fails, with the reason (*http.MaxBytesError
// when it is over the route's limit).
func (c *Console) checkCSRF(r *http.Request, q *request) (bool, error) {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil || q.CSRF == "" {
		return false, err
	}
	got := r.PostFormValue("csrf")
	return subtle.ConstantTimeCompare([]byte(got), []byte(q.CSRF)) == 1, nil
}

// ensureCSRFCookie gives an anonymous visitor the pre-session token the
// login form carries.
func (c *Console) ensureCSRFCookie(w http.ResponseWriter, q *request) error {
	if q.CSRF != "" {
		return nil
	}
	tok, err := randomToken()
	if err != nil {
		return err
	}
	c.setCookie(w, csrfCookie, tok, 0)
	q.CSRF = tok
	return nil
}

// startSession creates a session for u and sets its cookie.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, u *store.User) error {
	plain, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	now := c.opt.Now()
	s := &store.Session{Hash: hashToken(plain), UserID: u.ID, CSRF: csrf, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(sessionIdle)}
	if err := c.opt.Store.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	c.setCookie(w, sessionCookie, plain, 0)
	return nil
}

// safeNext keeps a redirect target on this site: a path, not "//host".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// clientIP is the peer address (the web server resolves trusted proxies).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

type loginData struct {
	Name, Next string
	NoUsers    bool
	Expired    bool
	Error      string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, q *request) {
	next := safeNext(r.URL.Query().Get("next"))
	if lang := r.URL.Query().Get("lang"); c.cats[lang] != nil {
		// The language switch before login (a cookie, nothing else).
		c.setCookie(w, langCookie, lang, 365*24*time.Hour)
		q.Lang = lang
	}
	if q.User != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if err := c.ensureCSRFCookie(w, q); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.renderLogin(w, r, q, http.StatusOK, loginData{Next: next, Expired: r.URL.Query().Get("expired") != ""})
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, q *request, status int, d loginData) {
	n, err := c.opt.Store.CountUsers(r.Context())
	if err != nil {
		c.opt.Log.Error("console: count users", "err", err)
	}
	d.NoUsers = err == nil && n == 0
	c.renderStatus(w, r, q, status, "login", "login.title", "", d)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, q *request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	d := loginData{Name: name, Next: next}
	ip := clientIP(r)
	if wait, ok := c.limiter.attempt(ip, name); !ok {
		d.Error = c.retryLater(w, q.Lang, wait)
		c.renderLogin(w, r, q, http.StatusTooManyRequests, d)
		return
	}
	ctx := r.Context()
	u, err := c.opt.Store.UserByName(ctx, name)
	ok := false
	switch {
	case err == nil:
		ok, err = auth.VerifyPassword(u.PasswordHash, pw)
		if err != nil {
			c.opt.Log.Error("console: stored password hash unreadable", "user", name, "err", err)
		}
		ok = ok && u.DisabledAt.IsZero()
	case errors.Is(err, store.ErrNotFound):
		auth.VerifyNoUser(pw) // same time as a known name
	default:
		c.internal(w, r, q, err)
		return
	}
	if !ok {
		c.opt.Log.Warn("console: login failed", "user", name, "ip", ip)
		d.Error = c.t(q.Lang, "login.failed")
		c.renderLogin(w, r, q, http.StatusUnauthorized, d)
		return
	}
	c.limiter.succeeded(ip, name)
	if _, err := c.opt.Store.DeleteExpiredSessions(ctx, c.opt.Now()); err != nil {
		c.opt.Log.Warn("console: prune sessions", "err", err)
	}
	if err := c.startSession(ctx, w, u); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.audit(ctx, "user:"+u.Name, "user.login", u.Name, "ip "+ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// retryLater sets Retry-After for a throttled password attempt and
// returns the message saying how long to wait.
func (c *Console) retryLater(w http.ResponseWriter, lang string, wait time.Duration) string {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if secs < 60 {
		return c.tf(lang, "login.rate_limited_seconds", secs)
	}
	return c.tf(lang, "login.rate_limited", (secs+59)/60)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *request) {
	if err := c.opt.Store.DeleteSession(r.Context(), q.Session.ID); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.setCookie(w, sessionCookie, "", -1)
	c.audit(r.Context(), q.actor(), "user.logout", q.userName(), "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang switches a signed-in user's language (stored as their
// preference, and in a cookie for the login page).
func (c *Console) setLang(w http.ResponseWriter, r *http.Request, q *request) {
	lang := r.PostFormValue("lang")
	if c.cats[lang] == nil {
		lang = langKO
	}
	if err := c.opt.Store.SetUserLang(r.Context(), q.User.ID, lang); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.setCookie(w, langCookie, lang, 365*24*time.Hour)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// audit appends an audit entry; a failure is logged, never shown.
func (c *Console) audit(ctx context.Context, actor, action, target, detail string) {
	err := c.opt.Store.AddAudit(context.WithoutCancel(ctx), store.AuditEntry{
		At: c.opt.Now(), Actor: actor, Action: action, Target: target, Detail: detail,
	})
	if err != nil {
		c.opt.Log.Error("console: audit log", "action", action, "err", err)
	}
}
