package sens

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Bounds of the result and look-up calls.
const (
	// lookupSkew widens the look-up window for the gateway's clock
	// against munja's.
	lookupSkew = 2 * time.Minute
	// searchPageSize and searchPages bound the search by request time
	// (UNCONFIRMED paging: pageIndex from 0, pageSize; a gateway that
	// ignores them answers everything at once, which is read as one page).
	searchPageSize = 100
	searchPages    = 10
	// maxDetails bounds the per-message result calls of one look-up (one
	// per request found: its messages share the content).
	maxDetails = 20
	// resultWorkers is how many result calls Reports makes at once.
	resultWorkers = 4
)

// Reports lists the messages of one request (GET …/messages?requestId=)
// and takes each one's result from the row when the row has it, else from
// GET …/messages/{messageId}, resultWorkers at a time (a request has up
// to 100 messages, and the dispatcher gives one Reports call 30 s).
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	if messageID == "" {
		return nil, c.gw().RequestError("no requestId", "요청 ID가 없습니다", "empty request id")
	}
	var lr listResponse
	if err := c.call(ctx, http.MethodGet, "/messages", url.Values{"requestId": {messageID}}, nil, &lr); err != nil {
		return nil, err
	}
	rows := lr.Messages
	errs := make([]error, len(rows))
	sem := make(chan struct{}, resultWorkers)
	var wg sync.WaitGroup
	for i := range rows {
		if rows[i].Status != "" || rows[i].MessageID == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := c.result(ctx, rows[i].MessageID)
			if err != nil {
				errs[i] = err
				return
			}
			if d.To == "" {
				d.To = rows[i].To
			}
			rows[i] = d
		}()
	}
	wg.Wait()
	out := make([]provider.RecipientReport, 0, len(rows))
	for i, r := range rows {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, report(r))
	}
	return out, nil
}

// result is GET …/messages/{messageId}: one message with its status.
func (c *Client) result(ctx context.Context, messageID string) (row, error) {
	var rr resultResponse
	if err := c.call(ctx, http.MethodGet, "/messages/"+url.PathEscape(messageID), nil, nil, &rr); err != nil {
		return row{}, err
	}
	if len(rr.Messages) == 0 {
		return row{MessageID: messageID}, nil
	}
	r := rr.Messages[0]
	r.MessageID = messageID
	return r, nil
}

// report maps a message's status: COMPLETED (or a completeTime) is final,
// success or fail by statusName (statusCode 0 being success where the name
// is missing); READY and PROCESSING are pending.
func report(r row) provider.RecipientReport {
	rep := provider.RecipientReport{Phone: gateway.NormPhoneDigits(r.To), At: parseTime(r.CompleteTime), State: r.StatusMessage}
	if rep.State == "" {
		rep.State = r.StatusName
	}
	switch final := strings.EqualFold(r.Status, "COMPLETED") || (r.Status == "" && r.CompleteTime != ""); {
	case !final:
		rep.State = r.Status
	case strings.EqualFold(r.StatusName, "success") || (r.StatusName == "" && r.StatusCode == "0"):
		rep.Delivered = true
	default:
		rep.Failed = true
		if r.StatusCode != "" {
			rep.State = "[" + string(r.StatusCode) + "] " + rep.State
		}
	}
	if rep.State == "" {
		rep.State = "unknown"
	}
	return rep
}

// Lookup implements provider.Looker. SENS makes the requestId, so a send
// whose answer was lost is found by searching the requests made since
// since (less lookupSkew): rows to b's receivers from b's sender with b's
// type, whose content (from the row, else from the message's result) is
// b's text. Any such row counts as accepted; Reports tells what became of
// it.
//
// UNCONFIRMED: the search by requestStartTime/requestEndTime is in the
// 2026 guide (sens-sms-list) but not in older ones; its times are taken
// as KST like every SENS time. A gateway that refuses the search makes
// Lookup fail, and munja sends again (counted as "resent").
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	p, err := c.prepare(b)
	if err != nil {
		return nil, err
	}
	want := gateway.PhoneSet(b.Receivers, gateway.NormPhoneDigits)
	text := gateway.NormText(p.content)
	out := map[sms.Phone]string{}
	start, end := since.Add(-lookupSkew), c.now().Add(lookupSkew)
	if !end.After(start) {
		return out, nil // asked about a send that is yet to come
	}
	// A request's messages share its content: one result call per request.
	contents := map[string]*string{}
	details := 0
	q := url.Values{
		"requestStartTime": {start.In(kst).Format(searchLayout)},
		"requestEndTime":   {end.In(kst).Format(searchLayout)},
		"type":             {string(p.kind)},
		"pageSize":         {strconv.Itoa(searchPageSize)},
	}
	for page := 0; page < searchPages; page++ {
		q.Set("pageIndex", strconv.Itoa(page))
		var lr listResponse
		if err := c.call(ctx, http.MethodGet, "/messages", q, nil, &lr); err != nil {
			return nil, err
		}
		for _, r := range lr.Messages {
			ph := gateway.NormPhoneDigits(r.To)
			switch {
			case !want[ph] || out[ph] != "",
				r.From != "" && gateway.Digits(r.From) != p.from,
				r.Type != "" && !strings.EqualFold(r.Type, string(p.kind)):
				continue
			}
			// The search shows no content (as far as the guide says), so
			// the message's result tells it, and the requestId if missing.
			if r.Content == nil && r.RequestID != "" {
				r.Content = contents[r.RequestID]
			}
			if (r.Content == nil || r.RequestID == "") && r.MessageID != "" && details < maxDetails {
				details++
				d, err := c.result(ctx, r.MessageID)
				if err != nil {
					return nil, err
				}
				if r.Content == nil {
					r.Content = d.Content
				}
				if r.RequestID == "" {
					r.RequestID = d.RequestID
				}
				if r.RequestID != "" && r.Content != nil {
					contents[r.RequestID] = r.Content
				}
			}
			if r.Content != nil && r.RequestID != "" && gateway.NormText(*r.Content) == text {
				out[ph] = r.RequestID
			}
		}
		more := lr.HasMore != nil && *lr.HasMore
		if len(out) == len(want) || !more || len(lr.Messages) == 0 {
			break
		}
	}
	return out, nil
}
