package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// TestProcessWatchWakesOnChange: Watch waits on the processes of the last
// run alone (no goroutine per process); when a run finds another process
// while Watch waits, the wait is woken and re-armed with it, so the exit
// of the newcomer is reported at once too.
func TestProcessWatchWakesOnChange(t *testing.T) {
	name := uniq("c")
	first := startNamed(t, name, "")
	c := newProcessT(t, config.Check{Name: "web", Process: name, MinCount: 2})
	if r := c.Run(context.Background()); r.OK {
		t.Fatalf("one process of two, got OK: %s", r.Detail)
	}
	results, _ := watchT(t, c)
	time.Sleep(50 * time.Millisecond) // let Watch arm on the first process
	second := startNamed(t, name, "")
	if r := c.Run(context.Background()); !r.OK { // the interval run finds it
		t.Fatalf("after the second started: %s", r.Detail)
	}
	time.Sleep(50 * time.Millisecond) // let Watch re-arm on both
	killed := time.Now()
	stop(second)
	select {
	case r := <-results:
		t.Logf("exit of the newcomer reported after %s", time.Since(killed))
		if r.OK || !strings.Contains(r.Firing, "부족합니다 (1개, 최소 2개)") {
			t.Fatalf("result after the newcomer's exit: %+v", r)
		}
	case <-time.After(time.Second):
		t.Fatal("exit of a process found while Watch waited was not reported within 1 s")
	}
	stop(first)
	select {
	case r := <-results:
		if r.OK {
			t.Fatalf("result after the last exit: %+v", r)
		}
	case <-time.After(time.Second):
		t.Fatal("exit of the first process not reported within 1 s")
	}
}
