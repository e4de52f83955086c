package web

import (
	"fmt"
	"net/http"
)

// grafanaPayload is the body of Grafana Alerting's webhook contact point
// (Grafana 8 and later, "version": "1"): Alertmanager's shape, with
// Grafana's fields added. Unknown fields are ignored (Grafana adds some).
type grafanaPayload struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	OrgID             int64             `json:"orgId"`
	Alerts            []grafanaAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Title             string            `json:"title"`   // Grafana's English text: not used,
	State             string            `json:"state"`   // munja writes the message itself
	Message           string            `json:"message"` // in Korean
}

// grafanaAlert is one alert of a Grafana notification: Alertmanager's
// alert with Grafana's fields (not embedded, so that a decoding error names
// the field as the sender wrote it: alerts.labels, not a Go type).
type grafanaAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	Values       map[string]float64 `json:"values"`
	ValueString  string             `json:"valueString"`
	ImageURL     string             `json:"imageURL"`
}

// Grafana's alerts for a rule whose query returned no data or failed: the
// rule is named in the rulename label.
var grafanaDatasourceAlerts = map[string]string{
	"DatasourceNoData": "데이터 없음",
	"DatasourceError":  "데이터 소스 오류",
}

// grafana relays one Grafana notification as one message, exactly as
// alertmanager does: the same lines, the same dedupe, the same recipients.
func (s *Server) grafana(w http.ResponseWriter, r *http.Request, c Caller) {
	var p grafanaPayload
	if err := decodeLenient(r, &p); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	alerts, err := p.alerts()
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.page(w, r, c, notification{
		kind:      "grafana",
		identity:  []string{p.Receiver, fmt.Sprint(p.OrgID), p.GroupKey},
		status:    p.Status,
		alerts:    alerts,
		truncated: p.TruncatedAlerts,
	})
}

// alerts checks p and returns its alerts as munja pages them.
func (p *grafanaPayload) alerts() ([]alertmanagerAlert, error) {
	switch p.Version {
	case "1":
	case "4":
		return nil, badRequest("version", `version "4" is Alertmanager's webhook: point Alertmanager at /api/v1/alertmanager (this path reads Grafana's, version 1)`)
	case "":
		return nil, badRequest("version", "no version: munja reads Grafana Alerting's webhook (version 1, Grafana 8 and later), not the legacy dashboard alerts'")
	default:
		return nil, badRequest("version", fmt.Sprintf("version %q: munja reads Grafana's webhook payload version 1", p.Version))
	}
	alerts := make([]alertmanagerAlert, len(p.Alerts))
	for i, a := range p.Alerts {
		alerts[i] = alertmanagerAlert{
			Status: a.Status, Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, EndsAt: a.EndsAt,
			GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
		}
		if what, ok := grafanaDatasourceAlerts[a.Labels["alertname"]]; ok && a.Labels["rulename"] != "" {
			alerts[i].name = a.Labels["rulename"] + " " + what
		}
	}
	if err := checkAlerts(alerts, p.TruncatedAlerts); err != nil {
		return nil, err
	}
	return alerts, nil
}
