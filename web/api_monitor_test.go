package web

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

// checkNames returns the check names GET /api/v1/checks lists.
func (f *fixture) checkNames() []string {
	f.t.Helper()
	out := f.must(req{path: "/api/v1/checks", token: "read"}, 200)
	var names []string
	for _, c := range out["checks"].([]any) {
		names = append(names, c.(map[string]any)["check"].(string))
	}
	return names
}

// TestReplaceMonitor: after the holder gets another engine the monitor routes use the new
// engine, and swapping while requests run is safe (run with -race).
func TestReplaceMonitor(t *testing.T) {
	f := newFixture(t)
	cfg := config.Default()
	cfg.Checks = []config.Check{{Name: "web-port", Type: "listen", Port: 80}}
	next, err := alert.New(alert.Options{Config: cfg, State: f.db, Notifier: nopNotifier{}, Log: slog.New(slog.DiscardHandler)})
	noErr(t, err)
	noErr(t, next.Load(context.Background()))
	next.Observe(check.Result{Check: "web-port", OK: false, At: time.Now(), Firing: "down"})

	if got := f.checkNames(); len(got) != 2 || got[0] != "httpd" || got[1] != "nightly" {
		t.Fatalf("checks before the swap = %v, want [httpd nightly]", got)
	}
	routes := len(f.srv.Routes())
	f.monitor.Set(next)
	if got := f.checkNames(); len(got) != 1 || got[0] != "web-port" {
		t.Errorf("checks after the swap = %v, want [web-port]", got)
	}
	incs := f.must(req{path: "/api/v1/incidents", token: "read"}, 200)["incidents"].([]any)
	if len(incs) != 1 {
		t.Errorf("incidents after the swap = %v, want the new engine's one", incs)
	}
	if n := len(f.srv.Routes()); n != routes {
		t.Errorf("replacing the engine changed the routes: %d → %d", routes, n)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if w := f.do(req{path: "/api/v1/checks", token: "read"}); w.Code != 200 {
					t.Errorf("GET /api/v1/checks during swaps: %d", w.Code)
					return
				}
			}
		})
	}
	for i := range 100 {
		if i%2 == 0 {
			f.monitor.Set(f.engine)
		} else {
			f.monitor.Set(next)
		}
	}
	wg.Wait()
}
