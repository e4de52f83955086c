package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/store"
)

type checkView struct {
	alert.CheckStatus
	Bars   []alert.HistoryPoint // the last recentBars results
	Uptime *uptimeView          // over 24 hours; nil when not looked up
}

type dashboardData struct {
	Monitoring bool
	Checks     []checkView
	Open       []alert.Incident
	Silences   []alert.Silence
	Balances   []balanceView
	Today      int
	PerDay     int
	Recent     []historyRow
	Silence    silenceDefaults
	OnCall     []nowView // who is on call now per schedule; none: no card
}

// silenceDefaults prefill the silence forms: an hour from now.
type silenceDefaults struct{ Date, Time string }

func (c *Console) silenceDefaults() silenceDefaults {
	t := c.opt.Now().Add(time.Hour).In(c.loc)
	return silenceDefaults{Date: t.Format("2006-01-02"), Time: t.Format("15:04")}
}

// midnight is the start of today in the configured time zone.
func (c *Console) midnight() time.Time {
	now := c.opt.Now().In(c.loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.loc)
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	d := dashboardData{PerDay: c.opt.Config.SMS.Limits.PerDay, Silence: c.silenceDefaults()}
	if e := c.alerts(); e != nil {
		d.Monitoring = true
		d.Checks = c.checkViews(q.Lang, e.Checks(), c.dayUptimesOrNil(ctx))
		d.Open = e.Incidents(true)
		d.Silences = e.Silences()
	}
	var err error
	if d.Today, err = c.opt.Store.CountDeliveriesSince(ctx, c.midnight(), ""); err != nil {
		c.internal(w, r, q, err)
		return
	}
	ms, err := c.opt.Store.ListMessages(ctx, store.MessageFilter{Limit: 5})
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	for _, m := range ms {
		m = shown(q, m)
		d.Recent = append(d.Recent, historyRow{Message: m, Summary: summarize(m), Short: shorten(strings.ReplaceAll(m.Text, "\n", " "), 40)})
	}
	d.Balances = c.balances(ctx, q.Lang, false)
	d.OnCall = c.onCallNow(ctx)
	c.render(w, r, q, "dashboard", "dashboard.title", "dashboard", d)
}
