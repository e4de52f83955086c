package alimtalktest

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/korean"
)

// Limits the fake enforces.
const (
	maxReceivers = 500  // receiver_1 … receiver_500 (§7.3)
	maxChars     = 1000 // Kakao's limit on a message
	maxFBytes    = 2000 // failover LMS body, CP949 bytes
	maxFTitle    = 44   // failover LMS title, CP949 bytes
)

// mobile is a well-formed receiver; others are counted in fcnt (choice).
var mobile = regexp.MustCompile(`^01[016789][0-9]{7,8}$`)

// sendInfo keeps the spec's typing: mid a string, points as numbers.
type sendInfo struct {
	Type    string  `json:"type"`
	MID     string  `json:"mid"`
	Current float64 `json:"current"`
	Unit    float64 `json:"unit"`
	Total   float64 `json:"total"`
	SCnt    int     `json:"scnt"`
	FCnt    int     `json:"fcnt"`
}

type sendBody struct {
	Code    int      `json:"code"`
	Message string   `json:"message"`
	Info    sendInfo `json:"info"`
}

// handleSend is /akv10/alimtalk/send/.
func (s *Server) handleSend(w http.ResponseWriter, _ string, form url.Values) {
	switch sk := form.Get("senderkey"); {
	case sk == "":
		writeJSON(w, fail(-99, "발신 프로파일 키(=senderkey)파라메더 정보가 전달되지 않았습니다."))
		return
	case sk != s.SenderKey:
		writeJSON(w, fail(-99, "등록되지 않은 발신 프로파일 키 입니다.")) // (choice)
		return
	}
	code := form.Get("tpl_code")
	s.mu.Lock()
	tpl, known := s.templates[code]
	s.mu.Unlock()
	registered := s.senders.Has(form.Get("sender"))
	switch {
	case code == "":
		writeJSON(w, fail(-99, "템플릿 코드(=tpl_code)파라메더 정보가 전달되지 않았습니다.")) // (choice)
		return
	case !known:
		writeJSON(w, fail(-99, "등록되지 않은 템플릿 코드 입니다.")) // (choice)
		return
	case !tpl.Approved:
		writeJSON(w, fail(509, "승인되지 않은 템플릿 입니다.")) // (choice) 509: template state (§7.7)
		return
	case form.Get("sender") == "":
		writeJSON(w, fail(-99, "발신자 연락처(=sender)파라메더 정보가 전달되지 않았습니다.")) // (choice)
		return
	case !registered:
		writeJSON(w, fail(-99, "등록되지 않은 발신번호 입니다.")) // (choice)
		return
	}
	if form.Get("receiver_"+strconv.Itoa(maxReceivers+1)) != "" {
		writeJSON(w, fail(-99, "수신자는 최대 500명까지 입력 가능합니다.")) // (choice)
		return
	}
	failover := form.Get("failover") == "Y"
	test := form.Get("testMode") == "Y"
	match := templateRegexp(tpl.Content)
	var items []Delivered
	for i := 1; i <= maxReceivers; i++ {
		n := strconv.Itoa(i)
		recv := strings.TrimSpace(form.Get("receiver_" + n))
		if recv == "" {
			break
		}
		d := Delivered{
			Receiver: recv, TplCode: code, Subject: form.Get("subject_" + n), Message: form.Get("message_" + n),
			Sender: form.Get("sender"), Test: test, Failover: failover,
		}
		switch {
		case d.Subject == "":
			writeJSON(w, fail(-99, "subject_"+n+" 파라메더 정보가 전달되지 않았습니다.")) // (choice)
			return
		case d.Message == "":
			writeJSON(w, fail(-99, "message_"+n+" 파라메더 정보가 전달되지 않았습니다.")) // (choice)
			return
		case utf8.RuneCountInString(d.Message) > maxChars:
			writeJSON(w, fail(-99, "메시지는 최대 1,000자까지 입력 가능합니다. (message_"+n+")")) // (choice)
			return
		}
		if failover {
			d.FSubject, d.FMessage = form.Get("fsubject_"+n), form.Get("fmessage_"+n)
			if d.FMessage == "" {
				d.FMessage = d.Message // (choice) Aligo's failover falls back to the Alimtalk text
			}
			switch {
			case cp949Len(d.FMessage) > maxFBytes:
				writeJSON(w, fail(-99, "대체문자 내용은 2,000바이트까지 입력 가능합니다. (fmessage_"+n+")")) // (choice)
				return
			case cp949Len(d.FSubject) > maxFTitle:
				writeJSON(w, fail(-99, "대체문자 제목은 44바이트까지 입력 가능합니다. (fsubject_"+n+")")) // (choice)
				return
			}
		}
		d.Matched = match.MatchString(d.Message)
		items = append(items, d)
	}
	if len(items) == 0 {
		writeJSON(w, fail(-99, "수신자 연락처(=receiver_1)파라메더 정보가 전달되지 않았습니다.")) // (choice)
		return
	}
	writeJSON(w, s.accept(items, form.Get("sender"), code, test))
}

// accept records an accepted send, charges the balance and builds the
// answer. Malformed receivers are rejected (fcnt).
func (s *Server) accept(items []Delivered, sender, code string, test bool) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok []Delivered
	for _, d := range items {
		if mobile.MatchString(d.Receiver) {
			ok = append(ok, d)
		}
	}
	charge := int64(len(ok))
	if test {
		charge = 0
	}
	if charge > s.balance {
		return fail(-99, "포인트가 부족합니다.")
	}
	s.balance -= charge
	s.nextID++
	rec := &record{mid: strconv.FormatInt(s.nextID, 10), sender: sender, tpl: code, body: items[0].Message,
		reg: s.now(), test: test, charged: charge}
	for i, d := range ok {
		d.MID = rec.mid
		d.SMSFallback = d.Failover && (!d.Matched || s.noKakao[d.Receiver])
		if d.SMSFallback && rec.smid == "" {
			s.nextID++
			rec.smid = strconv.FormatInt(s.nextID, 10)
		}
		rec.rows = append(rec.rows, d)
		rec.msgIDs = append(rec.msgIDs, rec.mid+strconv.Itoa(1000+i))
		s.delivered = append(s.delivered, d)
	}
	s.records = append(s.records, rec)
	return sendBody{Code: 0, Message: "성공적으로 전송요청 하였습니다.", Info: sendInfo{
		Type: "AT", MID: rec.mid, Current: float64(s.balance), Unit: 1, Total: float64(charge),
		SCnt: len(ok), FCnt: len(items) - len(ok),
	}}
}

// templateRegexp matches a message made from content: the text as
// approved, exactly (line breaks too), each #{variable} any non-empty text.
func templateRegexp(content string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^`)
	vars := regexp.MustCompile(`#\{[^{}]+\}`)
	last := 0
	for _, loc := range vars.FindAllStringIndex(content, -1) {
		b.WriteString(regexp.QuoteMeta(content[last:loc[0]]))
		b.WriteString(`(?s:.+)`)
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(content[last:]))
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// cp949Len is the carrier byte count: CP949 bytes, unencodable runes as
// one substituted byte.
func cp949Len(s string) int {
	b, err := encoding.ReplaceUnsupported(korean.EUCKR.NewEncoder()).String(s)
	if err != nil {
		return len(s)
	}
	return len(b)
}
