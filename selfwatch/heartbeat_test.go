package selfwatch

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hc-ping.com/0c3d2a6e-6f5b-4c1e-9a67-0d1f2e3a4b5c", "https://hc-ping.com/0c3d…"},
		{"https://kuma.example.com/api/push/Xk3pQ9aBcD?status=up&msg=OK&ping=", "https://kuma.example.com/api/push/Xk3p…?msg=xxxxx&ping=xxxxx&status=xxxxx"},
		{"http://token:S3CRET@10.0.0.2:8080/api/v1/heartbeat/munja-a", "http://10.0.0.2:8080/api/v1/heartbeat/munj…"},
		{"https://example.com/", "https://example.com"},
		{"https://example.com/abc", "https://example.com/abc"},
		{"https://example.com/ping?token=SECRET", "https://example.com/ping?token=xxxxx"},
		{"not a url", "<invalid URL>"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// pinged is a heartbeat receiver that records what it got.
type pinged struct {
	srv    *httptest.Server
	calls  atomic.Int64
	status atomic.Int64
	hang   atomic.Bool
	mu     sync.Mutex
	auth   []string
	paths  []string
}

func newPinged(t *testing.T) *pinged {
	p := &pinged{}
	p.status.Store(200)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.hang.Load() {
			<-r.Context().Done()
			return
		}
		p.calls.Add(1)
		p.mu.Lock()
		p.auth = append(p.auth, r.Header.Get("Authorization"))
		p.paths = append(p.paths, r.Method+" "+r.URL.RequestURI())
		p.mu.Unlock()
		w.WriteHeader(int(p.status.Load()))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func TestHeartbeatAuthFromUserinfo(t *testing.T) {
	p := newPinged(t)
	host := strings.TrimPrefix(p.srv.URL, "http://")
	for _, tt := range []struct{ url, auth string }{
		{"http://token:T0K3N@" + host + "/api/v1/heartbeat/munja-a", "Bearer T0K3N"},
		{"http://ops:pw@" + host + "/ping", "Basic b3BzOnB3"},
		{"http://" + host + "/ping/UUID?x=1", ""},
	} {
		h, err := NewHeartbeat(HeartbeatOptions{URL: tt.url})
		if err != nil {
			t.Fatal(err)
		}
		h.Once(context.Background())
		if st := h.Stats(); st.LastSuccess.IsZero() || st.Failures != 0 {
			t.Errorf("%s: stats %+v", tt.url, st)
		}
		p.mu.Lock()
		got := p.auth[len(p.auth)-1]
		p.mu.Unlock()
		if got != tt.auth {
			t.Errorf("%s: Authorization %q, want %q", tt.url, got, tt.auth)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.Join(p.paths, ",") != "GET /api/v1/heartbeat/munja-a,GET /ping,GET /ping/UUID?x=1" {
		t.Errorf("requests %v", p.paths)
	}
	for _, bad := range []string{"", "ftp://x/y", "hc-ping.com/uuid"} {
		if _, err := NewHeartbeat(HeartbeatOptions{URL: bad}); err == nil {
			t.Errorf("NewHeartbeat(%q) worked", bad)
		}
	}
}

// TestHeartbeatFailures: failed calls (an error status, no answer within
// the timeout, nobody listening) are counted and logged — the first, then
// not again for a while — never with the URL's secrets; an unhealthy
// munja makes no call.
func TestHeartbeatFailures(t *testing.T) {
	p := newPinged(t)
	var logs syncBuffer
	healthy := atomic.Bool{}
	healthy.Store(true)
	h, err := NewHeartbeat(HeartbeatOptions{
		URL: p.srv.URL + "/ping/SECRET-UUID?token=SECRET-Q", Interval: time.Second, Timeout: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Healthy: func(context.Context) error {
			if healthy.Load() {
				return nil
			}
			return errors.New("store not writable")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p.status.Store(503)
	h.Once(ctx)
	h.Once(ctx)
	p.hang.Store(true)
	h.Once(ctx)
	p.hang.Store(false)
	if st := h.Stats(); st.Failures != 3 || !st.LastSuccess.IsZero() {
		t.Fatalf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "heartbeat call failed"); n != 1 {
		t.Fatalf("%d failure lines, want 1:\n%s", n, logs.String())
	}
	p.status.Store(200)
	h.Once(ctx)
	if !strings.Contains(logs.String(), "heartbeat works again") || h.Stats().LastSuccess.IsZero() {
		t.Fatalf("recovery:\n%s", logs.String())
	}

	healthy.Store(false)
	before := p.calls.Load()
	h.Once(ctx)
	h.Once(ctx)
	if p.calls.Load() != before || h.Stats().Skipped != 2 {
		t.Fatalf("calls while unhealthy: %d, stats %+v", p.calls.Load()-before, h.Stats())
	}
	healthy.Store(true)
	h.Once(ctx)
	if p.calls.Load() != before+1 || !strings.Contains(logs.String(), "heartbeat resumes") {
		t.Fatalf("no call once healthy again")
	}

	// Nobody listening: the transport's error names the URL, the log must not.
	p.srv.Close()
	h.Once(ctx)
	out := logs.String()
	if strings.Contains(out, "SECRET") {
		t.Errorf("a secret of the URL was logged:\n%s", out)
	}
	if !strings.Contains(out, "/ping/SECR…?token=xxxxx") {
		t.Errorf("the shown URL is missing:\n%s", out)
	}
}

// TestHeartbeatRun calls every interval, the first one interval after it
// starts.
func TestHeartbeatRun(t *testing.T) {
	p := newPinged(t)
	h, err := NewHeartbeat(HeartbeatOptions{URL: p.srv.URL, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1050*time.Millisecond)
	defer cancel()
	h.Run(ctx)
	if n := p.calls.Load(); n < 7 || n > 11 {
		t.Errorf("%d calls in 1 s at 100 ms", n)
	}
}
