// Package web serves munja's HTTP API (and, later, the console). Every API
// route is registered through Server.api with the scope it needs, so no
// route can be added without authentication by accident; a test walks
// Server.Routes to prove it.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store"
)

// Options configure the server.
type Options struct {
	Store           store.Store
	Outbox          *outbox.Outbox
	Log             *slog.Logger
	TrustedNetworks []netip.Prefix // token-less API calls accepted from these (scope send)
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto (see ProxyHeaders).
	TrustedProxies []netip.Prefix
	Location       *time.Location
	DryRun         bool // no gateway configured: say so in responses
	Now            func() time.Time
	Checks         []config.Check // for heartbeat names
	// AlertRecipients (alerting.recipients) receive Alertmanager and
	// Grafana notifications whose webhook URL names no ?to= or ?group=.
	AlertRecipients []string
	PublicHost      string // host of server.public_url: accepted in Host for token-less calls
	// Metrics, when set, is served at GET /metrics to callers with scope
	// read (or from server.trusted_networks).
	Metrics http.Handler
	// Extra routes added by other parts (the console); each must do its own
	// authentication.
	Mount func(mux *http.ServeMux)
	// Monitor, when set, mounts the monitor routes (checks, incidents,
	// silences, heartbeats, agents, ack links), which act on the engine it
	// holds at each request (503 while it holds none).
	Monitor *alert.Holder
	// Agents holds the tracker of agent reports while this process runs the
	// alert engine; reports are answered 503 (retry) while it holds none.
	Agents *agent.Holder
	// StoreWritable, when set, tells /healthz whether the store takes
	// writes; while it returns an error /healthz answers 503 with the
	// error's text, which anyone may read, so it must hold no secret. It
	// is called on every /healthz request and must be cheap.
	StoreWritable func(ctx context.Context) error
	// OnCall answers the /api/v1/oncall routes; nil (or no schedules):
	// they answer 404.
	OnCall *roster.Roster
}

// Route is one registered route, for tests that walk the router.
type Route struct {
	Pattern string
	Scope   string // read | send | admin; "link" = the URL holds a one-time credential; "" = public (only /healthz)
}

// Server is the HTTP handler.
type Server struct {
	opt     Options
	mux     *http.ServeMux
	handler http.Handler // mux behind ProxyHeaders
	routes  []Route

	touchMu sync.Mutex
	touched map[int64]time.Time // token ID → last TouchToken
}

// MaxBody is the largest request body accepted (1,000 recipients fit easily).
const MaxBody = 1 << 20

// New builds the server with every API route (the monitor's when
// Options.Monitor is set).
func New(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, mux: http.NewServeMux(), touched: map[int64]time.Time{}}
	s.handler = ProxyHeaders(opt.TrustedProxies)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", HSTS)
		}
		s.mux.ServeHTTP(w, r)
	}))
	s.public("GET /healthz", s.healthz)
	s.api("GET /api/v1/openapi.json", "read", s.openAPI)
	s.api("POST /api/v1/messages", "send", s.createMessage)
	s.api("GET /api/v1/messages", "read", s.listMessages)
	s.api("GET /api/v1/messages/{id}", "read", s.getMessage)
	s.api("POST /api/v1/send", "send", s.compatSend)
	s.api("POST /sms/aligo_send.php", "send", s.compatSend)
	s.api("POST /api/v1/alertmanager", "send", s.alertmanager)
	s.api("POST /api/v1/grafana", "send", s.grafana)
	s.api("GET /api/v1/audit", "admin", s.listAudit)
	s.bookRoutes()
	s.historyRoutes()
	s.oncallRoutes()
	if opt.Monitor != nil {
		s.monitorRoutes()
	}
	if opt.Metrics != nil {
		s.api("GET /metrics", "read", func(w http.ResponseWriter, r *http.Request, _ Caller) {
			opt.Metrics.ServeHTTP(w, r)
		})
	}
	if opt.Mount != nil {
		opt.Mount(s.mux)
	}
	return s
}

// Routes lists every route registered through api/public.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP sets the security headers (HSTS when the client came over
// HTTPS) and serves the request behind ProxyHeaders.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.handler.ServeHTTP(w, r)
}

// HSTS is the Strict-Transport-Security value sent on HTTPS responses.
const HSTS = "max-age=31536000"

func (s *Server) public(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Pattern: pattern})
	s.mux.HandleFunc(pattern, h)
}

// api registers a route that needs a bearer token with at least scope (or
// a request from server.trusted_networks, which counts as scope send).
func (s *Server) api(pattern, scope string, h func(http.ResponseWriter, *http.Request, Caller)) {
	s.routes = append(s.routes, Route{Pattern: pattern, Scope: scope})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, scope, h) })
}

// serveAPI authenticates the request for scope and hands it to h.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, scope string, h func(http.ResponseWriter, *http.Request, Caller)) {
	c, err := s.authenticate(r, scope)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	h(w, r, c)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.opt.Store.NextDue(ctx); err != nil {
		s.opt.Log.Error("healthz: store", "err", err)
		writeJSON(w, s.opt.Log, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	// A store that reads but refuses writes (a full disk, a read-only
	// file or database) cannot accept messages. Not logged here: whoever
	// saw the failure logged it once, and /healthz is polled.
	if s.opt.StoreWritable != nil {
		if err := s.opt.StoreWritable(ctx); err != nil {
			writeJSON(w, s.opt.Log, http.StatusServiceUnavailable, map[string]string{"status": "store not writable", "error": err.Error()})
			return
		}
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"status": "ok", "dryrun": s.opt.DryRun})
}
