package wakeup

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLookerRunsOneAtATimeAndLosesNoWakeUp wakes a Looker from many
// goroutines: looks never overlap, and after the last wake-up at least one
// look starts (none is lost).
func TestLookerRunsOneAtATimeAndLosesNoWakeUp(t *testing.T) {
	var inLook, overlaps, looks atomic.Int32
	var lastWake, lastLookStart atomic.Int64
	l := New(func() bool {
		if inLook.Add(1) > 1 {
			overlaps.Add(1)
		}
		lastLookStart.Store(time.Now().UnixNano())
		looks.Add(1)
		time.Sleep(50 * time.Microsecond)
		inLook.Add(-1)
		return false
	}, nil)
	// Wake-ups before Start only ask for another look.
	l.Wake()
	l.Wake()
	if looks.Load() != 0 {
		t.Fatal("a wake-up before Start looked")
	}
	l.Start()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				lastWake.Store(time.Now().UnixNano())
				l.Wake()
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for lastLookStart.Load() < lastWake.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if lastLookStart.Load() < lastWake.Load() {
		t.Error("no look started after the last wake-up")
	}
	if overlaps.Load() != 0 {
		t.Errorf("%d looks overlapped", overlaps.Load())
	}
	t.Logf("1,600 wake-ups, %d looks", looks.Load())
}

// TestLookerFinishedAndIdle: idle runs when a look ends with nothing more
// to do; once look reports finished, wake-ups do nothing.
func TestLookerFinishedAndIdle(t *testing.T) {
	var looks, idles atomic.Int32
	finish := make(chan bool, 10)
	l := New(func() bool {
		looks.Add(1)
		return <-finish
	}, func() { idles.Add(1) })
	finish <- false
	l.Start()
	waitFor(t, func() bool { return idles.Load() == 1 })
	finish <- true
	l.Wake()
	waitFor(t, func() bool { return looks.Load() == 2 })
	l.Wake() // finished: nothing runs
	time.Sleep(20 * time.Millisecond)
	if looks.Load() != 2 || idles.Load() != 1 {
		t.Errorf("after finishing: %d looks, %d idles; want 2, 1", looks.Load(), idles.Load())
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
