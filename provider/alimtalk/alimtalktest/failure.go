package alimtalktest

import (
	"cmp"
	"net/http"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Mode is a kind of injected failure.
type Mode int

// Failure modes; all but LateAnswer hit every endpoint, the token's too.
const (
	None         Mode = iota
	HTTPStatus        // answer Failure.Status (default 503) with an HTML page
	Timeout           // stall Failure.Delay (default 30s), then answer normally
	Garbage           // HTTP 200 with an HTML maintenance page instead of JSON
	IPNotAllowed      // -101 "인증오류입니다.-IP" (choice: the SMS API's words)
	BadKey            // -99 "등록되지 않은 인증키 입니다." even for the right key
	// LateAnswer (send only) handles the request (it is accepted and in
	// the history), then holds the answer Failure.Delay (default 30s)
	// whether or not the client still waits.
	LateAnswer
)

// Failure is an injected failure; the zero value means none.
type Failure struct {
	Mode   Mode
	Status int           // HTTPStatus
	Delay  time.Duration // Timeout, LateAnswer
	// Count > 0 makes only the next Count affected requests fail.
	Count int
}

// SetFailure replaces the injected failure.
func (s *Server) SetFailure(f Failure) { s.failure.Set(f, f.Mode, f.Count) }

// FailNext makes only the next n affected requests fail with f.
func (s *Server) FailNext(n int, f Failure) { s.failure.Set(f, f.Mode, n) }

// injectFailure applies the endpoint-independent modes; true means the
// answer has been written.
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.failure.Take(HTTPStatus, Timeout, Garbage, IPNotAllowed, BadKey)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := cmp.Or(f.Status, http.StatusServiceUnavailable)
		fakegw.WriteBody(w, status, htmlType, fakegw.ErrorPage(status))
	case Timeout:
		return !s.gw.Stall(r, f.Delay)
	case Garbage:
		fakegw.WriteBody(w, http.StatusOK, htmlType, fakegw.MaintenancePage)
	case IPNotAllowed:
		writeJSON(w, fail(-101, "인증오류입니다.-IP"))
	case BadKey:
		writeJSON(w, fail(-99, "등록되지 않은 인증키 입니다."))
	}
	return true
}
