package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/munja-sms/munja/addressbook"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

type importData struct {
	Errs     formErrs
	Group    string
	Done     bool
	File     string
	Created  int
	Updated  int
	Skipped  int
	Problems []importProblem
}

type importProblem struct {
	Row    int
	Key    string
	Reason string
}

func (c *Console) importPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.render(w, r, q, "import", "import.title", "contacts", importData{Errs: formErrs{}})
}

// parseAddressBook picks the parser from the file name, else the content.
func parseAddressBook(name string, data []byte) (addressbook.Result, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return addressbook.ParseJSON(data)
	case ".csv", ".txt", ".tsv":
		return addressbook.ParseCSV(data)
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		return addressbook.ParseJSON(data)
	}
	return addressbook.ParseCSV(data)
}

func (c *Console) importContacts(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	d := importData{Errs: formErrs{}}
	d.Group = line(r.PostForm, "group", maxGroupRunes, false, d.Errs, tr)
	if strings.ContainsAny(d.Group, ",;|") {
		d.Errs.set("group", tr("err.group_chars"))
	}
	overwrite := r.PostFormValue("overwrite") != ""
	file, hdr, err := r.FormFile("file")
	if err != nil {
		d.Errs.set("file", tr("import.no_file"))
		c.renderStatus(w, r, q, http.StatusUnprocessableEntity, "import", "import.title", "contacts", d)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxImportBody))
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	d.File = path.Base(hdr.Filename)
	res, err := parseAddressBook(hdr.Filename, data)
	if err != nil {
		d.Errs.set("file", tr("import.unreadable", err.Error()))
	}
	if len(d.Errs) > 0 {
		c.renderStatus(w, r, q, http.StatusUnprocessableEntity, "import", "import.title", "contacts", d)
		return
	}
	existing := map[sms.Phone]store.Contact{}
	all, err := c.opt.Store.ListContacts(ctx, "", 0, 0)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	for _, ct := range all {
		existing[ct.Phone] = ct
	}
	for _, e := range res.Entries {
		groups := e.Groups
		if d.Group != "" {
			groups = append(groups, d.Group)
		}
		ct := store.Contact{Name: e.Name, Phone: e.Phone, Memo: e.Memo, Groups: groups}
		if old, ok := existing[e.Phone]; ok {
			if !overwrite {
				d.Skipped++
				continue
			}
			ct.ID = old.ID
			ct.Groups = append(append([]string(nil), old.Groups...), groups...)
			if ct.Memo == "" {
				ct.Memo = old.Memo
			}
		}
		if err := c.opt.Store.SaveContact(ctx, &ct); err != nil {
			if errors.Is(err, store.ErrConflict) {
				d.Skipped++
				continue
			}
			c.internal(w, r, q, fmt.Errorf("import %s: %w", d.File, err))
			return
		}
		if ct.ID != 0 && existing[e.Phone].ID == ct.ID {
			d.Updated++
		} else {
			d.Created++
		}
	}
	for _, re := range res.Errors {
		reason := c.t(q.Lang, "import.code."+re.Code)
		detail := re.Detail
		if q.Lang == langKO {
			detail = re.DetailKo
		}
		if detail != "" {
			reason += ": " + detail
		}
		d.Problems = append(d.Problems, importProblem{Row: re.Row, Key: re.Key, Reason: reason})
	}
	d.Done = true
	c.audit(ctx, q.actor(), "contact.import", d.File,
		fmt.Sprintf("%d new, %d updated, %d skipped, %d rows refused", d.Created, d.Updated, d.Skipped, len(res.Errors)))
	c.render(w, r, q, "import", "import.title", "contacts", d)
}

func (c *Console) contactsExport(w http.ResponseWriter, r *http.Request, q *request) {
	all, err := c.opt.Store.ListContacts(r.Context(), "", 0, 0)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	entries := make([]addressbook.Entry, len(all))
	for i, ct := range all {
		entries[i] = addressbook.Entry{Name: ct.Name, Phone: ct.Phone, Memo: ct.Memo, Groups: ct.Groups}
	}
	var buf bytes.Buffer
	format := r.URL.Query().Get("format")
	name := "munja-contacts-" + c.opt.Now().In(c.loc).Format("2006-01-02")
	if format == "json" {
		err = addressbook.WriteJSON(&buf, entries)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		name += ".json"
	} else {
		err = addressbook.WriteCSV(&buf, entries)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	}
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.audit(r.Context(), q.actor(), "contact.export", format, fmt.Sprintf("%d contacts", len(entries)))
	_, _ = w.Write(buf.Bytes())
}
