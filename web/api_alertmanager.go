package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/outbox"
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

type alertmanagerAlert struct {
	Status       string            `json:"status"` // firing | resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// alertmanager relays one Alertmanager notification as one message through
// the outbox: one line per alert ("[경고] HighLoad (web01:9100): summary",
// "[복구] …" when resolved), an SMS when it fits 90 bytes, else an LMS cut
// at 2,000 bytes with "(외 N건)". Recipients come from the query (?to=,
// ?group=, comma-separated or repeated), else alerting.recipients.
// Alertmanager does the grouping, waiting and repeating; munja only pages.
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
	q := r.URL.Query()
	to := splitAll(q["to"])
	groups := splitAll(q["group"])
	if len(to) == 0 && len(groups) == 0 {
		to = s.opt.AlertRecipients
	}
	if len(to) == 0 && len(groups) == 0 {
		writeError(w, s.opt.Log, badRequest("to", "no recipients: add ?to=NUMBER or ?group=NAME to the webhook URL, or set alerting.recipients"))
		return
	}
	test := false
	if v := q.Get("test"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, s.opt.Log, badRequest("test", "must be true or false"))
			return
		}
		test = b
	}
	text, title := p.compose()
	m, err := s.opt.Outbox.Submit(r.Context(), outbox.Request{
		To: to, Groups: groups, Text: text, Title: title, Type: "auto", Test: test,
		Source: "alertmanager", Actor: c.Name, DropLimited: true,
	})
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/messages/%d", m.ID))
	writeJSON(w, s.opt.Log, http.StatusAccepted, s.messageJSON(m))
}

func (p *alertmanagerPayload) validate() error {
	if p.Version != "4" {
		return badRequest("version", fmt.Sprintf("version %q: munja reads Alertmanager webhook payload version 4", p.Version))
	}
	if len(p.Alerts) == 0 {
		return badRequest("alerts", "alerts is empty: nothing to send")
	}
	for i, a := range p.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return badRequest(fmt.Sprintf("alerts[%d].status", i), fmt.Sprintf("status %q: must be firing or resolved", a.Status))
		}
	}
	return nil
}

// compose writes the message: firing alerts first, then resolved ones, one
// line each, within the LMS limit; a title only when it will be an LMS.
func (p *alertmanagerPayload) compose() (text, title string) {
	var firing, resolved []string
	for _, a := range p.Alerts {
		if a.Status == "firing" {
			firing = append(firing, a.line("[경고]"))
		} else {
			resolved = append(resolved, a.line("[복구]"))
		}
	}
	lines := append(firing, resolved...)
	omitted := p.TruncatedAlerts
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
		title = fmt.Sprintf("[munja] 경고 %d건", len(firing)+p.TruncatedAlerts)
	case len(firing) == 0:
		title = fmt.Sprintf("[munja] 복구 %d건", len(resolved)+p.TruncatedAlerts)
	default:
		title = fmt.Sprintf("[munja] 경고 %d건, 복구 %d건", len(firing), len(resolved))
	}
	return text, title
}

// line is one alert: "[경고] alertname (instance): summary".
func (a alertmanagerAlert) line(prefix string) string {
	name := a.Labels["alertname"]
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
