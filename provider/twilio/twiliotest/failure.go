package twiliotest

import (
	"net/http"
	"strings"
	"time"
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
func (s *Server) SetFailure(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

// FailNext makes only the next n affected requests fail with f.
func (s *Server) FailNext(n int, f Failure) {
	f.Count = n
	s.SetFailure(f)
}

// takeFailure returns the current failure if its mode is one of modes,
// counting it against Failure.Count.
func (s *Server) takeFailure(modes ...Mode) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failure
	if f.Mode == None {
		return Failure{}, false
	}
	for _, m := range modes {
		if f.Mode != m {
			continue
		}
		if s.failure.Count > 0 {
			s.failure.Count--
			if s.failure.Count == 0 {
				s.failure = Failure{}
			}
		}
		return f, true
	}
	return Failure{}, false
}

// injectFailure applies the modes that hit every request; true means the
// answer has been written (or the client is gone).
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.takeFailure(HTTPStatus, Timeout, Garbage, RateLimit, BadAuth)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		if status == http.StatusInternalServerError {
			writeError(w, status, 20500, "An internal server error has occurred")
			return true
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"))
	case Timeout:
		d := f.Delay
		if d <= 0 {
			d = 30 * time.Second
		}
		return !s.sleep(r, d)
	case Garbage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>" + strings.Repeat("Twilio is down for maintenance. ", 3) + "</body></html>"))
	case RateLimit:
		writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
	case BadAuth:
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
	}
	return true
}
