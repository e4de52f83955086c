package alimtalktest

import (
	"net/http"
	"time"
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
// answer has been written.
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	f, ok := s.takeFailure(HTTPStatus, Timeout, Garbage, IPNotAllowed, BadKey)
	if !ok {
		return false
	}
	switch f.Mode {
	case HTTPStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"))
	case Timeout:
		d := f.Delay
		if d <= 0 {
			d = 30 * time.Second
		}
		return !s.sleep(r, d)
	case Garbage:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>서비스 점검중입니다.</body></html>"))
	case IPNotAllowed:
		writeJSON(w, fail(-101, "인증오류입니다.-IP"))
	case BadKey:
		writeJSON(w, fail(-99, "등록되지 않은 인증키 입니다."))
	}
	return true
}
