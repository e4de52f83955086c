package dispatcher

import (
	"testing"
	"time"
)

// TestBackoff: doubling from the first wait up to the cap, ±20% jitter.
func TestBackoff(t *testing.T) {
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i, w := range want {
		w *= time.Millisecond
		for range 50 {
			if got := backoff(100*time.Millisecond, 5*time.Second, i+1); got < w*8/10 || got > w*12/10 {
				t.Fatalf("backoff(attempt %d) = %s, want %s ±20%%", i+1, got, w)
			}
		}
	}
}
