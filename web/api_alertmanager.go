package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
)

// alertmanagerPayload is the body of Prometheus Alertmanager's webhook
// (payload version 4). Fields munja does not use are still listed so that
// the documented shape and this struct stay one thing; unknown fields are
// ignored (Alertmanager may add some).
type alertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []alertmanagerAlert `json:"alerts"`
}

// alertmanagerAlert is one alert of a notification, Alertmanager's or
// Grafana's (a grafanaAlert is read into one).
type alertmanagerAlert struct {
	Status       string            `json:"status"` // firing | resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"` // RFC 3339, read by check
	EndsAt       string            `json:"endsAt"`   // zero while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`

	starts, ends time.Time // StartsAt and EndsAt, set by check
	name         string    // the name in its line when not labels.alertname (Grafana's no-data alerts)
}

// alertmanager relays one Alertmanager notification as one message through
// the outbox (see page): one line per alert ("[경고] HighLoad (web01:9100):
// summary", "[복구] …" when resolved), an SMS when it fits 90 bytes, else
// an LMS cut at 2,000 bytes with "(외 N건)". The same notification sent
// again within the dedupe window pages once. Alertmanager does the
// grouping, waiting and repeating; munja only pages.
func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request, c Caller) {
	var p alertmanagerPayload
	if err := decodeLenient(r, &p); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	if err := p.validate(); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.page(w, r, c, notification{
		kind:      "alertmanager",
		identity:  []string{p.Receiver, p.GroupKey},
		status:    p.Status,
		alerts:    p.Alerts,
		truncated: p.TruncatedAlerts,
	})
}

func (p *alertmanagerPayload) validate() error {
	switch {
	case p.Version == "1":
		return badRequest("version", `version "1" is Grafana's webhook: point Grafana's contact point at /api/v1/grafana (this path reads Alertmanager's, version 4)`)
	case p.Version != "4":
		return badRequest("version", fmt.Sprintf("version %q: munja reads Alertmanager webhook payload version 4", p.Version))
	}
	return checkAlerts(p.Alerts, p.TruncatedAlerts)
}

// checkAlerts checks the alerts of a notification (and the count of those
// left out) and reads their times.
func checkAlerts(alerts []alertmanagerAlert, truncated int) error {
	if truncated < 0 {
		return badRequest("truncatedAlerts", "truncatedAlerts must not be negative")
	}
	if len(alerts) == 0 {
		return badRequest("alerts", "alerts is empty: nothing to send")
	}
	for i := range alerts {
		if err := alerts[i].check(fmt.Sprintf("alerts[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// check checks the alert's status and reads its times (an absent time is
// zero); at is its field path.
func (a *alertmanagerAlert) check(at string) error {
	if a.Status != "firing" && a.Status != "resolved" {
		return badRequest(at+".status", fmt.Sprintf("status %q: must be firing or resolved", a.Status))
	}
	for _, f := range []struct {
		name string
		raw  string
		dst  *time.Time
	}{{"startsAt", a.StartsAt, &a.starts}, {"endsAt", a.EndsAt, &a.ends}} {
		if f.raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.raw)
		if err != nil {
			return badRequest(at+"."+f.name, fmt.Sprintf("%s %q: must be RFC 3339, e.g. 2026-11-25T09:00:00+09:00", f.name, f.raw))
		}
		*f.dst = t
	}
	return nil
}

// composeAlerts writes the message: firing alerts first, then resolved
// ones, one line each, within the LMS limit; a title only when it will be
// an LMS. truncated counts alerts the sender left out.
func composeAlerts(alerts []alertmanagerAlert, truncated int) (text, title string) {
	var firing, resolved []string
	for _, a := range alerts {
		if a.Status == "firing" {
			firing = append(firing, a.line("[경고]"))
		} else {
			resolved = append(resolved, a.line("[복구]"))
		}
	}
	lines := append(firing, resolved...)
	omitted := truncated
	// Keep whole lines while they fit with room for the "(외 N건)" note.
	const room = sms.MaxLMSBytes - 16
	used, kept := 0, 0
	for _, l := range lines {
		n, _ := sms.CountBytes(l) // lines are sanitized
		if kept > 0 {
			n++ // the newline
		}
		if used+n > room {
			break
		}
		used += n
		kept++
	}
	if kept == 0 { // one huge line: cut it
		lines[0] = sms.Truncate(lines[0], room)
		kept = 1
	}
	omitted += len(lines) - kept
	text = strings.Join(lines[:kept], "\n")
	if omitted > 0 {
		text += fmt.Sprintf("\n(외 %d건)", omitted)
	}
	if n, _ := sms.CountBytes(text); n <= sms.MaxSMSBytes {
		return text, "" // an SMS has no title (a title would make it an LMS)
	}
	switch {
	case len(resolved) == 0:
		title = fmt.Sprintf("[munja] 경고 %d건", len(firing)+truncated)
	case len(firing) == 0:
		title = fmt.Sprintf("[munja] 복구 %d건", len(resolved)+truncated)
	default:
		title = fmt.Sprintf("[munja] 경고 %d건, 복구 %d건", len(firing), len(resolved))
	}
	return text, title
}

// line is one alert: "[경고] alertname (instance): summary".
func (a alertmanagerAlert) line(prefix string) string {
	name := a.name
	if name == "" {
		name = a.Labels["alertname"]
	}
	if name == "" {
		name = "alert"
	}
	l := prefix + " " + name
	if inst := a.Labels["instance"]; inst != "" {
		l += " (" + inst + ")"
	}
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = a.Annotations["description"]
	}
	if summary = strings.Join(strings.Fields(summary), " "); summary != "" {
		l += ": " + summary
	}
	return sms.Sanitize(l)
}

// splitAll splits comma-separated query values.
func splitAll(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, splitList(v)...)
	}
	return out
}
