// Package app wires munja together: config → store → outbox → dispatcher →
// providers, plus the HTTP server (and the monitor). cmd/munja only parses
// flags and calls it; tests start the whole service on port 0 with a temp
// database through the same App.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/console"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
	"github.com/munja-sms/munja/store/sqlite"
	"github.com/munja-sms/munja/web"
)

// App is one running munja.
type App struct {
	Config     *config.Config
	Log        *slog.Logger
	Store      store.Store
	Providers  []provider.Provider
	Outbox     *outbox.Outbox
	Dispatcher *dispatcher.Dispatcher
	Web        *web.Server
	Monitor    *Monitor
	Metrics    *Metrics
	Console    *console.Console

	ln      net.Listener
	srv     *http.Server
	leading atomic.Pointer[Monitor] // the monitor run as leader of a shared store (monitor.go)
}

// LoadConfig reads path ("" = built-in defaults) and validates everything,
// including provider- and check-specific keys, reporting every problem.
func LoadConfig(path string) (*config.Config, error) {
	var cfg *config.Config
	if path == "" {
		cfg = config.Default()
	} else {
		c, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks cfg with every package's validators.
func Validate(cfg *config.Config) error {
	return cfg.Validate(providers.Validate, validateChecks)
}

// NewLogger builds the slog logger log.level/log.format ask for.
func NewLogger(cfg *config.Config, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStore opens the configured database.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	if strings.HasPrefix(cfg.Database, "postgres://") || strings.HasPrefix(cfg.Database, "postgresql://") {
		return openPostgres(ctx, cfg.Database, log)
	}
	return sqlite.Open(ctx, cfg.Database, log)
}

// New opens the store and builds the pipeline. It does not start anything.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", redactDSN(cfg.Database), err)
	}
	a := &App{Config: cfg, Log: log, Store: st}
	if err := a.build(); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build() error {
	cfg := a.Config
	ps, err := providers.New(cfg.EffectiveProviders(), &http.Client{}, a.Log)
	if err != nil {
		return fmt.Errorf("providers: %w", err)
	}
	a.Providers = ps
	a.Metrics = NewMetrics(a)
	var timeout time.Duration
	for _, p := range cfg.EffectiveProviders() {
		timeout = max(timeout, p.Timeout.D())
	}
	a.Dispatcher = dispatcher.New(dispatcher.Options{
		Store: a.Store, Providers: ps, Log: a.Log.With("part", "dispatcher"),
		CallTimeout: timeout, RetryInitial: cfg.SMS.Retry.Initial.D(), RetryMax: cfg.SMS.Retry.Max.D(),
		GiveUpAfter: cfg.SMS.Retry.GiveUpAfter.D(), Observe: a.Metrics.Observe,
	})
	groups := map[string][]string{}
	for _, g := range cfg.Alerting.Groups {
		groups[g.Name] = g.Members
	}
	a.Outbox = outbox.New(outbox.Options{
		Store: a.Store, DefaultSender: cfg.SMS.Sender, ConfigGroups: groups, Location: cfg.Location(),
		Limits: outbox.Limits{PerDay: cfg.SMS.Limits.PerDay, PerRecipientPerHour: cfg.SMS.Limits.PerRecipientPerHour},
		Wake:   a.Dispatcher.Wake, Accepted: a.Metrics.Accepted,
	})
	nets, err := web.ParsePrefixes("server.trusted_networks", cfg.Server.TrustedNetworks)
	if err != nil {
		return err
	}
	proxies, err := web.ParsePrefixes("server.trusted_proxies", cfg.Server.TrustedProxies)
	if err != nil {
		return err
	}
	con, err := console.New(console.Options{
		Store: a.Store, Outbox: a.Outbox, Providers: ps, Config: cfg, Log: a.Log.With("part", "console"),
		Secure: cfg.Server.TLSCert != "" || strings.HasPrefix(cfg.Server.PublicURL, "https://"),
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	a.Console = con
	a.Web = web.New(web.Options{
		Store: a.Store, Outbox: a.Outbox, Log: a.Log.With("part", "web"), TrustedNetworks: nets,
		TrustedProxies: proxies, Metrics: a.Metrics.Handler(), Mount: con.Mount,
		Location: cfg.Location(), DryRun: cfg.DryRun(), Checks: cfg.Checks, AlertRecipients: cfg.Alerting.Recipients, PublicHost: publicHost(cfg.Server.PublicURL),
	})
	return nil
}

// Listen binds server.listen (use "127.0.0.1:0" in tests); Addr tells where.
func (a *App) Listen() error {
	ln, err := net.Listen("tcp", a.Config.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	a.ln = ln
	return nil
}

// Addr is the bound address, after Listen.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down: the listener stops accepting,
// in-flight requests and gateway calls get server.shutdown_timeout, and
// whatever is still queued stays in the store for the next start.
func (a *App) Run(ctx context.Context) error {
	if a.ln == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	cfg := a.Config
	// Become the only dispatcher of a SQLite file (waiting for a running
	// `munja send` to finish), then claims left by a previous process
	// (killed mid-call) go back to the queue now instead of waiting for
	// their lease to run out. At-least-once: that batch may be sent twice.
	unlock, ok, err := a.LockDispatch(ctx, false)
	if err != nil {
		return err
	}
	if !ok {
		a.Log.Info("waiting for another munja process (send / check --notify) to finish dispatching")
		if unlock, _, err = a.LockDispatch(ctx, true); err != nil {
			return err
		}
	}
	defer unlock()
	if _, ok := a.Store.(*sqlite.DB); ok {
		n, err := a.Store.ReleaseClaims(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("release interrupted deliveries: %w", err)
		}
		if n > 0 {
			a.Log.Warn("resuming deliveries interrupted by the previous run; they may be sent twice", "count", n)
		}
	}
	mon, err := a.NewMonitor(ctx)
	if err != nil {
		return err
	}
	a.Monitor = mon
	shown := mon.Engine
	if _, ok := a.Store.(*postgres.DB); ok {
		// Until this replica leads, it shows the leader's state read-only.
		if shown, err = a.monitorView(ctx); err != nil {
			return err
		}
	}
	a.Web.SetMonitor(shown)
	a.Console.SetEngine(shown)
	a.srv = &http.Server{
		Handler: a.Web, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var certs *CertReloader
	if cfg.Server.TLSCert != "" || cfg.Server.TLSKey != "" {
		certs, err = NewCertReloader(cfg.Server.TLSCert, cfg.Server.TLSKey, a.Log.With("part", "tls"))
		if err != nil {
			return err
		}
		a.srv.TLSConfig = certs.Config()
	}
	var redirect *http.Server
	var redirectLn net.Listener
	if redirect = RedirectServer(cfg, a.Log); redirect != nil {
		if redirectLn, err = net.Listen("tcp", redirect.Addr); err != nil {
			return fmt.Errorf("server.redirect_http: %w", err)
		}
	}

	var wg sync.WaitGroup
	errc := make(chan error, 2)
	serve := func(srv *http.Server, ln net.Listener, tls bool) {
		wg.Go(func() {
			var err error
			if tls {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
				stop()
			}
		})
	}
	serve(a.srv, a.ln, certs != nil)
	if redirect != nil {
		serve(redirect, redirectLn, false)
	}
	if certs != nil {
		wg.Go(func() { certs.ReloadOnSIGHUP(runCtx) })
	}
	wg.Go(func() { a.runMonitor(runCtx, mon) })
	wg.Go(func() { RunReports(runCtx, a, 5*time.Minute) })
	wg.Go(func() { RunBalanceWatch(runCtx, a, 10*time.Minute) })
	wg.Go(func() { RunPrune(runCtx, a, 24*time.Hour) })
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		_ = a.Dispatcher.Run(runCtx)
	}()
	// Start-up (config, migrations, first checks) leaves garbage the heap
	// would otherwise keep resident for good: give it back once settled.
	wg.Go(func() {
		select {
		case <-runCtx.Done():
		case <-time.After(3 * time.Second):
			debug.FreeOSMemory()
		}
	})
	a.Log.Info("munja serving", "addr", a.Addr(), "tls", certs != nil, "database", redactDSN(cfg.Database),
		"providers", providerNames(a.Providers), "dryrun", cfg.DryRun(), "checks", len(mon.Checks))
	<-runCtx.Done()

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	for _, srv := range []*http.Server{a.srv, redirect} {
		if srv != nil {
			if err := srv.Shutdown(sctx); err != nil {
				a.Log.Warn("http shutdown", "err", err)
			}
		}
	}
	// Gateway calls in flight finish and are recorded before the store
	// closes (claims not yet started were handed back at once): a call cut
	// off here would be sent again at the next start.
	drain := time.NewTimer(max(cfg.Server.ShutdownTimeout.D(), 2*a.callBudget()+5*time.Second))
	defer drain.Stop()
	select {
	case <-dispatched:
	case <-drain.C:
		a.Log.Warn("gateway calls still in flight at the shutdown deadline; they will be resumed at next start (may be sent twice)")
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	a.Log.Info("munja stopped")
	return nil
}

// publicHost is the host name of server.public_url ("" when unset).
func publicHost(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// callBudget is the longest one batch can take: every provider's timeout.
func (a *App) callBudget() time.Duration {
	var d time.Duration
	for _, p := range a.Config.EffectiveProviders() {
		d += p.Timeout.D()
	}
	return d
}

// redactDSN hides a password in a postgres:// URL for logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close releases the store.
func (a *App) Close() error {
	if a.ln != nil && a.srv == nil {
		a.ln.Close()
	}
	return a.Store.Close()
}

func providerNames(ps []provider.Provider) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	return strings.Join(names, ",")
}
