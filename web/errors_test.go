package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TestWriteJSONEncodeFailure: a value that cannot be encoded is never
// answered with its status and an empty or cut body; the client gets a 500
// with a JSON error and the failure is logged.
func TestWriteJSONEncodeFailure(t *testing.T) {
	for name, v := range map[string]any{
		"inf":     map[string]float64{"x": math.Inf(1)},
		"channel": map[string]any{"c": make(chan int)},
		"year":    map[string]time.Time{"at": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			w.Header().Set("Location", "/api/v1/messages/1")
			writeJSON(w, slog.New(slog.NewTextHandler(&logs, nil)), http.StatusAccepted, v)
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", w.Body.String(), err)
			}
			if w.Code != http.StatusInternalServerError || body["error"] != "internal error" ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("status %d, headers %v, body %v", w.Code, w.Header(), body)
			}
			if w.Header().Get("Location") != "" {
				t.Errorf("a failed answer keeps Location %q", w.Header().Get("Location"))
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("not logged: %q", logs.String())
			}
		})
	}
	w := httptest.NewRecorder()
	writeJSON(w, slog.New(slog.DiscardHandler), http.StatusCreated, map[string]int{"id": 7})
	if w.Code != http.StatusCreated || w.Body.String() != "{\"id\":7}\n" {
		t.Errorf("good value: %d %q", w.Code, w.Body.String())
	}
}

// TestClassify is the error table: what each kind of error answers.
func TestClassify(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		status     int
		field      string
		retryAfter string
	}{
		{"field", fmt.Errorf("submit: %w", &sms.FieldError{Field: "at", Msg: "is in the past"}), 400, "at", ""},
		{"phone", &sms.PhoneError{Input: "12"}, 400, "to", ""},
		{"limit", &outbox.LimitError{Limit: "sms.limits.per_day", Msg: "used up"}, 429, "sms.limits.per_day", ""},
		{"not found", fmt.Errorf("get: %w", store.ErrNotFound), 404, "", ""},
		{"conflict", fmt.Errorf("save: %w", store.ErrConflict), 409, "", ""},
		{"store unavailable", fmt.Errorf("store message: %w", store.Unavailable(errors.New("sqlite: disk full"))), 503, "", "5"},
		{"replica", alert.ErrReadOnly, 503, "", "5"},
		{"internal", errors.New("boom"), 500, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, slog.New(slog.DiscardHandler), c.err)
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if w.Code != c.status || body["field"] != c.field || body["error"] == "" || w.Header().Get("Retry-After") != c.retryAfter {
				t.Errorf("status %d, Retry-After %q, body %v; want %d, %q, field %q",
					w.Code, w.Header().Get("Retry-After"), body, c.status, c.retryAfter, c.field)
			}
			if c.status >= 500 && strings.Contains(body["error"], "disk full") {
				t.Errorf("the internal failure reaches the client: %v", body)
			}
		})
	}
}
