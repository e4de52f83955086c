package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// sentWindow is how long before the engine recorded a notification its
// message may have been stored: the engine records it once the outbox
// accepted the message, within its notify timeout (10 s by default).
const sentWindow = 30 * time.Second

// sentMessage opens the message an incident sent at ?at= (Unix
// milliseconds, as the check page links it). An incident records when
// and to whom it sent, not the message's ID, so the message is looked up:
// an alert message stored just before, to the same phone numbers,
// carrying the incident's text. When none fits, that day's history opens,
// saying so.
func (c *Console) sentMessage(w http.ResponseWriter, r *http.Request, q *request) {
	e := c.alerts()
	if e == nil {
		c.fail(w, r, q, http.StatusServiceUnavailable, "err.no_monitor")
		return
	}
	inc, err := e.Incident(r.PathValue("id"))
	if c.failStore(w, r, q, err) {
		return
	}
	ms, err := strconv.ParseInt(r.URL.Query().Get("at"), 10, 64)
	if err != nil {
		c.fail(w, r, q, http.StatusBadRequest, "err.bad_value")
		return
	}
	i := slices.IndexFunc(inc.Notifications, func(n alert.SentNotification) bool { return n.At.UnixMilli() == ms })
	if i < 0 {
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
		return
	}
	n := inc.Notifications[i]
	id, err := c.findSent(r.Context(), inc, n)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	if id != 0 {
		http.Redirect(w, r, "/messages/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return
	}
	day := n.At.In(c.loc).Format("2006-01-02")
	redirect(w, r, "/history?"+url.Values{"from": {day}, "to": {day}}.Encode(), "sent_unknown")
}

// findSent returns the ID of the message that carried notification n of
// inc, or 0 when no stored message fits.
func (c *Console) findSent(ctx context.Context, inc alert.Incident, n alert.SentNotification) (int64, error) {
	list, err := c.opt.Store.ListMessages(ctx, store.MessageFilter{Source: "alert",
		Since: n.At.Add(-sentWindow), Until: n.At.Add(time.Second), Limit: 200})
	if err != nil {
		return 0, err
	}
	var phones []sms.Phone // recipients named by number; groups are not expanded
	for _, to := range n.Recipients {
		if p, err := sms.ParsePhone(to); err == nil {
			phones = append(phones, p)
		}
	}
	var best *sms.Message
	bestText := false
	for _, m := range list {
		if !slices.ContainsFunc(phones, func(p sms.Phone) bool { return !deliversTo(m, p) }) {
			text := n.Reason != alert.ReasonResolved && inc.Text != "" && strings.Contains(m.Text, inc.Text)
			switch {
			case best == nil, text && !bestText,
				text == bestText && absDur(m.CreatedAt.Sub(n.At)) < absDur(best.CreatedAt.Sub(n.At)):
				best, bestText = m, text
			}
		}
	}
	if best == nil {
		return 0, nil
	}
	return best.ID, nil
}

func deliversTo(m *sms.Message, p sms.Phone) bool {
	return slices.ContainsFunc(m.Deliveries, func(d sms.Delivery) bool { return d.Phone == p })
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
