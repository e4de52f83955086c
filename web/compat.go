package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/munja-sms/munja/outbox"
)

// compatSend is the drop-in for the original aligo_send.php: form fields
// receiver (comma-separated), msg, optional title, msg_type, testmode_yn,
// answered in Aligo's /send/ response shape so existing scripts keep working.
// result_code 1 means stored in munja's outbox (munja then delivers it).
func (s *Server) compatSend(w http.ResponseWriter, r *http.Request, c Caller) {
	// ParseForm first: ParseMultipartForm hides its errors for urlencoded bodies.
	err := r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(MaxBody); errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = badRequest("", "invalid form body")
		}
		s.compatError(w, err)
		return
	}
	f := r.Form
	receivers := splitList(f.Get("receiver"))
	if len(receivers) == 0 {
		s.compatError(w, badRequest("receiver", "receiver is required"))
		return
	}
	if strings.TrimSpace(f.Get("msg")) == "" {
		s.compatError(w, badRequest("msg", "msg is required"))
		return
	}
	m, err := s.opt.Outbox.Submit(r.Context(), outbox.Request{
		To: receivers, Text: f.Get("msg"), Title: f.Get("title"), Type: f.Get("msg_type"),
		Test: strings.EqualFold(f.Get("testmode_yn"), "Y"), Sender: f.Get("sender"),
		Source: "compat", Actor: c.Name,
	})
	if err != nil {
		s.compatError(w, err)
		return
	}
	writeJSON(w, s.opt.Log, http.StatusOK, map[string]any{
		"result_code": "1", "message": "success", "msg_id": strconv.FormatInt(m.ID, 10),
		"success_cnt": len(m.Deliveries), "error_cnt": 0, "msg_type": string(m.Kind),
	})
}

func (s *Server) compatError(w http.ResponseWriter, err error) {
	ae := answer(w, s.opt.Log, err)
	field := ae.field
	switch field { // name the form field the caller actually sent
	case "text":
		field = "msg"
	case "type":
		field = "msg_type"
	}
	if strings.HasPrefix(field, "to") {
		field = "receiver"
	}
	writeJSON(w, s.opt.Log, ae.status, map[string]any{"result_code": -ae.status, "message": ae.msg, "error": ae.msg, "field": field})
}
