package solapitest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// Limits checked on each message (message-status-codes.md).
const (
	maxSMSBytes     = 90
	maxLMSBytes     = 2000
	maxSubjectBytes = 40
	maxFieldKey     = 30
	maxFieldValue   = 100
)

// sendBody is the send-many/detail body. Unknown fields are refused, as
// Solapi's validator does (choice for the exact wording).
type sendBody struct {
	Messages        []sendMessage   `json:"messages"`
	AllowDuplicates bool            `json:"allowDuplicates"`
	ShowMessageList bool            `json:"showMessageList"`
	ScheduledDate   string          `json:"scheduledDate"`
	Strict          bool            `json:"strict"`
	Agent           json.RawMessage `json:"agent"`
}

type sendMessage struct {
	To             json.RawMessage   `json:"to"` // a string or a list
	From           string            `json:"from"`
	Text           string            `json:"text"`
	Type           string            `json:"type"`
	Subject        string            `json:"subject"`
	ImageID        string            `json:"imageId"`
	Country        string            `json:"country"`
	AutoTypeDetect *bool             `json:"autoTypeDetect"`
	CustomFields   map[string]string `json:"customFields"`
	KakaoOptions   json.RawMessage   `json:"kakaoOptions"`
}

type failedMessage struct {
	To            string            `json:"to"`
	From          string            `json:"from"`
	Type          string            `json:"type"`
	StatusMessage string            `json:"statusMessage"`
	Country       string            `json:"country"`
	MessageID     string            `json:"messageId"`
	StatusCode    string            `json:"statusCode"`
	AccountID     string            `json:"accountId"`
	CustomFields  map[string]string `json:"customFields,omitempty"`
}

var statusText = map[string]string{
	"1010": "필수 입력 값 미입력",
	"1011": "Format Error",
	"1013": "제목은 문자 타입이 'SMS'일 경우 사용이 불가능합니다.",
	"1014": "제목은 40byte까지 사용 가능합니다.",
	"1025": "잘못된 메시지 타입 ['SMS','LMS','MMS','ATA','CTA']중에서 사용 가능하며 대소문자는 구분하지 않습니다.",
	"1026": "중복 수신번호",
	"1029": "문자메시지의 경우 EUC-KR(완성형 한글) 범위 안에 있는 문자만 사용 합니다.",
	"1030": "잔액 부족",
	"1031": "SMS는 90byte LMS, MMS는 2000byte ATA, CTA는 한/영포함 1000자 CTI는 한/영포함 400자까지 사용 가능 합니다.",
	"1032": "유효한 커스텀 필드 값이 아닙니다. 필드명은 30자 설정값은 100자까지 가능하며 'String'형식만 지원 합니다.",
	"1034": "imageId가 존재하지 않습니다.",
	"1062": "발신번호 미등록",
	"2000": "정상 접수(이통사로 접수 예정) ",
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, body []byte) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		// (choice) a body that is not JSON is a validation error.
		writeError(w, http.StatusBadRequest, "ValidationError", `"Content-Type" must be application/json`)
		return
	}
	var req sendBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			msg = f + " is not allowed"
		}
		writeError(w, http.StatusBadRequest, "ValidationError", msg)
		return
	}
	switch n := len(req.Messages); {
	case n == 0:
		writeError(w, http.StatusBadRequest, "ValidationError", `"messages" must contain at least 1 items`)
		return
	case n > maxMessages:
		writeError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf(`"messages" must contain less than or equal to %d items`, maxMessages))
		return
	}
	if req.ScheduledDate != "" {
		// (choice) the fake does not hold reservations; munja never asks for one.
		writeError(w, http.StatusBadRequest, "ValidationError", `"scheduledDate" is not supported by the fake`)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	groupID := s.newID("G4V", now)
	var failed []failedMessage
	var accepted []*Message
	seen := map[string]bool{}
	charged := map[string]int{}
	type verdict struct{ typ, code string }
	checked := map[string]verdict{} // the same content is checked once (a batch is one text)
	for _, m := range req.Messages {
		to := receiver(m.To)
		key := strings.Join([]string{m.From, m.Text, m.Type, m.Subject, m.ImageID, fmt.Sprint(m.AutoTypeDetect, m.CustomFields)}, "\x00")
		v, ok := checked[key]
		if !ok {
			v.typ, v.code = s.check(m)
			checked[key] = v
		}
		typ, code := v.typ, v.code
		if code == "" && to == "" {
			code = "1010"
		}
		if code == "" && !wellFormed(to) {
			code = "1011" // (choice) a malformed receiver is refused at registration
		}
		if code == "" && !req.AllowDuplicates && seen[to] {
			code = "1026"
		}
		if code == "" && !s.charge(strings.ToLower(typ)) {
			code = "1030"
		}
		msgID := s.newID("M4V", now)
		if code != "" {
			failed = append(failed, failedMessage{To: to, From: m.From, Type: typ, StatusMessage: statusText[code], Country: "82",
				MessageID: msgID, StatusCode: code, AccountID: DefaultAccountID, CustomFields: m.CustomFields})
			continue
		}
		seen[to] = true
		charged[strings.ToLower(typ)]++
		final := s.results[to]
		if final == "" {
			final = "4000"
		}
		msg := &Message{MessageID: msgID, GroupID: groupID, To: to, From: m.From, Text: m.Text, Subject: m.Subject, Type: typ,
			CustomFields: cloneMap(m.CustomFields), StatusCode: final, Created: now}
		accepted = append(accepted, msg)
		s.messages = append(s.messages, msg)
	}
	if failed == nil {
		failed = []failedMessage{}
	}
	resp := map[string]any{
		"failedMessageList": failed,
		"groupInfo":         s.groupInfo(groupID, now, len(req.Messages), len(accepted), charged),
	}
	if req.ShowMessageList {
		list := make([]map[string]any, 0, len(accepted))
		for _, m := range accepted {
			list = append(list, map[string]any{"messageId": m.MessageID, "statusCode": "2000", "statusMessage": statusText["2000"], "customFields": m.CustomFields})
		}
		resp["messageList"] = list
	}
	writeJSON(w, http.StatusOK, resp)
}

// check validates one message's content (all but the receiver) and
// returns its type and, if it is refused, the status code.
func (s *Server) check(m sendMessage) (typ, code string) {
	typ = strings.ToUpper(strings.TrimSpace(m.Type))
	if m.From == "" || m.Text == "" {
		return typ, "1010"
	}
	n, ok := cp949Len(m.Text)
	if !ok {
		return typ, "1029"
	}
	if typ == "" {
		if m.AutoTypeDetect != nil && !*m.AutoTypeDetect {
			return typ, "1010" // (choice) no type and no detection
		}
		typ = "SMS"
		if n > maxSMSBytes || m.Subject != "" {
			typ = "LMS"
		}
	}
	switch typ {
	case "SMS", "LMS":
	case "MMS":
		if m.ImageID == "" {
			return typ, "1034" // (choice) the fake stores no images
		}
	default:
		return typ, "1025"
	}
	if m.Subject != "" {
		if typ == "SMS" {
			return typ, "1013"
		}
		sn, ok := cp949Len(m.Subject)
		if !ok {
			return typ, "1029"
		}
		if sn > maxSubjectBytes {
			return typ, "1014"
		}
	}
	if (typ == "SMS" && n > maxSMSBytes) || n > maxLMSBytes {
		return typ, "1031"
	}
	for k, v := range m.CustomFields {
		if k == "" || utf8.RuneCountInString(k) > maxFieldKey || utf8.RuneCountInString(v) > maxFieldValue {
			return typ, "1032"
		}
	}
	if !s.senders.Has(m.From) {
		return typ, "1062"
	}
	return typ, ""
}

// charge takes the price of one message, points first; false when neither
// covers it.
func (s *Server) charge(typ string) bool {
	price := s.prices[typ]
	switch {
	case s.point >= price:
		s.point -= price
	case s.balance+s.point >= price:
		s.balance -= price - s.point
		s.point = 0
	default:
		return false
	}
	return true
}

// groupInfo is the message group as send-many/detail shows it.
func (s *Server) groupInfo(id string, now time.Time, total, ok int, charged map[string]int) map[string]any {
	status := "SENDING"
	if ok == 0 {
		status = "FAILED" // (choice)
	}
	countries := func(typ string) map[string]int {
		if charged[typ] == 0 {
			return map[string]int{}
		}
		return map[string]int{"82": charged[typ]}
	}
	date := now.UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]any{
		"count": map[string]int{
			"total": total, "sentTotal": 0, "sentFailed": 0, "sentSuccess": 0, "sentPending": ok,
			"sentReplacement": 0, "refund": 0, "registeredFailed": total - ok, "registeredSuccess": ok,
		},
		"countForCharge": map[string]any{"sms": countries("sms"), "lms": countries("lms"), "mms": countries("mms"),
			"ata": map[string]int{}, "cta": map[string]int{}, "cti": map[string]int{}, "nsa": map[string]int{}},
		"balance":         map[string]float64{"requested": 0, "replacement": 0, "refund": 0, "sum": 0},
		"point":           map[string]float64{"requested": 0, "replacement": 0, "refund": 0, "sum": 0},
		"app":             map[string]any{"profit": map[string]float64{"sms": 0, "lms": 0, "mms": 0}, "appId": nil, "version": nil},
		"serviceMethod":   "MT",
		"sdkVersion":      nil,
		"osPlatform":      nil,
		"log":             []map[string]string{{"createAt": date, "message": "메시지 그룹이 생성되었습니다."}},
		"status":          status,
		"dateSent":        date,
		"dateCompleted":   nil,
		"isRefunded":      false,
		"flagUpdated":     false,
		"prepaid":         true,
		"strict":          false,
		"masterAccountId": nil,
		"allowDuplicates": false,
		"_id":             id,
		"accountId":       DefaultAccountID,
		"apiVersion":      "4",
		"customFields":    map[string]string{},
		"hint":            nil,
		"groupId":         id,
		"price":           map[string]any{"82": []any{}},
		"dateCreated":     date,
		"dateUpdated":     date,
	}
}

// newID is a Solapi-style id: prefix, KST timestamp, random tail
// ("G4V20210714155825UTMBWD3F7YRY3N1"). Called with s.mu held.
func (s *Server) newID(prefix string, now time.Time) string {
	s.seq++
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return fmt.Sprintf("%s%s%04d%s", prefix, now.In(kst).Format("20060102150405"), s.seq%10000, b)
}

var kst = time.FixedZone("KST", 9*60*60)

// receiver reads "to": a string, or the first of a list.
func receiver(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return strings.TrimSpace(list[0])
	}
	return ""
}

// wellFormed is a receiver of digits only, 8 to 12 long (choice).
func wellFormed(to string) bool {
	if len(to) < 8 || len(to) > 12 {
		return false
	}
	return strings.Trim(to, "0123456789") == ""
}

// cp949Len counts s in CP949 with the real encoder (independently of
// munja's own counting); false if a character cannot be encoded.
func cp949Len(s string) (int, bool) {
	b, err := korean.EUCKR.NewEncoder().String(s)
	if err != nil {
		return 0, false
	}
	return len(b), true
}
