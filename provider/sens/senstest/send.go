package senstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/munja-sms/munja/sms"
)

// Limits of a send (aligo-api.md §9.3).
const (
	MaxMessages  = 100
	maxSMSBytes  = 90
	maxLMSBytes  = 2000
	maxSubject   = 40
	maxToLen     = 25
	timeLayout   = "2006-01-02T15:04:05.000" // requestTime of a send's answer
	resultLayout = "2006-01-02 15:04:05"     // requestTime and completeTime of lists and results
)

type sendBody struct {
	Type        string `json:"type"`
	ContentType string `json:"contentType"`
	CountryCode string `json:"countryCode"`
	From        string `json:"from"`
	Subject     string `json:"subject"`
	Content     string `json:"content"`
	Messages    []struct {
		To      string `json:"to"`
		Subject string `json:"subject"`
		Content string `json:"content"`
	} `json:"messages"`
	ReserveTime string `json:"reserveTime"`
}

// handleSend answers POST …/messages.
func (s *Server) handleSend(w http.ResponseWriter, contentType string, raw []byte) {
	if !strings.HasPrefix(strings.ToLower(contentType), "application/json") {
		// (choice) the guide requires application/json.
		sensError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "Content-Type must be application/json.")
		return
	}
	var b sendBody
	if err := json.Unmarshal(raw, &b); err != nil {
		sensError(w, http.StatusBadRequest, "Bad Request", "Request body is not readable.")
		return
	}
	if errs := s.validate(b); len(errs) > 0 {
		sensError(w, http.StatusBadRequest, fmt.Sprintf("Validation failed. %d error(s)", len(errs)), errs...)
		return
	}
	registered := s.senders.Has(b.From)
	if _, ok := s.failure.Take(UnregisteredSender); ok || !registered {
		// (choice) how SENS refuses an unregistered calling number.
		sensError(w, http.StatusBadRequest, "Bad Request", "The sender(from) is not a registered calling number.")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.seq++
	requestID := fmt.Sprintf("VORSSA-%016x-%04d-%08x", now.UnixNano(), s.seq%10000, s.seq)
	typ := strings.ToUpper(b.Type)
	if typ == "MMS" {
		typ = "LMS" // no files: sent as LMS
	}
	for i, m := range b.Messages {
		subject, content := b.Subject, b.Content
		if m.Subject != "" {
			subject = m.Subject
		}
		if m.Content != "" {
			content = m.Content
		}
		d := Delivered{
			RequestID: requestID, MessageID: messageID(s.seq, i), To: m.To, From: b.From, Type: typ,
			ContentType: contentTypeOf(b), Subject: subject, Content: content, At: now,
		}
		s.delivered = append(s.delivered, d)
		s.msgs = append(s.msgs, &msg{Delivered: d, status: "COMPLETED", statusCode: "0", statusName: "success", statusMessage: "성공", complete: now})
	}
	writeJSON(w, http.StatusAccepted, map[string]string{
		"requestId": requestID, "requestTime": now.In(kst).Format(timeLayout), "statusCode": "202", "statusName": "success",
	})
}

// validate applies the documented field rules; each problem is one
// string, as SENS lists them.
func (s *Server) validate(b sendBody) []string {
	var errs []string
	typ := strings.ToUpper(b.Type)
	switch typ {
	case "SMS", "LMS", "MMS":
	default:
		errs = append(errs, "type must be one of SMS, LMS, MMS.")
	}
	if ct := contentTypeOf(b); ct != "COMM" && ct != "AD" {
		errs = append(errs, "contentType must be COMM or AD.")
	}
	if b.From == "" {
		errs = append(errs, "from must not be empty.")
	}
	if n := len(b.Messages); n < 1 || n > MaxMessages {
		errs = append(errs, fmt.Sprintf("messages: size must be between 1 and %d.", MaxMessages))
	}
	if b.ReserveTime != "" {
		errs = append(errs, "reserveTime is not supported by this fake.")
	}
	check := func(field, text string, limit int) {
		if n := sms.Len(text); n > limit {
			errs = append(errs, fmt.Sprintf("%s must be at most %d bytes (got %d).", field, limit, n))
		}
		for _, r := range text {
			if !sms.Encodable(r) {
				// (choice) SENS documents that such a send fails.
				errs = append(errs, fmt.Sprintf("%s contains a character that cannot be sent (%q).", field, r))
				break
			}
		}
	}
	limit := maxSMSBytes
	if typ != "SMS" {
		limit = maxLMSBytes
	}
	if strings.TrimSpace(b.Content) == "" {
		for _, m := range b.Messages {
			if strings.TrimSpace(m.Content) == "" {
				errs = append(errs, "content must not be empty.")
				break
			}
		}
	}
	check("content", b.Content, limit)
	check("subject", b.Subject, maxSubject)
	for _, m := range b.Messages {
		if m.To == "" || len(m.To) > maxToLen || strings.Trim(m.To, "0123456789") != "" {
			errs = append(errs, "The receiver(to) must be numeric and cannot exceed 25 characters.")
			break
		}
		check("messages.content", m.Content, limit)
		check("messages.subject", m.Subject, maxSubject)
	}
	return errs
}

func contentTypeOf(b sendBody) string {
	if b.ContentType == "" {
		return "COMM"
	}
	return strings.ToUpper(b.ContentType)
}

// messageID looks like SENS's: a UUID.
func messageID(seq int64, i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seq, i, seq%0x1000, i%0x1000, seq*1000+int64(i))
}
