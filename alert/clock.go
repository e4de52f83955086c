package alert

import "time"

// Clock is the engine's time source. Production uses SystemClock; tests
// inject alerttest.Clock so every timing rule runs on fake time.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f after d (in its own goroutine or synchronously from
	// a fake clock's Advance; f must not block) and returns a function that
	// cancels it, reporting whether it was still pending.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
