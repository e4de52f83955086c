// Package web serves munja's HTTP API (and, later, the console). Every API
// route is registered through Server.api with the scope it needs, so no
// route can be added without authentication by accident; a test walks
// Server.Routes to prove it.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store"
)

// Options configure the server.
type Options struct {
	Store           store.Store
	Outbox          *outbox.Outbox
	Log             *slog.Logger
	TrustedNetworks []netip.Prefix // token-less API calls accepted from these (scope send)
	Location        *time.Location
	DryRun          bool // no gateway configured: say so in responses
	Now             func() time.Time
	Checks          []config.Check // for heartbeat names
	// Extra routes added by other parts (metrics, heartbeat, console);
	// each must do its own authentication.
	Mount func(mux *http.ServeMux)
}

// Route is one registered route, for tests that walk the router.
type Route struct {
	Pattern string
	Scope   string // "" = public (only /healthz)
}

// Server is the HTTP handler.
type Server struct {
	opt    Options
	mux    *http.ServeMux
	routes []Route
	engine *alert.Engine
}

// MaxBody is the largest request body accepted (1,000 recipients fit easily).
const MaxBody = 1 << 20

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
	s := &Server{opt: opt, mux: http.NewServeMux()}
	s.public("GET /healthz", s.healthz)
	s.api("POST /api/v1/messages", "send", s.createMessage)
	s.api("GET /api/v1/messages", "read", s.listMessages)
	s.api("GET /api/v1/messages/{id}", "read", s.getMessage)
	s.api("POST /api/v1/send", "send", s.compatSend)
	s.api("POST /sms/aligo_send.php", "send", s.compatSend)
	if opt.Mount != nil {
		opt.Mount(s.mux)
	}
	return s
}

// Routes lists every route registered through api/public.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) public(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Pattern: pattern})
	s.mux.HandleFunc(pattern, h)
}

// api registers a route that needs a bearer token with at least scope (or
// a request from server.trusted_networks, which counts as scope send).
func (s *Server) api(pattern, scope string, h func(http.ResponseWriter, *http.Request, Caller)) {
	s.routes = append(s.routes, Route{Pattern: pattern, Scope: scope})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r, scope)
		if err != nil {
			writeError(w, s.opt.Log, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		h(w, r, c)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.opt.Store.NextDue(ctx); err != nil {
		s.opt.Log.Error("healthz: store", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "dryrun": s.opt.DryRun})
}

// remoteIP is the connection's peer address.
func remoteIP(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
