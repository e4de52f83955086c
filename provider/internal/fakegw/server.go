// Package fakegw is the scaffolding the fake gateways beside the providers
// (provider/aligo/aligotest, provider/nhn/nhntest, …) have in common: an
// httptest server on 127.0.0.1 that closes once and ends pending stalls at
// once, the latency and the stalls that end with the client or the
// server, the answer held past the client's timeout without undoing the
// send, the injected failure set once or for the next N requests, the log
// of requests, the registered sender numbers, and writing answers.
//
// What a gateway says stays in its fake: its routes, authentication,
// limits, wire shapes, error envelopes, failure modes, even the content
// type and the words of its HTML pages.
package fakegw

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DefaultDelay is how long a stall or a late answer lasts when the
// injected failure gives no Delay: longer than any client waits.
const DefaultDelay = 30 * time.Second

// Server serves a fake's handler on 127.0.0.1. All methods are safe for
// concurrent use.
type Server struct {
	srv  *httptest.Server
	done chan struct{} // closed by Close: every stall ends
	once sync.Once

	mu      sync.Mutex
	latency time.Duration
}

// Start serves h on 127.0.0.1 until Close.
func Start(h http.Handler) *Server {
	s := &Server{done: make(chan struct{})}
	s.srv = httptest.NewServer(h)
	return s
}

// Close stops the server; pending stalls (Sleep, Stall, AnswerLate) end at
// once, so it does not wait for them. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// URL is the base URL (no trailing slash).
func (s *Server) URL() string { return s.srv.URL }

// SetLatency makes WaitLatency wait d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// WaitLatency waits the latency SetLatency set, like Sleep.
func (s *Server) WaitLatency(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	return s.Sleep(r, d)
}

// Sleep waits d; false means it ended early because the client went away
// or the server closed, and the request is not to be answered.
func (s *Server) Sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// Stall is Sleep for d, or DefaultDelay when d <= 0: a gateway that does
// not answer in time. A client that gives up first is not served.
func (s *Server) Stall(r *http.Request, d time.Duration) bool {
	return s.Sleep(r, orDefault(d))
}

// AnswerLate handles the request at once with handle, writing to a
// recorder, so the send is done whatever the client does; then it holds
// the answer d (DefaultDelay when d <= 0), whether or not the client still
// waits, and writes it. The server closing drops the answer. This is the
// gateway that accepts a send and answers after the client's timeout.
func (s *Server) AnswerLate(w http.ResponseWriter, d time.Duration, handle func(http.ResponseWriter)) {
	rec := httptest.NewRecorder()
	handle(rec)
	t := time.NewTimer(orDefault(d)) // the client going away does not undo the send
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
		return
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultDelay
	}
	return d
}
