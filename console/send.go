package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// maxPickable is how many contacts the send page lists for picking; larger
// address books are sent to by group or typed numbers.
const maxPickable = 2000

type groupOption struct {
	Name    string
	Members int
	Config  bool // from alerting.groups in the config
}

type senderOption struct{ Value, Label string }

type sendData struct {
	Form        sendForm
	Errs        formErrs
	Contacts    []store.Contact
	MoreContact bool
	Groups      []groupOption
	Senders     []senderOption
	Templates   []store.Template
	Count       byteCount
	Picked      map[int64]bool
	PickedGroup map[string]bool
	Today       string
	// Kakao names the templates a provider sends as Kakao Alimtalk
	// (provider.TemplateTaker: aligo_alimtalk with for: template:NAME).
	Kakao map[string]bool
}

type confirmData struct {
	Form       sendForm
	Kakao      bool // sent as Kakao Alimtalk (Form.Kakao and a provider takes Form.Template)
	Recipients []recipientView
	More       int
	Total      int
	Count      byteCount
	Kind       string
	SenderText string
	AtText     string
}

type recipientView struct {
	Name  string
	Phone sms.Phone
}

func (c *Console) tr(lang string) trFunc {
	return func(k string, a ...any) string { return c.tf(lang, k, a...) }
}

// senders are the registered sender numbers: sms.sender first, then each
// provider's own.
func (c *Console) senders() []senderOption {
	var out []senderOption
	seen := map[sms.Phone]bool{}
	add := func(s string) {
		p, err := sms.ParsePhone(s)
		if err != nil || seen[p] {
			return
		}
		seen[p] = true
		out = append(out, senderOption{Value: string(p), Label: p.Display()})
	}
	add(c.opt.Config.SMS.Sender)
	for _, p := range c.opt.Config.EffectiveProviders() {
		add(p.Sender)
	}
	return out
}

func (c *Console) sendPage(w http.ResponseWriter, r *http.Request, q *request) {
	v := r.URL.Query()
	f := sendForm{To: v.Get("to"), Groups: v["group"]}
	for _, s := range v["contact"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			f.Contacts = append(f.Contacts, id)
		}
	}
	if id, err := strconv.ParseInt(v.Get("template"), 10, 64); err == nil {
		if t, err := c.opt.Store.GetTemplate(r.Context(), id); err == nil {
			f.Text, f.Title, f.Template, f.Kakao = t.Text, t.Title, t.Name, true
		}
	}
	c.renderSend(w, r, q, http.StatusOK, f, formErrs{})
}

func (c *Console) renderSend(w http.ResponseWriter, r *http.Request, q *request, status int, f sendForm, errs formErrs) {
	ctx := r.Context()
	d := sendData{Form: f, Errs: errs, Senders: c.senders(), Count: c.countText(q.Lang, f.Text, f.Title),
		Picked: map[int64]bool{}, PickedGroup: map[string]bool{}, Today: c.opt.Now().In(c.loc).Format("2006-01-02")}
	if errs["text"] != "" {
		d.Count.Err = "" // shown once, as the field's error
	}
	for _, id := range f.Contacts {
		d.Picked[id] = true
	}
	for _, g := range f.Groups {
		d.PickedGroup[g] = true
	}
	var err error
	if d.Contacts, err = c.opt.Store.ListContacts(ctx, "", maxPickable+1, 0); err != nil {
		c.internal(w, r, q, err)
		return
	}
	if len(d.Contacts) > maxPickable {
		d.Contacts, d.MoreContact = d.Contacts[:maxPickable], true
	}
	if d.Groups, err = c.groupOptions(ctx); err != nil {
		c.internal(w, r, q, err)
		return
	}
	if d.Templates, err = c.opt.Store.ListTemplates(ctx); err != nil {
		c.internal(w, r, q, err)
		return
	}
	d.Kakao = map[string]bool{}
	for _, t := range d.Templates {
		d.Kakao[t.Name] = c.kakaoTakes(t.Name)
	}
	d.Kakao[f.Template] = c.kakaoTakes(f.Template)
	c.renderStatus(w, r, q, status, "send", "send.title", "send", d)
}

// kakaoTakes reports whether a provider sends messages written from the
// munja template name as Kakao Alimtalk (an aligo_alimtalk provider with
// a for: template:NAME entry).
func (c *Console) kakaoTakes(name string) bool {
	if name == "" {
		return false
	}
	for _, p := range c.opt.Providers {
		if tt, ok := p.(provider.TemplateTaker); ok && tt.TakesTemplate(name) {
			return true
		}
	}
	return false
}

// groupOptions lists address book groups, then alerting.groups.
func (c *Console) groupOptions(ctx context.Context) ([]groupOption, error) {
	gs, err := c.opt.Store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []groupOption
	seen := map[string]bool{}
	for _, g := range gs {
		seen[g.Name] = true
		out = append(out, groupOption{Name: g.Name, Members: g.Members})
	}
	for _, g := range c.opt.Config.Alerting.Groups {
		if !seen[g.Name] {
			out = append(out, groupOption{Name: g.Name, Members: len(g.Members), Config: true})
		}
	}
	return out, nil
}

func (c *Console) send(w http.ResponseWriter, r *http.Request, q *request) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	f, errs := decodeSendForm(r.PostForm, c.loc, c.opt.Now(), tr)
	if f.Sender != "" && !c.validSender(f.Sender) {
		errs.set("sender", tr("err.sender"))
	}
	recips, err := c.resolveRecipients(ctx, f, errs, tr)
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	if len(errs) > 0 {
		c.renderSend(w, r, q, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if f.Edit {
		c.renderSend(w, r, q, http.StatusOK, f, errs)
		return
	}
	// Every send is confirmed with its summary first (DESIGN §5b); a
	// confirmation for another recipient count is asked again.
	if f.Confirmed != len(recips) {
		c.renderConfirm(w, r, q, f, recips)
		return
	}
	to := make([]string, len(recips))
	for i, rv := range recips {
		to[i] = string(rv.Phone)
	}
	// The template goes with the message only when the operator kept
	// Kakao Alimtalk chosen: without it every provider sends it by SMS.
	tmpl := ""
	if f.Kakao && c.kakaoTakes(f.Template) {
		tmpl = f.Template
	}
	m, err := c.opt.Outbox.Submit(ctx, outbox.Request{
		To: to, Text: f.Text, Title: f.Title, Type: "auto", Test: f.Test, At: f.At, Sender: f.Sender,
		Source: "console", Actor: q.actor(), Template: tmpl,
	})
	if err != nil {
		if !c.submitErrs(tr, err, errs) {
			c.internal(w, r, q, err)
			return
		}
		c.renderSend(w, r, q, http.StatusUnprocessableEntity, f, errs)
		return
	}
	// The outbox wrote the message.create audit entry.
	redirect(w, r, "/messages/"+strconv.FormatInt(m.ID, 10), "sent")
}

func (c *Console) validSender(s string) bool {
	for _, o := range c.senders() {
		if o.Value == s {
			return true
		}
	}
	return false
}

// resolveRecipients turns typed numbers, picked contacts and groups into
// the deduplicated recipient list, naming whom it can. Problems go to errs.
func (c *Console) resolveRecipients(ctx context.Context, f sendForm, errs formErrs, tr trFunc) ([]recipientView, error) {
	names := map[sms.Phone]string{}
	var phones []sms.Phone
	phones = append(phones, f.Phones...)
	for _, id := range f.Contacts {
		ct, err := c.opt.Store.GetContact(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			errs.set("to", tr("err.no_contact"))
			continue
		}
		if err != nil {
			return nil, err
		}
		if !ct.Phone.IsMobile() {
			errs.set("to", tr("err.not_mobile", ct.Name+" "+ct.Phone.Display()))
			continue
		}
		names[ct.Phone] = ct.Name
		phones = append(phones, ct.Phone)
	}
	if len(f.Groups) > 0 {
		// Name group members from the address book.
		all, err := c.opt.Store.ListContacts(ctx, "", 0, 0)
		if err != nil {
			return nil, err
		}
		for _, ct := range all {
			if _, ok := names[ct.Phone]; !ok {
				names[ct.Phone] = ct.Name
			}
		}
	}
	for _, g := range f.Groups {
		members, err := c.groupMembers(ctx, g)
		var pe *sms.PhoneError
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs.set("to", tr("err.no_group", g))
			continue
		case errors.As(err, &pe):
			errs.set("to", phoneErr(tr, pe))
			continue
		case err != nil:
			return nil, err
		}
		if len(members) == 0 {
			errs.set("to", tr("err.empty_group", g))
		}
		phones = append(phones, members...)
	}
	phones = sms.DedupPhones(phones)
	out := make([]recipientView, len(phones))
	for i, p := range phones {
		out[i] = recipientView{Name: names[p], Phone: p}
	}
	return out, nil
}

// groupMembers returns an address book group's phones, else the members of
// alerting.groups NAME; store.ErrNotFound when neither exists, a
// *sms.PhoneError for a member that is no number (the outbox refuses such a
// group too: leaving the member out would send to the others only).
func (c *Console) groupMembers(ctx context.Context, name string) ([]sms.Phone, error) {
	phones, err := c.opt.Store.GroupPhones(ctx, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return phones, err
	}
	for _, g := range c.opt.Config.Alerting.Groups {
		if g.Name == name {
			var out []sms.Phone
			for _, m := range g.Members {
				p, err := sms.ParsePhone(m)
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			return out, nil
		}
	}
	return nil, err
}

const confirmShow = 200

func (c *Console) renderConfirm(w http.ResponseWriter, r *http.Request, q *request, f sendForm, recips []recipientView) {
	d := confirmData{Form: f, Total: len(recips), Count: c.countText(q.Lang, f.Text, f.Title), Kakao: f.Kakao && c.kakaoTakes(f.Template)}
	d.Kind = d.Count.Kind
	if len(recips) > confirmShow {
		d.Recipients, d.More = recips[:confirmShow], len(recips)-confirmShow
	} else {
		d.Recipients = recips
	}
	d.SenderText = c.t(q.Lang, "send.sender_default")
	if f.Sender != "" {
		d.SenderText = sms.Phone(f.Sender).Display()
	} else if s := c.senders(); len(s) > 0 {
		d.SenderText = s[0].Label
	}
	if !f.At.IsZero() {
		d.AtText = c.fmtTime(f.At)
	}
	c.render(w, r, q, "confirm", "confirm.title", "send", d)
}

// submitErrs puts an outbox refusal next to the field it names; false for
// a failure that is not about the input.
func (c *Console) submitErrs(tr trFunc, err error, errs formErrs) bool {
	var ce *sms.CharError
	var le *outbox.LimitError
	var fe *sms.FieldError
	var pe *sms.PhoneError
	switch {
	case errors.As(err, &ce):
		errs.set(formField(ce.Field), charErr(tr, err))
	case errors.As(err, &le):
		errs.set("form", limitErr(tr, le))
	case errors.As(err, &fe):
		errs.set(formField(fe.Field), tr("err.rejected", fe.Msg))
	case errors.As(err, &pe):
		errs.set("to", phoneErr(tr, pe))
	default:
		return false
	}
	return true
}

// formField maps an outbox field name to the send form's field.
func formField(f string) string {
	switch {
	case strings.HasPrefix(f, "to"), strings.HasPrefix(f, "groups"):
		return "to"
	case f == "title", f == "sender", f == "at":
		return f
	}
	return "text"
}
