package solapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// handleList is GET /messages/v4/list. Filters are read as the SDKs send
// them (groupId, messageId, to, from, type, statusCode, dateType,
// startDate, endDate) and in the documented criteria/cond/value form (eq
// only). Messages come newest first (choice); startKey is the id of a
// page's first message, nextKey that of the next page's, null at the end.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	filters := map[string]string{}
	for _, k := range []string{"groupId", "messageId", "to", "from", "type", "statusCode"} {
		if v := q.Get(k); v != "" {
			filters[k] = v
		}
	}
	if c := q.Get("criteria"); c != "" {
		keys, conds, vals := strings.Split(c, ","), strings.Split(q.Get("cond"), ","), strings.Split(q.Get("value"), ",")
		if len(conds) != len(keys) || len(vals) != len(keys) {
			writeError(w, http.StatusBadRequest, "ValidationError", "criteria, cond and value must have as many items")
			return
		}
		for i, k := range keys {
			if conds[i] != "eq" {
				writeError(w, http.StatusBadRequest, "ValidationError", "the fake supports only cond=eq") // (choice)
				return
			}
			filters[k] = vals[i]
		}
	}
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"startDate": &from, "endDate": &to} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("%q must be a valid ISO 8601 date", name))
				return
			}
			*dst = t
		}
	}
	if dt := q.Get("dateType"); dt != "" && dt != "CREATED" && dt != "UPDATED" {
		writeError(w, http.StatusBadRequest, "ValidationError", `"dateType" must be one of [CREATED, UPDATED]`)
		return
	}
	s.page(w, q, func(m *Message) bool {
		for k, v := range filters {
			if field(m, k) != v {
				return false
			}
		}
		return (from.IsZero() || !m.Created.Before(from)) && (to.IsZero() || !m.Created.After(to))
	})
}

// handleGroupMessages is GET /messages/v4/groups/{groupId}/messages.
func (s *Server) handleGroupMessages(w http.ResponseWriter, r *http.Request, _ []byte) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, groupsPath), "/messages")
	s.page(w, r.URL.Query(), func(m *Message) bool { return m.GroupID == id })
}

func field(m *Message, k string) string {
	switch k {
	case "groupId":
		return m.GroupID
	case "messageId":
		return m.MessageID
	case "to":
		return m.To
	case "from":
		return m.From
	case "type":
		return m.Type
	case "statusCode":
		return m.StatusCode
	}
	return "\x00" // an unknown criterion matches nothing
}

// page writes one page of the messages match selects, newest first.
func (s *Server) page(w http.ResponseWriter, q url.Values, match func(*Message) bool) {
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			writeError(w, http.StatusBadRequest, "ValidationError", `"limit" must be a positive number`)
			return
		case n > s.maxLimit:
			writeError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf(`"limit" must be less than or equal to %d`, s.maxLimit))
			return
		}
		limit = n
	}
	s.mu.Lock()
	var sel []Message
	for i := len(s.messages) - 1; i >= 0; i-- {
		if m := s.messages[i]; match(m) {
			sel = append(sel, *m)
		}
	}
	s.mu.Unlock()
	start := 0
	startKey := q.Get("startKey")
	if startKey != "" {
		start = slices.IndexFunc(sel, func(m Message) bool { return m.MessageID == startKey })
		if start < 0 {
			start = len(sel) // (choice) an unknown key: an empty page
		}
	}
	end := min(start+limit, len(sel))
	var buf bytes.Buffer
	buf.WriteString(`{"startKey":`)
	writeKey(&buf, startKey)
	buf.WriteString(`,"limit":` + strconv.Itoa(limit) + `,"messageList":{`)
	for i, m := range sel[start:end] {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.MessageID)
		buf.Write(k)
		buf.WriteByte(':')
		v, _ := json.Marshal(stored(m, i))
		buf.Write(v)
	}
	buf.WriteString(`},"nextKey":`)
	next := ""
	if end < len(sel) {
		next = sel[end].MessageID
	}
	writeKey(&buf, next)
	buf.WriteByte('}')
	writeRaw(w, http.StatusOK, buf.Bytes())
}

func writeKey(buf *bytes.Buffer, k string) {
	if k == "" {
		buf.WriteString("null")
		return
	}
	b, _ := json.Marshal(k)
	buf.Write(b)
}

// stored is a message as the list shows it: the documented fields, null
// where empty, and (as Solapi's SDK notes) booleans sometimes as 0/1.
func stored(m Message, i int) map[string]any {
	date := m.Created.UTC().Format("2006-01-02T15:04:05.000Z")
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var received, reported any
	if m.StatusCode == "4000" {
		received, reported = date, date
	} else if m.StatusCode != "2000" && m.StatusCode != "3000" {
		reported = date
	}
	var replacement any = false
	if i%2 == 1 {
		replacement = 0
	}
	fields := m.CustomFields
	if fields == nil {
		fields = map[string]string{}
	}
	return map[string]any{
		"_id":            m.MessageID,
		"kakaoOptions":   map[string]any{"pfId": nil, "templateId": nil, "disableSms": false, "buttons": []any{}},
		"type":           m.Type,
		"country":        "82",
		"subject":        nullable(m.Subject),
		"imageId":        nil,
		"dateProcessed":  date,
		"dateReported":   reported,
		"dateReceived":   received,
		"statusCode":     m.StatusCode,
		"networkCode":    nil,
		"log":            []any{},
		"replacement":    replacement,
		"autoTypeDetect": 0,
		"messageId":      m.MessageID,
		"groupId":        m.GroupID,
		"accountId":      DefaultAccountID,
		"text":           m.Text,
		"from":           m.From,
		"to":             m.To,
		"customFields":   fields,
		"dateCreated":    date,
		"dateUpdated":    date,
		"reason":         nil,
		"networkName":    "ETC",
	}
}

// handleBalance is GET /cash/v1/balance, shaped like Solapi's sample.
func (s *Server) handleBalance(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.mu.Lock()
	balance, point := s.balance, s.point
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"lowBalanceAlert": map[string]any{"notificationBalance": "0", "currentBalance": nil, "balances": []int{200}, "channels": []string{"SMS"}, "enabled": true},
		"point":           point,
		"minimumCash":     0,
		"rechargeTo":      0,
		"autoRecharge":    0,
		"accountId":       DefaultAccountID,
		"balance":         balance,
	})
}

// handlePricing is GET /pricing/v1/messaging, shaped like the CoolSMS
// sample ({"sms":20,"lms":50,"mms":200,…,"countryId":"82"}).
func (s *Server) handlePricing(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.mu.Lock()
	p := map[string]any{"countryName": "Korea, South", "countryId": "82", "ata": 19, "cta": 13}
	for k, v := range s.prices {
		p[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, p)
}
