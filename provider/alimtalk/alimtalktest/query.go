package alimtalktest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const dateLayout = "2006-01-02 15:04:05"

// kst is Korea Standard Time (no DST since 1988).
var kst = time.FixedZone("KST", 9*60*60)

// cost of a message in SMS units (choice): AT is cheaper than LMS.
var cost = map[string]int64{"SMS": 1, "LMS": 3, "MMS": 7, "ALT": 1}

type counts struct {
	SMS int64 `json:"SMS_CNT"`
	LMS int64 `json:"LMS_CNT"`
	MMS int64 `json:"MMS_CNT"`
	ALT int64 `json:"ALT_CNT"`
}

// heartList is the spec's example shape: {"code":1,"message":"","list":{…}}.
type heartList struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	List    counts `json:"list"`
}

// heartTop is the spec's table shape: result_code and counters at the top.
type heartTop struct {
	ResultCode int    `json:"result_code"`
	Message    string `json:"message"`
	counts
}

func (s *Server) handleHeart(w http.ResponseWriter, _ string, _ url.Values) {
	s.mu.Lock()
	b, top := s.balance, s.heartTop
	s.mu.Unlock()
	n := counts{SMS: b / cost["SMS"], LMS: b / cost["LMS"], MMS: b / cost["MMS"], ALT: b / cost["ALT"]}
	if top {
		writeJSON(w, heartTop{ResultCode: 1, Message: "success", counts: n})
		return
	}
	writeJSON(w, heartList{Code: 1, Message: "", List: n})
}

// historyRow is a /akv10/history/list/ row; numbers as strings, as in the
// spec's example.
type historyRow struct {
	MID          string `json:"mid"`
	Type         string `json:"type"`
	Sender       string `json:"sender"`
	MsgCount     string `json:"msg_count"`
	MBody        string `json:"mbody"`
	ReserveDate  string `json:"reserve_date"`
	ReserveState string `json:"reserve_state"`
	RegDate      string `json:"reg_date"` // the example's name (the table says regdate)
}

type detailRow struct {
	MsgID       string `json:"msgid"`
	Type        string `json:"type"`
	Sender      string `json:"sender"`
	Phone       string `json:"phone"`
	Status      string `json:"status"`
	ReqDate     string `json:"reqdate"`
	SentDate    string `json:"sentdate"`
	RsltDate    string `json:"rsltdate"`
	ReportDate  string `json:"reportdate"`
	Rslt        string `json:"rslt"`
	RsltMessage string `json:"rslt_message"`
	Message     string `json:"message"`
	ButtonJSON  string `json:"button_json"`
	TplCode     string `json:"tpl_code"`
	SenderKey   string `json:"senderKey"`
	SMID        string `json:"smid"`
}

type pageBody[T any] struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	List        []T    `json:"list"`
	CurrentPage string `json:"currentPage"`
	TotalPage   string `json:"totalPage"`
	TotalCount  string `json:"totalCount"`
}

// paging reads page (default 1) and limit (default 50, clamped to 50–500).
func paging(form url.Values) (page, limit int) {
	page, _ = strconv.Atoi(form.Get("page"))
	page = max(page, 1)
	limit, err := strconv.Atoi(form.Get("limit"))
	if err != nil || limit == 0 {
		limit = 50
	}
	return page, min(max(limit, 50), 500)
}

func pageOf[T any](rows []T, page, limit int) pageBody[T] {
	start := min((page-1)*limit, len(rows))
	end := min(start+limit, len(rows))
	total := (len(rows) + limit - 1) / limit
	return pageBody[T]{Code: 0, Message: "정상적으로 호출하였습니다.", List: append([]T{}, rows[start:end]...),
		CurrentPage: strconv.Itoa(page), TotalPage: strconv.Itoa(max(total, 1)), TotalCount: strconv.Itoa(len(rows))}
}

// handleHistory lists accepted requests newest first, within startdate–
// enddate (YYYYMMDD, KST) when given. Test sends are (choice) not listed.
func (s *Server) handleHistory(w http.ResponseWriter, _ string, form url.Values) {
	page, limit := paging(form)
	from, _ := time.ParseInLocation("20060102", form.Get("startdate"), kst)
	to, _ := time.ParseInLocation("20060102", form.Get("enddate"), kst)
	s.mu.Lock()
	var rows []historyRow
	for i := len(s.records) - 1; i >= 0; i-- {
		r := s.records[i]
		if r.test || (!from.IsZero() && r.reg.Before(from)) || (!to.IsZero() && !r.reg.Before(to.AddDate(0, 0, 1))) {
			continue
		}
		rows = append(rows, historyRow{MID: r.mid, Type: "AT", Sender: r.sender, MsgCount: strconv.Itoa(len(r.rows)),
			MBody: r.body, RegDate: r.reg.In(kst).Format(dateLayout)})
	}
	s.mu.Unlock()
	writeJSON(w, pageOf(rows, page, limit))
}

// handleDetail lists one request's receivers. A matched message to a
// receiver with KakaoTalk is delivered (rslt 0, 성공: choice); one that
// does not match its template is not (rslt U, 메시지가 템플릿과
// 일치하지않음, as the spec shows); a receiver without KakaoTalk fails
// (choice: rslt E). smid names the failover SMS when one went out.
func (s *Server) handleDetail(w http.ResponseWriter, _ string, form url.Values) {
	mid := form.Get("mid")
	if mid == "" {
		writeJSON(w, fail(-99, "메시지 아이디(=mid)파라메더 정보가 전달되지 않았습니다.")) // (choice)
		return
	}
	page, limit := paging(form)
	s.mu.Lock()
	var rows []detailRow
	for _, r := range s.records {
		if r.mid != mid {
			continue
		}
		for i, d := range r.rows {
			reg := r.reg.In(kst).Format(dateLayout)
			row := detailRow{MsgID: r.msgIDs[i], Type: "AT", Sender: r.sender, Phone: d.Receiver, Status: "3",
				ReqDate: reg, SentDate: reg, RsltDate: reg, ReportDate: reg, Message: d.Message,
				TplCode: d.TplCode, SenderKey: s.SenderKey, SMID: "0", Rslt: "0", RsltMessage: "성공"}
			switch {
			case s.pending:
				row.MsgID, row.Rslt, row.RsltMessage, row.RsltDate, row.ReportDate = "Q"+row.MsgID, "", "", "", ""
			case !d.Matched:
				row.Rslt, row.RsltMessage = "U", "메시지가 템플릿과 일치하지않음"
			case s.noKakao[d.Receiver]:
				row.Rslt, row.RsltMessage = "E", "카카오톡 미사용자 전송 실패"
			}
			if d.SMSFallback && !s.pending {
				row.SMID = r.smid
			}
			rows = append(rows, row)
		}
	}
	s.mu.Unlock()
	writeJSON(w, pageOf(rows, page, limit))
}
