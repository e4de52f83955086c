package twiliotest

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Mode is a kind of injected failure.
type Mode int

// Failure modes. HTTPStatus, Timeout, Garbage, RateLimit and BadAuth hit
// every request; APIError and LateAnswer only sends (POST Messages.json).
const (
	None       Mode = iota
	HTTPStatus      // answer Failure.Status (default 503): 500 with Twilio's JSON (20500), others an HTML page as a proxy would
	Timeout         // stall Failure.Delay (default 30s) before handling; a client that left is not served (nothing created)
	Garbage         // HTTP 200 with an HTML page instead of JSON
	RateLimit       // 429 {"code":20429,"message":"Too Many Requests",…}
	BadAuth         // 401 20003 even for the right credentials
	APIError        // Failure.Status (default 400) with Twilio's envelope {Failure.Code, Failure.Message}
	// LateAnswer creates the Message (it is accepted and can be fetched),
	// then holds the answer Failure.Delay (default 30s), whether or not the
	// client still waits: the gateway that accepts and answers after the
	// client's timeout.
	LateAnswer
)

// Failure is an injected failure; the zero value means none.
type Failure struct {
	Mode    Mode
	Status  int           // HTTPStatus, APIError
	Code    int           // APIError
	Message string        // APIError
	Delay   time.Duration // Timeout, LateAnswer
	// Count > 0 makes only the next Count affected requests fail; after
	// that the failure clears itself. 0 = until SetFailure(Failure{}).
	Count int
}

// SetFailure replaces the injected failure; it takes effect for the next request.
func (s *Server) SetFailure(f Failure) { s.failure.Set(f, f.Mode, f.Count) }

// FailNext makes only the next n affected requests fail with f.
func (s *Server) FailNext(n int, f Failure) { s.failure.Set(f, f.Mode, n) }

// injectFailure applies the modes that hit every request; true means the
// answer has been written (or the client is gone).
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.failure.Take(HTTPStatus, Timeout, Garbage, RateLimit, BadAuth)
	if !ok {
		return false
	}
	const htmlType = "text/html; charset=utf-8"
	switch f.Mode {
	case HTTPStatus:
		status := cmp.Or(f.Status, http.StatusServiceUnavailable)
		if status == http.StatusInternalServerError {
			writeError(w, status, 20500, "An internal server error has occurred")
			return true
		}
		fakegw.WriteBody(w, status, htmlType, fakegw.ErrorPage(status))
	case Timeout:
		return !s.gw.Stall(r, f.Delay)
	case Garbage:
		fakegw.WriteBody(w, http.StatusOK, htmlType, "<html><body>"+strings.Repeat("Twilio is down for maintenance. ", 3)+"</body></html>")
	case RateLimit:
		writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
	case BadAuth:
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
	}
	return true
}
