package console

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/checkhist"
	"github.com/munja-sms/munja/config"
)

// checkHistory is what the check page shows of a check's stored history:
// its uptimes, the status timeline and the latency chart over the range.
type checkHistory struct {
	Range    string // the range's key
	Ranges   []rangeLink
	From, To time.Time
	Uptimes  []uptimeView
	Timeline timelineView
	Latency  *latencyView // nil: not a check that measures latency
}

type rangeLink struct {
	Key, Label, Href string
	On               bool
}

// latencyTypes are the check types that measure a latency.
var latencyTypes = []string{"http", "tcp", "command"}

// loadHistory reads check's history on host over rng ending now. cfg is the
// check's config on this host (nil for an agent's check).
func (c *Console) loadHistory(ctx context.Context, lang, check, host string, cfg *config.Check, rng chartRange, base string) (checkHistory, error) {
	now := c.opt.Now()
	h := checkHistory{Range: rng.Key, From: now.Add(-rng.D), To: now}
	for _, r := range chartRanges {
		h.Ranges = append(h.Ranges, rangeLink{Key: r.Key, Label: c.t(lang, "range."+r.Key), Href: addQuery(base, "range", r.Key), On: r.Key == rng.Key})
	}
	// The store sums the samples (per window, per chart step): the page
	// reads a few thousand rows whatever the range.
	st := c.opt.Store
	ups, err := checkhist.Uptimes(ctx, st, check, host, now)
	if err != nil {
		return h, err
	}
	for _, u := range ups {
		h.Uptimes = append(h.Uptimes, c.uptime(lang, u))
	}
	step := checkhist.Step(h.From, h.To)
	points, err := checkhist.Series(ctx, st, check, host, h.From, h.To, step)
	if err != nil {
		return h, err
	}
	spans, err := checkhist.Timeline(ctx, st, check, host, h.From, h.To)
	if err != nil {
		return h, err
	}
	interval, known := time.Duration(0), cfg != nil
	if cfg != nil {
		interval = cfg.Interval.D()
		if interval <= 0 {
			interval = c.opt.Config.Alerting.Interval.D()
		}
	}
	h.Timeline = c.timeline(lang, segments(spans, gaps(points, h.From, h.To, step, gapAfter(interval, known))), h.From, h.To)
	measures := cfg != nil && slices.Contains(latencyTypes, cfg.Type)
	if cfg == nil {
		measures = slices.ContainsFunc(points, func(p checkhist.Point) bool { return p.LatencyN > 0 })
	}
	if measures {
		l := c.latency(lang, points, h.From, h.To, step)
		h.Latency = &l
	}
	return h, nil
}

// uptimeTTL is how long the dashboard's 24-hour uptimes are reused: they
// sum a day of samples of every check.
const uptimeTTL = 30 * time.Second

// uptimes24h caches checkhist.AllUptimes over 24 hours.
type uptimes24h struct {
	mu  sync.Mutex
	at  time.Time
	all map[[2]string]checkhist.Uptime
}

// dayUptimes returns every check's uptime over the last 24 hours, by check
// and host, read at most every uptimeTTL.
func (c *Console) dayUptimes(ctx context.Context) (map[[2]string]checkhist.Uptime, error) {
	u := &c.uptimes
	u.mu.Lock()
	defer u.mu.Unlock()
	now := c.opt.Now()
	if u.all != nil && now.Sub(u.at) < uptimeTTL && !now.Before(u.at) {
		return u.all, nil
	}
	all, err := checkhist.AllUptimes(ctx, c.opt.Store, 24*time.Hour, now)
	if err != nil {
		return nil, err
	}
	u.at, u.all = now, all
	return all, nil
}

// recentBars is how many results the result bars show.
const recentBars = 30

// checkViews are the engine's checks as the tables show them: the last
// results as bars and the 24-hour uptime (ups may be nil).
func (c *Console) checkViews(lang string, list []alert.CheckStatus, ups map[[2]string]checkhist.Uptime) []checkView {
	out := make([]checkView, len(list))
	for i, st := range list {
		bars := st.History
		if len(bars) > recentBars {
			bars = bars[len(bars)-recentBars:]
		}
		out[i] = checkView{CheckStatus: st, Bars: bars}
		if ups != nil {
			u := ups[[2]string{st.Check, st.Host}]
			u.Window = 24 * time.Hour
			v := c.uptime(lang, u)
			out[i].Uptime = &v
		}
	}
	return out
}

// addQuery adds k=v to a path that may hold a query already.
func addQuery(path, k, v string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + k + "=" + urlQueryEscape(v)
}

// dayUptimesOrNil is dayUptimes for pages that still show their checks
// when the store cannot sum them (the failure is logged).
func (c *Console) dayUptimesOrNil(ctx context.Context) map[[2]string]checkhist.Uptime {
	ups, err := c.dayUptimes(ctx)
	if err != nil {
		c.opt.Log.Warn("console: 24-hour uptimes", "err", err)
		return nil
	}
	return ups
}
