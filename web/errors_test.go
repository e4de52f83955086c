package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
