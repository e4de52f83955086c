package console

import (
	"net/http"
	"net/url"
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

func summarize(m *sms.Message) []statusCount {
	var out []statusCount
	for _, s := range statuses {
		n := 0
		for _, d := range m.Deliveries {
			if d.Status == s {
				n++
			}
		}
		if n > 0 {
			out = append(out, statusCount{s, n})
		}
	}
	return out
}

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

type messageData struct {
	M       *sms.Message
	Summary []statusCount
	Count   byteCount
	Names   map[sms.Phone]string
}

func (c *Console) messagePage(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	m, err := c.opt.Store.GetMessage(r.Context(), id)
	if c.failStore(w, r, q, err) {
		return
	}
	d := messageData{M: shown(q, m), Summary: summarize(m), Count: c.countText(q.Lang, m.Text, m.Title), Names: map[sms.Phone]string{}}
	if len(m.Deliveries) <= 50 {
		for _, dl := range m.Deliveries {
			if ct, err := c.contactByPhone(r.Context(), dl.Phone); err == nil && ct != nil {
				d.Names[dl.Phone] = ct.Name
			}
		}
	}
	c.render(w, r, q, "message", "message.title", "history", d)
}
