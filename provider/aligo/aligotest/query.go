package aligotest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const dateLayout = "2006-01-02 15:04:05"

type remainBody struct {
	ResultCode int    `json:"result_code"`
	Message    string `json:"message"`
	SMS        int64  `json:"SMS_CNT"`
	LMS        int64  `json:"LMS_CNT"`
	MMS        int64  `json:"MMS_CNT"`
}

// listRow keeps the observed typing: string ids and counts, numeric fail_count.
type listRow struct {
	MID          string `json:"mid"`
	Type         string `json:"type"`
	Sender       string `json:"sender"`
	SMSCount     string `json:"sms_count"`
	ReserveState string `json:"reserve_state"`
	Msg          string `json:"msg"`
	FailCount    int    `json:"fail_count"`
	RegDate      string `json:"reg_date"`
	Reserve      string `json:"reserve"`
}

type smsListRow struct {
	MDID        string `json:"mdid"`
	Type        string `json:"type"`
	Sender      string `json:"sender"`
	Receiver    string `json:"receiver"`
	SMSState    string `json:"sms_state"`
	RegDate     string `json:"reg_date"`
	SendDate    string `json:"send_date"`
	ReserveDate string `json:"reserve_date"`
}

type pageBody[T any] struct {
	ResultCode int    `json:"result_code"`
	Message    string `json:"message"`
	List       []T    `json:"list"`
	NextYN     string `json:"next_yn"`
}

type cancelBody struct {
	ResultCode int    `json:"result_code"`
	Message    string `json:"message"`
	CancelDate string `json:"cancel_date"`
}

func (s *Server) handleRemain(w http.ResponseWriter, _ string, _ url.Values, _ []string) {
	b := s.Balance()
	writeJSON(w, remainBody{ResultCode: 1, Message: "success", SMS: b / cost["SMS"], LMS: b / cost["LMS"], MMS: b / cost["MMS"]})
}

// paging reads page (default 1; 0 counts as 1) and page_size (default 30,
// clamped to 30–500).
func paging(form url.Values) (page, size int) {
	page, _ = strconv.Atoi(form.Get("page"))
	page = max(page, 1)
	size, err := strconv.Atoi(form.Get("page_size"))
	if err != nil || size == 0 {
		size = 30
	}
	return page, min(max(size, 30), 500)
}

func pageOf[T any](rows []T, page, size int) pageBody[T] {
	start := min((page-1)*size, len(rows))
	end := min(start+size, len(rows))
	next := "N"
	if end < len(rows) {
		next = "Y"
	}
	return pageBody[T]{ResultCode: 1, Message: "success", List: append([]T{}, rows[start:end]...), NextYN: next}
}

func kstDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(kst).Format(dateLayout)
}

// state is a request's reservation state at now: "" for immediate sends.
// (choice) the Korean wording of the states.
func (r *record) state(now time.Time) string {
	switch {
	case r.reserve.IsZero():
		return ""
	case !r.canceled.IsZero():
		return "예약취소"
	case now.Before(r.reserve):
		return "예약대기중"
	}
	return "발송완료"
}

// handleList answers /list/, newest first. (choice) test-mode requests are
// auto-cancelled and do not appear.
func (s *Server) handleList(w http.ResponseWriter, _ string, form url.Values, _ []string) {
	page, size := paging(form)
	now := s.now()
	s.mu.Lock()
	var rows []listRow
	for i := len(s.records) - 1; i >= 0; i-- {
		r := s.records[i]
		if r.test {
			continue
		}
		fail := 0
		for _, x := range r.rows {
			if !mobile.MatchString(x.receiver) {
				fail++
			}
		}
		rows = append(rows, listRow{
			MID: r.id, Type: r.kind, Sender: r.sender, SMSCount: strconv.Itoa(len(r.rows)),
			ReserveState: r.state(now), Msg: r.msg, FailCount: fail, RegDate: kstDate(r.reg), Reserve: kstDate(r.reserve),
		})
	}
	s.mu.Unlock()
	writeJSON(w, pageOf(rows, page, size))
}

// handleSMSList answers /sms_list/ for one mid. (choice) an unknown mid
// gives an empty list, a missing one an error.
func (s *Server) handleSMSList(w http.ResponseWriter, _ string, form url.Values, _ []string) {
	mid := form.Get("mid")
	if mid == "" {
		writeJSON(w, errorBody{codeParam, "mid 값이 입력되지 않았습니다."})
		return
	}
	page, size := paging(form)
	now := s.now()
	s.mu.Lock()
	rows := []smsListRow{}
	if r := s.find(mid); r != nil && !r.test {
		state := r.state(now)
		sent := r.reserve
		if sent.IsZero() {
			sent = r.reg
		}
		for _, x := range r.rows {
			row := smsListRow{
				MDID: x.mdid, Type: r.kind, Sender: r.sender, Receiver: x.receiver,
				RegDate: kstDate(r.reg), SendDate: kstDate(sent), ReserveDate: kstDate(r.reserve),
			}
			switch {
			case state == "예약취소" || state == "예약대기중":
				row.SMSState, row.SendDate = state, ""
			case !mobile.MatchString(x.receiver):
				row.SMSState = "발/착신 번호 에러"
			default:
				row.SMSState = "발송완료"
			}
			rows = append(rows, row)
		}
	}
	s.mu.Unlock()
	writeJSON(w, pageOf(rows, page, size))
}

// find returns the record with id; s.mu must be held.
func (s *Server) find(id string) *record {
	for _, r := range s.records {
		if r.id == id {
			return r
		}
	}
	return nil
}

// handleCancel answers /cancel/ with Aligo's documented -801…-805 and
// refunds the balance on success.
func (s *Server) handleCancel(w http.ResponseWriter, _ string, form url.Values, _ []string) {
	mid := form.Get("mid")
	if mid == "" {
		writeJSON(w, errorBody{-801, "메세지ID 미입력"})
		return
	}
	writeJSON(w, s.cancel(mid, s.now()))
}

func (s *Server) cancel(mid string, now time.Time) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(mid)
	switch {
	case r == nil:
		return errorBody{-802, "메세지ID 오류"}
	case r.test || r.reserve.IsZero() || !r.canceled.IsZero():
		return errorBody{-803, "예약대기중인 문자 없음"}
	case !now.Before(r.reserve):
		return errorBody{-805, "전송완료로 취소불가"}
	case r.reserve.Sub(now) < 5*time.Minute:
		return errorBody{-804, "발송 5분전까지만 취소가능"}
	}
	r.canceled = now
	s.balance += r.charged
	for i := range s.delivered {
		if s.delivered[i].MsgID == mid {
			s.delivered[i].Canceled = true
		}
	}
	return cancelBody{ResultCode: 1, Message: "success", CancelDate: kstDate(now)}
}
