package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
)

// livenessCheck is agent.LivenessCheck, which console may not import: the
// server's own check of whether an agent's host reports (a test holds the
// two equal).
const livenessCheck = "agent"

// hostView is one host on the hosts page: this one, or an agent's.
type hostView struct {
	Name   string // as shown
	Host   string // the engine's host: "" = this host
	Anchor string // the section's id
	Local  bool
	// Agent is the host's liveness check (agents only; nil until the
	// first report) and LastReport when the host last reported, as far as
	// the results the engine keeps tell.
	Agent      *checkView
	LastReport time.Time
	Reporting  string // "yes", "no" (overdue), "unknown"
	AgentHref  string // the liveness check's page
	Checks     []checkView
	Firing     int // checks failing (pending included)
	Blind      int // checks that cannot check
}

type hostsData struct {
	Monitoring bool
	Hosts      []hostView
}

// hostsPage groups the checks by host: this host first, then each agent's
// host with whether it reports.
func (c *Console) hostsPage(w http.ResponseWriter, r *http.Request, q *request) {
	var d hostsData
	if e := c.alerts(); e != nil {
		d.Monitoring = true
		d.Hosts = c.hostViews(c.checkViews(q.Lang, e.Checks(), c.dayUptimesOrNil(r.Context())))
	}
	c.render(w, r, q, "hosts", "hosts.title", "hosts", d)
}

func (c *Console) hostViews(views []checkView) []hostView {
	byHost := map[string]*hostView{"": {Name: c.opt.Config.HostName(), Local: true}}
	for i := range views {
		v := &views[i]
		h := byHost[v.Host]
		if h == nil {
			h = &hostView{Name: v.Host, Host: v.Host}
			byHost[v.Host] = h
		}
		if v.Host != "" && v.Check == livenessCheck {
			h.Agent = v
			h.LastReport = lastReport(v.CheckStatus)
			h.AgentHref = "/checks/" + url.PathEscape(v.Check) + "?host=" + url.QueryEscape(v.Host)
			switch v.State {
			case alert.StateOK:
				h.Reporting = "yes"
			case alert.StateFiring, alert.StatePending:
				h.Reporting = "no"
			default:
				h.Reporting = "unknown"
			}
			continue
		}
		h.Checks = append(h.Checks, *v)
		switch v.State {
		case alert.StateFiring, alert.StatePending:
			h.Firing++
		case alert.StateCannotCheck:
			h.Blind++
		}
	}
	out := make([]hostView, 0, len(byHost))
	for _, h := range byHost {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b hostView) int {
		if a.Local != b.Local {
			if a.Local {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i := range out {
		out[i].Anchor = "host-" + strconv.Itoa(i)
	}
	return out
}

// lastReport is when an agent's host last reported: its liveness check's
// latest ok result.
func lastReport(st alert.CheckStatus) time.Time {
	if st.Last.OK {
		return st.Last.At
	}
	for i := len(st.History) - 1; i >= 0; i-- {
		if st.History[i].OK {
			return st.History[i].At
		}
	}
	return time.Time{}
}

// depLink is a check another one depends on (alert SuppressedBy), linked
// to its page.
type depLink struct{ Label, Href string }

// depLinks links the names in a SuppressedBy of a check on host: a check
// of the same host, or "host:NAME", an agent's host (its liveness check).
func (c *Console) depLinks(host string, names []string) []depLink {
	out := make([]depLink, 0, len(names))
	for _, n := range names {
		if h, ok := strings.CutPrefix(n, "host:"); ok {
			out = append(out, depLink{Label: n, Href: "/checks/" + url.PathEscape(livenessCheck) + "?host=" + url.QueryEscape(h)})
			continue
		}
		href := "/checks/" + url.PathEscape(n)
		if host != "" {
			href += "?host=" + url.QueryEscape(host)
		}
		out = append(out, depLink{Label: n, Href: href})
	}
	return out
}
