package solapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// List paging. The list's maximum page size is not documented; 500 is
// asked, and if Solapi refuses it (HTTP 400) munja falls back to its
// default page (20) for the rest of the process.
const (
	listPageSize  = 500
	maxListPages  = 40 // 10,000 receivers in pages of 500, twice over
	lookupSkew    = 2 * time.Minute
	pendingMaxAge = time.Hour
	pendingMax    = 1000
)

// defaultPrices are the unit prices (KRW) in Solapi's pricing samples,
// used only if the account's prices cannot be read.
var defaultPrices = prices{SMS: 20, LMS: 50, MMS: 200}

// Remain reads the balance (GET /cash/v1/balance: money and bonus points,
// both spent on messages) and the account's unit prices (GET
// /pricing/v1/messaging) and says how many SMS, LMS and MMS they buy.
// Should the prices be unreadable (the pricing answer's shape is
// documented by an old sample only), Solapi's list prices are used and a
// warning logged.
func (c *Client) Remain(ctx context.Context) (provider.Balance, error) {
	bal, err := c.balance(ctx)
	if err != nil {
		return provider.Balance{}, err
	}
	p, err := c.prices(ctx)
	if err != nil {
		if provider.IsPermanent(err) && isAuth(err) {
			return provider.Balance{}, err
		}
		c.log.Warn("cannot read "+c.brand.display+" prices; counting with list prices", "err", err,
			"sms", float64(defaultPrices.SMS), "lms", float64(defaultPrices.LMS), "mms", float64(defaultPrices.MMS))
		p = defaultPrices
	}
	money := float64(bal.Balance) + float64(bal.Point)
	buys := func(price flexFloat) int64 {
		if price <= 0 || money <= 0 {
			return 0
		}
		return int64(math.Floor(money/float64(price) + 1e-9))
	}
	return provider.Balance{SMS: buys(p.SMS), LMS: buys(p.LMS), MMS: buys(p.MMS)}, nil
}

func (c *Client) balance(ctx context.Context) (balanceResponse, error) {
	body, err := c.do(ctx, call{method: http.MethodGet, path: balancePath})
	if err != nil {
		return balanceResponse{}, err
	}
	var r balanceResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return balanceResponse{}, c.decodeError(body, err, false)
	}
	return r, nil
}

func (c *Client) prices(ctx context.Context) (prices, error) {
	body, err := c.do(ctx, call{method: http.MethodGet, path: pricingPath})
	if err != nil {
		return prices{}, err
	}
	p, err := parsePrices(body)
	if err != nil {
		return prices{}, c.decodeError(body, err, false)
	}
	return p, nil
}

// isAuth reports whether err is one of the authentication refusals.
func isAuth(err error) bool {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "InvalidAPIKey", "SignatureDoesNotMatch", "RequestTimeTooSkewed", "Unauthorized", "HTTP 401":
		return true
	}
	return false
}

// Reports lists the messages of one group (the MessageID of a send) with
// their status codes: 4000 delivered, 1xxx/2xxx/3xxx failed, 2000 and 3000
// still on their way.
func (c *Client) Reports(ctx context.Context, messageID string) ([]provider.RecipientReport, error) {
	switch {
	case messageID == "":
		return nil, c.gw().RequestError("no group id", "메시지 그룹 ID가 없습니다", "empty message id")
	case strings.HasPrefix(messageID, testPrefix):
		return nil, nil // a test send: nothing was sent
	}
	var out []provider.RecipientReport
	err := c.list(ctx, url.Values{"groupId": {messageID}}, func(m storedMessage) bool {
		out = append(out, report(m))
		return true
	})
	return out, err
}

func report(m storedMessage) provider.RecipientReport {
	code := string(m.StatusCode)
	delivered, failed := delivery(code)
	if code == "" && strings.EqualFold(string(m.Status), "FAILED") {
		failed = true
	}
	at := parseTime(m.DateReceived)
	for _, t := range []flexString{m.DateReported, m.DateProcessed} {
		if at.IsZero() {
			at = parseTime(t)
		}
	}
	return provider.RecipientReport{
		Phone:     gateway.NormPhone(string(m.To)),
		Delivered: delivered,
		Failed:    failed,
		State:     describe(code, string(m.Reason)),
		At:        at,
	}
}

// list pages through GET /messages/v4/list with q, calling each for every
// message until it returns false, the pages end or maxListPages were read.
func (c *Client) list(ctx context.Context, q url.Values, each func(storedMessage) bool) error {
	startKey := ""
	for range maxListPages {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if startKey != "" {
			qq.Set("startKey", startKey)
		}
		limit := c.listLimit.Load()
		if limit > 0 {
			qq.Set("limit", strconv.Itoa(int(limit)))
		}
		body, err := c.do(ctx, call{method: http.MethodGet, path: listPath, query: qq})
		var pe *provider.Error
		if err != nil && limit > 0 && errors.As(err, &pe) && pe.Code != "" && pe.Permanent && !isAuth(err) &&
			strings.Contains(strings.ToLower(pe.Message), "limit") {
			c.log.Warn(c.brand.display+" refused the list page size; using its default", "limit", limit, "err", err)
			c.listLimit.Store(0)
			continue
		}
		if err != nil {
			return err
		}
		var r listResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return c.decodeError(body, err, false)
		}
		for _, m := range r.MessageList {
			if !each(m) {
				return nil
			}
		}
		next := string(r.NextKey)
		if next == "" || next == startKey || len(r.MessageList) == 0 {
			return nil
		}
		startKey = next
	}
	c.log.Warn(c.brand.display+" list paging stopped", "query", q.Encode(), "pages", maxListPages)
	return nil
}

// pendingSend is the id of a send whose answer was lost.
type pendingSend struct {
	id string
	at time.Time
}

// batchKey identifies a batch by what is sent: the dispatcher asks Lookup
// with the same message and receivers it sent.
func batchKey(m message, receivers []sms.Phone) string {
	rs := make([]string, len(receivers))
	for i, p := range receivers {
		rs[i] = string(gateway.NormPhone(string(p)))
	}
	slices.Sort(rs)
	h := sha256.New()
	for _, s := range []string{m.sender, string(m.kind), m.subject, gateway.NormText(m.text), strings.Join(rs, ",")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// remember keeps the id of an uncertain send for Lookup (for an hour, at
// most pendingMax of them).
func (c *Client) remember(m message, receivers []sms.Phone, id string) {
	key := batchKey(m, receivers)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, ps := range c.pending {
		ps = slices.DeleteFunc(ps, func(p pendingSend) bool { return now.Sub(p.at) > pendingMaxAge })
		if len(ps) == 0 {
			delete(c.pending, k)
		} else {
			c.pending[k] = ps
		}
	}
	if len(c.pending) >= pendingMax {
		return // a gateway this uncertain: Lookup falls back to matching the text
	}
	c.pending[key] = append(c.pending[key], pendingSend{id: id, at: now})
}

func (c *Client) pendingIDs(key string) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := map[string]bool{}
	for _, p := range c.pending[key] {
		ids[p.id] = true
	}
	return ids
}

// Lookup implements provider.Looker: which receivers of b Solapi
// registered from a send made at or after since. It lists the messages
// from b's sender created since then (less lookupSkew for the clocks) and
// picks those carrying the id of a send of b whose answer was lost
// (customFields munjaBatch) — exact, whatever else was sent. Without such
// an id (a send from before a restart) it matches the text instead, as
// the Aligo client does. A message Solapi refused at registration (1xxx)
// was not accepted. Each found receiver comes with its group id, which
// Reports takes. A test send is never looked up: nothing was sent.
func (c *Client) Lookup(ctx context.Context, b provider.Batch, since time.Time) (map[sms.Phone]string, error) {
	out := map[sms.Phone]string{}
	if b.Test || c.test {
		return out, nil
	}
	m, err := c.prepare(b)
	if err != nil {
		return nil, err
	}
	want := gateway.PhoneSet(b.Receivers, gateway.NormPhone)
	ids := c.pendingIDs(batchKey(m, b.Receivers))
	text := gateway.NormText(m.text)
	from := since.Add(-lookupSkew)
	q := url.Values{
		"from":      {m.sender},
		"dateType":  {"CREATED"},
		"startDate": {from.UTC().Format(time.RFC3339)},
	}
	err = c.list(ctx, q, func(sm storedMessage) bool {
		p := gateway.NormPhone(string(sm.To))
		if !want[p] || out[p] != "" {
			return true
		}
		if created := parseTime(sm.DateCreated); !created.IsZero() && created.Before(from) {
			return true // the filter was not applied
		}
		ours := ids[sm.CustomFields[batchField]]
		if len(ids) == 0 {
			ours = gateway.NormText(sm.Text) == text && string(gateway.NormPhone(string(sm.From))) == m.sender
		}
		if !ours || strings.HasPrefix(string(sm.StatusCode), "1") {
			return true
		}
		id := string(sm.GroupID)
		if id == "" {
			id = sm.id()
		}
		out[p] = id
		return len(out) < len(want)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
