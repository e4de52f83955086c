package nhn

import (
	"time"

	"github.com/munja-sms/munja/provider/internal/gateway"
)

// The JSON of the NHN Cloud SMS API v3.0 (aligo-api.md §9.2, TOAST-DOCS/SMS
// ko/api-guide.md). Every answer carries the same header; numbers that the
// guide types as Integer in one place are shown as strings in another
// ("mtPr":"1" beside "recipientSeq":1, "statusCode":"2"), so ids, codes and
// counts are decoded as number-or-string.

// flexString is a JSON string, number or boolean as its text; null gives "".
type flexString = gateway.FlexString

// flexInt is an integer written as a number (-1004), a numeric string
// ("-1004") or empty/null (0).
type flexInt = gateway.FlexInt

// header is the part of every answer that says whether the call worked.
// IsSuccessful is a pointer: an answer without it is not NHN's.
type header struct {
	IsSuccessful  *bool   `json:"isSuccessful"`
	ResultCode    flexInt `json:"resultCode"`
	ResultMessage string  `json:"resultMessage"`
}

type envelope struct {
	Header header `json:"header"`
}

func (e *envelope) head() *header { return &e.Header }

// enveloped is every answer type: call reads its header.
type enveloped interface{ head() *header }

// sendRequest is the body of POST …/sender/sms and …/sender/mms (LMS:
// title + body, no attachments).
type sendRequest struct {
	Title             string      `json:"title,omitempty"`
	Body              string      `json:"body"`
	SendNo            string      `json:"sendNo"`
	SenderGroupingKey string      `json:"senderGroupingKey,omitempty"`
	RecipientList     []recipient `json:"recipientList"`
	UserID            string      `json:"userId,omitempty"`
}

type recipient struct {
	RecipientNo string `json:"recipientNo"`
}

type sendResponse struct {
	envelope
	Body *struct {
		Data *struct {
			RequestID         flexString      `json:"requestId"`
			StatusCode        flexString      `json:"statusCode"` // 1 requesting, 2 done, 3 failed
			SenderGroupingKey string          `json:"senderGroupingKey"`
			SendResultList    []sendResultRow `json:"sendResultList"`
		} `json:"data"`
	} `json:"body"`
}

type sendResultRow struct {
	RecipientNo   string     `json:"recipientNo"`
	ResultCode    flexInt    `json:"resultCode"`
	ResultMessage string     `json:"resultMessage"`
	RecipientSeq  flexString `json:"recipientSeq"`
}

// listResponse is GET …/sender/sms or …/sender/mms (발송 목록 검색): one row
// per recipient.
type listResponse struct {
	envelope
	Body *struct {
		PageNum    flexInt   `json:"pageNum"`
		PageSize   flexInt   `json:"pageSize"`
		TotalCount flexInt   `json:"totalCount"`
		Data       []listRow `json:"data"`
	} `json:"body"`
}

type listRow struct {
	RequestID         flexString `json:"requestId"`
	RequestDate       string     `json:"requestDate"`
	ResultDate        string     `json:"resultDate"`
	Title             string     `json:"title"`
	Body              string     `json:"body"`
	SendNo            string     `json:"sendNo"`
	RecipientNo       string     `json:"recipientNo"`
	MsgStatus         flexString `json:"msgStatus"` // 0 failed, 1 requested, 2 processing, 3 success, 4 reservation cancelled, 5 duplicate failure
	MsgStatusName     string     `json:"msgStatusName"`
	ResultCode        flexString `json:"resultCode"` // carrier result, 1000 = success
	ResultCodeName    string     `json:"resultCodeName"`
	MessageType       string     `json:"messageType"`
	SenderGroupingKey string     `json:"senderGroupingKey"`
	ResultMessage     string     `json:"resultMessage"`
}

// kst is Korea Standard Time: the zone of NHN's dates, as far as its
// Korean guide's examples show.
var kst = gateway.KST

// dateLayout is the format of the list endpoints' date parameters.
const dateLayout = "2006-01-02 15:04:05"

// parseTime reads "2018-08-10 10:06:30.0" as answered (Go accepts the
// fraction without a layout for it) and "2018-08-10 10:00"; "" or garbage
// gives the zero time.
func parseTime(s string) time.Time {
	return gateway.ParseKST(s, dateLayout, "2006-01-02 15:04")
}
