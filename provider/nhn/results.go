package nhn

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Paging of the list endpoints: NHN allows pageSize up to 1,000, so a
// request of 1,000 recipients is one page; maxPages bounds a gateway that
// keeps reporting more.
const (
	pageSize = 1000
	maxPages = 5
	// lookupSkew widens the look-up window for the gateway's clock
	// against munja's.
	lookupSkew = 2 * time.Minute
)

// list reads one page of GET …/sender/{endpoint} (발송 목록 검색).
func (c *Client) list(ctx context.Context, endpoint string, q url.Values, page int) (listResponse, error) {
	q.Set("pageNum", strconv.Itoa(page))
	q.Set("pageSize", strconv.Itoa(pageSize))
	var r listResponse
	if err := c.call(ctx, http.MethodGet, "/sender/"+endpoint, q, nil, &r); err != nil {
		return listResponse{}, err
	}
	return r, nil
}

// listAll reads every page of a search, up to maxPages.
func (c *Client) listAll(ctx context.Context, endpoint string, q url.Values) ([]listRow, error) {
	var rows []listRow
	for page := 1; page <= maxPages; page++ {
		r, err := c.list(ctx, endpoint, q, page)
		if err != nil {
			return nil, err
		}
		if r.Body == nil {
			return rows, nil
		}
		rows = append(rows, r.Body.Data...)
		if len(r.Body.Data) < pageSize || int64(len(rows)) >= int64(r.Body.TotalCount) {
			return rows, nil
		}
	}
	c.log.Warn("nhn list paging stopped", "endpoint", endpoint, "pages", maxPages)
	return rows, nil
}

// Reports lists the recipients of one request (its requestId) with their
// delivery results. The id does not say whether it was an SMS or an LMS,
// so the SMS list is asked first and the LMS (mms) list when it has none.
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	if messageID == "" {
		return nil, c.gw().RequestError("no requestId", "요청 ID가 없습니다", "empty request id")
	}
	var rows []listRow
	for _, endpoint := range []string{"sms", "mms"} {
		var err error
		rows, err = c.listAll(ctx, endpoint, url.Values{"requestId": {messageID}})
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			break
		}
	}
	out := make([]provider.RecipientReport, 0, len(rows))
	for _, row := range rows {
		out = append(out, report(row))
	}
	return out, nil
}

// report maps a list row: the carrier's resultCode decides when there is
// one (1000 delivered, anything else failed); else msgStatus (0 failed,
// 4 reservation cancelled, 5 duplicate failure; 1, 2 and 3 without a
// result yet are pending).
func report(row listRow) provider.RecipientReport {
	r := provider.RecipientReport{
		Phone: gateway.NormPhoneDigits(row.RecipientNo),
		State: row.MsgStatusName,
		At:    parseTime(row.ResultDate),
	}
	if row.ResultCodeName != "" {
		r.State = row.ResultCodeName
	}
	switch code := string(row.ResultCode); {
	case code == "1000":
		r.Delivered = true
	case code != "" && code != "0":
		r.Failed = true
		r.State = "[" + code + "] " + r.State
	default:
		switch row.MsgStatus {
		case "0", "4", "5":
			r.Failed = true
		}
	}
	if r.State == "" {
		r.State = "msgStatus " + string(row.MsgStatus)
	}
	return r
}

// Lookup implements provider.Looker: the requests NHN registered since
// since (less lookupSkew) under b's senderGroupingKey — a digest of its
// kind, sender, title and text — with b's text, and among their recipients
// those of b. Any row counts as accepted, whatever its state: NHN took the
// request, and Reports tells what became of it.
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	m, err := c.prepare(b)
	if err != nil {
		return nil, err
	}
	want := gateway.PhoneSet(b.Receivers, gateway.NormPhoneDigits)
	start, end := since.Add(-lookupSkew), c.now().Add(lookupSkew)
	if !end.After(start) {
		return map[sms.Phone]string{}, nil // asked about a send that is yet to come
	}
	q := url.Values{
		"senderGroupingKey": {m.group},
		"startRequestDate":  {start.In(kst).Format(dateLayout)},
		"endRequestDate":    {end.In(kst).Format(dateLayout)},
	}
	rows, err := c.listAll(ctx, m.endpoint(), q)
	if err != nil {
		return nil, err
	}
	text := gateway.NormText(m.text)
	out := map[sms.Phone]string{}
	for _, row := range rows {
		if row.SenderGroupingKey != "" && row.SenderGroupingKey != m.group {
			continue
		}
		if gateway.NormText(row.Body) != text {
			continue
		}
		if p := gateway.NormPhoneDigits(row.RecipientNo); want[p] && out[p] == "" {
			out[p] = string(row.RequestID)
		}
	}
	return out, nil
}
