package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// stringList accepts a JSON array of strings or one comma-separated string.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = splitList(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be an array of strings")
	}
	*l = many
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

type messageRequest struct {
	To     stringList `json:"to"`
	Groups stringList `json:"groups"`
	Text   string     `json:"text"`
	Title  string     `json:"title"`
	Type   string     `json:"type"`
	Test   bool       `json:"test"`
	At     string     `json:"at"`
	Sender string     `json:"sender"`
	// Template names the munja message template the text was written
	// from: a provider sending only through approved templates (Kakao
	// Alimtalk, aligo_alimtalk) sends it by the one configured for it.
	Template string `json:"template"`
}

// decodeJSON decodes exactly one JSON object, refusing unknown fields, and
// names the offending field in its error.
func decodeJSON(r *http.Request, v any) error { return decodeBody(r, v, true) }

// decodeLenient is decodeJSON for bodies munja does not own (Alertmanager's):
// unknown fields are ignored.
func decodeLenient(r *http.Request, v any) error { return decodeBody(r, v, false) }

func decodeBody(r *http.Request, v any, strict bool) error {
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &te):
			return badRequest(te.Field, fmt.Sprintf("%s: wrong type (%s)", te.Field, te.Value))
		case errors.As(err, &se):
			return badRequest("", fmt.Sprintf("invalid JSON at byte %d", se.Offset))
		case errors.Is(err, io.EOF):
			return badRequest("", "request body is empty")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badRequest(f, "unknown field "+strconv.Quote(f))
		default:
			return badRequest("", "invalid JSON: "+err.Error())
		}
	}
	if dec.More() {
		return badRequest("", "request body must hold one JSON object")
	}
	return nil
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request, c Caller) {
	var req messageRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	var at time.Time
	if req.At != "" {
		t, err := time.Parse(time.RFC3339, req.At)
		if err != nil {
			writeError(w, s.opt.Log, badRequest("at", "must be RFC3339, e.g. 2026-11-25T14:03:00+09:00"))
			return
		}
		at = t
	}
	m, err := s.opt.Outbox.Submit(r.Context(), outbox.Request{
		To: req.To, Groups: req.Groups, Text: req.Text, Title: req.Title, Type: req.Type,
		Test: req.Test, At: at, Sender: req.Sender, Source: "api", Actor: c.Name, Template: req.Template,
	})
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/messages/%d", m.ID))
	writeJSON(w, s.opt.Log, http.StatusAccepted, s.messageJSON(m))
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, c Caller) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, s.opt.Log, badRequest("id", "must be a positive integer"))
		return
	}
	m, err := s.opt.Store.GetMessage(r.Context(), id)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, forCaller(c, s.messageJSON(m)))
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, c Caller) {
	f, err := messageFilter(r)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	ms, err := s.opt.Store.ListMessages(r.Context(), f)
	if err != nil {
		writeError(w, s.opt.Log, err)
		return
	}
	out := struct {
		Messages []messageJSON `json:"messages"`
		Next     string        `json:"next,omitempty"`
	}{Messages: []messageJSON{}}
	for _, m := range ms {
		if !hiddenFrom(c, f, m) {
			out.Messages = append(out.Messages, forCaller(c, s.messageJSON(m)))
		}
	}
	if len(ms) == f.Limit {
		q := r.URL.Query()
		q.Set("before", strconv.FormatInt(ms[len(ms)-1].ID, 10))
		q.Set("limit", strconv.Itoa(f.Limit))
		out.Next = "/api/v1/messages?" + q.Encode()
	}
	writeJSON(w, s.opt.Log, http.StatusOK, out)
}

// messageFilter reads the history query parameters.
func messageFilter(r *http.Request) (store.MessageFilter, error) {
	q := r.URL.Query()
	f := store.MessageFilter{Text: q.Get("text")}
	var err error
	if f.Limit, err = queryInt(r, "limit", 50, 1, 500); err != nil {
		return f, err
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, badRequest("before", "must be a message id")
		}
		f.BeforeID = n
	}
	if v := q.Get("to"); v != "" {
		if f.Phone, err = sms.ParsePhone(v); err != nil {
			return f, badRequest("to", err.Error())
		}
	}
	if v := q.Get("status"); v != "" {
		switch st := sms.Status(v); st {
		case sms.StatusQueued, sms.StatusSending, sms.StatusSent, sms.StatusReserved,
			sms.StatusDelivered, sms.StatusFailed, sms.StatusCanceled:
			f.Status = st
		default:
			return f, badRequest("status", "unknown status "+strconv.Quote(v))
		}
	}
	if v := q.Get("source"); v != "" {
		if !slices.Contains(sms.Sources, v) {
			return f, badRequest("source", "unknown source "+strconv.Quote(v))
		}
		f.Source = v
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, badRequest(p.name, "must be RFC3339, e.g. 2026-11-25T14:03:00+09:00")
			}
			*p.dst = t
		}
	}
	return f, nil
}

type messageJSON struct {
	ID         int64           `json:"id"`
	Status     string          `json:"status"`
	Type       sms.Kind        `json:"type"`
	Bytes      int             `json:"bytes"`
	Text       string          `json:"text"`
	Title      string          `json:"title,omitempty"`
	Sender     string          `json:"sender,omitempty"`
	Test       bool            `json:"test"`
	DryRun     bool            `json:"dryrun,omitempty"`
	At         *time.Time      `json:"at,omitempty"`
	Source     string          `json:"source"`
	CreatedBy  string          `json:"created_by,omitempty"`
	Template   string          `json:"template,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	Recipients []recipientJSON `json:"recipients"`
}

type recipientJSON struct {
	To            string     `json:"to"`
	Status        sms.Status `json:"status"`
	Provider      string     `json:"provider,omitempty"`
	ProviderMsgID string     `json:"provider_message_id,omitempty"`
	Attempts      int        `json:"attempts"`
	Error         string     `json:"error,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func (s *Server) messageJSON(m *sms.Message) messageJSON {
	n, _ := sms.CountBytes(m.Text)
	out := messageJSON{
		ID: m.ID, Status: m.Summary(), Type: m.Kind, Bytes: n, Text: m.Text, Title: m.Title,
		Sender: m.Sender, Test: m.Test, DryRun: s.opt.DryRun, At: timePtr(m.At, s.opt.Location),
		Source: m.Source, CreatedBy: m.CreatedBy, Template: m.Template, CreatedAt: m.CreatedAt.In(s.opt.Location),
		Recipients: []recipientJSON{},
	}
	for _, d := range m.Deliveries {
		rj := recipientJSON{
			To: string(d.Phone), Status: d.Status, Provider: d.Provider, ProviderMsgID: d.ProviderMsgID,
			Attempts: d.Attempts, Error: d.LastError, SentAt: timePtr(d.SentAt, s.opt.Location),
			UpdatedAt: d.UpdatedAt.In(s.opt.Location),
		}
		if d.Status == sms.StatusQueued {
			rj.NextAttemptAt = timePtr(d.NextAttemptAt, s.opt.Location)
		}
		out.Recipients = append(out.Recipients, rj)
	}
	return out
}

func timePtr(t time.Time, loc *time.Location) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc)
	return &t
}
