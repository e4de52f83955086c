package console

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

// auditPerPage is how many entries the audit page shows at once;
// auditCSVMax is the most one CSV export holds.
const (
	auditPerPage = 100
	auditCSVMax  = 100000
)

// auditQuery is the audit page's filter form (a GET query).
type auditQuery struct {
	Actor, Action, From, To string
	Query                   store.AuditQuery
}

// decodeAuditQuery reads the filters; bad fields are reported and ignored.
func decodeAuditQuery(v url.Values, loc *time.Location, tr trFunc) (auditQuery, formErrs) {
	errs := formErrs{}
	a := auditQuery{Actor: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("action")),
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to"))}
	for _, f := range []struct {
		name string
		val  *string
	}{{"actor", &a.Actor}, {"action", &a.Action}} {
		if len(*f.val) > 200 {
			errs.set(f.name, tr("err.too_long", 200))
			*f.val = ""
		}
	}
	a.Query.Actor, a.Query.Action = a.Actor, a.Action
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
	a.Query.Since = day("from", a.From)
	if to := day("to", a.To); !to.IsZero() {
		a.Query.Until = to.AddDate(0, 0, 1) // the whole day
	}
	if s := v.Get("before"); s != "" {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			a.Query.Before = id
		}
	}
	return a, errs
}

// values is the filter as a query string (without the page).
func (a auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": a.Actor, "action": a.Action, "from": a.From, "to": a.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type auditData struct {
	Filter  auditQuery
	Errs    formErrs
	Entries []store.AuditEntry
	NextURL string
	CSVURL  string
}

// auditPage is GET /audit (admins): the audit log with filters by actor,
// action and date, a page at a time.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, q *request) {
	a, errs := decodeAuditQuery(r.URL.Query(), c.loc, c.tr(q.Lang))
	a.Query.Limit = auditPerPage + 1
	es, err := c.opt.Store.FindAudit(r.Context(), a.Query)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	d := auditData{Filter: a, Errs: errs, Entries: es}
	if len(es) > auditPerPage {
		d.Entries = es[:auditPerPage]
		v := a.values()
		v.Set("before", strconv.FormatInt(d.Entries[auditPerPage-1].ID, 10))
		d.NextURL = "/audit?" + v.Encode()
	}
	v := a.values()
	d.CSVURL = "/audit.csv"
	if len(v) > 0 {
		d.CSVURL += "?" + v.Encode()
	}
	c.render(w, r, q, "audit", "audit.title", "audit", d)
}

// auditCSV is GET /audit.csv (admins): the filtered log as CSV, UTF-8 with
// a byte order mark so Excel opens Korean as Korean.
func (c *Console) auditCSV(w http.ResponseWriter, r *http.Request, q *request) {
	a, _ := decodeAuditQuery(r.URL.Query(), c.loc, c.tr(q.Lang))
	a.Query.Limit, a.Query.Before = auditCSVMax, 0
	es, err := c.opt.Store.FindAudit(r.Context(), a.Query)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"id", "time", "actor", "action", "target", "detail"})
	for _, e := range es {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.In(c.loc).Format(time.RFC3339), csvSafe(e.Actor),
			csvSafe(e.Action), csvSafe(e.Target), csvSafe(e.Detail)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		c.internal(w, r, q, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="munja-audit-`+c.opt.Now().In(c.loc).Format("2006-01-02")+`.csv"`)
	_, _ = w.Write(buf.Bytes())
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a contact
// named "=HYPERLINK(…)" ends up in a target).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
