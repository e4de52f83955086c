package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

const contactsPerPage = 50

type contactsData struct {
	Q          string
	Contacts   []store.Contact
	Groups     []store.Group
	Page       int
	PrevURL    string
	NextURL    string
	GroupName  string
	GroupError string
}

// searchTerm turns "010-1234" into the digits the store keeps.
func searchTerm(q string) string {
	q = strings.TrimSpace(q)
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == '-' || r == ' ' || r == '.':
			return -1
		}
		return 'x'
	}, q)
	if digits != "" && !strings.Contains(digits, "x") {
		return digits
	}
	return q
}

func (c *Console) contactsPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.renderContacts(w, r, q, http.StatusOK, "", "")
}

func (c *Console) renderContacts(w http.ResponseWriter, r *http.Request, q *request, status int, groupName, groupErr string) {
	ctx := r.Context()
	v := r.URL.Query()
	d := contactsData{Q: strings.TrimSpace(v.Get("q")), GroupName: groupName, GroupError: groupErr}
	if utf8.RuneCountInString(d.Q) > 100 {
		d.Q = shorten(d.Q, 100)
	}
	d.Page, _ = strconv.Atoi(v.Get("page"))
	d.Page = max(1, min(d.Page, 100000))
	list, err := c.opt.Store.ListContacts(ctx, searchTerm(d.Q), contactsPerPage+1, (d.Page-1)*contactsPerPage)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	link := func(p int) string {
		u := url.Values{"page": {strconv.Itoa(p)}}
		if d.Q != "" {
			u.Set("q", d.Q)
		}
		return "/contacts?" + u.Encode()
	}
	if len(list) > contactsPerPage {
		list, d.NextURL = list[:contactsPerPage], link(d.Page+1)
	}
	if d.Page > 1 {
		d.PrevURL = link(d.Page - 1)
	}
	d.Contacts = list
	if d.Groups, err = c.opt.Store.ListGroups(ctx); err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.renderStatus(w, r, q, status, "contacts", "contacts.title", "contacts", d)
}

type contactEditData struct {
	ID     int64
	Form   contactForm
	Errs   formErrs
	Groups []store.Group
	InForm map[string]bool
}

func (c *Console) renderContactForm(w http.ResponseWriter, r *http.Request, q *request, status int, id int64, f contactForm, errs formErrs) {
	gs, err := c.opt.Store.ListGroups(r.Context())
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	d := contactEditData{ID: id, Form: f, Errs: errs, Groups: gs, InForm: map[string]bool{}}
	for _, g := range f.Groups {
		d.InForm[g] = true
	}
	title := "contact.new"
	if id != 0 {
		title = "contact.edit"
	}
	c.renderStatus(w, r, q, status, "contact", title, "contacts", d)
}

func (c *Console) contactNew(w http.ResponseWriter, r *http.Request, q *request) {
	c.renderContactForm(w, r, q, http.StatusOK, 0, contactForm{Groups: r.URL.Query()["group"]}, formErrs{})
}

func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// pathID is the {id} of the path; when it is not an id it answers 404 and
// reports false.
func (c *Console) pathID(w http.ResponseWriter, r *http.Request, q *request) (int64, bool) {
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, q, http.StatusNotFound, "err.not_found")
	}
	return id, ok
}

func (c *Console) contactEdit(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	ct, err := c.opt.Store.GetContact(r.Context(), id)
	if c.failStore(w, r, q, err) {
		return
	}
	f := contactForm{Name: ct.Name, PhoneText: ct.Phone.Display(), Phone: ct.Phone, Memo: ct.Memo, Groups: ct.Groups}
	c.renderContactForm(w, r, q, http.StatusOK, id, f, formErrs{})
}

func (c *Console) contactCreate(w http.ResponseWriter, r *http.Request, q *request) {
	c.saveContact(w, r, q, 0)
}

func (c *Console) contactUpdate(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	c.saveContact(w, r, q, id)
}

func (c *Console) saveContact(w http.ResponseWriter, r *http.Request, q *request, id int64) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	f, errs := decodeContactForm(r.PostForm, tr)
	if len(errs) == 0 {
		ct := &store.Contact{ID: id, Name: f.Name, Phone: f.Phone, Memo: f.Memo, Groups: f.Groups}
		err := c.opt.Store.SaveContact(ctx, ct)
		switch {
		case err == nil:
			action := "contact.update"
			if id == 0 {
				action = "contact.create"
			}
			c.audit(ctx, q.actor(), action, ct.Name+" "+ct.Phone.Display(), "groups: "+strings.Join(ct.Groups, ","))
			redirect(w, r, "/contacts", "saved")
			return
		case errors.Is(err, store.ErrConflict):
			errs.set("phone", tr("err.phone_taken", c.contactNameByPhone(ctx, f.Phone)))
		case errors.Is(err, store.ErrNotFound):
			c.fail(w, r, q, http.StatusNotFound, "err.not_found")
			return
		default:
			c.internal(w, r, q, err)
			return
		}
	}
	c.renderContactForm(w, r, q, http.StatusUnprocessableEntity, id, f, errs)
}

// contactByPhone finds the contact with exactly this phone (nil if none).
func (c *Console) contactByPhone(ctx context.Context, p sms.Phone) (*store.Contact, error) {
	list, err := c.opt.Store.ListContacts(ctx, string(p), 0, 0)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Phone == p {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (c *Console) contactNameByPhone(ctx context.Context, p sms.Phone) string {
	if ct, err := c.contactByPhone(ctx, p); err == nil && ct != nil {
		return ct.Name
	}
	return p.Display()
}

func (c *Console) contactDelete(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	ctx := r.Context()
	ct, err := c.opt.Store.GetContact(ctx, id)
	if err == nil {
		err = c.opt.Store.DeleteContact(ctx, id)
	}
	if c.failStore(w, r, q, err) {
		return
	}
	c.audit(ctx, q.actor(), "contact.delete", ct.Name+" "+ct.Phone.Display(), "")
	redirect(w, r, "/contacts", "deleted")
}

func (c *Console) groupCreate(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	errs := formErrs{}
	name := line(r.PostForm, "name", maxGroupRunes, true, errs, tr)
	if strings.ContainsAny(name, ",;|") {
		errs.set("name", tr("err.group_chars"))
	}
	if len(errs) == 0 {
		_, err := c.opt.Store.CreateGroup(ctx, name)
		switch {
		case err == nil:
			c.audit(ctx, q.actor(), "group.create", name, "")
			redirect(w, r, "/contacts", "group_saved")
			return
		case errors.Is(err, store.ErrConflict):
			errs.set("name", tr("err.group_taken", name))
		default:
			c.internal(w, r, q, err)
			return
		}
	}
	c.renderContacts(w, r, q, http.StatusUnprocessableEntity, name, errs["name"])
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	name := r.PostFormValue("name")
	err := c.opt.Store.DeleteGroup(ctx, name)
	if c.failStore(w, r, q, err) {
		return
	}
	c.audit(ctx, q.actor(), "group.delete", name, "")
	redirect(w, r, "/contacts", "group_deleted")
}
