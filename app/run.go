package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/munja-sms/munja/store"
)

// cleanups undo what Run set up, last first.
type cleanups []func()

func (c *cleanups) add(f func()) { *c = append(*c, f) }

func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

// Run serves until ctx ends, then shuts down: the listener stops accepting,
// in-flight requests and gateway calls get server.shutdown_timeout, and
// whatever is still queued stays in the store for the next start.
func (a *App) Run(ctx context.Context) error {
	var undo cleanups
	defer undo.run()
	if a.ln == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	unlock, err := a.takeDispatch(ctx)
	if err != nil {
		return err
	}
	undo.add(unlock)
	if err := a.startMonitor(ctx); err != nil {
		return err
	}
	servers, err := a.httpServers()
	if err != nil {
		return err
	}

	// Read before serving: Serve sets up HTTP/2 and writes TLSConfig.
	tlsOn := a.srv.TLSConfig != nil

	runCtx, stop := context.WithCancel(ctx)
	undo.add(stop)
	var wg sync.WaitGroup
	errc := make(chan error, len(servers))
	for _, s := range servers {
		wg.Go(func() {
			if err := s.serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
				stop()
			}
		})
	}
	a.startJobs(runCtx, &wg)
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		_ = a.Dispatcher.Run(runCtx)
	}()
	a.Log.Info("munja serving", "addr", a.Addr(), "tls", tlsOn, "database", redactDSN(a.Config.Database),
		"providers", providerNames(a.Providers), "dryrun", a.Config.DryRun(), "checks", len(a.Monitor.Checks))
	if len(a.Config.SMS.Providers) == 1 && a.Config.SMS.DownAfter > 0 {
		a.Log.Warn("only one provider in sms.providers: if its gateway goes down, munja cannot page anyone about it (add a second provider, e.g. another account or a webhook)",
			"provider", a.Config.SMS.Providers[0].Name)
	}
	<-runCtx.Done()

	a.shutdown(ctx, servers, dispatched)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	a.Log.Info("munja stopped")
	return nil
}

// takeDispatch makes this process the only dispatcher of a SQLite file
// (waiting for a running `munja send` to finish); then claims left by a
// previous process (killed mid-call) go back to the queue now instead of
// waiting for their lease to run out. At-least-once: that batch may be sent
// twice. On a store shared by replicas (PostgreSQL) claims carry leases and
// there is nothing to take.
func (a *App) takeDispatch(ctx context.Context) (unlock func(), err error) {
	ex, ok := a.Store.(store.ExclusiveDispatch)
	if !ok {
		return func() {}, nil
	}
	unlock, got, err := ex.LockDispatch(ctx, false)
	if err != nil {
		return nil, err
	}
	if !got {
		a.Log.Info("waiting for another munja process (send / check --notify) to finish dispatching")
		if unlock, _, err = ex.LockDispatch(ctx, true); err != nil {
			return nil, err
		}
	}
	n, err := a.Store.ReleaseClaims(ctx, time.Now())
	if err != nil {
		unlock()
		return nil, fmt.Errorf("release interrupted deliveries: %w", err)
	}
	if n > 0 {
		a.Log.Warn("resuming deliveries interrupted by the previous run; they may be sent twice", "count", n)
	}
	return unlock, nil
}

// startMonitor builds the monitor and shows its engine (a replica of a
// shared store shows the leader's state read-only until it leads).
func (a *App) startMonitor(ctx context.Context) error {
	mon, err := a.NewMonitor(ctx)
	if err != nil {
		return err
	}
	a.Monitor = mon
	shown := mon.Engine
	if a.shared() {
		if shown, err = a.monitorView(ctx); err != nil {
			return err
		}
	}
	a.Shown.Set(shown)
	return nil
}

// server is one HTTP server with its listener.
type server struct {
	srv *http.Server
	ln  net.Listener
	tls bool
}

func (s server) serve() error {
	if s.tls {
		return s.srv.ServeTLS(s.ln, "", "")
	}
	return s.srv.Serve(s.ln)
}

// httpServers builds the API/console server on the bound listener (HTTPS
// with server.tls_cert), and the server.redirect_http one.
func (a *App) httpServers() ([]server, error) {
	cfg := a.Config
	a.srv = &http.Server{
		Handler: a.Web, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	main := server{srv: a.srv, ln: a.ln}
	if cfg.Server.TLSCert != "" || cfg.Server.TLSKey != "" {
		certs, err := NewCertReloader(cfg.Server.TLSCert, cfg.Server.TLSKey, a.Log.With("part", "tls"))
		if err != nil {
			return nil, err
		}
		a.srv.TLSConfig, main.tls = certs.Config(), true
		a.certs = certs
	}
	servers := []server{main}
	if redirect := RedirectServer(cfg, a.certs, a.Log); redirect != nil {
		ln, err := net.Listen("tcp", redirect.Addr)
		if err != nil {
			return nil, fmt.Errorf("server.redirect_http: %w", err)
		}
		servers = append(servers, server{srv: redirect, ln: ln})
	}
	return servers, nil
}

// startJobs starts what runs beside the HTTP servers until ctx ends: the
// monitor, delivery reports, the balance watch, pruning and the
// certificate reload.
func (a *App) startJobs(ctx context.Context, wg *sync.WaitGroup) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		handleSIGHUP(ctx, hup, a.certs, a.Log)
	})
	wg.Go(func() { a.runMonitor(ctx, a.Monitor) })
	wg.Go(func() { a.Dispatcher.RunReports(ctx, 5*time.Minute) })
	wg.Go(func() { a.Balance.Run(ctx, 10*time.Minute) })
	wg.Go(func() { a.Gateways.Run(ctx) })
	if a.Heartbeat != nil {
		wg.Go(func() { a.Heartbeat.Run(ctx) })
	}
	wg.Go(func() { RunPrune(ctx, a, 24*time.Hour) })
	if a.OnCall != nil {
		wg.Go(func() { a.OnCall.RunNotices(ctx, a.noticeOptions()) })
	}
	// Start-up (config, migrations, first checks) leaves garbage the heap
	// would otherwise keep resident for good: give it back once settled.
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
			debug.FreeOSMemory()
		}
	})
}

// shutdown stops the HTTP servers, then lets gateway calls in flight finish
// and be recorded before the store closes (claims not yet started were
// handed back at once): a call cut off here would be sent again at the next
// start.
func (a *App) shutdown(ctx context.Context, servers []server, dispatched <-chan struct{}) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.Server.ShutdownTimeout.D())
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(sctx); err != nil {
			a.Log.Warn("http shutdown", "err", err)
		}
	}
	drain := time.NewTimer(max(a.Config.Server.ShutdownTimeout.D(), 2*a.callBudget()+5*time.Second))
	defer drain.Stop()
	select {
	case <-dispatched:
	case <-drain.C:
		a.Log.Warn("gateway calls still in flight at the shutdown deadline; they will be resumed at next start (may be sent twice)")
	}
}

// callBudget is the longest one batch can take: every provider's timeout.
func (a *App) callBudget() time.Duration {
	var d time.Duration
	for _, p := range a.Config.EffectiveProviders() {
		d += p.Timeout.D()
	}
	return d
}
