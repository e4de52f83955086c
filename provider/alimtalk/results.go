package alimtalk

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Remain calls /akv10/heartinfo/: what the balance still buys. The spec
// contradicts itself (§7.4): counters at the top or under "list", the
// status in "code" or "result_code"; both are read. SMS, LMS and MMS are
// what the failover costs; Alimtalk (ALT_CNT) is what this provider sends
// first — munja's low-balance alert watches SMS, the failover's price.
func (c *Client) Remain(ctx context.Context) (provider.Balance, error) {
	var r heartResponse
	if err := c.call(ctx, "/akv10/heartinfo/", url.Values{}, &r, &r.envelope); err != nil {
		return provider.Balance{}, err
	}
	n := r.counts
	if !n.nonzero() {
		n = r.List.V
	}
	return provider.Balance{SMS: int64(n.SMS), LMS: int64(n.LMS), MMS: int64(n.MMS), Alimtalk: int64(n.ALT)}, nil
}

// Paging of the history endpoints: limit is 50–500 rows per page.
const (
	pageLimit      = 500
	maxReportPages = 20
)

// Reports calls /akv10/history/detail/ for one mid, over all its pages:
// one row per receiver. Final results may take up to 24 hours.
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	if messageID == "" {
		return nil, c.gw().RequestError("no mid", "메시지 ID가 없습니다", "empty message id")
	}
	var out []provider.RecipientReport
	for page := 1; page <= maxReportPages; page++ {
		form := url.Values{}
		form.Set("mid", messageID)
		form.Set("page", strconv.Itoa(page))
		form.Set("limit", strconv.Itoa(pageLimit))
		var r detailResponse
		if err := c.call(ctx, "/akv10/history/detail/", form, &r, &r.envelope); err != nil {
			return nil, err
		}
		for _, row := range r.List {
			out = append(out, report(row))
		}
		if len(r.List) == 0 || int(r.TotalPage) <= page {
			return out, nil
		}
	}
	c.log.Warn("alimtalk history paging stopped", "mid", messageID, "pages", maxReportPages)
	return out, nil
}

// Words that classify rslt_message. Aligo publishes no list of results
// (UNCERTAIN); the spec shows rslt "U" with 메시지가 템플릿과 일치하지않음.
var (
	failWords = []string{"실패", "오류", "에러", "일치하지", "없음", "없는", "불가", "거부", "차단", "초과", "만료", "미등록", "취소"}
	okWords   = []string{"성공", "완료"}
)

// report turns one detail row into a recipient's report. A msgid still
// prefixed with Q is in transit. A failed Alimtalk with a failover SMS
// (smid other than 0) is not final: the SMS was sent instead, and its own
// result is in the SMS API's history (not fetched here).
func report(row detailRow) provider.RecipientReport {
	rslt := strings.TrimSpace(string(row.Rslt))
	msg := strings.TrimSpace(string(row.RsltMessage))
	r := provider.RecipientReport{
		Phone: sms.Phone(strings.TrimSpace(string(row.Phone))),
		State: msg,
		At:    parseTime(string(row.RsltDate)),
	}
	if r.State == "" {
		r.State = rslt
	}
	if p, err := sms.ParsePhone(string(r.Phone)); err == nil {
		r.Phone = p
	}
	if r.At.IsZero() {
		r.At = parseTime(string(row.SentDate))
	}
	if strings.HasPrefix(strings.TrimSpace(string(row.MsgID)), "Q") {
		if r.State == "" {
			r.State = "전송중"
		}
		return r
	}
	smid := strings.TrimSpace(string(row.SMID))
	failed := gateway.ContainsAny(msg, failWords) || (msg == "" && rslt != "" && !okCode(rslt))
	switch {
	case failed && smid != "" && smid != "0":
		r.State = "알림톡 실패 (" + r.State + "), 문자로 대체 발송 (mid " + smid + ")"
	case failed:
		r.Failed = true
	case gateway.ContainsAny(msg, okWords) || okCode(rslt):
		r.Delivered = true
	}
	return r
}

// okCode reports whether rslt is a success code as Kakao's bizmessage
// results write it (0, 00, 0000) or Aligo's letter K (UNCERTAIN).
func okCode(rslt string) bool {
	switch strings.ToUpper(rslt) {
	case "0", "00", "000", "0000", "K":
		return true
	}
	return false
}

// Lookup bounds: the history pages read (newest first), and the allowance
// for Aligo's clock against munja's.
const (
	lookupPages = 3
	lookupSkew  = 2 * time.Minute
)

// Lookup implements provider.Looker with /akv10/history/list/ and
// /akv10/history/detail/: among the Alimtalk requests Aligo registered
// since since (less lookupSkew) with b's rendered text, those with b's
// receivers. A test send (testMode=Y) may not be listed (UNCERTAIN, as
// with the SMS API): it is then sent again, harmlessly.
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	m, err := c.render(b)
	if err != nil {
		return map[sms.Phone]string{}, nil // never sent: nothing to find
	}
	want := gateway.PhoneSet(b.Receivers, gateway.NormPhone)
	text := gateway.NormText(m.text)
	out := map[sms.Phone]string{}
	start := since.Add(-lookupSkew).In(kst)
	for page := 1; page <= lookupPages; page++ {
		form := url.Values{}
		form.Set("page", strconv.Itoa(page))
		form.Set("limit", "50")
		form.Set("startdate", start.Format("20060102"))
		form.Set("enddate", c.now().In(kst).Format("20060102"))
		var r historyResponse
		if err := c.call(ctx, "/akv10/history/list/", form, &r, &r.envelope); err != nil {
			return nil, err
		}
		older := false
		for _, row := range r.List {
			reg := parseTime(string(row.RegDate))
			if reg.IsZero() {
				reg = parseTime(string(row.RegDate2))
			}
			if !reg.IsZero() && reg.Before(start) {
				older = true
				continue
			}
			if gateway.NormText(string(row.Body)) != text || string(row.MID) == "" {
				continue
			}
			reps, err := c.Reports(ctx, string(row.MID))
			if err != nil {
				return nil, err
			}
			for _, rep := range reps {
				if p := gateway.NormPhone(string(rep.Phone)); want[p] && out[p] == "" {
					out[p] = string(row.MID)
				}
			}
		}
		if older || len(r.List) == 0 || int(r.TotalPage) <= page || len(out) == len(want) {
			break
		}
	}
	return out, nil
}
