// Package app wires munja together: config → store → outbox → dispatcher →
// providers, plus the HTTP server (API, console, metrics) and the monitor.
// It holds no domain rule of its own: each part lives in its package, and
// app only builds them and runs them. cmd/munja only parses flags and calls
// it; tests start the whole service on port 0 with a temp database through
// the same App.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/balance"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/console"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/selfwatch"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
	"github.com/munja-sms/munja/store/sqlite"
	"github.com/munja-sms/munja/web"
)

// App is one munja: the sending pipeline (New) that every command uses,
// and the server parts (API, console, metrics) that Listen adds for
// `munja serve`.
type App struct {
	Config     *config.Config
	Log        *slog.Logger
	Store      store.Store
	Providers  []provider.Provider
	Outbox     *outbox.Outbox
	Dispatcher *dispatcher.Dispatcher
	Balance    *balance.Watch
	// Gateways pages a provider that failed every call for
	// sms.down_after through the others (run by `munja serve`).
	Gateways *selfwatch.Gateways

	// Shown is the alert engine the API and console show and act on (this
	// process's own, or a read-only view of a PostgreSQL leader's); Agents
	// the tracker of agent reports while this process runs the engine.
	Shown  *alert.Holder
	Agents *agent.Holder
	// Monitor is the monitor built at Run (on a shared PostgreSQL store,
	// the one run while leading is built afresh; see activeMonitor).
	Monitor *Monitor

	// The server parts, built by Listen.
	Web     *web.Server
	Console *console.Console
	Metrics *Metrics
	// Heartbeat calls server.heartbeat_url while munja is healthy (nil
	// when it is not set).
	Heartbeat *selfwatch.Heartbeat
	// OnCall is the roster of oncall.schedules (nil without).
	OnCall *roster.Roster

	ln      net.Listener
	srv     *http.Server
	certs   *CertReloader           // with server.tls_cert
	probe   *writeProbe             // store writable? (/healthz, console, heartbeat)
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
	return cfg.Logger(w)
}

// OpenStore opens the configured database.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	if isPostgres(cfg.Database) {
		db, err := postgres.Open(ctx, cfg.Database, log)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, cfg.Database, log)
	if err != nil {
		return nil, err
	}
	return db, nil
}

func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// New opens the store and builds the sending pipeline: providers,
// dispatcher, outbox and balance watch. It starts nothing, and builds no
// server part (the CLI's commands need none).
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	st, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", redactDSN(cfg.Database), err)
	}
	a := &App{Config: cfg, Log: log, Store: st, Shown: &alert.Holder{}, Agents: &agent.Holder{}}
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
	var timeout time.Duration
	for _, p := range cfg.EffectiveProviders() {
		timeout = max(timeout, p.Timeout.D())
	}
	a.Dispatcher = dispatcher.New(dispatcher.Options{
		Store: a.Store, Providers: ps, Log: a.Log.With("part", "dispatcher"),
		CallTimeout: timeout, RetryInitial: cfg.SMS.Retry.Initial.D(), RetryMax: cfg.SMS.Retry.Max.D(),
		GiveUpAfter: cfg.SMS.Retry.GiveUpAfter.D(), Observe: a.observeCall, Uncertain: a.observeUncertain,
	})
	groups := map[string][]string{}
	for _, g := range cfg.Alerting.Groups {
		groups[g.Name] = g.Members
	}
	if err := a.buildOnCall(groups); err != nil {
		return err
	}
	a.Outbox = outbox.New(outbox.Options{
		Store: a.Store, DefaultSender: cfg.SMS.Sender, ConfigGroups: groups, Location: cfg.Location(), OnCall: a.onCallResolver(),
		Limits: outbox.Limits{PerDay: cfg.SMS.Limits.PerDay, PerRecipientPerHour: cfg.SMS.Limits.PerRecipientPerHour},
		Wake:   a.Dispatcher.Wake, Accepted: a.observeAccepted,
	})
	a.Balance = balance.New(balance.Options{
		Store: a.Store, Providers: ps, LowBalance: cfg.SMS.LowBalance, Outbox: a.Outbox,
		Recipients: cfg.Alerting.Recipients, AlertsHere: a.alertsHere, Log: a.Log.With("part", "balance"),
	})
	a.Gateways = selfwatch.NewGateways(selfwatch.GatewayOptions{
		Store: a.Store, Outbox: a.Outbox, Dispatcher: a.Dispatcher, DownAfter: cfg.SMS.DownAfter.D(),
		Recipients: cfg.Alerting.Recipients, AlertsHere: a.alertsHere, Log: a.Log.With("part", "selfwatch"),
	})
	return nil
}

// observeCall and observeAccepted feed the metrics, once Listen built them.
func (a *App) observeCall(provider string, receivers int, err error, took time.Duration) {
	if a.Metrics != nil {
		a.Metrics.Observe(provider, receivers, err, took)
	}
}

func (a *App) observeUncertain(provider, outcome string, n int) {
	if a.Metrics != nil {
		a.Metrics.Uncertain(provider, outcome, n)
	}
}

func (a *App) observeAccepted(m *sms.Message) {
	if a.Metrics != nil {
		a.Metrics.Accepted(m)
	}
}

// buildServer builds the API, the console and the metrics (once).
func (a *App) buildServer() error {
	if a.Web != nil {
		return nil
	}
	cfg := a.Config
	nets, err := web.ParsePrefixes("server.trusted_networks", cfg.Server.TrustedNetworks)
	if err != nil {
		return err
	}
	proxies, err := web.ParsePrefixes("server.trusted_proxies", cfg.Server.TrustedProxies)
	if err != nil {
		return err
	}
	a.Metrics = NewMetrics(a)
	probe := &writeProbe{state: a.Store, health: a.Dispatcher.StoreHealth, dsn: cfg.Database, log: a.Log.With("part", "health")}
	a.probe = probe
	if !cfg.Server.HeartbeatURL.IsZero() {
		hb, err := selfwatch.NewHeartbeat(selfwatch.HeartbeatOptions{
			URL: cfg.Server.HeartbeatURL.Reveal(), Interval: cfg.Server.HeartbeatInterval.D(),
			Healthy: a.healthy, Log: a.Log.With("part", "heartbeat"),
		})
		if err != nil {
			return err
		}
		a.Heartbeat = hb
	}
	con, err := console.New(console.Options{
		Store: a.Store, Outbox: a.Outbox, Providers: a.Providers, Balance: a.Balance, Monitor: a.Shown,
		Config: cfg, Log: a.Log.With("part", "console"), StoreWritable: probe.check, GatewaysDown: a.gatewaysDown,
		Secure: cfg.Server.TLSCert != "" || strings.HasPrefix(cfg.Server.PublicURL, "https://"), OnCall: a.OnCall,
	})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	a.Console = con
	a.Web = web.New(web.Options{
		Store: a.Store, Outbox: a.Outbox, Log: a.Log.With("part", "web"), TrustedNetworks: nets,
		TrustedProxies: proxies, Metrics: a.Metrics.Handler(), Mount: con.Mount,
		Monitor: a.Shown, Agents: a.Agents,
		Location: cfg.Location(), DryRun: cfg.DryRun(), Checks: cfg.Checks, AlertRecipients: cfg.Alerting.Recipients,
		PublicHost: publicHost(cfg.Server.PublicURL), StoreWritable: probe.check, OnCall: a.OnCall,
	})
	return nil
}

// Listen builds the server parts and binds server.listen (use
// "127.0.0.1:0" in tests); Addr tells where.
func (a *App) Listen() error {
	if err := a.buildServer(); err != nil {
		return err
	}
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

// publicHost is the host name of server.public_url ("" when unset).
func publicHost(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
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

// Close releases the store (and a listener Run never served).
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
