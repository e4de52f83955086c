package twilio

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// messageSID is a Message SID (SM… for SMS, MM… for MMS): it goes into the
// URL path, so nothing else is let through.
var messageSID = regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)

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
	if !messageSID.MatchString(sid) {
		return nil, c.requestError("bad message id", "Twilio 메시지 ID가 아닙니다: "+strconv.Quote(messageID),
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
