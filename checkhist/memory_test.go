package checkhist

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
)

// TestMemoryPerCheck: the recorder keeps at most 256 bytes per check (the
// running minute's sample and the last status) for 20,000 agent checks.
func TestMemoryPerCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 series")
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	r := New(nil, "srv", nil)
	const hosts, checks = 1000, 20
	before := heap()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for range 3 {
		for h := range hosts {
			for c := range checks {
				r.Observe(check.Result{Check: fmt.Sprintf("check-%02d", c), Host: fmt.Sprintf("host-%05d", h),
					OK: true, At: at, Duration: time.Millisecond, Detail: fmt.Sprintf("used %d%%", h%90)})
			}
		}
		at = at.Add(10 * time.Second)
	}
	r.mu.Lock()
	r.changes = nil // written by the first flush
	r.mu.Unlock()
	per := float64(heap()-before) / (hosts * checks)
	t.Logf("%.0f bytes per check", per)
	if per > 256 {
		t.Errorf("%.0f bytes per check, want at most 256", per)
	}
	runtime.KeepAlive(r)
}
