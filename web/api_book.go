package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// bookRoutes registers the address book and templates. Reading needs scope
// read; changing needs admin, because address-book groups route alerts
// ("group:ops" in alerting.recipients): a send token on a monitored host, or
// a token-less caller from server.trusted_networks, may send but must not
// change who is paged.
func (s *Server) bookRoutes() {
	s.api("GET /api/v1/contacts", "read", s.listContacts)
	s.api("POST /api/v1/contacts", "admin", s.createContact)
	s.api("GET /api/v1/contacts/{id}", "read", s.getContact)
	s.api("PUT /api/v1/contacts/{id}", "admin", s.updateContact)
	s.api("DELETE /api/v1/contacts/{id}", "admin", s.deleteContact)
	s.api("GET /api/v1/groups", "read", s.listGroups)
	s.api("POST /api/v1/groups", "admin", s.createGroup)
	s.api("DELETE /api/v1/groups/{name}", "admin", s.deleteGroup)
	s.api("GET /api/v1/templates", "read", s.listTemplates)
	s.api("POST /api/v1/templates", "admin", s.createTemplate)
	s.api("GET /api/v1/templates/{id}", "read", s.getTemplate)
	s.api("PUT /api/v1/templates/{id}", "admin", s.updateTemplate)
	s.api("DELETE /api/v1/templates/{id}", "admin", s.deleteTemplate)
}

type contactRequest struct {
	Name   string   `json:"name"`
	Phone  string   `json:"phone"`
	Memo   string   `json:"memo"`
	Groups []string `json:"groups"`
}

type contactJSON struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	PhoneDisplay string    `json:"phone_display"`
	Memo         string    `json:"memo"`
	Groups       []string  `json:"groups"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func (s *Server) contactJSON(c *store.Contact) contactJSON {
	groups := c.Groups
	if groups == nil {
		groups = []string{}
	}
	return contactJSON{
		ID: c.ID, Name: c.Name, Phone: string(c.Phone), PhoneDisplay: c.Phone.Display(), Memo: c.Memo,
		Groups: groups, CreatedAt: c.CreatedAt.In(s.opt.Location), UpdatedAt: c.UpdatedAt.In(s.opt.Location),
	}
}

// decodeContact reads and validates a contact body.
func decodeContact(r *http.Request) (*store.Contact, error) {
	var req contactRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	var c store.Contact
	var err error
	if c.Name, err = cleanName("name", req.Name, maxNameLen); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Phone) == "" {
		return nil, badRequest("phone", "phone is required")
	}
	if c.Phone, err = sms.ParsePhone(req.Phone); err != nil {
		return nil, badRequest("phone", err.Error())
	}
	if c.Memo, err = cleanText("memo", req.Memo, maxMemoLen); err != nil {
		return nil, err
	}
	if len(req.Groups) > maxGroups {
		return nil, badRequest("groups", fmt.Sprintf("at most %d groups", maxGroups))
	}
	for i, g := range req.Groups {
		name, err := cleanGroup(fmt.Sprintf("groups[%d]", i), g)
		if err != nil {
			return nil, err
		}
		c.Groups = append(c.Groups, name)
	}
	return &c, nil
}

func contactConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return &apiError{status: http.StatusConflict, field: "phone", msg: "another contact has this phone number"}
	}
	return err
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, _ Caller) {
	limit, err := queryInt(r, "limit", 100, 1, 500)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 10_000_000)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	cs, err := s.opt.Store.ListContacts(r.Context(), q, limit, offset)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := struct {
		Contacts []contactJSON `json:"contacts"`
		Next     string        `json:"next,omitempty"`
	}{Contacts: []contactJSON{}}
	for i := range cs {
		out.Contacts = append(out.Contacts, s.contactJSON(&cs[i]))
	}
	if len(cs) == limit {
		v := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset + limit)}}
		if q != "" {
			v.Set("q", q)
		}
		out.Next = "/api/v1/contacts?" + v.Encode()
	}
	writeJSON(w, s.opt.Log, http.StatusOK, out)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, _ Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	c, err := s.opt.Store.GetContact(r.Context(), id)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, s.contactJSON(c))
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, caller Caller) {
	c, err := decodeContact(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	if err := s.opt.Store.SaveContact(r.Context(), c); err != nil {
		writeError(w, s.opt.Log, contactConflict(err))
		return
	}
	s.audit(r, caller, "contact.create", fmt.Sprintf("contact:%d", c.ID), contactDetail(c))
	w.Header().Set("Location", fmt.Sprintf("/api/v1/contacts/%d", c.ID))
	writeJSON(w, s.opt.Log, http.StatusCreated, s.contactJSON(c))
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, caller Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	c, err := decodeContact(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	c.ID = id
	if err := s.opt.Store.SaveContact(r.Context(), c); err != nil {
		writeError(w, s.opt.Log, contactConflict(err))
		return
	}
	s.audit(r, caller, "contact.update", fmt.Sprintf("contact:%d", c.ID), contactDetail(c))
	writeJSON(w, s.opt.Log, http.StatusOK, s.contactJSON(c))
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, caller Caller) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	c, err := s.opt.Store.GetContact(r.Context(), id)
	if err == nil {
		err = s.opt.Store.DeleteContact(r.Context(), id)
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, caller, "contact.delete", fmt.Sprintf("contact:%d", id), contactDetail(c))
	w.WriteHeader(http.StatusNoContent)
}

func contactDetail(c *store.Contact) string {
	d := fmt.Sprintf("name=%q phone=%s", c.Name, c.Phone.Display())
	if len(c.Groups) > 0 {
		d += " groups=" + strings.Join(c.Groups, ",")
	}
	return d
}

type groupRequest struct {
	Name string `json:"name"`
}

type groupJSON struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ Caller) {
	gs, err := s.opt.Store.ListGroups(r.Context())
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := []groupJSON{}
	for _, g := range gs {
		out = append(out, groupJSON{Name: g.Name, Members: g.Members})
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{"groups": out})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, caller Caller) {
	var req groupRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	name, err := cleanGroup("name", req.Name)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	g, err := s.opt.Store.CreateGroup(r.Context(), name)
	if errors.Is(err, store.ErrConflict) {
		err = &apiError{status: http.StatusConflict, field: "name", msg: "a group with this name exists"}
	}
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, caller, "group.create", "group:"+g.Name, "")
	w.Header().Set("Location", "/api/v1/groups/"+url.PathEscape(g.Name))
	writeJSON(w, s.opt.Log, http.StatusCreated, groupJSON{Name: g.Name, Members: g.Members})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, caller Caller) {
	name := r.PathValue("name")
	if err := s.opt.Store.DeleteGroup(r.Context(), name); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	s.audit(r, caller, "group.delete", "group:"+name, "")
	w.WriteHeader(http.StatusNoContent)
}
