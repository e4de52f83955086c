package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/balance"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/selfwatch"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Metrics are munja's Prometheus metrics, served at GET /metrics (scope
// read) through client_golang, from a registry of their own. Counters are
// fed by Accepted (the outbox) and Observe (the dispatcher); gauges are read
// at scrape time from the store, the alert engine and the stored balances;
// the Go runtime and process collectors are registered too.
type Metrics struct {
	reg      *prometheus.Registry
	accepted *prometheus.CounterVec   // source
	calls    *prometheus.CounterVec   // provider, result
	seconds  *prometheus.HistogramVec // provider
	unsure   *prometheus.CounterVec   // provider, outcome
	handler  http.Handler
}

// callBuckets are the upper bounds of munja_gateway_call_seconds.
var callBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// NewMetrics starts the counters at zero for every source and provider.
// The scrape-time gauges read a.Store, a.Providers and the running monitor
// (which may be set later; none is skipped).
func NewMetrics(a *App) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "munja_messages_accepted_total",
			Help: "Messages stored in the outbox, by source (api, cli, console, alert, compat).",
		}, []string{"source"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "munja_gateway_calls_total",
			Help: "Gateway send calls, by provider and result (ok, retryable, permanent).",
		}, []string{"provider", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "munja_gateway_call_seconds", Help: "Duration of gateway send calls.", Buckets: callBuckets,
		}, []string{"provider"}),
	}
	m.unsure = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "munja_gateway_uncertain_total",
		Help: "Receivers of gateway calls whose answer never came, by what became of them: found (the gateway had accepted them), not_found (it had not: sent again), resent (it could not be asked: sent again, possibly twice).",
	}, []string{"provider", "outcome"})
	for _, src := range sms.Sources {
		m.accepted.WithLabelValues(src)
	}
	for _, p := range a.Providers {
		for _, r := range []string{"ok", "retryable", "permanent"} {
			m.calls.WithLabelValues(p.Name(), r)
		}
	}
	started := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "munja_start_time_seconds", Help: "When this munja process started (Unix time).",
	})
	started.Set(float64(time.Now().Unix()))
	m.reg.MustRegister(m.accepted, m.calls, m.seconds, m.unsure, started, newStateCollector(a),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{a.Log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Observe is dispatcher.Options.Observe: one gateway call.
func (m *Metrics) Observe(provider string, _ int, err error, took time.Duration) {
	m.calls.WithLabelValues(provider, callResult(err)).Inc()
	m.seconds.WithLabelValues(provider).Observe(took.Seconds())
}

// Uncertain is dispatcher.Options.Uncertain: what became of receivers of a
// call whose answer never came.
func (m *Metrics) Uncertain(provider, outcome string, n int) {
	m.unsure.WithLabelValues(provider, outcome).Add(float64(n))
}

func callResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case provider.IsPermanent(err):
		return "permanent"
	}
	return "retryable"
}

// Accepted counts a stored message in munja_messages_accepted_total; it is
// the outbox's Accepted hook.
func (m *Metrics) Accepted(msg *sms.Message) {
	m.accepted.WithLabelValues(msg.Source).Inc()
}

// Handler serves the metrics in the format the scraper asks for (the
// Prometheus text format by default). A gauge that cannot be read is left
// out (and logged) rather than failing the scrape.
func (m *Metrics) Handler() http.Handler { return m.handler }

// promLogger is promhttp's error log on slog.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	if l.log != nil {
		l.log.Warn("metrics: serve", "err", fmt.Sprint(v...))
	}
}

// stateCollector reads the scrape-time gauges.
type stateCollector struct {
	a                              *App
	deliveries, checkUp, incidents *prometheus.Desc
	checkUnknown                   *prometheus.Desc
	balance, balanceAt             *prometheus.Desc
	providerUp, providerFailures   *prometheus.Desc
	providerLastOK, providerOutage *prometheus.Desc
	heartbeatOK, heartbeatFailures *prometheus.Desc
	heartbeatSkipped               *prometheus.Desc
	deliveryStatuses               []sms.Status
}

func newStateCollector(a *App) *stateCollector {
	return &stateCollector{
		a: a,
		deliveries: prometheus.NewDesc("munja_deliveries",
			"Deliveries in the store, by status.", []string{"status"}, nil),
		checkUp: prometheus.NewDesc("munja_check_up",
			"1 when the check passes, 0 when it fails (pending or firing); absent before its first result and while it cannot check (see munja_check_unknown), so a check that cannot see is never counted up.",
			[]string{"check", "host"}, nil),
		checkUnknown: prometheus.NewDesc("munja_check_unknown",
			"1 while the check cannot check (its journal, log file, /proc or command cannot be read or run: its latest result is unknown), else 0; absent before its first result.",
			[]string{"check", "host"}, nil),
		incidents: prometheus.NewDesc("munja_incidents_open", "Open incidents.", nil, nil),
		balance: prometheus.NewDesc("munja_balance_sms",
			"SMS the provider's balance still buys, as of the last poll.", []string{"provider"}, nil),
		balanceAt: prometheus.NewDesc("munja_balance_timestamp_seconds",
			"When the balance was last polled (Unix time).", []string{"provider"}, nil),
		providerUp: prometheus.NewDesc("munja_provider_up",
			"1 while the provider takes calls, 0 while it is marked down after failing (batches go to the next provider).", []string{"provider"}, nil),
		providerFailures: prometheus.NewDesc("munja_provider_consecutive_failures",
			"Gateway calls in a row that failed (0 after a call that worked).", []string{"provider"}, nil),
		providerLastOK: prometheus.NewDesc("munja_provider_last_success_timestamp_seconds",
			"When a gateway call last worked (Unix time); absent before the first.", []string{"provider"}, nil),
		providerOutage: prometheus.NewDesc("munja_provider_outage",
			"1 while the provider is in an outage: it failed every call for sms.down_after (paged through the other providers when there are any), until a call works; else 0.", []string{"provider"}, nil),
		heartbeatOK: prometheus.NewDesc("munja_heartbeat_last_success_timestamp_seconds",
			"When the call to server.heartbeat_url last worked (Unix time); absent before the first.", nil, nil),
		heartbeatFailures: prometheus.NewDesc("munja_heartbeat_failures_total",
			"Calls to server.heartbeat_url that failed (no answer in time, or not 2xx).", nil, nil),
		heartbeatSkipped: prometheus.NewDesc("munja_heartbeat_skipped_total",
			"Calls to server.heartbeat_url not made because munja was unhealthy (store not writable, dispatcher not running).", nil, nil),
		deliveryStatuses: []sms.Status{sms.StatusQueued, sms.StatusSending, sms.StatusSent, sms.StatusReserved,
			sms.StatusDelivered, sms.StatusFailed, sms.StatusCanceled},
	}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.deliveries, c.checkUp, c.checkUnknown, c.incidents, c.balance, c.balanceAt,
		c.providerUp, c.providerFailures, c.providerLastOK, c.providerOutage, c.heartbeatOK, c.heartbeatFailures, c.heartbeatSkipped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	c.collectDeliveries(ctx, ch)
	c.collectMonitor(ch)
	c.collectBalances(ctx, ch)
	c.collectProviders(ctx, ch)
	c.collectHeartbeat(ch)
}

// gauge sends one sample; a label value the format cannot carry (invalid
// UTF-8) drops the sample, not the scrape.
func (c *stateCollector) gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	if err != nil {
		c.a.Log.Warn("metrics: sample left out", "err", err)
		return
	}
	ch <- m
}

func (c *stateCollector) collectDeliveries(ctx context.Context, ch chan<- prometheus.Metric) {
	counts, err := c.a.Store.CountDeliveriesByStatus(ctx)
	if err != nil {
		c.a.Log.Warn("metrics: count deliveries", "err", err)
		return
	}
	for _, st := range c.deliveryStatuses {
		c.gauge(ch, c.deliveries, float64(counts[st]), string(st))
	}
}

func (c *stateCollector) collectMonitor(ch chan<- prometheus.Metric) {
	mon := c.a.activeMonitor()
	if mon == nil || mon.Engine == nil {
		return
	}
	for _, cs := range mon.Engine.Checks() {
		switch cs.State {
		case alert.StateOK:
			c.gauge(ch, c.checkUp, 1, cs.Check, cs.Host)
		case alert.StatePending, alert.StateFiring:
			c.gauge(ch, c.checkUp, 0, cs.Check, cs.Host)
		}
		if cs.State != alert.StateUnknown {
			unknown := 0.0
			if cs.State == alert.StateCannotCheck {
				unknown = 1
			}
			c.gauge(ch, c.checkUnknown, unknown, cs.Check, cs.Host)
		}
	}
	c.gauge(ch, c.incidents, float64(len(mon.Engine.Incidents(true))))
}

func (c *stateCollector) collectBalances(ctx context.Context, ch chan<- prometheus.Metric) {
	for _, p := range c.a.Providers {
		if _, ok := p.(provider.Balancer); !ok {
			continue
		}
		b, err := balance.Load(ctx, c.a.Store, p.Name())
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			c.a.Log.Warn("metrics: stored balance", "provider", p.Name(), "err", err)
		default:
			c.gauge(ch, c.balance, float64(b.SMS), p.Name())
			c.gauge(ch, c.balanceAt, float64(b.At.Unix()), p.Name())
		}
	}
}

func (c *stateCollector) collectProviders(ctx context.Context, ch chan<- prometheus.Metric) {
	for _, p := range c.a.Dispatcher.Providers() {
		up := 0.0
		if p.Up {
			up = 1
		}
		c.gauge(ch, c.providerUp, up, p.Name)
		c.gauge(ch, c.providerFailures, float64(p.Failures), p.Name)
		if !p.LastSuccess.IsZero() {
			c.gauge(ch, c.providerLastOK, float64(p.LastSuccess.Unix()), p.Name)
		}
		// From the store: on PostgreSQL replicas, the leader's verdict.
		if out, err := selfwatch.LoadGateway(ctx, c.a.Store, p.Name); err != nil {
			c.a.Log.Warn("metrics: stored gateway outage", "provider", p.Name, "err", err)
		} else {
			c.gauge(ch, c.providerOutage, b2f(out.Down), p.Name)
		}
	}
}

func (c *stateCollector) collectHeartbeat(ch chan<- prometheus.Metric) {
	if c.a.Heartbeat == nil {
		return
	}
	st := c.a.Heartbeat.Stats()
	if !st.LastSuccess.IsZero() {
		c.gauge(ch, c.heartbeatOK, float64(st.LastSuccess.Unix()))
	}
	for d, v := range map[*prometheus.Desc]int64{c.heartbeatFailures: st.Failures, c.heartbeatSkipped: st.Skipped} {
		if m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, float64(v)); err == nil {
			ch <- m
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
