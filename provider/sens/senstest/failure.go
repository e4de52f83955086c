package senstest

import (
	"cmp"
	"net/http"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Mode is a kind of injected failure.
type Mode int

// Failure modes. HTTPStatus, Timeout, Garbage, PermissionDenied and
// RateLimited hit every endpoint (before authentication, as the API
// gateway would); UnregisteredSender and LateAnswer only sends.
const (
	None             Mode = iota
	HTTPStatus            // answer Failure.Status (default 503) as the gateway's "Endpoint Error"
	Timeout               // stall Failure.Delay (default 30s), then answer normally
	Garbage               // HTTP 200 with an HTML page instead of JSON
	PermissionDenied      // 401, errorCode 210 "Permission Denied"
	RateLimited           // 429, errorCode 420 "Rate Limited"
	UnregisteredSender
	// LateAnswer handles the send (it is accepted and listed), then holds
	// the answer Failure.Delay (default 30s), whether or not the client
	// still waits.
	LateAnswer
)

// Failure is an injected failure; the zero value means none.
type Failure struct {
	Mode   Mode
	Status int           // HTTPStatus
	Delay  time.Duration // Timeout, LateAnswer
	// Count > 0 makes only the next Count affected requests fail; after
	// that the failure clears itself. 0 = until SetFailure(Failure{}).
	Count int
}

// SetFailure replaces the injected failure; it takes effect for the next
// request, also while the server is serving others.
func (s *Server) SetFailure(f Failure) { s.failure.Set(f, f.Mode, f.Count) }

// FailNext makes only the next n affected requests fail with f.
func (s *Server) FailNext(n int, f Failure) { s.failure.Set(f, f.Mode, n) }

// injectFailure applies the endpoint-independent modes; true means the
// answer has been written.
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.failure.Take(HTTPStatus, Timeout, Garbage, PermissionDenied, RateLimited)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := cmp.Or(f.Status, http.StatusServiceUnavailable)
		code, msg := "900", "Unexpected Error"
		switch status {
		case http.StatusServiceUnavailable:
			code, msg = "500", "Endpoint Error"
		case http.StatusGatewayTimeout:
			code, msg = "510", "Endpoint Timeout"
		}
		gatewayError(w, status, code, msg, "")
	case Timeout:
		return !s.gw.Stall(r, f.Delay)
	case Garbage:
		fakegw.WriteBody(w, http.StatusOK, "text/html; charset=UTF-8", "<html><body>점검 중입니다.</body></html>")
	case PermissionDenied:
		gatewayError(w, http.StatusUnauthorized, "210", "Permission Denied", "")
	case RateLimited:
		gatewayError(w, http.StatusTooManyRequests, "420", "Rate Limited", "")
	}
	return true
}
