package sens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider/internal/gateway"
)

// The JSON of Naver Cloud SENS SMS v2 (aligo-api.md §9.3,
// api.ncloud-docs.com sens-sms-send, sens-sms-list, sens-sms-get). Codes
// that the docs type as String ("statusCode":"202") are numbers in some
// clients' captures, and the API gateway's errorCode is documented as
// Integer but shown as "210": all are decoded as number-or-string.

// signature returns x-ncp-apigw-signature-v2 for a request:
// Base64(HMAC-SHA256(secretKey, method + " " + uri + "\n" + timestamp +
// "\n" + accessKey)), uri being the path with its query string as sent and
// timestamp the x-ncp-apigw-timestamp value (epoch milliseconds). The fake
// gateway (senstest) computes it on its own, not with this function.
func signature(secretKey, method, uri, timestamp, accessKey string) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(method + " " + uri + "\n" + timestamp + "\n" + accessKey))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// flexString is a JSON string, number or boolean as its text; null gives "".
type flexString = gateway.FlexString

// sendRequest is the body of POST /sms/v2/services/{serviceId}/messages.
// No reserveTime: a scheduled message waits in munja's outbox.
type sendRequest struct {
	Type        string    `json:"type"`        // SMS or LMS
	ContentType string    `json:"contentType"` // COMM: munja sends no ads
	CountryCode string    `json:"countryCode"`
	From        string    `json:"from"`
	Subject     string    `json:"subject,omitempty"` // LMS only
	Content     string    `json:"content"`
	Messages    []message `json:"messages"`
}

type message struct {
	To string `json:"to"`
}

// sendResponse is the 202 answer of a send.
type sendResponse struct {
	RequestID   string     `json:"requestId"`
	RequestTime string     `json:"requestTime"`
	StatusCode  flexString `json:"statusCode"` // 202 success
	StatusName  string     `json:"statusName"` // success | fail
}

// listResponse is GET …/messages?requestId= (or by request time): one row
// per recipient. The status fields are read when present (the result
// endpoint always has them).
type listResponse struct {
	RequestID  string     `json:"requestId"`
	StatusCode flexString `json:"statusCode"`
	StatusName string     `json:"statusName"`
	Messages   []row      `json:"messages"`
	// Paging of the search by time (UNCONFIRMED names: the 2026 guide
	// lists the search, not its paging fields).
	PageIndex *int  `json:"pageIndex"`
	PageSize  *int  `json:"pageSize"`
	ItemCount *int  `json:"itemCount"`
	HasMore   *bool `json:"hasMore"`
}

// row is one message (recipient) in a list or a result.
type row struct {
	RequestID     string     `json:"requestId"`
	MessageID     string     `json:"messageId"`
	RequestTime   string     `json:"requestTime"`
	ContentType   string     `json:"contentType"`
	Type          string     `json:"type"`
	Subject       string     `json:"subject"`
	Content       *string    `json:"content"`
	CountryCode   string     `json:"countryCode"`
	From          string     `json:"from"`
	To            string     `json:"to"`
	Status        string     `json:"status"`     // READY | PROCESSING | COMPLETED
	StatusCode    flexString `json:"statusCode"` // the carrier's result code
	StatusName    string     `json:"statusName"` // success | fail
	StatusMessage string     `json:"statusMessage"`
	CompleteTime  string     `json:"completeTime"`
	TelcoCode     string     `json:"telcoCode"`
}

// resultResponse is GET …/messages/{messageId}.
type resultResponse struct {
	StatusCode flexString `json:"statusCode"`
	StatusName string     `json:"statusName"`
	Messages   []row      `json:"messages"`
}

// errorBody covers both error shapes: the API gateway's
// {"error":{"errorCode","message","details"}} and SENS's own
// {"status","errorMessage","errors":[…]}.
type errorBody struct {
	Error *struct {
		ErrorCode flexString `json:"errorCode"`
		Message   string     `json:"message"`
		Details   string     `json:"details"`
	} `json:"error"`
	Status       flexString      `json:"status"`
	ErrorMessage string          `json:"errorMessage"`
	Errors       json.RawMessage `json:"errors"`
}

// text is everything an error body says, on one line.
func (e errorBody) text() string {
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if e.Error != nil {
		add(e.Error.Message)
		add(e.Error.Details)
	}
	add(e.ErrorMessage)
	var list []any
	if json.Unmarshal(e.Errors, &list) == nil {
		for _, v := range list {
			switch v := v.(type) {
			case string:
				add(v)
			default:
				b, _ := json.Marshal(v)
				add(string(b))
			}
		}
	}
	return strings.Join(parts, "; ")
}

// kst is Korea Standard Time: the zone of SENS's times as far as its
// examples show (UNCONFIRMED for the search parameters).
var kst = gateway.KST

// searchLayout is the format of requestStartTime and requestEndTime.
const searchLayout = "2006-01-02 15:04:05"

// parseTime reads "2023-03-07T22:26:13.358" and "2023-03-07 22:26:13"
// (KST); "" or garbage gives the zero time.
func parseTime(s string) time.Time {
	return gateway.ParseKST(s, "2006-01-02T15:04:05", searchLayout, "2006-01-02 15:04")
}

// timestamp is x-ncp-apigw-timestamp for t.
func timestamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
