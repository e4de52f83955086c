package tick

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		now   time.Time
		every time.Duration
		want  time.Time
	}{
		{base, time.Second, base.Add(time.Second)},
		{base.Add(300 * time.Millisecond), time.Second, base.Add(time.Second)},
		{base.Add(999 * time.Millisecond), time.Second, base.Add(time.Second)},
		{base.Add(3 * time.Second), 10 * time.Second, base.Add(10 * time.Second)},
		{base.Add(61 * time.Second), time.Minute, base.Add(2 * time.Minute)},
		{base.Add(time.Second), 0, base.Add(time.Second)},
	}
	for _, c := range cases {
		if got := Next(c.now, c.every); !got.Equal(c.want) {
			t.Errorf("Next(%s, %s) = %s, want %s", c.now.Format("15:04:05.000"), c.every, got.Format("15:04:05.000"), c.want.Format("15:04:05.000"))
		}
	}
	// Zones do not move the boundaries of periods that divide an hour.
	kst := time.FixedZone("KST", 9*3600)
	if got := Next(base.In(kst).Add(1500*time.Millisecond), time.Second); !got.Equal(base.Add(2 * time.Second)) {
		t.Errorf("KST: %s", got)
	}
}

func TestTickerFiresOnBoundaries(t *testing.T) {
	const every = 100 * time.Millisecond
	tk := NewTicker(every)
	defer tk.Stop()
	for range 3 {
		select {
		case at := <-tk.C():
			// Timers never fire early; allow generous lateness on a busy machine.
			if off := at.Sub(at.Truncate(every)); off > 50*time.Millisecond {
				t.Errorf("fired %s after a boundary", off)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no tick in 5 s")
		}
	}
	// Slow work skips ticks instead of queueing them: the next tick comes
	// at the boundary after C is called, not at once.
	time.Sleep(3 * every)
	start := time.Now()
	at := <-tk.C()
	if !at.After(start) {
		t.Errorf("a missed tick (%s) was delivered after the wait began (%s)", at.Format("15:04:05.000"), start.Format("15:04:05.000"))
	}
	if waited := time.Since(start); waited > every+50*time.Millisecond {
		t.Errorf("waited %s for the next boundary", waited)
	}
	if got := Until(start, every); got <= 0 || got > every {
		t.Errorf("Until = %s", got)
	}
}
