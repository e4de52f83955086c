package solapitest

import (
	"cmp"
	"net/http"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Mode is a kind of injected failure.
type Mode int

// Failure modes. All but LateAnswer hit every endpoint, before the
// signature is checked.
const (
	None       Mode = iota
	HTTPStatus      // answer Failure.Status (default 503) with a proxy's HTML page
	RateLimit       // 429 {"errorCode":"TooManyRequests",…} (choice: Solapi documents no rate-limit answer)
	Timeout         // stall Failure.Delay (default 30s), then answer normally
	Garbage         // HTTP 200 with an HTML maintenance page instead of JSON
	BadJSON         // HTTP 200 with JSON cut off in the middle
	// LateAnswer (send-many only) registers the messages (they are listed
	// and charged), then holds the answer Failure.Delay (default 30s),
	// whether or not the client still waits: the gateway that accepts
	// and answers after the client's timeout.
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
// answer has been written (or the stall ended the request).
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.failure.Take(HTTPStatus, RateLimit, Timeout, Garbage, BadJSON)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := cmp.Or(f.Status, http.StatusServiceUnavailable)
		fakegw.WriteBody(w, status, "text/html", "<html><head><title>"+http.StatusText(status)+"</title></head><body><center><h1>"+
			http.StatusText(status)+"</h1></center><hr><center>nginx</center></body></html>")
	case RateLimit:
		writeError(w, http.StatusTooManyRequests, "TooManyRequests", "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.")
	case Timeout:
		return !s.gw.Stall(r, f.Delay)
	case Garbage:
		fakegw.WriteBody(w, http.StatusOK, "text/html; charset=utf-8", fakegw.MaintenancePage)
	case BadJSON:
		writeRaw(w, http.StatusOK, []byte(`{"groupInfo":{"count":{"total":1,"registeredSuccess":1},"groupId":"G4V2026`))
	}
	return true
}
