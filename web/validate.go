package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/munja-sms/munja/store"
)

// Field limits of the address book and templates, in characters.
const (
	maxNameLen  = 100
	maxMemoLen  = 1000
	maxGroupLen = 50
	maxGroups   = 100
)

// cleanName trims s and checks it is a required single-line name of at most
// max characters.
func cleanName(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", badRequest(field, field+" is required")
	case utf8.RuneCountInString(s) > max:
		return "", badRequest(field, fmt.Sprintf("%s is longer than %d characters", field, max))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", badRequest(field, field+" must not contain control characters or line breaks")
		}
	}
	return s, nil
}

// cleanGroup checks a group name: it is used as "group:NAME" in recipient
// lists, which are split on commas, semicolons and line breaks.
func cleanGroup(field, s string) (string, error) {
	s, err := cleanName(field, s, maxGroupLen)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, ",;") {
		return "", badRequest(field, field+" must not contain commas or semicolons")
	}
	if strings.HasPrefix(s, "group:") {
		return "", badRequest(field, field+` must not start with "group:"`)
	}
	return s, nil
}

// cleanText checks an optional multi-line text of at most max characters.
func cleanText(field, s string, max int) (string, error) {
	if utf8.RuneCountInString(s) > max {
		return "", badRequest(field, fmt.Sprintf("%s is longer than %d characters", field, max))
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return "", badRequest(field, field+" must not contain control characters")
		}
	}
	return s, nil
}

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("id", "must be a positive integer")
	}
	return id, nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n, nil
}

// audit appends to the audit log. The change is already made, so a failure
// is logged rather than reported to the client.
func (s *Server) audit(r *http.Request, c Caller, action, target, detail string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	e := store.AuditEntry{At: s.opt.Now(), Actor: c.Name, Action: action, Target: target, Detail: detail}
	if err := s.opt.Store.AddAudit(ctx, e); err != nil {
		s.opt.Log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}
