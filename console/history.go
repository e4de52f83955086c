package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

const historyPerPage = 50

// statuses a history search may ask for.
var statuses = []sms.Status{sms.StatusQueued, sms.StatusSending, sms.StatusSent, sms.StatusReserved,
	sms.StatusDelivered, sms.StatusFailed, sms.StatusCanceled}

// historyQuery is the history page's search form (a GET query).
type historyQuery struct {
	Phone, Q, Status, From, To string
	Before                     int64
	Filter                     store.MessageFilter
}

// decodeHistoryQuery reads the search; bad fields are reported and ignored.
func decodeHistoryQuery(v url.Values, loc *time.Location, tr trFunc) (historyQuery, formErrs) {
	errs := formErrs{}
	h := historyQuery{Phone: strings.TrimSpace(v.Get("phone")), Q: strings.TrimSpace(v.Get("q")),
		Status: v.Get("status"), From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to"))}
	h.Filter.Limit = historyPerPage + 1
	if h.Phone != "" {
		if p, err := sms.ParsePhone(h.Phone); err != nil {
			errs.set("phone", tr("err.phone_search"))
		} else {
			h.Filter.Phone = p
		}
	}
	if !utf8.ValidString(h.Q) || utf8.RuneCountInString(h.Q) > 200 {
		errs.set("q", tr("err.too_long", 200))
		h.Q = ""
	}
	h.Filter.Text = h.Q
	if h.Status != "" {
		ok := false
		for _, s := range statuses {
			if string(s) == h.Status {
				ok = true
			}
		}
		if ok {
			h.Filter.Status = sms.Status(h.Status)
		} else {
			errs.set("status", tr("err.bad_value"))
			h.Status = ""
		}
	}
	day := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			errs.set(field, tr("err.date_format"))
		}
		return t
	}
	h.Filter.Since = day("from", h.From)
	if to := day("to", h.To); !to.IsZero() {
		h.Filter.Until = to.AddDate(0, 0, 1) // the whole day
	}
	if s := v.Get("before"); s != "" {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			h.Before, h.Filter.BeforeID = id, id
		}
	}
	return h, errs
}

// values is the search as a query, without the page position.
func (h historyQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"phone": h.Phone, "q": h.Q, "status": h.Status, "from": h.From, "to": h.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type historyRow struct {
	*sms.Message
	Summary []statusCount
	Short   string
}

type statusCount struct {
	Status sms.Status
	N      int
}

type historyData struct {
	Query    historyQuery
	Errs     formErrs
	Rows     []historyRow
	NextURL  string
	FirstURL string
	Statuses []sms.Status
}

// statusTest is how the console shows a delivery of a test-mode message
// that the gateway accepted: accepted, never delivered (Aligo cancels it),
// neither sent nor failed. It is no stored status.
const statusTest sms.Status = "test"

// shownStatuses are the statuses the console shows, in the order counts
// are listed.
var shownStatuses = []sms.Status{sms.StatusQueued, sms.StatusSending, sms.StatusSent, sms.StatusReserved,
	sms.StatusDelivered, statusTest, sms.StatusFailed, sms.StatusCanceled}

// shownStatus is d's status as the console shows it: a test-mode delivery
// the gateway accepted is a test, even when a report said it failed (the
// gateway cancels test sends; reports of them are not recorded any more,
// but older ones were). A test send the gateway refused stays failed.
func shownStatus(m *sms.Message, d sms.Delivery) sms.Status {
	if !m.Test {
		return d.Status
	}
	switch d.Status {
	case sms.StatusSent, sms.StatusReserved, sms.StatusDelivered:
		return statusTest
	case sms.StatusFailed:
		if d.ProviderMsgID != "" {
			return statusTest
		}
	}
	return d.Status
}

func summarize(m *sms.Message) []statusCount {
	n := map[sms.Status]int{}
	for _, d := range m.Deliveries {
		n[shownStatus(m, d)]++
	}
	var out []statusCount
	for _, s := range shownStatuses {
		if n[s] > 0 {
			out = append(out, statusCount{s, n[s]})
		}
	}
	return out
}

// overall is a message's status in one word from its counts: the one
// status every recipient has (delivered when every one is), sending while
// any is unfinished, partial when some ended without delivery, else sent.
func overall(counts []statusCount) sms.Status {
	switch len(counts) {
	case 0:
		return ""
	case 1:
		return counts[0].Status
	}
	bad := false
	for _, sc := range counts {
		switch sc.Status {
		case sms.StatusQueued, sms.StatusSending:
			return sms.StatusSending
		case sms.StatusFailed, sms.StatusCanceled:
			bad = true
		}
	}
	if bad {
		return statusPartial
	}
	return sms.StatusSent
}

// statusPartial: some recipients ended without delivery, others not.
const statusPartial sms.Status = "partial"

func (c *Console) historyPage(w http.ResponseWriter, r *http.Request, q *request) {
	h, errs := decodeHistoryQuery(r.URL.Query(), c.loc, c.tr(q.Lang))
	ms, err := c.opt.Store.ListMessages(r.Context(), h.Filter)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	d := historyData{Query: h, Errs: errs, Statuses: statuses}
	if len(ms) > historyPerPage {
		ms = ms[:historyPerPage]
		v := h.values()
		v.Set("before", strconv.FormatInt(ms[len(ms)-1].ID, 10))
		d.NextURL = "/history?" + v.Encode()
	}
	if h.Before != 0 {
		d.FirstURL = "/history?" + h.values().Encode()
	}
	for _, m := range ms {
		if hiddenFrom(q, h.Filter, m) {
			continue
		}
		m = shown(q, m)
		d.Rows = append(d.Rows, historyRow{Message: m, Summary: summarize(m), Short: shorten(strings.ReplaceAll(m.Text, "\n", " "), 60)})
	}
	c.render(w, r, q, "history", "history.title", "history", d)
}

// deliveriesPerPage is how many recipients one message page lists.
const deliveriesPerPage = 100

type messageData struct {
	M       *sms.Message
	Summary []statusCount
	Overall sms.Status
	Total   int
	Count   byteCount
	// Rows are this page's recipients (of Filter's status, "" for all).
	Rows   []deliveryRow
	Filter sms.Status
	Page   int // from 1
	Pages  int
	// PrevURL, NextURL link the neighbouring pages; AllURL drops the filter.
	PrevURL, NextURL, AllURL string
	// StatusURL links each status count to its recipients.
	StatusURL map[sms.Status]string
}

type deliveryRow struct {
	sms.Delivery
	Shown sms.Status
	Name  string
}

// messagePage shows a message and its recipients, deliveriesPerPage a
// page (?page=N), optionally only those of one shown status (?status=).
func (c *Console) messagePage(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	m, err := c.opt.Store.GetMessage(r.Context(), id)
	if c.failStore(w, r, q, err) {
		return
	}
	d := messageData{M: shown(q, m), Summary: summarize(m), Total: len(m.Deliveries),
		Count: c.countText(q.Lang, m.Text, m.Title), StatusURL: map[sms.Status]string{}}
	d.Overall = overall(d.Summary)
	base := "/messages/" + strconv.FormatInt(m.ID, 10)
	v := r.URL.Query()
	if s := sms.Status(v.Get("status")); s != "" && slices.Contains(shownStatuses, s) {
		d.Filter = s
		d.AllURL = base
	}
	for _, sc := range d.Summary {
		d.StatusURL[sc.Status] = base + "?" + url.Values{"status": {string(sc.Status)}}.Encode()
	}
	var rows []deliveryRow
	for _, dl := range m.Deliveries {
		if st := shownStatus(m, dl); d.Filter == "" || st == d.Filter {
			rows = append(rows, deliveryRow{Delivery: dl, Shown: st})
		}
	}
	d.Pages = max(1, (len(rows)+deliveriesPerPage-1)/deliveriesPerPage)
	d.Page = 1
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		d.Page = min(n, d.Pages)
	}
	from := (d.Page - 1) * deliveriesPerPage
	d.Rows = rows[from:min(from+deliveriesPerPage, len(rows))]
	pageURL := func(n int) string {
		pv := url.Values{}
		if d.Filter != "" {
			pv.Set("status", string(d.Filter))
		}
		if n > 1 {
			pv.Set("page", strconv.Itoa(n))
		}
		if len(pv) == 0 {
			return base
		}
		return base + "?" + pv.Encode()
	}
	if d.Page > 1 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextURL = pageURL(d.Page + 1)
	}
	if len(d.Rows) > 0 {
		// Names from the address book, read once for the page.
		cts, err := c.opt.Store.ListContacts(r.Context(), "", 0, 0)
		if err != nil {
			c.internal(w, r, q, err)
			return
		}
		names := make(map[sms.Phone]string, len(cts))
		for _, ct := range cts {
			names[ct.Phone] = ct.Name
		}
		for i := range d.Rows {
			d.Rows[i].Name = names[d.Rows[i].Phone]
		}
	}
	c.render(w, r, q, "message", "message.title", "history", d)
}
