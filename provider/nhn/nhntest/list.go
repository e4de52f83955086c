package nhntest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// kst is the zone of NHN's dates.
var kst = time.FixedZone("KST", 9*60*60)

const (
	dateLayout      = "2006-01-02 15:04:05"
	defaultPageSize = 15
	maxPageSize     = 1000
	maxRange        = 31 * 24 * time.Hour // "Search is possible within one month."
)

type listBody struct {
	PageNum    int       `json:"pageNum"`
	PageSize   int       `json:"pageSize"`
	TotalCount int       `json:"totalCount"`
	Data       []listRow `json:"data"`
}

// listRow has every field of the v3.0 guide's example, typed as there.
type listRow struct {
	RequestID            string  `json:"requestId"`
	RequestDate          string  `json:"requestDate"`
	ResultDate           string  `json:"resultDate"`
	TemplateID           *string `json:"templateId"`
	TemplateName         *string `json:"templateName"`
	CategoryID           *int    `json:"categoryId"`
	CategoryName         *string `json:"categoryName"`
	Title                string  `json:"title,omitempty"`
	Body                 string  `json:"body"`
	SendNo               string  `json:"sendNo"`
	CountryCode          string  `json:"countryCode"`
	RecipientNo          string  `json:"recipientNo"`
	MsgStatus            string  `json:"msgStatus"`
	MsgStatusName        string  `json:"msgStatusName"`
	ResultCode           string  `json:"resultCode"`
	ResultCodeName       string  `json:"resultCodeName"`
	TelecomCode          int     `json:"telecomCode"`
	TelecomCodeName      string  `json:"telecomCodeName"`
	RecipientSeq         int     `json:"recipientSeq"`
	SendType             string  `json:"sendType"`
	MessageType          string  `json:"messageType"`
	MessageCount         int     `json:"messageCount"`
	UserID               string  `json:"userId"`
	AdYn                 string  `json:"adYn"`
	ResultMessage        string  `json:"resultMessage"`
	SenderGroupingKey    string  `json:"senderGroupingKey"`
	RecipientGroupingKey string  `json:"recipientGroupingKey"`
}

var statusNames = map[string]string{"0": "실패", "1": "요청", "2": "처리 중", "3": "성공", "4": "예약취소", "5": "중복실패"}

// handleList answers GET …/sender/{sms|mms} (발송 목록 검색): requestId, or
// startRequestDate + endRequestDate, or startCreateDate + endCreateDate is
// required; newest first; pageNum from 1, pageSize up to 1,000.
func (s *Server) handleList(w http.ResponseWriter, endpoint string, q url.Values) {
	requestID := q.Get("requestId")
	from, to, code, msg := dateRange(q, "startRequestDate", "endRequestDate")
	if code == 0 && from.IsZero() {
		from, to, code, msg = dateRange(q, "startCreateDate", "endCreateDate")
	}
	switch {
	case code != 0:
		writeJSON(w, http.StatusOK, failBody(code, msg))
		return
	case requestID == "" && from.IsZero():
		writeJSON(w, http.StatusOK, failBody(CodeSearchNeeds, "RequestId or start/endRequestDate or start/endCreateDate is required."))
		return
	}
	page, size := 1, defaultPageSize
	if v := q.Get("pageNum"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusOK, failBody(CodeSearchParam, "Service parameter is invalid."))
			return
		}
		page = n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeJSON(w, http.StatusOK, failBody(CodeSearchParam, "Service parameter is invalid."))
			return
		}
		size = n
	}

	s.mu.Lock()
	var match []row
	for i := len(s.rows) - 1; i >= 0; i-- {
		r := s.rows[i]
		switch {
		case r.endpoint != endpoint,
			requestID != "" && r.requestID != requestID,
			!from.IsZero() && (r.requestDate.Before(from) || r.requestDate.After(to)),
			q.Has("senderGroupingKey") && r.groupingKey != q.Get("senderGroupingKey"),
			q.Has("recipientNo") && r.recipientNo != q.Get("recipientNo"),
			q.Has("sendNo") && r.sendNo != q.Get("sendNo"),
			q.Has("msgStatus") && r.msgStatus != q.Get("msgStatus"):
			continue
		}
		match = append(match, *r)
	}
	s.mu.Unlock()

	out := listBody{PageNum: page, PageSize: size, TotalCount: len(match), Data: []listRow{}}
	lo := min((page-1)*size, len(match))
	hi := min(lo+size, len(match))
	for _, r := range match[lo:hi] {
		out.Data = append(out.Data, r.listRow())
	}
	writeJSON(w, http.StatusOK, okBody(out))
}

func (r row) listRow() listRow {
	lr := listRow{
		RequestID: r.requestID, RequestDate: r.requestDate.In(kst).Format(dateLayout) + ".0",
		Body: r.body, SendNo: r.sendNo, CountryCode: "82", RecipientNo: r.recipientNo,
		MsgStatus: r.msgStatus, MsgStatusName: statusNames[r.msgStatus],
		ResultCode: r.resultCode, ResultCodeName: r.resultCodeName,
		TelecomCode: 10001, TelecomCodeName: "SKT", RecipientSeq: r.recipientSeq,
		SendType: "0", MessageType: "SMS", MessageCount: 1, UserID: "munja", AdYn: "N",
		SenderGroupingKey: r.groupingKey,
	}
	if !r.resultDate.IsZero() {
		lr.ResultDate = r.resultDate.In(kst).Format(dateLayout) + ".0"
	}
	if r.endpoint == "mms" {
		lr.Title, lr.SendType, lr.MessageType = r.title, "1", "LMS"
	}
	return lr
}

// dateRange reads a pair of date parameters ("yyyy-MM-dd HH:mm:ss", KST);
// both absent gives zero times.
func dateRange(q url.Values, startKey, endKey string) (from, to time.Time, code int, msg string) {
	if !q.Has(startKey) && !q.Has(endKey) {
		return time.Time{}, time.Time{}, 0, ""
	}
	from, err1 := time.ParseInLocation(dateLayout, q.Get(startKey), kst)
	to, err2 := time.ParseInLocation(dateLayout, q.Get(endKey), kst)
	switch {
	case err1 != nil || err2 != nil:
		return time.Time{}, time.Time{}, CodeDateFormat, "Date format error."
	case to.Sub(from) > maxRange:
		return time.Time{}, time.Time{}, CodeRange, "Search is possible within one month."
	}
	return from, to.Add(time.Second - time.Nanosecond), 0, "" // the end second is inclusive
}
