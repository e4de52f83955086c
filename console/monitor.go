package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

const recentIncidents = 50

type checksData struct {
	Monitoring bool
	Checks     []checkView
	Open       []alert.Incident
	Recent     []alert.Incident
	Silences   []alert.Silence
	Silence    silenceDefaults
}

func (c *Console) checksPage(w http.ResponseWriter, r *http.Request, q *request) {
	d := checksData{Silence: c.silenceDefaults()}
	if e := c.alerts(); e != nil {
		d.Monitoring = true
		d.Checks = c.checkViews(q.Lang, e.Checks(), c.dayUptimesOrNil(r.Context()))
		for _, inc := range e.Incidents(false) {
			if inc.Open() {
				d.Open = append(d.Open, inc)
			} else if len(d.Recent) < recentIncidents {
				d.Recent = append(d.Recent, inc)
			}
		}
		d.Silences = e.Silences()
	}
	c.render(w, r, q, "checks", "checks.title", "checks", d)
}

type checkData struct {
	Monitoring bool
	Found      bool
	Name, Host string
	Status     checkView
	Config     *config.Check
	History    []alert.HistoryPoint // newest first
	Hist       checkHistory
	Incidents  []incidentRow
	Silence    silenceDefaults
	Back       string
}

// incidentRow is an incident on the check page: how long it lasted and
// the messages it sent.
type incidentRow struct {
	alert.Incident
	Duration string
	Sent     []sentLink // newest first
	More     int        // messages sent but not listed
}

// sentLink is one message sent for an incident, linked to it in the
// history (through /incidents/{id}/sent, which finds it).
type sentLink struct {
	alert.SentNotification
	Href string
}

// maxSentShown and maxCheckIncidents bound the check page's incident table.
const (
	maxSentShown      = 5
	maxCheckIncidents = 50
)

func (c *Console) checkPage(w http.ResponseWriter, r *http.Request, q *request) {
	d := checkData{Name: r.PathValue("name"), Host: r.URL.Query().Get("host"), Silence: c.silenceDefaults()}
	rng, ok := parseRange(r.URL.Query().Get("range"))
	if !ok {
		c.fail(w, r, q, http.StatusBadRequest, "err.range", rangeKeys())
		return
	}
	d.Back = "/checks/" + url.PathEscape(d.Name)
	if d.Host != "" {
		d.Back += "?host=" + url.QueryEscape(d.Host)
	}
	if d.Host == "" { // the config describes this host's checks only
		for i := range c.opt.Config.Checks {
			if c.opt.Config.Checks[i].Name == d.Name {
				d.Config = &c.opt.Config.Checks[i]
			}
		}
	}
	if e := c.alerts(); e != nil {
		d.Monitoring = true
		var mine []alert.CheckStatus
		for _, st := range e.Checks() {
			if st.Check == d.Name && st.Host == d.Host {
				mine = append(mine, st)
			}
		}
		if len(mine) > 0 {
			d.Status, d.Found = c.checkViews(q.Lang, mine, nil)[0], true
		}
		now := c.opt.Now()
		for _, inc := range e.Incidents(false) {
			if inc.Check == d.Name && inc.Host == d.Host && len(d.Incidents) < maxCheckIncidents {
				d.Incidents = append(d.Incidents, c.incidentRow(q.Lang, inc, now))
			}
		}
	}
	if !d.Found && d.Config == nil {
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	}
	var err error
	if d.Hist, err = c.loadHistory(r.Context(), q.Lang, d.Name, d.Host, d.Config, rng, d.Back); err != nil {
		c.internal(w, r, q, err)
		return
	}
	d.History = slices.Clone(d.Status.History)
	slices.Reverse(d.History)
	c.render(w, r, q, "check", "check.title", "checks", d)
}

func (c *Console) incidentRow(lang string, inc alert.Incident, now time.Time) incidentRow {
	end := inc.Resolved
	if inc.Open() {
		end = now
	}
	row := incidentRow{Incident: inc, Duration: c.fmtDur(lang, end.Sub(inc.Started))}
	for i := len(inc.Notifications) - 1; i >= 0; i-- {
		if len(row.Sent) == maxSentShown {
			break
		}
		n := inc.Notifications[i]
		row.Sent = append(row.Sent, sentLink{SentNotification: n,
			Href: "/incidents/" + url.PathEscape(inc.ID) + "/sent?at=" + strconv.FormatInt(n.At.UnixMilli(), 10)})
	}
	row.More = max(inc.NotificationCount, len(inc.Notifications)) - len(row.Sent)
	return row
}

type incidentData struct {
	Inc     alert.Incident
	Silence silenceDefaults
	Back    string
}

func (c *Console) incidentPage(w http.ResponseWriter, r *http.Request, q *request) {
	e := c.alerts()
	if e == nil {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.no_monitor")
		return
	}
	inc, err := e.Incident(r.PathValue("id"))
	if c.failStore(w, r, q, err) {
		return
	}
	c.render(w, r, q, "incident", "incident.title", "checks",
		incidentData{Inc: inc, Silence: c.silenceDefaults(), Back: "/incidents/" + url.PathEscape(inc.ID)})
}

func (c *Console) incidentAck(w http.ResponseWriter, r *http.Request, q *request) {
	e := c.alerts()
	if e == nil {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.no_monitor")
		return
	}
	id := r.PathValue("id")
	err := e.Ack(r.Context(), id, q.userName())
	switch {
	case errors.Is(err, alert.ErrReadOnly):
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.read_only")
		return
	case errors.Is(err, store.ErrNotFound):
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	case errors.Is(err, alert.ErrIncidentClosed):
		c.fail(w, r, q, http.StatusConflict, "err.incident_closed")
		return
	case err != nil:
		c.internal(w, r, q, err)
		return
	}
	c.audit(r.Context(), q.actor(), "incident.ack", id, "")
	back := safeNext(r.PostFormValue("back"))
	if back == "/" && r.PostFormValue("back") == "" {
		back = "/incidents/" + url.PathEscape(id)
	}
	redirect(w, r, back, "acked")
}

func (c *Console) silenceCreate(w http.ResponseWriter, r *http.Request, q *request) {
	e := c.alerts()
	if e == nil {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.no_monitor")
		return
	}
	f, errs := decodeSilenceForm(r.PostForm, c.loc, c.opt.Now(), c.tr(q.Lang))
	if len(errs) > 0 {
		var msgs []string
		for _, m := range errs {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		c.fail(w, r, q, http.StatusUnprocessableEntity, "err.silence", strings.Join(msgs, " "))
		return
	}
	id, err := e.Silence(r.Context(), alert.SilenceSpec{Check: f.Check, Host: f.Host, Until: f.Until, By: q.userName(), Comment: f.Comment})
	if errors.Is(err, alert.ErrReadOnly) {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.read_only")
		return
	}
	if errors.Is(err, alert.ErrBadSilence) {
		c.fail(w, r, q, http.StatusUnprocessableEntity, "err.silence", c.t(q.Lang, "err.until_past"))
		return
	}
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	target := f.Check
	if target == "" {
		target = "*"
	}
	if f.Host != "" {
		target += "@" + f.Host
	}
	c.audit(r.Context(), q.actor(), "silence.create", target, "until "+c.fmtTime(f.Until)+" id "+id)
	redirect(w, r, f.Back, "silenced")
}

func (c *Console) silenceDelete(w http.ResponseWriter, r *http.Request, q *request) {
	e := c.alerts()
	if e == nil {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.no_monitor")
		return
	}
	id := r.PathValue("id")
	err := e.Unsilence(r.Context(), id)
	switch {
	case errors.Is(err, alert.ErrReadOnly):
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.read_only")
		return
	case errors.Is(err, store.ErrNotFound):
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	case errors.Is(err, alert.ErrBadSilence):
		c.fail(w, r, q, http.StatusConflict, "err.silence_config")
		return
	case err != nil:
		c.internal(w, r, q, err)
		return
	}
	c.audit(r.Context(), q.actor(), "silence.delete", id, "")
	redirect(w, r, safeNext(r.PostFormValue("back")), "unsilenced")
}
