package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/munja-sms/munja/store"
)

// alertText is an alert message text or template from the config, or the
// latest text a check produced, shown read-only with its byte count.
type alertText struct {
	Source string // e.g. "alerting.templates.firing", "checks[httpd].message"
	Text   string
	Note   string // catalog-translated remark
}

type templatesData struct {
	Templates []store.Template
	Alerts    []alertText
}

func (c *Console) templatesPage(w http.ResponseWriter, r *http.Request, q *request) {
	ts, err := c.opt.Store.ListTemplates(r.Context())
	if err != nil {
		c.internal(w, r, q, err)
		return
	}
	c.render(w, r, q, "templates", "templates.title", "templates", templatesData{Templates: ts, Alerts: c.alertTexts(q.Lang)})
}

// alertTexts lists what the config says alerts look like, and the texts
// the checks produced most recently.
func (c *Console) alertTexts(lang string) []alertText {
	cfg := c.opt.Config
	var out []alertText
	tpl := func(src, text string) {
		if text != "" {
			out = append(out, alertText{Source: src, Text: text, Note: c.t(lang, "templates.note_template")})
		}
	}
	tpl("alerting.templates.firing", cfg.Alerting.Templates.Firing)
	tpl("alerting.templates.resolved", cfg.Alerting.Templates.Resolved)
	for _, ch := range cfg.Checks {
		tpl("checks["+ch.Name+"].message", ch.Message)
		tpl("checks["+ch.Name+"].resolved", ch.Resolved)
	}
	if e := c.alerts(); e != nil {
		for _, st := range e.Checks() {
			name := st.Check
			if st.Host != "" {
				name += "@" + st.Host
			}
			if st.Last.Firing != "" {
				out = append(out, alertText{Source: name, Text: st.Last.Firing, Note: c.t(lang, "templates.note_firing")})
			}
			if st.Last.Resolved != "" {
				out = append(out, alertText{Source: name, Text: st.Last.Resolved, Note: c.t(lang, "templates.note_resolved")})
			}
		}
	}
	return out
}

type templateEditData struct {
	ID    int64
	Form  templateForm
	Errs  formErrs
	Count byteCount
}

func (c *Console) renderTemplateForm(w http.ResponseWriter, r *http.Request, q *request, status int, id int64, f templateForm, errs formErrs) {
	title := "template.new"
	if id != 0 {
		title = "template.edit"
	}
	d := templateEditData{ID: id, Form: f, Errs: errs, Count: c.countText(q.Lang, f.Text, f.Title)}
	if errs["text"] != "" {
		d.Count.Err = "" // shown once, as the field's error
	}
	c.renderStatus(w, r, q, status, "template", title, "templates", d)
}

func (c *Console) templateNew(w http.ResponseWriter, r *http.Request, q *request) {
	c.renderTemplateForm(w, r, q, http.StatusOK, 0, templateForm{}, formErrs{})
}

func (c *Console) templateEdit(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	t, err := c.opt.Store.GetTemplate(r.Context(), id)
	if c.failStore(w, r, q, err) {
		return
	}
	c.renderTemplateForm(w, r, q, http.StatusOK, id, templateForm{Name: t.Name, Title: t.Title, Text: t.Text}, formErrs{})
}

func (c *Console) templateCreate(w http.ResponseWriter, r *http.Request, q *request) {
	c.saveTemplate(w, r, q, 0)
}

func (c *Console) templateUpdate(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	c.saveTemplate(w, r, q, id)
}

func (c *Console) saveTemplate(w http.ResponseWriter, r *http.Request, q *request, id int64) {
	ctx := r.Context()
	tr := c.tr(q.Lang)
	f, errs := decodeTemplateForm(r.PostForm, tr)
	if r.PostFormValue("preview") != "" && len(errs) == 0 {
		c.renderTemplateForm(w, r, q, http.StatusOK, id, f, errs)
		return
	}
	if len(errs) == 0 {
		t := &store.Template{ID: id, Name: f.Name, Title: f.Title, Text: f.Text}
		err := c.opt.Store.SaveTemplate(ctx, t)
		switch {
		case err == nil:
			action := "template.update"
			if id == 0 {
				action = "template.create"
			}
			c.audit(ctx, q.actor(), action, t.Name, "template "+strconv.FormatInt(t.ID, 10))
			redirect(w, r, "/templates", "saved")
			return
		case errors.Is(err, store.ErrConflict):
			errs.set("name", tr("err.template_taken", f.Name))
		case errors.Is(err, store.ErrNotFound):
			c.fail(w, r, q, http.StatusNotFound, "err.not_found")
			return
		default:
			c.internal(w, r, q, err)
			return
		}
	}
	c.renderTemplateForm(w, r, q, http.StatusUnprocessableEntity, id, f, errs)
}

func (c *Console) templateDelete(w http.ResponseWriter, r *http.Request, q *request) {
	id, ok := c.pathID(w, r, q)
	if !ok {
		return
	}
	ctx := r.Context()
	t, err := c.opt.Store.GetTemplate(ctx, id)
	if err == nil {
		err = c.opt.Store.DeleteTemplate(ctx, id)
	}
	if c.failStore(w, r, q, err) {
		return
	}
	c.audit(ctx, q.actor(), "template.delete", t.Name, "")
	redirect(w, r, "/templates", "deleted")
}
