package senstest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// kst is the zone of SENS's times.
var kst = time.FixedZone("KST", 9*60*60)

const (
	searchLayout    = "2006-01-02 15:04:05"
	maxSearchRange  = 30 * 24 * time.Hour
	defaultPageSize = 100 // (choice) the search's paging
	maxPageSize     = 100
)

// listRow is a message as GET …/messages shows it: the fields the guide
// lists for a request's messages (no content, no status).
type listRow struct {
	RequestID   string `json:"requestId,omitempty"`
	MessageID   string `json:"messageId"`
	RequestTime string `json:"requestTime"`
	ContentType string `json:"contentType"`
	Type        string `json:"type,omitempty"`
	CountryCode string `json:"countryCode"`
	From        string `json:"from"`
	To          string `json:"to"`
}

// handleList answers GET …/messages: by requestId (the messages of one
// request, in order; an unknown id has none (choice)), or by
// requestStartTime + requestEndTime (newest first, optional type and
// messageId filters, pageIndex from 0 and pageSize up to 100 with
// hasMore (choice: the guide names the search, not its paging)).
func (s *Server) handleList(w http.ResponseWriter, q url.Values) {
	if id := q.Get("requestId"); id != "" {
		var rows []listRow
		s.mu.Lock()
		for _, m := range s.msgs {
			if m.RequestID == id {
				rows = append(rows, m.listRow(false))
			}
		}
		s.mu.Unlock()
		if rows == nil {
			rows = []listRow{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"requestId": id, "statusCode": "202", "statusName": "success", "messages": rows})
		return
	}
	if !q.Has("requestStartTime") || !q.Has("requestEndTime") {
		sensError(w, http.StatusBadRequest, "Bad Request", "One of requestId, requestStartTime+requestEndTime or completeStartTime+completeEndTime is required.")
		return
	}
	from, err1 := time.ParseInLocation(searchLayout, q.Get("requestStartTime"), kst)
	to, err2 := time.ParseInLocation(searchLayout, q.Get("requestEndTime"), kst)
	switch {
	case err1 != nil || err2 != nil:
		sensError(w, http.StatusBadRequest, "Bad Request", "requestStartTime and requestEndTime must be YYYY-MM-DD HH:mm:ss.")
		return
	case to.Sub(from) > maxSearchRange || to.Before(from):
		sensError(w, http.StatusBadRequest, "Bad Request", "requestEndTime must be within 30 days after requestStartTime.")
		return
	}
	to = to.Add(time.Second - time.Nanosecond) // the end second is inclusive
	page, size := 0, defaultPageSize
	if v := q.Get("pageIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			sensError(w, http.StatusBadRequest, "Bad Request", "pageIndex must be a number from 0.")
			return
		}
		page = n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			sensError(w, http.StatusBadRequest, "Bad Request", "pageSize must be between 1 and 100.")
			return
		}
		size = n
	}
	var rows []listRow
	s.mu.Lock()
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		switch {
		case m.At.Before(from) || m.At.After(to),
			q.Has("type") && !strings.EqualFold(q.Get("type"), m.Type),
			q.Has("messageId") && q.Get("messageId") != m.MessageID:
			continue
		}
		rows = append(rows, m.listRow(true))
	}
	s.mu.Unlock()
	lo := min(page*size, len(rows))
	hi := min(lo+size, len(rows))
	writeJSON(w, http.StatusOK, map[string]any{
		"statusCode": "202", "statusName": "success", "messages": append([]listRow{}, rows[lo:hi]...),
		"pageIndex": page, "pageSize": size, "itemCount": len(rows), "hasMore": hi < len(rows),
	})
}

func (m *msg) listRow(search bool) listRow {
	r := listRow{MessageID: m.MessageID, RequestTime: m.At.In(kst).Format(resultLayout), ContentType: m.ContentType,
		CountryCode: "82", From: m.From, To: m.To}
	if search {
		r.RequestID, r.Type = m.RequestID, m.Type
	}
	return r
}

// handleResult answers GET …/messages/{messageId}.
func (s *Server) handleResult(w http.ResponseWriter, id string) {
	s.mu.Lock()
	var found *msg
	for _, m := range s.msgs {
		if m.MessageID == id {
			c := *m
			found = &c
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		// (choice) an unknown message id.
		sensError(w, http.StatusNotFound, "Not Found", "messageId "+id+" does not exist.")
		return
	}
	m := map[string]any{
		"requestId": found.RequestID, "requestTime": found.At.In(kst).Format(resultLayout), "contentType": found.ContentType,
		"type": found.Type, "content": found.Content, "countryCode": "82", "from": found.From, "to": found.To,
		"status": found.status,
	}
	if found.Subject != "" {
		m["subject"] = found.Subject
	}
	if found.status == "COMPLETED" {
		m["statusCode"], m["statusName"], m["statusMessage"] = found.statusCode, found.statusName, found.statusMessage
		m["completeTime"], m["telcoCode"] = found.complete.In(kst).Format(resultLayout), "SKT"
	}
	writeJSON(w, http.StatusOK, map[string]any{"statusCode": "202", "statusName": "success", "messages": []any{m}})
}
