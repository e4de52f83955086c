package app

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Metrics are munja's Prometheus metrics, served at GET /metrics (scope
// read) in the Prometheus text format (version 0.0.4). Counters are fed by
// CountAccepted (the outbox's store) and Observe (the dispatcher); gauges
// are read at scrape time from the store, the alert engine and the stored
// balances.
//
// The text format is written here rather than with client_golang: go.sum
// does not carry client_golang's dependencies, and the format of a dozen
// series is small.
type Metrics struct {
	a       *App
	started time.Time

	mu       sync.Mutex
	accepted map[string]uint64    // source → messages
	calls    map[[2]string]uint64 // provider, result → calls
	seconds  map[string]*histogram
}

// callBuckets are the upper bounds of munja_gateway_call_seconds.
var callBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// DeliveryCounter is implemented by stores that count deliveries by status
// in one cheap query; munja_deliveries is exported only then.
type DeliveryCounter interface {
	CountDeliveriesByStatus(ctx context.Context) (map[sms.Status]int, error)
}

// NewMetrics starts the counters at zero for every source and provider.
// The scrape-time gauges read a.Store, a.Providers and a.Monitor (which may
// be set later; nil is skipped).
func NewMetrics(a *App) *Metrics {
	m := &Metrics{a: a, started: time.Now(), accepted: map[string]uint64{}, calls: map[[2]string]uint64{}, seconds: map[string]*histogram{}}
	for _, src := range []string{"api", "cli", "console", "alert", "compat"} {
		m.accepted[src] = 0
	}
	for _, p := range a.Providers {
		for _, r := range []string{"ok", "retryable", "permanent"} {
			m.calls[[2]string{p.Name(), r}] = 0
		}
	}
	return m
}

// Observe is dispatcher.Options.Observe: one gateway call.
func (m *Metrics) Observe(provider string, _ int, err error, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[[2]string{provider, callResult(err)}]++
	h := m.seconds[provider]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(callBuckets))}
		m.seconds[provider] = h
	}
	s := took.Seconds()
	if i, _ := slices.BinarySearch(callBuckets, s); i < len(callBuckets) {
		h.counts[i]++
	}
	h.sum += s
	h.count++
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
	m.mu.Lock()
	m.accepted[msg.Source]++
	m.mu.Unlock()
}

// Handler serves the metrics. A gauge that cannot be read is left out (and
// logged) rather than failing the scrape.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var e expo
		m.writeCounters(&e)
		m.writeGauges(ctx, &e)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(e.Bytes())
	})
}

func (m *Metrics) writeCounters(e *expo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.family("munja_messages_accepted_total", "counter", "Messages stored in the outbox, by source (api, cli, console, alert, compat).")
	for _, src := range slices.Sorted(maps.Keys(m.accepted)) {
		e.sample("munja_messages_accepted_total", float64(m.accepted[src]), "source", src)
	}
	e.family("munja_gateway_calls_total", "counter", "Gateway send calls, by provider and result (ok, retryable, permanent).")
	for _, k := range slices.SortedFunc(maps.Keys(m.calls), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	}) {
		e.sample("munja_gateway_calls_total", float64(m.calls[k]), "provider", k[0], "result", k[1])
	}
	e.family("munja_gateway_call_seconds", "histogram", "Duration of gateway send calls.")
	for _, p := range slices.Sorted(maps.Keys(m.seconds)) {
		h := m.seconds[p]
		var cum uint64
		for i, le := range callBuckets {
			cum += h.counts[i]
			e.sample("munja_gateway_call_seconds_bucket", float64(cum), "provider", p, "le", formatFloat(le))
		}
		e.sample("munja_gateway_call_seconds_bucket", float64(h.count), "provider", p, "le", "+Inf")
		e.sample("munja_gateway_call_seconds_sum", h.sum, "provider", p)
		e.sample("munja_gateway_call_seconds_count", float64(h.count), "provider", p)
	}
}

func (m *Metrics) writeGauges(ctx context.Context, e *expo) {
	a := m.a
	if dc, ok := a.Store.(DeliveryCounter); ok {
		counts, err := dc.CountDeliveriesByStatus(ctx)
		if err != nil {
			a.Log.Warn("metrics: count deliveries", "err", err)
		} else {
			e.family("munja_deliveries", "gauge", "Deliveries in the store, by status.")
			for _, st := range []sms.Status{sms.StatusQueued, sms.StatusSending, sms.StatusSent, sms.StatusReserved,
				sms.StatusDelivered, sms.StatusFailed, sms.StatusCanceled} {
				e.sample("munja_deliveries", float64(counts[st]), "status", string(st))
			}
		}
	}
	if a.Monitor != nil && a.Monitor.Engine != nil {
		e.family("munja_check_up", "gauge", "1 when the check passes, 0 when it fails (pending or firing); absent before its first result.")
		for _, cs := range a.Monitor.Engine.Checks() {
			switch cs.State {
			case alert.StateOK:
				e.sample("munja_check_up", 1, "check", cs.Check, "host", cs.Host)
			case alert.StatePending, alert.StateFiring:
				e.sample("munja_check_up", 0, "check", cs.Check, "host", cs.Host)
			}
		}
		e.family("munja_incidents_open", "gauge", "Open incidents.")
		e.sample("munja_incidents_open", float64(len(a.Monitor.Engine.Incidents(true))))
	}
	var bal [][3]string // provider, sms, unix time
	for _, p := range a.Providers {
		if _, ok := p.(provider.Balancer); !ok {
			continue
		}
		b, err := LoadBalance(ctx, a.Store, p.Name())
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			a.Log.Warn("metrics: stored balance", "provider", p.Name(), "err", err)
		default:
			bal = append(bal, [3]string{p.Name(), strconv.FormatInt(b.SMS, 10), strconv.FormatInt(b.At.Unix(), 10)})
		}
	}
	if len(bal) > 0 {
		e.family("munja_balance_sms", "gauge", "SMS the provider's balance still buys, as of the last poll.")
		for _, b := range bal {
			e.line("munja_balance_sms", b[1], "provider", b[0])
		}
		e.family("munja_balance_timestamp_seconds", "gauge", "When the balance was last polled (Unix time).")
		for _, b := range bal {
			e.line("munja_balance_timestamp_seconds", b[2], "provider", b[0])
		}
	}
	e.family("munja_start_time_seconds", "gauge", "When this munja process started (Unix time).")
	e.sample("munja_start_time_seconds", float64(m.started.Unix()))
	e.family("go_goroutines", "gauge", "Number of goroutines that currently exist.")
	e.sample("go_goroutines", float64(runtime.NumGoroutine()))
}

// expo writes the Prometheus text exposition format.
type expo struct{ bytes.Buffer }

func (e *expo) family(name, typ, help string) {
	fmt.Fprintf(e, "# HELP %s %s\n# TYPE %s %s\n", name, strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help), name, typ)
}

func (e *expo) sample(name string, v float64, labels ...string) {
	e.line(name, formatFloat(v), labels...)
}

// line writes one sample; labels are name, value pairs.
func (e *expo) line(name, value string, labels ...string) {
	e.WriteString(name)
	if len(labels) > 0 {
		e.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.WriteByte(',')
			}
			e.WriteString(labels[i])
			e.WriteString(`="`)
			e.WriteString(labelEscaper.Replace(labels[i+1]))
			e.WriteByte('"')
		}
		e.WriteByte('}')
	}
	e.WriteByte(' ')
	e.WriteString(value)
	e.WriteByte('\n')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
