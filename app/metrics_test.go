package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/web"
)

var sampleLine = regexp.MustCompile(`^([a-z_]+)(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$`)

// scrape fetches url and parses the text format into series → value,
// checking every line's syntax and that each sample's family is declared.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	noErr(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	out := map[string]float64{}
	types := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			types[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad line %q", line)
		}
		family := m[1]
		if types[family] == "" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(family, suf); ok && (types[base] == "histogram" || types[base] == "summary") {
					family = base
				}
			}
		}
		if types[family] == "" {
			t.Errorf("sample %q before its # TYPE", line)
		}
		series := strings.TrimSuffix(line, " "+m[len(m)-1])
		if _, dup := out[series]; dup {
			t.Errorf("duplicate series %s", series)
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(m[len(m)-1], "+"), 64)
		noErr(t, err)
		out[series] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	gw := aligotest.New(t)
	missing := filepath.Join(t.TempDir(), "missing.log")
	oomCfg := config.Check{Name: "oom", Type: "log", Path: missing, Pattern: "Out of memory"}
	a, _ := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), func(c *config.Config) {
		c.Checks = []config.Check{{Name: "httpd", Type: "process", Process: "httpd"}, {Name: "web-port", Type: "listen", Port: 80}, oomCfg}
	})
	ctx := context.Background()
	m := NewMetrics(a)
	a.Outbox = outbox.New(outbox.Options{Store: a.Store, DefaultSender: gw.Sender, Accepted: m.Accepted})
	a.Dispatcher = dispatcher.New(dispatcher.Options{Store: a.Store, Providers: a.Providers, Observe: m.Observe})
	mon, err := a.NewMonitor(ctx)
	noErr(t, err)
	a.Monitor = mon

	send := func(source string, f aligotest.Failure) {
		gw.SetFailure(f)
		msg, err := a.Outbox.Submit(ctx, outbox.Request{To: []string{"01012345678"}, Text: "x", Source: source})
		noErr(t, err)
		_, err = a.Dispatcher.DispatchOnce(ctx, store.ClaimFilter{MessageID: msg.ID})
		noErr(t, err)
	}
	send("api", aligotest.Failure{})
	send("api", aligotest.Failure{})
	send("alert", aligotest.Failure{})
	send("compat", aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	send("console", aligotest.Failure{Mode: aligotest.BadKey})
	gw.SetFailure(aligotest.Failure{})
	mon.Engine.Observe(check.Result{Check: "httpd", OK: false, At: time.Now(), Firing: "down"})
	mon.Engine.Observe(check.Result{Check: "web-port", OK: true, At: time.Now()})
	// A real log check on a file that does not exist cannot check.
	oom, err := checks.New(oomCfg, check.Defaults{}, check.Deps{})
	noErr(t, err)
	if r := oom.Run(ctx); !r.Unknown {
		t.Fatalf("log check on a missing file: %+v", r)
	} else {
		mon.Engine.Observe(r)
	}
	gw.SetBalance(777)
	noErr(t, a.Balance.Once(ctx))

	srv := httptest.NewServer(web.New(web.Options{
		Store: a.Store, Outbox: a.Outbox, Metrics: m.Handler(),
		TrustedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}))
	defer srv.Close()
	got := scrape(t, srv.URL+"/metrics")
	want := map[string]float64{
		`munja_messages_accepted_total{source="api"}`:                    2,
		`munja_messages_accepted_total{source="alert"}`:                  1,
		`munja_messages_accepted_total{source="compat"}`:                 1,
		`munja_messages_accepted_total{source="console"}`:                1,
		`munja_messages_accepted_total{source="cli"}`:                    0,
		`munja_gateway_calls_total{provider="aligo",result="ok"}`:        3,
		`munja_provider_up{provider="aligo"}`:                            1,
		`munja_provider_outage{provider="aligo"}`:                        0,
		`munja_provider_consecutive_failures{provider="aligo"}`:          2, // the 503, then the bad key (a refused account counts)
		`munja_gateway_calls_total{provider="aligo",result="retryable"}`: 1,
		`munja_gateway_calls_total{provider="aligo",result="permanent"}`: 1,
		`munja_gateway_call_seconds_count{provider="aligo"}`:             5,
		`munja_gateway_call_seconds_bucket{provider="aligo",le="+Inf"}`:  5,
		`munja_gateway_call_seconds_bucket{provider="aligo",le="30"}`:    5,
		`munja_deliveries{status="sent"}`:                                3,
		`munja_deliveries{status="queued"}`:                              1,
		`munja_deliveries{status="failed"}`:                              1,
		`munja_deliveries{status="delivered"}`:                           0,
		`munja_check_up{check="httpd",host=""}`:                          0,
		`munja_check_up{check="web-port",host=""}`:                       1,
		`munja_check_unknown{check="httpd",host=""}`:                     0,
		`munja_check_unknown{check="web-port",host=""}`:                  0,
		`munja_check_unknown{check="oom",host=""}`:                       1,
		`munja_incidents_open`:                                           2,
		`munja_balance_sms{provider="aligo"}`:                            777,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	if v, ok := got[`munja_check_up{check="oom",host=""}`]; ok {
		t.Errorf("a check that cannot check is in munja_check_up (= %v)", v)
	}
	if got[`munja_gateway_call_seconds_sum{provider="aligo"}`] <= 0 {
		t.Error("histogram sum is zero")
	}
	if ts := got[`munja_balance_timestamp_seconds{provider="aligo"}`]; time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("balance timestamp %v", ts)
	}
	// Buckets are cumulative.
	prev := -1.0
	for _, le := range callBuckets {
		v := got[`munja_gateway_call_seconds_bucket{provider="aligo",le="`+strconv.FormatFloat(le, 'g', -1, 64)+`"}`]
		if v < prev {
			t.Errorf("bucket le=%v = %v < previous %v", le, v, prev)
		}
		prev = v
	}

	// Without a token and not from a trusted network: refused.
	refused := httptest.NewServer(web.New(web.Options{Store: a.Store, Outbox: a.Outbox, Metrics: m.Handler()}))
	defer refused.Close()
	resp, err := http.Get(refused.URL + "/metrics")
	noErr(t, err)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("anonymous scrape: %d", resp.StatusCode)
	}
}

// TestMetricsLabelEscaping: label values with quotes, backslashes and line
// breaks (a host name reported with a result) stay one valid line, and a
// value the format cannot carry (invalid UTF-8) drops that sample, not the
// scrape.
func TestMetricsLabelEscaping(t *testing.T) {
	gw := aligotest.New(t)
	a, _ := newGatewayApp(t, gw, filepath.Join(t.TempDir(), "munja.db"), func(c *config.Config) {
		c.Checks = []config.Check{{Name: "web-port", Type: "listen", Port: 80}}
	})
	mon, err := a.NewMonitor(context.Background())
	noErr(t, err)
	a.Monitor = mon
	mon.Engine.Observe(check.Result{Check: "web-port", Host: "a\"b\\c\nd", OK: true, At: time.Now()})
	mon.Engine.Observe(check.Result{Check: "web-port", Host: "bad\xff", OK: true, At: time.Now()})
	srv := httptest.NewServer(NewMetrics(a).Handler())
	defer srv.Close()
	got := scrape(t, srv.URL)
	if v, ok := got[`munja_check_up{check="web-port",host="a\"b\\c\nd"}`]; !ok || v != 1 {
		t.Errorf("escaped series = %v, %v; got %v", v, ok, got)
	}
	if _, ok := got["munja_incidents_open"]; !ok {
		t.Errorf("munja_incidents_open missing after a bad label: %v", got)
	}
	if _, ok := got[`munja_deliveries{status="queued"}`]; !ok {
		t.Errorf("other gauges missing after a bad label: %v", got)
	}
	for series := range got {
		if strings.Contains(series, "bad") {
			t.Errorf("invalid UTF-8 label exported: %q", series)
		}
	}
}

// TestMetricsWithoutMonitor: gauges that need parts not built yet are
// left out instead of failing.
func TestMetricsWithoutMonitor(t *testing.T) {
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	defer a.Close()
	srv := httptest.NewServer(NewMetrics(a).Handler())
	defer srv.Close()
	got := scrape(t, srv.URL)
	if _, ok := got["munja_incidents_open"]; ok {
		t.Error("incidents without a monitor")
	}
	if got[`munja_messages_accepted_total{source="api"}`] != 0 || got["go_goroutines"] < 1 ||
		got["process_start_time_seconds"] <= 0 || got["munja_start_time_seconds"] <= 0 {
		t.Errorf("got %v", got)
	}
}
