package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// providerView is a provider's settings without its secrets.
type providerView struct {
	Name, Type, Endpoint, Sender, Timeout string
	TestMode                              bool
	Balance, Reports, Reserve             bool
}

type settingsData struct {
	Providers    []providerView
	Balances     []balanceView
	Tokens       []store.Token
	NewToken     string
	NewTokenName string
	Users        []store.User
	Audit        []store.AuditEntry
	Errs         formErrs
	Form         map[string]string // values to keep in the forms after an error
	Scopes       []string
	Roles        []string
	Me           int64
}

// endpoint shows where a provider sends, without credentials, query or
// (for webhooks, whose path may be a secret) path.
func endpoint(raw string, pathToo bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	out := u.Scheme + "://" + u.Host
	if pathToo {
		out += u.EscapedPath()
	}
	return out
}

func (c *Console) providerViews() []providerView {
	var out []providerView
	for i, pc := range c.opt.Config.EffectiveProviders() {
		v := providerView{Name: pc.Name, Type: pc.Type, TestMode: pc.TestMode, Timeout: pc.Timeout.String()}
		if pc.Sender != "" {
			if p, err := sms.ParsePhone(pc.Sender); err == nil {
				v.Sender = p.Display()
			}
		}
		v.Endpoint = endpoint(pc.BaseURL, true)
		if u := pc.Option("url"); u != "" { // webhook
			v.Endpoint = endpoint(u, false)
		}
		if i < len(c.opt.Providers) {
			p := c.opt.Providers[i]
			_, v.Balance = p.(provider.Balancer)
			_, v.Reports = p.(provider.Reporter)
		}
		out = append(out, v)
	}
	return out
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.renderSettings(w, r, q, http.StatusOK, settingsData{Errs: formErrs{}})
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, q *request, status int, d settingsData) {
	ctx := r.Context()
	var err error
	d.Providers = c.providerViews()
	d.Balances = c.balances(ctx, q.Lang, false)
	d.Scopes = []string{auth.ScopeRead, auth.ScopeSend, auth.ScopeAdmin}
	d.Roles = auth.Roles()
	d.Me = q.User.ID
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	if d.Tokens, err = c.opt.Store.ListTokens(ctx); err == nil {
		if d.Users, err = c.opt.Store.ListUsers(ctx); err == nil {
			d.Audit, err = c.opt.Store.ListAudit(ctx, 50)
		}
	}
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.renderStatus(w, r, q, status, "settings", "settings.title", "settings", d)
}

func (c *Console) settingsTest(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	d := settingsData{Errs: formErrs{}, Form: map[string]string{"test_phone": r.PostFormValue("phone")}}
	p, err := sms.ParsePhone(r.PostFormValue("phone"))
	var pe *sms.PhoneError
	switch {
	case errors.As(err, &pe):
		d.Errs.set("test_phone", phoneErr(tr, pe))
	case err != nil:
		d.Errs.set("test_phone", tr("err.bad_value"))
	case !p.IsMobile():
		d.Errs.set("test_phone", tr("err.not_mobile", p.Display()))
	}
	if len(d.Errs) == 0 {
		text := c.tf(langKO, "settings.test_text", q.userName(), c.fmtTime(c.opt.Now()))
		m, err := c.opt.Outbox.Submit(ctx, outbox.Request{To: []string{string(p)}, Text: text, Test: true,
			Source: "console", Actor: q.actor()})
		if err == nil {
			c.audit(ctx, q.actor(), "message.test", "message "+strconv.FormatInt(m.ID, 10), p.Display())
			redirect(w, r, "/messages/"+strconv.FormatInt(m.ID, 10), "sent")
			return
		}
		if !c.submitErrs(tr, err, d.Errs) {
			c.internal(w, r, q, err)
			return
		}
		d.Errs["test_phone"] = d.Errs[formField("to")] + d.Errs["form"] + d.Errs["text"]
	}
	c.renderSettings(w, r, q, http.StatusUnprocessableEntity, d)
}

// accounts is the one way the console changes users and tokens: it
// validates, and writes the audit entry before the change (no entry, no
// change), the same for the CLI.
func (c *Console) accounts() *auth.Service { return auth.NewService(c.opt.Store, c.opt.Now) }

func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request, q *request) {
	tr := c.tr(q.Lang)
	d := settingsData{Errs: formErrs{}}
	name := line(r.PostForm, "name", 64, true, d.Errs, tr)
	scope := r.PostFormValue("scope")
	if !auth.ValidScope(scope) {
		d.Errs.set("scope", tr("err.bad_value"))
	}
	d.Form = map[string]string{"token_name": name}
	if len(d.Errs) == 0 {
		plain, err := c.accounts().CreateToken(r.Context(), q.actor(), name, scope)
		var ie *auth.InputError
		switch {
		case err == nil:
			d.NewToken, d.NewTokenName, d.Form = plain, name, nil
			c.renderSettings(w, r, q, http.StatusOK, d)
			return
		case errors.Is(err, auth.ErrExists):
			d.Errs.set("name", tr("err.token_taken", name))
		case errors.As(err, &ie): // the form checks first: a backstop
			d.Errs.set(ie.Field, tr("err.bad_value"))
		default:
			c.internal(w, r, q, err)
			return
		}
	}
	c.renderSettings(w, r, q, http.StatusUnprocessableEntity, d)
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request, q *request) {
	err := c.accounts().RevokeToken(r.Context(), q.actor(), r.PostFormValue("name"))
	var ie *auth.InputError
	if errors.As(err, &ie) {
		c.fail(w, r, q, http.StatusUnprocessableEntity, "err.bad_value")
		return
	}
	if c.failStore(w, r, q, err) { // auth.ErrNotFound is a store.ErrNotFound
		return
	}
	redirect(w, r, "/settings", "revoked")
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request, q *request) {
	tr := c.tr(q.Lang)
	f, errs := decodeUserForm(r.PostForm, true, tr)
	d := settingsData{Errs: errs, Form: map[string]string{"user_name": f.Name, "user_role": f.Role}}
	if len(errs) == 0 {
		_, err := c.accounts().AddUser(r.Context(), q.actor(), f.Name, f.Role, f.Password)
		var ie *auth.InputError
		switch {
		case err == nil:
			redirect(w, r, "/settings", "user_saved")
			return
		case errors.Is(err, auth.ErrExists):
			d.Errs.set("name", tr("err.user_taken", f.Name))
		case errors.As(err, &ie): // the form checks first: a backstop
			d.Errs.set(ie.Field, tr("err.bad_value"))
		default:
			c.internal(w, r, q, err)
			return
		}
	}
	c.renderSettings(w, r, q, http.StatusUnprocessableEntity, d)
}

// targetUser reads the {id} user of a settings route.
func (c *Console) targetUser(w http.ResponseWriter, r *http.Request, q *request) *store.User {
	id, ok := pathID(r)
	var u *store.User
	var err error
	if ok {
		u, err = c.opt.Store.UserByID(r.Context(), id)
	}
	if !ok || errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return nil
	}
	if err != nil {
		c.internal(w, r, q, err)
		return nil
	}
	return u
}

func (c *Console) userRole(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	u := c.targetUser(w, r, q)
	if u == nil {
		return
	}
	role := r.PostFormValue("role")
	if !auth.ValidRole(role) {
		c.fail(w, r, q, http.StatusUnprocessableEntity, "err.bad_value")
		return
	}
	if u.Role == auth.RoleAdmin && role != auth.RoleAdmin {
		users, err := c.opt.Store.ListUsers(ctx)
		if err != nil {
			c.internal(w, r, q, err)
			return
		}
		admins := 0
		for _, x := range users {
			if x.Role == auth.RoleAdmin && x.DisabledAt.IsZero() {
				admins++
			}
		}
		if admins <= 1 {
			c.fail(w, r, q, http.StatusConflict, "err.last_admin")
			return
		}
	}
	if err := c.opt.Store.SetUserRole(ctx, u.ID, role); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.audit(ctx, q.actor(), "user.role", u.Name, u.Role+" → "+role)
	redirect(w, r, "/settings", "user_saved")
}

func (c *Console) userPassword(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	u := c.targetUser(w, r, q)
	if u == nil {
		return
	}
	f, errs := decodeUserForm(r.PostForm, false, c.tr(q.Lang))
	if len(errs) > 0 {
		var msgs []string
		for _, m := range errs {
			msgs = append(msgs, m)
		}
		c.fail(w, r, q, http.StatusUnprocessableEntity, "err.password_reset", u.Name, strings.Join(msgs, " "))
		return
	}
	if c.failStore(w, r, q, c.accounts().SetPassword(ctx, q.actor(), u.Name, f.Password)) {
		return
	}
	if u.ID == q.User.ID {
		// The admin's own sessions were revoked too: sign in again.
		if err := c.startSession(ctx, w, u); err != nil {
			c.internal(w, r, q, err)
			return
		}
	}
	redirect(w, r, "/settings", "password_reset")
}

// accountData is the signed-in user's own page.
type accountData struct {
	Errs    formErrs
	Created time.Time
	Changed time.Time
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.render(w, r, q, "account", "account.title", "account",
		accountData{Errs: formErrs{}, Created: q.User.CreatedAt, Changed: q.User.PasswordChangedAt})
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	d := accountData{Created: q.User.CreatedAt, Changed: q.User.PasswordChangedAt}
	ip := clientIP(r)
	if wait, ok := c.limiter.attempt(ip, q.userName()); !ok {
		status := http.StatusTooManyRequests
		c.renderStatus(w, r, q, status, "error", "error.title", "", errorData{Status: status, Message: c.retryLater(w, q.Lang, wait)})
		return
	}
	f, errs := decodeUserForm(r.PostForm, false, tr)
	d.Errs = errs
	ok, err := auth.VerifyPassword(q.User.PasswordHash, r.PostFormValue("current"))
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	if ok {
		c.limiter.succeeded(ip, q.userName())
	} else {
		d.Errs = formErrs{"current": tr("err.current_password")}
	}
	if len(d.Errs) > 0 {
		c.renderStatus(w, r, q, http.StatusUnprocessableEntity, "account", "account.title", "account", d)
		return
	}
	err = c.accounts().SetPassword(ctx, q.actor(), q.userName(), f.Password)
	if err == nil {
		// Every session, this one included, is gone; this browser gets a new one.
		err = c.startSession(ctx, w, &q.User.User)
	}
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	redirect(w, r, "/account", "password_changed")
}
