package aligotest

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/korean"
)

// Result codes. -101, -102 and -801…-805 are Aligo's; the others are
// (choice) invented for failures Aligo gives no code for.
const (
	codeAuth     = -101
	codeSender   = -101 // (choice) with a message containing 발신번호
	codeParam    = -110
	codeTooMany  = -111
	codeMsgLen   = -112
	codeTitleLen = -113
	codeReserve  = -114
	codeBalance  = -201 // (choice) the code one client uses for 잔액 부족
)

const (
	maxReceivers = 1000
	maxMass      = 500
	maxMsgBytes  = 2000
	maxSMSBytes  = 90
	maxTitle     = 44
	reserveLead  = 10 * time.Minute
)

// kst is Korea Standard Time (no DST since 1988).
var kst = time.FixedZone("KST", 9*60*60)

// cost of one message in SMS units (choice, close to Aligo's price ratio).
var cost = map[string]int64{"SMS": 1, "LMS": 3, "MMS": 7}

// mobile is a well-formed receiver; others are accepted at submit time and
// fail in /sms_list/, as observed.
var mobile = regexp.MustCompile(`^01[016789][0-9]{7,8}$`)

type errorBody struct {
	ResultCode int    `json:"result_code"`
	Message    string `json:"message"`
}

// sendBody keeps the observed typing: string result_code and msg_id,
// numeric counts.
type sendBody struct {
	ResultCode string `json:"result_code"`
	Message    string `json:"message"`
	MsgID      string `json:"msg_id"`
	SuccessCnt int    `json:"success_cnt"`
	ErrorCnt   int    `json:"error_cnt"`
	MsgType    string `json:"msg_type"`
}

// record is one accepted send request.
type record struct {
	id       string
	kind     string
	sender   string
	msg      string
	reg      time.Time
	reserve  time.Time // zero = immediate
	canceled time.Time // zero = not canceled
	test     bool
	charged  int64
	rows     []row
}

type row struct {
	mdid     string
	receiver string
}

type item struct{ receiver, msg, title string }

type sendReq struct {
	sender  string
	kind    string
	items   []item
	reserve time.Time
	test    bool
}

func (s *Server) handleSend(w http.ResponseWriter, path string, form url.Values, files []string) {
	req, fail := s.common(form)
	if fail != nil {
		writeJSON(w, fail)
		return
	}
	recv := splitReceivers(form.Get("receiver"))
	switch {
	case len(recv) == 0:
		writeJSON(w, errorBody{codeParam, "수신자 번호가 입력되지 않았습니다."})
		return
	case len(recv) > maxReceivers:
		writeJSON(w, errorBody{codeTooMany, "수신자는 최대 1,000명까지 입력 가능합니다."})
		return
	}
	msg, title := form.Get("msg"), form.Get("title")
	if fail := checkText(msg, title); fail != nil {
		writeJSON(w, fail)
		return
	}
	names := destination(form.Get("destination"))
	for _, r := range recv {
		m := msg
		if n, ok := names[r]; ok {
			m = strings.ReplaceAll(m, "%고객명%", n)
		}
		req.items = append(req.items, item{receiver: r, msg: m, title: title})
	}
	hasImage := len(files) > 0
	switch req.kind {
	case "":
		req.kind = "SMS"
		if cp949Len(msg) > maxSMSBytes {
			req.kind = "LMS"
		}
		if hasImage {
			req.kind = "MMS"
		}
	case "MMS":
		if !hasImage {
			req.kind = "LMS" // (choice) MMS without an image goes out as LMS
		}
	}
	if req.kind == "SMS" && cp949Len(msg) > maxSMSBytes {
		writeJSON(w, errorBody{codeMsgLen, "SMS는 90바이트까지 입력 가능합니다."})
		return
	}
	writeJSON(w, s.accept(req, msg))
}

func (s *Server) handleSendMass(w http.ResponseWriter, path string, form url.Values, files []string) {
	req, fail := s.common(form)
	if fail != nil {
		writeJSON(w, fail)
		return
	}
	if req.kind == "" {
		writeJSON(w, errorBody{codeParam, "msg_type 값이 입력되지 않았습니다."})
		return
	}
	if req.kind == "MMS" && len(files) == 0 {
		req.kind = "LMS"
	}
	cnt, err := strconv.Atoi(form.Get("cnt"))
	switch {
	case err != nil || cnt < 1:
		writeJSON(w, errorBody{codeParam, "cnt 값이 올바르지 않습니다."})
		return
	case cnt > maxMass:
		writeJSON(w, errorBody{codeTooMany, "한번에 최대 500건까지 전송 가능합니다."})
		return
	}
	title := form.Get("title")
	for i := 1; i <= cnt; i++ {
		n := strconv.Itoa(i)
		it := item{receiver: strings.TrimSpace(form.Get("rec_" + n)), msg: form.Get("msg_" + n), title: title}
		if sbj := form.Get("sbj_" + n); sbj != "" {
			it.title = sbj
		}
		if it.receiver == "" {
			writeJSON(w, errorBody{codeParam, "rec_" + n + " 값이 입력되지 않았습니다."})
			return
		}
		if fail := checkText(it.msg, it.title); fail != nil {
			writeJSON(w, fail)
			return
		}
		if req.kind == "SMS" && cp949Len(it.msg) > maxSMSBytes {
			writeJSON(w, errorBody{codeMsgLen, "SMS는 90바이트까지 입력 가능합니다. (msg_" + n + ")"})
			return
		}
		req.items = append(req.items, it)
	}
	writeJSON(w, s.accept(req, req.items[0].msg))
}

// common checks what /send/ and /send_mass/ share: sender, msg_type,
// reservation, test mode.
func (s *Server) common(form url.Values) (sendReq, any) {
	req := sendReq{sender: form.Get("sender"), kind: strings.ToUpper(form.Get("msg_type")), test: form.Get("testmode_yn") == "Y"}
	if req.sender == "" {
		return req, errorBody{codeSender, "발신번호가 입력되지 않았습니다."}
	}
	registered := s.senders.Has(req.sender)
	if _, forced := s.failure.Take(UnregisteredSender); forced || !registered {
		return req, errorBody{codeSender, "등록되지 않은 발신번호입니다. 발신번호 사전등록 후 이용해 주세요."}
	}
	if len(req.sender) > 16 {
		return req, errorBody{codeParam, "발신번호는 16바이트까지 입력 가능합니다."}
	}
	switch req.kind {
	case "", "SMS", "LMS", "MMS":
	default:
		return req, errorBody{codeParam, "msg_type 값이 올바르지 않습니다."}
	}
	rdate, rtime := form.Get("rdate"), form.Get("rtime")
	if rdate != "" || rtime != "" {
		t, err := time.ParseInLocation("200601021504", rdate+rtime, kst)
		if err != nil || len(rdate) != 8 || len(rtime) != 4 {
			return req, errorBody{codeReserve, "예약일시 형식이 올바르지 않습니다."}
		}
		if t.Before(s.now().Add(reserveLead)) {
			return req, errorBody{codeReserve, "예약은 현재시간 기준 10분 이후부터 가능합니다."}
		}
		req.reserve = t
	}
	return req, nil
}

func checkText(msg, title string) any {
	switch n := cp949Len(msg); {
	case n == 0:
		return errorBody{codeMsgLen, "메시지 내용이 입력되지 않았습니다."}
	case n > maxMsgBytes:
		return errorBody{codeMsgLen, "메시지는 2,000바이트까지 입력 가능합니다."}
	}
	if cp949Len(title) > maxTitle {
		return errorBody{codeTitleLen, "제목은 44바이트까지 입력 가능합니다."}
	}
	return nil
}

// accept records an accepted request, charges the balance and builds the
// answer. Receivers with non-digits, and the last ErrorCount under
// PartialError, are rejected and counted in error_cnt.
func (s *Server) accept(req sendReq, msg string) any {
	partial := 0
	if f, ok := s.failure.Take(PartialError); ok {
		partial = f.ErrorCount
	}
	var ok []item
	rejected := 0
	for i, it := range req.items {
		if i >= len(req.items)-partial || strings.Trim(it.receiver, "0123456789") != "" {
			rejected++
			continue
		}
		ok = append(ok, it)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	charge := int64(len(ok)) * cost[req.kind]
	if req.test {
		charge = 0
	}
	if charge > s.balance {
		return errorBody{codeBalance, "잔액이 부족합니다. 충전 후 이용해 주세요."}
	}
	s.balance -= charge
	s.nextID++
	rec := &record{
		id: strconv.FormatInt(s.nextID, 10), kind: req.kind, sender: req.sender, msg: msg,
		reg: s.now(), reserve: req.reserve, test: req.test, charged: charge,
	}
	for _, it := range ok {
		s.nextDID++
		rec.rows = append(rec.rows, row{mdid: strconv.FormatInt(s.nextDID, 10), receiver: it.receiver})
		s.delivered = append(s.delivered, Delivered{
			Receiver: it.receiver, Msg: it.msg, Title: it.title, MsgType: req.kind,
			MsgID: rec.id, Test: req.test, Reserve: req.reserve,
		})
	}
	s.records = append(s.records, rec)
	message := "success"
	if !req.reserve.IsZero() {
		message = "reserved"
	}
	return sendBody{ResultCode: "1", Message: message, MsgID: rec.id, SuccessCnt: len(ok), ErrorCnt: rejected, MsgType: req.kind}
}

// destination parses "PHONE|NAME,PHONE|NAME" for %고객명%.
func destination(s string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		if phone, name, ok := strings.Cut(p, "|"); ok {
			out[strings.TrimSpace(phone)] = name
		}
	}
	return out
}

// cp949Len is the carrier byte count: CP949 bytes, unencodable runes as one
// substituted byte (Aligo shows them as "?").
func cp949Len(s string) int {
	// An Encoder keeps state, so each call gets its own.
	b, err := encoding.ReplaceUnsupported(korean.EUCKR.NewEncoder()).String(s)
	if err != nil {
		return len(s)
	}
	return len(b)
}
