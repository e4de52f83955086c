package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

type templateRequest struct {
	Name  string `json:"name"`
	Text  string `json:"text"`
	Title string `json:"title"`
}

type templateJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Text      string    `json:"text"`
	Title     string    `json:"title,omitempty"`
	Type      sms.Kind  `json:"type"`
	Bytes     int       `json:"bytes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s *Server) templateJSON(t *store.Template) templateJSON {
	n, _ := sms.CountBytes(t.Text)
	kind, _ := sms.DecideKind(t.Text, t.Title, "auto")
	return templateJSON{
		ID: t.ID, Name: t.Name, Text: t.Text, Title: t.Title, Type: kind, Bytes: n,
		CreatedAt: t.CreatedAt.In(s.opt.Location), UpdatedAt: t.UpdatedAt.In(s.opt.Location),
	}
}

// decodeTemplate reads and validates a template body: the text and title
// must be sendable (CP949, at most 2,000 and 44 bytes), as a message would.
func decodeTemplate(r *http.Request) (*store.Template, error) {
	var req templateRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	name, err := cleanName("name", req.Name, maxNameLen)
	if err != nil {
		return nil, err
	}
	t := &store.Template{Name: name, Text: sms.NormalizeNewlines(req.Text), Title: strings.TrimSpace(req.Title)}
	if strings.TrimSpace(t.Text) == "" {
		return nil, badRequest("text", "text is required")
	}
	if _, err := sms.DecideKind(t.Text, t.Title, "auto"); err != nil {
		return nil, err
	}
	return t, nil
}

func templateConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return &apiError{status: http.StatusConflict, field: "name", msg: "a template with this name exists"}
	}
	return err
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, _ Caller) {
	ts, err := s.opt.Store.ListTemplates(r.Context())
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := []templateJSON{}
	for i := range ts {
		out = append(out, s.templateJSON(&ts[i]))
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"templates": out})
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, _ Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t, err := s.opt.Store.GetTemplate(r.Context(), id)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, s.templateJSON(t))
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, caller Caller) {
	t, err := decodeTemplate(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	if err := s.opt.Store.SaveTemplate(r.Context(), t); err != nil {
		writeError(w, s.opt.Log, templateConflict(err))
		return
	}
	s.audit(r, caller, "template.create", fmt.Sprintf("template:%d", t.ID), fmt.Sprintf("name=%q", t.Name))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/templates/%d", t.ID))
	writeJSON(w, s.opt.Log, http.StatusCreated, s.templateJSON(t))
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request, caller Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t, err := decodeTemplate(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t.ID = id
	if err := s.opt.Store.SaveTemplate(r.Context(), t); err != nil {
		writeError(w, s.opt.Log, templateConflict(err))
		return
	}
	s.audit(r, caller, "template.update", fmt.Sprintf("template:%d", id), fmt.Sprintf("name=%q", t.Name))
	writeJSON(w, s.opt.Log, http.StatusOK, s.templateJSON(t))
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, caller Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	t, err := s.opt.Store.GetTemplate(r.Context(), id)
	if err == nil {
		err = s.opt.Store.DeleteTemplate(r.Context(), id)
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, caller, "template.delete", fmt.Sprintf("template:%d", id), fmt.Sprintf("name=%q", t.Name))
	w.WriteHeader(http.StatusNoContent)
}
