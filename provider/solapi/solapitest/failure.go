package solapitest

import (
	"net/http"
	"time"
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

// injectFailure applies the endpoint-independent modes; true means the
// answer has been written (or the stall ended the request).
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.takeFailure(HTTPStatus, RateLimit, Timeout, Garbage, BadJSON)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(status) + "</title></head><body><center><h1>" +
			http.StatusText(status) + "</h1></center><hr><center>nginx</center></body></html>"))
	case RateLimit:
		writeError(w, http.StatusTooManyRequests, "TooManyRequests", "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.")
	case Timeout:
		d := f.Delay
		if d <= 0 {
			d = 30 * time.Second
		}
		return !s.sleep(r, d)
	case Garbage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>서비스 점검중입니다.</body></html>"))
	case BadJSON:
		writeRaw(w, http.StatusOK, []byte(`{"groupInfo":{"count":{"total":1,"registeredSuccess":1},"groupId":"G4V2026`))
	}
	return true
}
