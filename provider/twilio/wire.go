package twilio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// message is the part of Twilio's Message resource munja reads
// (aligo-api.md §9.4). date_sent and date_updated are not in §9.4 but are
// read when present.
type message struct {
	SID          string  `json:"sid"`
	Status       string  `json:"status"`
	To           string  `json:"to"`
	From         string  `json:"from"`
	Body         string  `json:"body"`
	NumSegments  flexInt `json:"num_segments"` // a string, "1"
	ErrorCode    flexInt `json:"error_code"`   // null until something failed
	ErrorMessage string  `json:"error_message"`
	DateCreated  string  `json:"date_created"` // RFC 2822: Tue, 26 Jul 2016 12:50:07 +0000
	DateSent     string  `json:"date_sent"`
	DateUpdated  string  `json:"date_updated"`
}

// apiError is Twilio's error envelope:
// {"code":21211,"message":"…","more_info":"https://www.twilio.com/docs/errors/21211","status":400}.
type apiError struct {
	Code     flexInt `json:"code"`
	Message  string  `json:"message"`
	MoreInfo string  `json:"more_info"`
	Status   flexInt `json:"status"`
}

// flexInt decodes a number Twilio may write as a number (21211), a numeric
// string ("2") or null / "" (0). Tolerant on purpose: §9.4 shows
// num_segments as a string and codes as numbers, and an SDK-era field
// changing type must not make an accepted send look failed.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if s == "null" {
		*f = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("twilio: %q is not an integer", s)
	}
	*f = flexInt(n)
	return nil
}

// answer classifies an answer to a call: a 2xx with a Message resource, a
// refused receiver (rej: a permanent error for that receiver only; POST
// only), or a classified *provider.Error. post says the call created a
// Message, so an answer that leaves its fate open is Uncertain.
func (c *Client) answer(status int, body []byte, post bool) (m message, rej *provider.Error, err error) {
	if status >= 200 && status < 300 {
		if err := gateway.Unmarshal(body, &m); err != nil {
			// Twilio answers 201 only for a created Message: if that body is
			// unreadable, the send may well have been accepted.
			return message{}, nil, c.decodeError(body, err, post && status == 201)
		}
		if strings.TrimSpace(m.SID) == "" {
			return message{}, nil, c.decodeError(body, errors.New("no sid in the answer"), post && status == 201)
		}
		return m, nil, nil
	}
	var e apiError
	if err := json.Unmarshal(bytes.TrimSpace(body), &e); err != nil || (e.Code == 0 && e.Message == "") {
		e = apiError{} // a proxy's page, not Twilio's envelope
	}
	pe, recipient := c.statusError(status, e, body, post)
	if recipient && post {
		return message{}, pe, nil
	}
	return message{}, nil, pe
}

// twilioTime reads Twilio's RFC 2822 dates; "" or garbage gives zero.
func twilioTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
