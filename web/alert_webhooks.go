package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/munja-sms/munja/outbox"
)

// The dedupe of alert webhooks (Alertmanager's and Grafana's).
//
// Neither sender marks a notification it sends again: Alertmanager and
// Grafana retry a webhook that failed or timed out, with backoff, until
// the notification's deadline, which is the route's group_interval (at
// least 10 s) plus, in a cluster, 15 s per peer ahead of it. A retry of a
// notification munja stored but could not answer would page twice. A
// notification is therefore keyed by what it is: sender, receiver (and
// Grafana's org), group key, status, and each alert's fingerprint,
// labels, status, start and end (Alertmanager sends a firing alert's end
// as zero, so its retries are byte for byte the same), plus the webhook's
// recipients and test flag. The same key within the window pages once:
// the copy is answered 200 with the message the first one stored, and
// "duplicate": true. An alert added to the group, or one that resolved,
// changes the key and pages.
//
// The window (DefaultDedupe, or ?dedupe= per webhook URL) must outlast
// the retries, so be longer than group_interval, and not swallow the
// reminders: Alertmanager sends one repeat_interval after it last
// delivered the notification, which is after munja stored it, so a
// window no longer than repeat_interval lets every reminder page. 10
// minutes covers the retries of the default group_interval of 5 minutes
// with room to spare (a cluster's waits, a group_interval of up to 9
// minutes) and lets every repeat_interval from 10 minutes up page (the
// default is 4 hours). With a shorter repeat_interval munja pages at most
// every 10 minutes: a reminder inside the window is taken for a retry.
//
// The key is kept in the store, in the transaction that stores the
// message (store.Messages.CreateWith), so it holds across restarts and
// across replicas sharing PostgreSQL, and two copies arriving at once
// page once.

// DefaultDedupe is how long an alert notification's copies are recognized.
const DefaultDedupe = 10 * time.Minute

// maxDedupe bounds ?dedupe=.
const maxDedupe = 24 * time.Hour

// notification is what munja pages from an alert webhook, read and checked.
type notification struct {
	kind      string   // alertmanager | grafana
	identity  []string // what names the group besides its alerts: receiver, group key, Grafana's org
	status    string
	alerts    []alertmanagerAlert // checked (checkAlerts)
	truncated int                 // alerts the sender left out
}

// webhookAnswer is the answer to an alert webhook: the message stored (202),
// or the one an earlier copy of the notification stored (200, duplicate).
type webhookAnswer struct {
	messageJSON
	Duplicate bool `json:"duplicate"`
}

// page sends n as one message through the outbox, unless the same
// notification was stored within the dedupe window. Recipients come from
// the query (?to=, ?group=, comma-separated or repeated), else
// alerting.recipients; ?test= sends in the gateway's test mode; ?dedupe=
// sets the window (0: off).
func (s *Server) page(w http.ResponseWriter, r *http.Request, c Caller, n notification) {
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
	window := DefaultDedupe
	if v := q.Get("dedupe"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxDedupe {
			writeError(w, s.opt.Log, badRequest("dedupe", "must be a duration from 0 (off) to 24h, e.g. 10m"))
			return
		}
		window = d
	}
	key := ""
	if window > 0 {
		key = n.key(to, groups, test)
	}
	text, title := composeAlerts(n.alerts, n.truncated)
	m, err := s.opt.Outbox.Submit(r.Context(), outbox.Request{
		To: to, Groups: groups, Text: text, Title: title, Type: "auto", Test: test,
		Source: "alertmanager", Actor: c.Name, DropLimited: true,
		Once: key, OnceWindow: window,
	})
	var de *outbox.DuplicateError
	if errors.As(err, &de) {
		first, err := s.opt.Store.GetMessage(r.Context(), de.MessageID)
		if err != nil {
			writeError(w, s.opt.Log, fmt.Errorf("read message %d: %w", de.MessageID, err))
			return
		}
		s.opt.Log.Info("alert webhook: a copy of a notification already stored, not paged again",
			"webhook", n.kind, "message", first.ID, "caller", c.Name)
		w.Header().Set("Location", fmt.Sprintf("/api/v1/messages/%d", first.ID))
		writeJSON(w, s.opt.Log, http.StatusOK, webhookAnswer{messageJSON: s.messageJSON(first), Duplicate: true})
		return
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/messages/%d", m.ID))
	writeJSON(w, s.opt.Log, http.StatusAccepted, webhookAnswer{messageJSON: s.messageJSON(m)})
}

// key names the notification sent to these recipients (see the comment at
// the top): a SHA-256 of its parts, each written with its length so that
// no two lists of parts read the same.
func (n notification) key(to, groups []string, test bool) string {
	h := sha256.New()
	part := func(h hash.Hash, parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s;", len(p), p)
		}
	}
	part(h, n.kind, n.status, strconv.FormatBool(test), strconv.Itoa(n.truncated))
	part(h, strconv.Itoa(len(n.identity)))
	part(h, n.identity...)
	part(h, strconv.Itoa(len(to)))
	part(h, to...)
	part(h, strconv.Itoa(len(groups)))
	part(h, groups...)
	// Alerts in a fixed order: a sender need not keep its order.
	alerts := make([]string, len(n.alerts))
	for i, a := range n.alerts {
		ah := sha256.New()
		part(ah, a.Fingerprint, a.Status, stamp(a.starts), stamp(a.ends))
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			part(ah, k, a.Labels[k])
		}
		alerts[i] = string(ah.Sum(nil))
	}
	slices.Sort(alerts)
	part(h, alerts...)
	return n.kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// stamp is t in a form that does not depend on its zone ("" for zero).
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
