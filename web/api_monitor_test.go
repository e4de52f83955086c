package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
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

// TestChecksCannotCheck: a real log check on a file that does not exist is
// listed as cannot_check, with why, and its incident is of kind
// cannot_check; both as openapi.json describes them.
func TestChecksCannotCheck(t *testing.T) {
	f := newFixture(t)
	missing := filepath.Join(t.TempDir(), "missing.log")
	cfg := config.Default()
	cfg.Checks = []config.Check{{Name: "app-log", Type: "log", Path: missing, Pattern: "FATAL"}}
	eng, err := alert.New(alert.Options{Config: cfg, State: f.db, Notifier: nopNotifier{}, Log: slog.New(slog.DiscardHandler)})
	noErr(t, err)
	noErr(t, eng.Load(context.Background()))
	c, err := checks.New(cfg.Checks[0], check.Defaults{}, check.Deps{})
	noErr(t, err)
	eng.Observe(c.Run(context.Background()))
	f.monitor.Set(eng)

	sp := loadSpec(t)
	w := f.do(req{path: "/api/v1/checks", token: "read"})
	var out map[string]any
	noErr(t, json.Unmarshal(w.Body.Bytes(), &out))
	rs, _ := sp.responseSchema(specOperation(t, "GET", "/api/v1/checks"), w.Code)
	for _, e := range sp.validate(out, rs, "body") {
		t.Errorf("GET /api/v1/checks: %s", e)
	}
	got := out["checks"].([]any)[0].(map[string]any)
	hist := got["history"].([]any)[0].(map[string]any)
	if got["state"] != "cannot_check" || !strings.Contains(got["detail"].(string), "no such file") || got["incident"] == nil ||
		hist["ok"] != false || hist["unknown"] != true {
		t.Fatalf("check %v", got)
	}
	w = f.do(req{path: "/api/v1/incidents", token: "read"})
	out = nil
	noErr(t, json.Unmarshal(w.Body.Bytes(), &out))
	rs, _ = sp.responseSchema(specOperation(t, "GET", "/api/v1/incidents"), w.Code)
	for _, e := range sp.validate(out, rs, "body") {
		t.Errorf("GET /api/v1/incidents: %s", e)
	}
	inc := out["incidents"].([]any)[0].(map[string]any)
	if inc["kind"] != "cannot_check" || inc["text"] != "[경고] app-log 점검 불가: 로그 파일이 없습니다 ("+missing+")." || inc["id"] != got["incident"] {
		t.Fatalf("incident %v", inc)
	}
}
