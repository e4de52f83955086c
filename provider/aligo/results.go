package aligo

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

// maxReportPages bounds the /sms_list/ paging loop against a gateway that
// keeps saying next_yn=Y: 1000 receivers need 2 pages of 500.
const maxReportPages = 20

// Remain calls /remain/: how many SMS, LMS and MMS the balance still buys.
func (c *Client) Remain(ctx context.Context) (provider.Balance, error) {
	var r remainResponse
	if err := c.call(ctx, "/remain/", url.Values{}, &r, &r.envelope); err != nil {
		return provider.Balance{}, err
	}
	return provider.Balance{SMS: int64(r.SMS), LMS: int64(r.LMS), MMS: int64(r.MMS)}, nil
}

// Reports calls /sms_list/ for one msg_id, following next_yn over all pages.
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	if messageID == "" {
		return nil, c.gw().RequestError("no mid", "메시지 ID가 없습니다", "empty message id")
	}
	var out []provider.RecipientReport
	for page := 1; page <= maxReportPages; page++ {
		form := url.Values{}
		form.Set("mid", messageID)
		form.Set("page", strconv.Itoa(page))
		form.Set("page_size", "500")
		var r smsListResponse
		if err := c.call(ctx, "/sms_list/", form, &r, &r.envelope); err != nil {
			return nil, err
		}
		for _, row := range r.List {
			out = append(out, report(row))
		}
		if !strings.EqualFold(r.NextYN, "Y") || len(r.List) == 0 {
			return out, nil
		}
	}
	c.log.Warn("sms_list paging stopped", "msg_id", messageID, "pages", maxReportPages)
	return out, nil
}

// failWords and okWords classify Aligo's free-text sms_state. Aligo
// publishes no list: 발송완료 and "발/착신 번호 에러" are observed; anything
// unrecognised (전송중, 대기 …) is reported as still pending.
var (
	failWords = []string{"에러", "실패", "오류", "거부", "불가", "취소", "결번", "없는"}
	okWords   = []string{"완료", "성공"}
)

func report(row smsListRow) provider.RecipientReport {
	state := strings.TrimSpace(row.SMSState)
	r := provider.RecipientReport{
		Phone: sms.Phone(strings.TrimSpace(row.Receiver)),
		State: state,
		At:    parseTime(row.SendDate),
	}
	switch {
	case gateway.ContainsAny(state, failWords):
		r.Failed = true
	case gateway.ContainsAny(state, okWords):
		r.Delivered = true
	}
	return r
}

// ListItem is one send request as /list/ shows it.
type ListItem struct {
	MessageID    string
	Type         string // SMS, LMS, MMS; AT for Kakao alimtalk requests
	Sender       string
	Count        int // receivers requested (sms_count)
	FailCount    int // may lag behind /sms_list/
	Text         string
	ReserveState string // "" for immediate sends
	Registered   time.Time
	Reserve      time.Time // zero when not reserved
}

// ListPage is one page of /list/.
type ListPage struct {
	Items []ListItem
	Next  bool // next_yn=Y
}

// List calls /list/: recent send requests, newest first. page starts at 1;
// pageSize is clamped by Aligo to 30–500 (0 = Aligo's default 30).
func (c *Client) List(ctx context.Context, page, pageSize int) (ListPage, error) {
	form := url.Values{}
	if page > 0 {
		form.Set("page", strconv.Itoa(page))
	}
	if pageSize > 0 {
		form.Set("page_size", strconv.Itoa(pageSize))
	}
	var r listResponse
	if err := c.call(ctx, "/list/", form, &r, &r.envelope); err != nil {
		return ListPage{}, err
	}
	out := ListPage{Next: strings.EqualFold(r.NextYN, "Y"), Items: make([]ListItem, 0, len(r.List))}
	for _, row := range r.List {
		out.Items = append(out.Items, ListItem{
			MessageID:    string(row.MID),
			Type:         row.Type,
			Sender:       row.Sender,
			Count:        int(row.SMSCount),
			FailCount:    int(row.FailCount),
			Text:         row.Msg,
			ReserveState: row.ReserveState,
			Registered:   parseTime(row.RegDate),
			Reserve:      parseTime(row.Reserve),
		})
	}
	return out, nil
}

// Lookup bounds: the /list/ pages read (newest first), and the allowance
// for the gateway's clock against munja's.
const (
	lookupPages    = 5
	lookupPageSize = 100
	lookupSkew     = 2 * time.Minute
)

// Lookup implements provider.Looker with /list/ and /sms_list/: among the
// requests Aligo registered since since (less lookupSkew), those with b's
// text, and among their receivers those of b. Test-mode requests are not
// listed by Aligo (as far as is known, aligo-api.md §2.6), so a test send is
// never found and is sent again — harmless, it is not delivered.
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	want := gateway.PhoneSet(b.Receivers, gateway.NormPhone)
	text := gateway.NormText(b.Text)
	out := map[sms.Phone]string{}
	for page := 1; page <= lookupPages; page++ {
		lp, err := c.List(ctx, page, lookupPageSize)
		if err != nil {
			return nil, err
		}
		older := false
		for _, it := range lp.Items {
			if !it.Registered.IsZero() && it.Registered.Before(since.Add(-lookupSkew)) {
				older = true
				continue
			}
			if it.Type == "AT" || gateway.NormText(it.Text) != text {
				continue
			}
			reps, err := c.Reports(ctx, it.MessageID)
			if err != nil {
				return nil, err
			}
			for _, r := range reps {
				if p := gateway.NormPhone(string(r.Phone)); want[p] && out[p] == "" {
					out[p] = it.MessageID
				}
			}
		}
		if older || !lp.Next || len(out) == len(want) {
			break
		}
	}
	return out, nil
}
