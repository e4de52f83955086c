package alert

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// runEngine starts Run and returns a stop function that waits for it.
func runEngine(t *testing.T, e *Engine) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
}

// advanceUntil moves the fake clock a second at a time until a
// notification arrives (real-time bound: 20s).
func (h *harness) advanceUntil(ch <-chan Notification) Notification {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case n := <-ch:
			return n
		case <-deadline:
			h.t.Fatalf("no notification by fake time %s", h.clock.Now().Format(time.TimeOnly))
		case <-time.After(2 * time.Millisecond):
			h.clock.Advance(time.Second)
		}
	}
}

func TestRunDrivesTimers(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(30 * time.Second)
	cfg.Alerting.Repeat = config.Duration(10 * time.Minute)
	h := newHarness(t, cfg)
	h.n.ch = make(chan Notification, 10)
	stop := runEngine(t, h.e)

	var wg sync.WaitGroup
	for _, name := range []string{"httpd", "web-port", "oom"} {
		wg.Go(func() { h.fail(name) })
	}
	wg.Wait()
	start := h.clock.Now()
	n := h.advanceUntil(h.n.ch)
	if waited := h.clock.Now().Sub(start); waited < 30*time.Second || waited > 40*time.Second {
		t.Errorf("group flushed after %s, want 30s", waited)
	}
	if len(n.Incidents) != 3 || n.Text != txtHttpd+"\n"+txtPort+"\n"+txtOOM {
		t.Errorf("group message: %q", n.Text)
	}
	sent := h.clock.Now()
	n = h.advanceUntil(h.n.ch)
	if n.Reason != ReasonRepeat || h.clock.Now().Sub(sent) < 10*time.Minute || h.clock.Now().Sub(sent) > 10*time.Minute+10*time.Second {
		t.Errorf("reminder %s after %s", n.Reason, h.clock.Now().Sub(sent))
	}
	// Observe wakes Run: a recovery goes out after group_wait.
	h.pass("oom")
	n = h.advanceUntil(h.n.ch)
	if n.Text != resOOM {
		t.Errorf("recovery %q", n.Text)
	}
	stop()
}

func TestRunRetriesFailedNotify(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.n.ch = make(chan Notification, 10)
	h.n.fails = 3
	stop := runEngine(t, h.e)
	defer stop()
	h.fail("httpd")
	start := h.clock.Now()
	n := h.advanceUntil(h.n.ch)
	if n.Text != txtHttpd {
		t.Errorf("got %q", n.Text)
	}
	if waited := h.clock.Now().Sub(start); waited < 30*time.Second {
		t.Errorf("3 retries took %s, want ≥ 30s", waited)
	}
	h.clock.Advance(time.Hour)
	select {
	case n := <-h.n.ch:
		t.Errorf("duplicate: %+v", n)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRunWithSystemClock(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(50 * time.Millisecond)
	n := &recorder{ch: make(chan Notification, 10)}
	e, err := New(Options{Config: cfg, State: newMemState(), Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := runEngine(t, e)
	defer stop()
	e.Observe(checkResult("httpd", false, time.Now()))
	e.Observe(checkResult("web-port", false, time.Now()))
	select {
	case got := <-n.ch:
		if got.Text != txtHttpd+"\n"+txtPort {
			t.Errorf("got %q", got.Text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification with the system clock")
	}
}

func TestConcurrentUse(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(5 * time.Second)
	h := newHarness(t, cfg)
	h.n.ch = make(chan Notification, 1000)
	stop := runEngine(t, h.e)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				h.e.Observe(checkResult(fmt.Sprintf("c%d", g), i%7 != 0, h.clock.Now()))
				if i%50 == 0 {
					_ = h.e.Checks()
					_ = h.e.Incidents(false)
					h.clock.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	for range 20 {
		h.clock.Advance(time.Second)
		time.Sleep(time.Millisecond)
	}
	stop()
	if err := h.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every incident that sent a first message is recorded exactly once.
	firsts := map[string]int{}
	for _, n := range h.n.all() {
		if n.Reason == ReasonFirst {
			for _, id := range n.Incidents {
				firsts[id]++
			}
		}
	}
	for id, c := range firsts {
		if c != 1 {
			t.Errorf("incident %s: %d first messages", id, c)
		}
	}
	if len(h.e.Checks()) != 3+16 {
		t.Errorf("checks: %d", len(h.e.Checks()))
	}
}
