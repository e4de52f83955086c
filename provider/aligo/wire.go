package aligo

import (
	"bytes"
	"fmt"
	"time"

	"github.com/munja-sms/munja/provider/internal/gateway"
)

// FlexInt decodes an Aligo number that may arrive as a JSON number (1), a
// numeric string ("1", "-101") or an empty string / null (0). Aligo mixes
// all three, even within one response (aligo-api.md §2.8).
type FlexInt = gateway.FlexInt

// FlexString decodes an ID that may arrive as a string ("146645343") or a
// number (146645343); null gives "". Unlike gateway.FlexString it refuses
// true and false: an Aligo id is never one.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); string(t) == "true" || string(t) == "false" {
		return fmt.Errorf("aligo: id %s is neither string nor number", t)
	}
	return (*gateway.FlexString)(f).UnmarshalJSON(b)
}

// envelope is the part every SMS endpoint returns.
type envelope struct {
	ResultCode FlexInt `json:"result_code"`
	Message    string  `json:"message"`
}

type sendResponse struct {
	envelope
	MsgID      FlexString `json:"msg_id"`
	SuccessCnt FlexInt    `json:"success_cnt"`
	ErrorCnt   FlexInt    `json:"error_cnt"`
	MsgType    string     `json:"msg_type"`
}

type remainResponse struct {
	envelope
	SMS FlexInt `json:"SMS_CNT"`
	LMS FlexInt `json:"LMS_CNT"`
	MMS FlexInt `json:"MMS_CNT"`
}

type listResponse struct {
	envelope
	List   []listRow `json:"list"`
	NextYN string    `json:"next_yn"`
}

type listRow struct {
	MID          FlexString `json:"mid"`
	Type         string     `json:"type"`
	Sender       string     `json:"sender"`
	SMSCount     FlexInt    `json:"sms_count"`
	ReserveState string     `json:"reserve_state"`
	Msg          string     `json:"msg"`
	FailCount    FlexInt    `json:"fail_count"`
	RegDate      string     `json:"reg_date"`
	Reserve      string     `json:"reserve"`
}

type smsListResponse struct {
	envelope
	List   []smsListRow `json:"list"`
	NextYN string       `json:"next_yn"`
}

type smsListRow struct {
	MDID        FlexString `json:"mdid"`
	Type        string     `json:"type"`
	Sender      string     `json:"sender"`
	Receiver    string     `json:"receiver"`
	SMSState    string     `json:"sms_state"`
	RegDate     string     `json:"reg_date"`
	SendDate    string     `json:"send_date"`
	ReserveDate string     `json:"reserve_date"`
}

// kst is Korea Standard Time, the zone of Aligo's dates.
var kst = gateway.KST

// parseTime reads Aligo's "YYYY-MM-DD HH:MM:SS" (KST); "" or garbage gives
// the zero time.
func parseTime(s string) time.Time {
	return gateway.ParseKST(s, "2006-01-02 15:04:05", "2006-01-02 15:04", "20060102150405", "200601021504")
}
