package nhntest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
)

// Limits NHN documents (ko/api-guide.md, "주의 사항" and field tables).
const (
	MaxRecipients = 1000
	maxSMSChars   = 255  // SMS body, stored
	maxTitleChars = 120  // LMS title, stored
	maxBodyChars  = 4000 // LMS body, stored
	stdSMSBytes   = 90   // what a handset shows uncut
	stdTitleBytes = 40
	stdBodyBytes  = 2000
	maxRecipLen   = 20
)

type sendBody struct {
	Title             string `json:"title"`
	Body              string `json:"body"`
	SendNo            string `json:"sendNo"`
	SenderGroupingKey string `json:"senderGroupingKey"`
	RecipientList     []struct {
		RecipientNo string `json:"recipientNo"`
	} `json:"recipientList"`
	UserID string `json:"userId"`
}

type sendResult struct {
	RecipientNo          string `json:"recipientNo"`
	ResultCode           int    `json:"resultCode"`
	ResultMessage        string `json:"resultMessage"`
	RecipientSeq         int    `json:"recipientSeq"`
	RecipientGroupingKey string `json:"recipientGroupingKey"`
}

type sendData struct {
	Data struct {
		RequestID         string       `json:"requestId"`
		StatusCode        string       `json:"statusCode"`
		SenderGroupingKey string       `json:"senderGroupingKey"`
		SendResultList    []sendResult `json:"sendResultList"`
	} `json:"data"`
}

// handleSend answers POST …/sender/sms and …/sender/mms.
func (s *Server) handleSend(w http.ResponseWriter, endpoint string, raw []byte) {
	var b sendBody
	if err := json.Unmarshal(raw, &b); err != nil {
		writeJSON(w, http.StatusOK, failBody(CodeBadJSON, "Invalid API parameters."))
		return
	}
	if code, msg := s.checkSend(endpoint, b); code != 0 {
		writeJSON(w, http.StatusOK, failBody(code, msg))
		return
	}
	partial := 0
	if f, ok := s.failure.Take(UnregisteredSender, PartialError); ok {
		if f.Mode == UnregisteredSender {
			writeJSON(w, http.StatusOK, failBody(CodeNoSender, "Not regist sendno."))
			return
		}
		partial = f.ErrorCount
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.seq++
	// 25 characters like "20180810100630ReZQ6KZzAH0": a timestamp and 11 more.
	id := now.In(kst).Format("20060102150405") + fmt.Sprintf("Mj%09d", s.seq)
	var out sendData
	out.Data.RequestID, out.Data.StatusCode, out.Data.SenderGroupingKey = id, "2", b.SenderGroupingKey
	msgType := "SMS"
	if endpoint == "mms" {
		msgType = "LMS" // no attachFileIdList: an LMS
	}
	n := len(b.RecipientList)
	for i, rc := range b.RecipientList {
		res := sendResult{RecipientNo: rc.RecipientNo, ResultMessage: "SUCCESS", RecipientSeq: i + 1}
		switch {
		case !validRecipient(rc.RecipientNo):
			// (choice) an invalid number fails alone, in its own result.
			res.ResultCode, res.ResultMessage = CodeBadRecipient, "RecipientNo is invalid."
		case i >= n-partial:
			res.ResultCode, res.ResultMessage = CodeOptedOut, "Recipient Number is refused."
		}
		out.Data.SendResultList = append(out.Data.SendResultList, res)
		if res.ResultCode != 0 {
			continue
		}
		s.rows = append(s.rows, &row{
			endpoint: endpoint, requestID: id, requestDate: now, resultDate: now,
			title: b.Title, body: b.Body, sendNo: b.SendNo, recipientNo: rc.RecipientNo, recipientSeq: i + 1,
			groupingKey: b.SenderGroupingKey, msgStatus: "3", resultCode: "1000", resultCodeName: resultName("1000"),
		})
		s.delivered = append(s.delivered, Delivered{
			RequestID: id, Recipient: rc.RecipientNo, Body: b.Body, Title: b.Title, SendNo: b.SendNo,
			MessageType: msgType, GroupingKey: b.SenderGroupingKey, Truncated: truncated(endpoint, b), At: now,
		})
	}
	writeJSON(w, http.StatusOK, okBody(out))
}

// checkSend applies the request-wide checks in NHN's documented terms.
func (s *Server) checkSend(endpoint string, b sendBody) (int, string) {
	registered := s.senders.Has(b.SendNo)
	switch {
	case len(b.RecipientList) == 0:
		return CodeNoRecipients, "RecipientList can not be null."
	case len(b.RecipientList) > MaxRecipients:
		return CodeTooMany, "The max recipient size is 1000."
	case b.SendNo == "" || !registered:
		return CodeNoSender, "Not regist sendno."
	case strings.TrimSpace(b.Body) == "" || (endpoint == "mms" && strings.TrimSpace(b.Title) == ""):
		return CodeEmpty, "The recipient can not be empty." // sic, ko/error-code.md
	case endpoint == "sms" && utf8.RuneCountInString(b.Body) > maxSMSChars,
		endpoint == "mms" && (utf8.RuneCountInString(b.Title) > maxTitleChars || utf8.RuneCountInString(b.Body) > maxBodyChars):
		return CodeTooLong, "Title or Body exceed maximum byte."
	case !encodable(b.Title) || !encodable(b.Body):
		return CodeBadChars, "Unacceptable characters in title and body"
	}
	return 0, ""
}

// encodable: every character can go out in EUC-KR (CP949), as NHN sends.
func encodable(s string) bool {
	for _, r := range s {
		if !sms.Encodable(r) {
			return false
		}
	}
	return true
}

// truncated reports whether a handset would see b cut.
func truncated(endpoint string, b sendBody) bool {
	if endpoint == "sms" {
		return sms.Len(b.Body) > stdSMSBytes
	}
	return sms.Len(b.Title) > stdTitleBytes || sms.Len(b.Body) > stdBodyBytes
}

// validRecipient: (choice) digits only, at most 20, and a Korean mobile
// number (01x…), the only class that receives SMS.
func validRecipient(no string) bool {
	if no == "" || len(no) > maxRecipLen || strings.Trim(no, "0123456789") != "" {
		return false
	}
	p, err := sms.ParsePhone(no)
	return err == nil && p.IsMobile()
}
