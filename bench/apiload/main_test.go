package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 90: 90, 99: 99, 99.9: 100, 100: 100, 0: 1} {
		if got := percentile(l, p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

// TestRun drives a real loopback server: every request carries the token
// and a body with a changing sequence number, connections are reused, and
// unexpected statuses are counted.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]bool{}
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[string(b)] = true
		conns[r.RemoteAddr] = true
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok" || r.Method != "POST" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(202)
	}))
	defer srv.Close()
	res, err := run(context.Background(), options{URL: srv.URL, Body: `{"n":"{{seq}}"}`, Token: "tok", Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unexpected != 0 || res.Statuses[202] != res.Requests || res.Requests < 10 {
		t.Fatalf("result %+v", res)
	}
	// Keep-alive: a handful of connections for hundreds of requests (a
	// connection may be replaced once when the warm-up ends under load).
	if len(bodies) < 10 || len(conns) > 8 {
		t.Errorf("%d distinct bodies, %d connections (want ≤ 8 keep-alive)", len(bodies), len(conns))
	}
	if out := res.String(); !strings.Contains(out, "requests/s") || !strings.Contains(out, "p99") || !strings.Contains(out, "4 clients") {
		t.Errorf("report:\n%s", out)
	}
	res, err = run(context.Background(), options{URL: srv.URL, Method: "GET", Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unexpected != res.Requests || !strings.HasPrefix(res.FirstBad, "401") {
		t.Errorf("unexpected statuses not counted: %+v", res)
	}
}
