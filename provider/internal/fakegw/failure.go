package fakegw

import (
	"slices"
	"sync"
)

// Injector holds the failure injected into a fake: F is the fake's own
// Failure type and M its Mode type, whose zero value means none. A failure
// stays until it is replaced or, set with a count, serves the next count
// requests it applies to and then clears itself. The zero Injector holds
// none; it is safe for concurrent use.
type Injector[F any, M comparable] struct {
	mu    sync.Mutex
	f     F
	mode  M
	count int
}

// Set replaces the failure with f, of mode, for the next count requests
// it applies to (count <= 0: until replaced). It takes effect for the next
// request, also while the server is serving others.
func (in *Injector[F, M]) Set(f F, mode M, count int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.f, in.mode, in.count = f, mode, count
}

// Take returns the failure if its mode is one of modes, using up one of
// its count.
func (in *Injector[F, M]) Take(modes ...M) (F, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var none M
	if in.mode == none || !slices.Contains(modes, in.mode) {
		var zero F
		return zero, false
	}
	f := in.f
	if in.count > 0 {
		in.count--
		if in.count == 0 {
			var zero F
			in.f, in.mode = zero, none
		}
	}
	return f, true
}
