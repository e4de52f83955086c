// Package console is munja's web console: server-rendered pages (html/template,
// embedded assets, Korean first with an English switch) for sending SMS, the
// address book, templates, history, balance, checks and incidents, and
// settings. Every page sits behind one middleware (ServeHTTP) that sets the
// security headers, refuses cross-origin writes, loads the session, checks
// the CSRF token of every POST and the role the route needs; only /login
// and /static/ are reachable without a session, so no page can be added
// unprotected by accident.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/balance"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/store"
)

// Options configure a Console.
type Options struct {
	Store  store.Store
	Outbox *outbox.Outbox // the only way the console sends
	// Monitor holds the alert engine the pages show and act on; it may be
	// nil or hold none (yet), and the pages say the monitor has not started.
	Monitor   *alert.Holder
	Providers []provider.Provider
	// Balance looks balances up (the app's watch, which also stores them
	// and alerts); nil builds one for the pages only.
	Balance *balance.Watch
	Config  *config.Config
	Log     *slog.Logger
	Now     func() time.Time
	// Secure marks cookies Secure (with the __Host- prefix) and sends HSTS:
	// set it when the console is served over TLS.
	Secure bool
	// StoreWritable, when set, is asked at every page: while it returns an
	// error, a banner says that the store refuses writes (with the error's
	// text, which must hold no secret). It must be cheap.
	StoreWritable func(ctx context.Context) error
	// GatewaysDown, when set, is asked at every page: the providers that
	// have failed every call for sms.down_after, shown in a banner (their
	// messages go through the next provider). It must be cheap.
	GatewaysDown func() []GatewayDown
	// OnCall is the on-call roster the /oncall page and the dashboard
	// show; nil (or no schedules): the page says none are configured.
	OnCall *roster.Roster
}

// GatewayDown is a provider in an outage: its name, since when every call
// failed, and why in a few Korean words (selfwatch.Reason).
type GatewayDown struct {
	Name   string
	Since  time.Time
	Reason string
}

// Console is the web console's handler set.
type Console struct {
	opt     Options
	loc     *time.Location
	inner   *http.ServeMux
	routes  []*route
	byPat   map[string]*route
	pages   pageSet
	cats    map[string]catalog
	assets  map[string]string // static file → version hash
	limiter *limiter
	cop     *http.CrossOriginProtection
	uptimes uptimes24h // the dashboard's, cached
}

// handler is a console handler; q carries the signed-in user and language.
type handler func(w http.ResponseWriter, r *http.Request, q *request)

// route is one registered pattern and what it needs.
type route struct {
	pattern string
	role    Role // the least role allowed; roleNone only for public routes
	public  bool
	maxBody int64
	h       handler
}

// New builds the console. Options.Store, Outbox and Config are required.
func New(opt Options) (*Console, error) {
	if opt.Store == nil || opt.Outbox == nil || opt.Config == nil {
		return nil, errors.New("console: Options.Store, Outbox and Config are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Balance == nil { // looks balances up for the pages only: no alert
		opt.Balance = balance.New(balance.Options{Store: opt.Store, Providers: opt.Providers, Log: opt.Log, Now: opt.Now})
	}
	c := &Console{
		opt:     opt,
		loc:     opt.Config.Location(),
		inner:   http.NewServeMux(),
		byPat:   map[string]*route{},
		limiter: newLimiter(opt.Now),
		cop:     http.NewCrossOriginProtection(),
	}
	var err error
	if c.cats, err = loadCatalogs(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if c.assets, err = assetVersions(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c.pages.funcs = c.funcs
	c.register()
	return c, nil
}

// alerts is the engine the pages show (nil before the monitor started).
func (c *Console) alerts() *alert.Engine { return c.opt.Monitor.Engine() }

// register lists every console route: the whole route table.
func (c *Console) register() {
	c.public("GET /login", c.loginPage)
	c.public("POST /login", c.login)
	c.public("GET /static/", c.static)

	c.handle("POST /logout", roleViewer, c.logout)
	c.handle("POST /lang", roleViewer, c.setLang)
	c.handle("GET /account", roleViewer, c.accountPage)
	c.handle("POST /account/password", roleViewer, c.changePassword)

	c.handle("GET /{$}", roleViewer, c.dashboard)
	c.handle("GET /balance", roleViewer, c.balancePage)

	c.handle("GET /send", roleOperator, c.sendPage)
	c.handle("POST /send", roleOperator, c.send)

	c.handle("GET /contacts", roleViewer, c.contactsPage)
	c.handle("GET /contacts/new", roleOperator, c.contactNew)
	c.handle("POST /contacts", roleOperator, c.contactCreate)
	c.handle("GET /contacts/{id}", roleViewer, c.contactEdit)
	c.handle("POST /contacts/{id}", roleOperator, c.contactUpdate)
	c.handle("POST /contacts/{id}/delete", roleOperator, c.contactDelete)
	c.handle("POST /groups", roleOperator, c.groupCreate)
	c.handle("POST /groups/delete", roleOperator, c.groupDelete)
	c.handle("GET /contacts/export", roleViewer, c.contactsExport)
	c.handle("GET /contacts/import", roleOperator, c.importPage)
	c.handleBody("POST /contacts/import", roleOperator, maxImportBody, c.importContacts)

	c.handle("GET /templates", roleViewer, c.templatesPage)
	c.handle("GET /templates/new", roleOperator, c.templateNew)
	c.handle("POST /templates", roleOperator, c.templateCreate)
	c.handle("GET /templates/{id}", roleViewer, c.templateEdit)
	c.handle("POST /templates/{id}", roleOperator, c.templateUpdate)
	c.handle("POST /templates/{id}/delete", roleOperator, c.templateDelete)

	c.handle("GET /history", roleViewer, c.historyPage)
	c.handle("GET /messages/{id}", roleViewer, c.messagePage)

	c.handle("GET /checks", roleViewer, c.checksPage)
	c.handle("GET /checks/{name}", roleViewer, c.checkPage)
	c.handle("GET /hosts", roleViewer, c.hostsPage)
	c.handle("GET /incidents/{id}", roleViewer, c.incidentPage)
	c.handle("GET /incidents/{id}/sent", roleViewer, c.sentMessage)
	c.handle("POST /incidents/{id}/ack", ackRole, c.incidentAck)
	c.handle("POST /silences", roleOperator, c.silenceCreate)
	c.handle("POST /silences/{id}/delete", roleOperator, c.silenceDelete)

	c.handle("GET /oncall", roleViewer, c.oncallPage)
	c.handle("POST /oncall/{name}/overrides", roleOperator, c.overrideCreate)
	c.handle("POST /oncall/{name}/overrides/{id}/delete", roleOperator, c.overrideDelete)

	c.handle("GET /settings", roleAdmin, c.settingsPage)
	c.handle("GET /audit", roleAdmin, c.auditPage)
	c.handle("GET /audit.csv", roleAdmin, c.auditCSV)
	c.handle("POST /settings/test", roleAdmin, c.settingsTest)
	c.handle("POST /settings/tokens", roleAdmin, c.tokenCreate)
	c.handle("POST /settings/tokens/revoke", roleAdmin, c.tokenRevoke)
	c.handle("POST /settings/users", roleAdmin, c.userCreate)
	c.handle("POST /settings/users/{id}/role", roleAdmin, c.userRole)
	c.handle("POST /settings/users/{id}/password", roleAdmin, c.userPassword)
}

// maxFormBody bounds ordinary form posts; maxImportBody the address book upload.
const (
	maxFormBody   = 1 << 20
	maxImportBody = 8 << 20
)

func (c *Console) public(pattern string, h handler) {
	c.add(&route{pattern: pattern, public: true, maxBody: maxFormBody, h: h})
}

func (c *Console) handle(pattern string, role Role, h handler) {
	c.handleBody(pattern, role, maxFormBody, h)
}

func (c *Console) handleBody(pattern string, role Role, maxBody int64, h handler) {
	if role == roleNone {
		panic("console: route " + pattern + " needs a role")
	}
	c.add(&route{pattern: pattern, role: role, maxBody: maxBody, h: h})
}

func (c *Console) add(rt *route) {
	c.routes = append(c.routes, rt)
	c.byPat[rt.pattern] = rt
	c.inner.Handle(rt.pattern, http.NotFoundHandler()) // dispatch is done by ServeHTTP
}

// Mount registers every console route on mux, each served by the console's
// middleware.
func (c *Console) Mount(mux *http.ServeMux) {
	for _, rt := range c.routes {
		mux.Handle(rt.pattern, c)
	}
}

// Routes lists every pattern the console registers.
func (c *Console) Routes() []string {
	out := make([]string, 0, len(c.routes))
	for _, rt := range c.routes {
		out = append(out, rt.pattern)
	}
	return out
}

// PublicRoutes lists the patterns reachable without a session.
func (c *Console) PublicRoutes() []string {
	var out []string
	for _, rt := range c.routes {
		if rt.public {
			out = append(out, rt.pattern)
		}
	}
	return slices.Clip(out)
}

// ServeHTTP is the one middleware every console request passes: headers,
// cross-origin refusal, session, CSRF and role, then the route's handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.securityHeaders(w, r)
	_, pattern := c.inner.Handler(r)
	rt := c.byPat[pattern]
	q := newRequest(c, r)
	if rt == nil {
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	}
	c.loadSession(r, q)
	if err := c.cop.Check(r); err != nil {
		c.opt.Log.Warn("console: cross-origin request refused", "path", r.URL.Path, "err", err)
		c.fail(w, r, q, http.StatusForbidden, "err.cross_origin")
		return
	}
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !rt.public && q.User == nil {
		if unsafe {
			// Nothing is done; the form must be posted again after login.
			http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if unsafe {
		r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
		ok, err := c.checkCSRF(r, q)
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			c.fail(w, r, q, http.StatusRequestEntityTooLarge, "err.too_large", fmt.Sprintf("%d MB", tooBig.Limit>>20))
			return
		}
		if !ok {
			c.opt.Log.Warn("console: CSRF token missing or wrong", "path", r.URL.Path, "user", q.userName())
			c.fail(w, r, q, http.StatusForbidden, "err.csrf")
			return
		}
	}
	if !rt.public && !q.User.can(rt.role) {
		c.fail(w, r, q, http.StatusForbidden, "err.role")
		return
	}
	rt.h(w, r, q)
}

// securityHeaders are sent with every console response.
func (c *Console) securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if c.opt.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	if !isStatic(r.URL.Path) {
		h.Set("Cache-Control", "no-store")
	}
}
