package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// messageSID is a Message SID (SM… for SMS, MM… for MMS): it goes into the
// URL path, so nothing else is let through.
var messageSID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`) })

// Reports fetches the Message (GET …/Messages/{Sid}.json) and reports its
// status for its one receiver. messageID is what Send returned
// ("SM…;segments=N") or a bare SID.
//
// Statuses: §9.4 names queued and accepted only; the rest are Twilio's
// documented lifecycle, not confirmed by §9.4: delivered and read are
// delivered; failed, undelivered and canceled are final failures; anything
// else (accepted, scheduled, queued, sending, sent — "sent" is handed to
// the carrier, which may never confirm for some countries) is pending, and
// munja stops asking a day after sending.
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	sid, _ := SplitMessageID(messageID)
	if !messageSID().MatchString(sid) {
		return nil, c.gw().RequestError("bad message id", "Twilio 메시지 ID가 아닙니다: "+strconv.Quote(messageID),
			"not a Twilio message id: "+strconv.Quote(messageID))
	}
	status, body, err := c.do(ctx, http.MethodGet, c.accountPath("/Messages/"+sid+".json"), nil)
	if err != nil {
		return nil, err
	}
	m, _, err := c.answer(status, body, false)
	if err != nil {
		return nil, err
	}
	return []provider.RecipientReport{c.report(m)}, nil
}

func (c *Client) report(m message) provider.RecipientReport {
	r := provider.RecipientReport{Phone: sms.Phone(strings.TrimSpace(m.To)), State: c.stateText(m)}
	if p, err := sms.ParsePhone(m.To); err == nil {
		r.Phone = p
	}
	switch strings.ToLower(strings.TrimSpace(m.Status)) {
	case "delivered", "read":
		r.Delivered = true
	case "failed", "undelivered", "canceled":
		r.Failed = true
	}
	for _, s := range []string{m.DateSent, m.DateUpdated, m.DateCreated} {
		if t := twilioTime(s); !t.IsZero() {
			r.At = t.In(time.UTC)
			break
		}
	}
	return r
}

// stateText is the status in Twilio's words, with its error when it has
// one: "undelivered 30003 Unreachable destination handset".
func (c *Client) stateText(m message) string {
	s := strings.TrimSpace(m.Status)
	if m.ErrorCode != 0 {
		s += " " + strconv.FormatInt(int64(m.ErrorCode), 10)
	}
	if msg := strings.TrimSpace(m.ErrorMessage); msg != "" {
		s += " " + c.redact(msg)
	}
	return strings.TrimSpace(s)
}

// lookupPage is how many of the newest Messages to each receiver Lookup
// reads: a page, far more than munja sends one number in a lookup's span.
const lookupPage = 20

// Lookup implements provider.Looker: for each receiver of b it lists the
// newest Messages to it from this account's number (GET
// …/Messages.json?To=…&From=…&PageSize=20) and takes one with b's text
// created at or after since (a minute of clock skew allowed). The list
// resource and its To/From filters are Twilio's documented API but not in
// aligo-api.md §9.4 (unconfirmed here); it is not filtered by DateSent,
// which a Message still queued does not have.
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	found := map[sms.Phone]string{}
	for _, p := range b.Receivers {
		q := url.Values{"To": {E164(p)}, "From": {c.from}, "PageSize": {strconv.Itoa(lookupPage)}}
		status, body, err := c.do(ctx, http.MethodGet, c.accountPath("/Messages.json")+"?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		if status < 200 || status >= 300 {
			_, _, err := c.answer(status, body, false)
			return nil, err
		}
		var page struct {
			Messages []message `json:"messages"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(body), &page); err != nil {
			return nil, c.decodeError(body, err, false)
		}
		for _, m := range page.Messages {
			created := twilioTime(m.DateCreated)
			if m.Body != b.Text || created.IsZero() || created.Before(since.Add(-time.Minute)) || !messageSID().MatchString(m.SID) {
				continue
			}
			switch strings.ToLower(m.Status) {
			case "failed", "undelivered", "canceled":
				continue // it has it, but it will not deliver it: send again
			}
			found[p] = MessageID(m.SID, int(m.NumSegments))
			break
		}
	}
	return found, nil
}
