package solapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider/internal/gateway"
)

// The JSON Solapi speaks (api.solapi.com, Nurigo's "v4" REST API). Field
// names come from Solapi's documents repository and official SDKs
// (solapi-go v2, solapi-nodejs); the decoders are tolerant where those
// sources disagree or the service is known to vary (numbers as strings,
// booleans as 0/1, null for absent strings, an object or a list of
// messages), so that a change of typing costs a log line, not an alert.

// errorBody is the envelope of every 4xx/5xx answer:
// {"errorCode":"SignatureDoesNotMatch","errorMessage":"…"}.
type errorBody struct {
	ErrorCode    flexString `json:"errorCode"`
	ErrorMessage flexString `json:"errorMessage"`
}

// sendRequest is the body of POST /messages/v4/send-many/detail. Only
// documented fields are sent: Solapi validates bodies strictly.
type sendRequest struct {
	Messages []wireMessage `json:"messages"`
}

// wireMessage is one message of a send. Type is always set (SMS or LMS,
// decided by munja from CP949 bytes) and autoTypeDetect is false, so that
// Solapi never turns an alert into another type on its own.
type wireMessage struct {
	To             string            `json:"to"`
	From           string            `json:"from"`
	Text           string            `json:"text"`
	Type           string            `json:"type"`
	Subject        string            `json:"subject,omitempty"`
	AutoTypeDetect bool              `json:"autoTypeDetect"`
	CustomFields   map[string]string `json:"customFields,omitempty"`
}

// detailResponse is the answer of send-many/detail: the message group and
// the messages it refused at registration. The older /send-many answers
// with the group itself at the top level; both are read.
type detailResponse struct {
	GroupInfo         *group          `json:"groupInfo"`
	FailedMessageList []failedMessage `json:"failedMessageList"`
	group
}

type group struct {
	GroupID flexString  `json:"groupId"`
	ID      flexString  `json:"_id"`
	Status  flexString  `json:"status"`
	Count   *groupCount `json:"count"`
}

func (g *group) id() string {
	if g == nil {
		return ""
	}
	if g.GroupID != "" {
		return string(g.GroupID)
	}
	return string(g.ID)
}

type groupCount struct {
	Total             flexInt `json:"total"`
	RegisteredSuccess flexInt `json:"registeredSuccess"`
	RegisteredFailed  flexInt `json:"registeredFailed"`
}

// failedMessage is a message Solapi refused at registration, with a
// 1xxx/2xxx status code (see codes.go).
type failedMessage struct {
	To            flexTo     `json:"to"`
	MessageID     flexString `json:"messageId"`
	StatusCode    flexString `json:"statusCode"`
	StatusMessage flexString `json:"statusMessage"`
}

// listResponse is GET /messages/v4/list (and …/groups/{id}/messages):
// messageList is an object keyed by message id; nextKey pages on.
type listResponse struct {
	MessageList messageList `json:"messageList"`
	StartKey    flexString  `json:"startKey"`
	NextKey     flexString  `json:"nextKey"`
}

// storedMessage is a message as the list shows it. Absent values come as
// null; to may be a list.
type storedMessage struct {
	MessageID     flexString   `json:"messageId"`
	ID            flexString   `json:"_id"`
	GroupID       flexString   `json:"groupId"`
	To            flexTo       `json:"to"`
	From          flexString   `json:"from"`
	Text          string       `json:"text"`
	Type          flexString   `json:"type"`
	Status        flexString   `json:"status"`
	StatusCode    flexString   `json:"statusCode"`
	Reason        flexString   `json:"reason"`
	CustomFields  customFields `json:"customFields"`
	DateCreated   flexString   `json:"dateCreated"`
	DateProcessed flexString   `json:"dateProcessed"`
	DateReported  flexString   `json:"dateReported"`
	DateReceived  flexString   `json:"dateReceived"`
}

func (m *storedMessage) id() string {
	if m.MessageID != "" {
		return string(m.MessageID)
	}
	return string(m.ID)
}

// messageList reads the documented object keyed by message id, or a plain
// list (tolerated), or null.
type messageList []storedMessage

// UnmarshalJSON implements json.Unmarshaler.
func (l *messageList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = nil
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []storedMessage
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*l = list
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("solapi: messageList is neither an object nor a list")
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key: a message id
			return err
		}
		var m storedMessage
		if err := dec.Decode(&m); err != nil {
			return err
		}
		*l = append(*l, m)
	}
	_, err := dec.Token()
	return err
}

// balanceResponse is GET /cash/v1/balance: money (KRW) and bonus points.
type balanceResponse struct {
	Balance flexFloat `json:"balance"`
	Point   flexFloat `json:"point"`
}

// prices are the account's unit prices in KRW.
type prices struct {
	SMS flexFloat `json:"sms"`
	LMS flexFloat `json:"lms"`
	MMS flexFloat `json:"mms"`
}

func (p prices) valid() bool { return p.SMS > 0 && p.LMS > 0 }

// parsePrices reads GET /pricing/v1/messaging. The documented answer is
// {"sms":20,"lms":50,"mms":200,…,"countryId":"82"}; the country list
// (/pricing/v1/messaging/countries) and a map keyed by country are read
// too, taking Korea's row (82).
func parsePrices(b []byte) (prices, error) {
	b = bytes.TrimSpace(b)
	var top prices
	if err := json.Unmarshal(b, &top); err == nil && top.valid() {
		return top, nil
	}
	var rows []struct {
		prices
		CountryID flexString `json:"countryId"`
	}
	if err := json.Unmarshal(b, &rows); err == nil {
		for _, r := range rows {
			if r.CountryID == "82" && r.valid() {
				return r.prices, nil
			}
		}
	}
	var byCountry map[string]prices
	if err := json.Unmarshal(b, &byCountry); err == nil {
		if p, ok := byCountry["82"]; ok && p.valid() {
			return p, nil
		}
	}
	return prices{}, fmt.Errorf("solapi: no SMS and LMS prices for Korea (82) in the pricing answer")
}

// customFields keeps the string values of the customFields object; other
// values (Solapi accepts strings only) are ignored.
type customFields map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (c *customFields) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = nil
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			if *c == nil {
				*c = customFields{}
			}
			(*c)[k] = s
		}
	}
	return nil
}

// flexString is a string that may arrive as a number (statusCode 2000),
// a boolean, or null ("").
type flexString = gateway.FlexString

// flexInt is a count that may arrive as a number, a numeric string or null.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	var v flexFloat
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	if v != flexFloat(math.Trunc(float64(v))) || math.Abs(float64(v)) > 1<<53 {
		return fmt.Errorf("solapi: %s is not a whole number", gateway.Snippet(string(b)))
	}
	*f = flexInt(v)
	return nil
}

// flexFloat is an amount (KRW, points) that may arrive as a number, a
// numeric string ("0", as notificationBalance does) or null.
type flexFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("solapi: %q is not a number", gateway.Snippet(string(s)))
	}
	*f = flexFloat(v)
	return nil
}

// flexTo is a receiver that may be a string or a list of strings (a
// message to several receivers); it keeps the first.
type flexTo string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexTo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []flexString
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*f = ""
		if len(list) > 0 {
			*f = flexTo(list[0])
		}
		return nil
	}
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexTo(s)
	return nil
}

// parseTime reads Solapi's ISO 8601 times ("2021-07-14T06:58:25.394Z");
// "" or garbage gives the zero time.
func parseTime(s flexString) time.Time {
	v := strings.TrimSpace(string(s))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}
