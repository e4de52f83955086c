package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// apiError is an error with the HTTP status and field a client should see.
type apiError struct {
	status     int
	field      string
	msg        string
	retryAfter int // seconds, sent as Retry-After when > 0: try again, nothing was done
}

func (e *apiError) Error() string { return e.msg }

func badRequest(field, msg string) error {
	return &apiError{status: http.StatusBadRequest, field: field, msg: msg}
}

// classify maps any error to what the client sees, in one table. Internal
// failures are logged and answered with a generic message.
func classify(err error) *apiError {
	var ae *apiError
	var fe *sms.FieldError
	var ce *sms.CharError
	var pe *sms.PhoneError
	var le *outbox.LimitError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return &apiError{status: http.StatusBadRequest, field: fe.Field, msg: err.Error()}
	case errors.As(err, &ce):
		field := ce.Field
		if field == "" {
			field = "text"
		}
		return &apiError{status: http.StatusBadRequest, field: field, msg: err.Error()}
	case errors.As(err, &pe):
		return &apiError{status: http.StatusBadRequest, field: "to", msg: err.Error()}
	case errors.As(err, &le):
		return &apiError{status: http.StatusTooManyRequests, field: le.Limit, msg: le.Error()}
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: "request body too large"}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{status: http.StatusNotFound, msg: "not found"}
	case errors.Is(err, alert.ErrIncidentClosed):
		return &apiError{status: http.StatusConflict, field: "id", msg: "the incident is already resolved"}
	case errors.Is(err, alert.ErrReadOnly):
		return &apiError{status: http.StatusServiceUnavailable, msg: err.Error(), retryAfter: 5}
	case errors.Is(err, store.ErrUnavailable):
		return &apiError{status: http.StatusServiceUnavailable, msg: "the database is unavailable; try again later", retryAfter: 5}
	case errors.Is(err, alert.ErrBadSilence):
		return &apiError{status: http.StatusBadRequest, field: "until", msg: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return &apiError{status: http.StatusConflict, msg: "already exists"}
	}
	return nil
}

// answer is what the client sees of err (classify, else a generic 500),
// with Retry-After set when it should try again. Failures the operator must
// see are logged: internal ones, and a store that cannot be written (the
// client only hears "try again").
func answer(w http.ResponseWriter, log *slog.Logger, err error) *apiError {
	ae := classify(err)
	switch {
	case ae == nil:
		log.Error("internal error", "err", err)
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	case errors.Is(err, store.ErrUnavailable):
		log.Error("store unavailable", "err", err)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	return ae
}

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	ae := answer(w, log, err)
	body := map[string]string{"error": ae.msg}
	if ae.field != "" {
		body["field"] = ae.field
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="munja"`)
	}
	writeJSON(w, log, ae.status, body)
}

// writeJSON answers status with v as JSON. v is encoded before anything is
// written, so a value that cannot be encoded (a time past year 9999, NaN)
// is never answered as a success with an empty or cut body: it is logged
// and answered 500 like any internal failure.
func writeJSON(w http.ResponseWriter, log *slog.Logger, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		log.Error("internal error: encode response", "status", status, "err", err)
		w.Header().Del("Location") // it named what the failed answer was about
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
