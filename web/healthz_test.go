package web

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
)

// TestHealthzStoreNotWritable: /healthz answers 503 with the error while
// StoreWritable reports one, and 200 again once it does not.
func TestHealthzStoreNotWritable(t *testing.T) {
	var mu sync.Mutex
	var writeErr error
	f := newFixture(t, func(o *Options) {
		o.StoreWritable = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return writeErr
		}
	})
	f.must(req{path: "/healthz"}, http.StatusOK)

	mu.Lock()
	writeErr = errors.New("claim: attempt to write a readonly database")
	mu.Unlock()
	body := f.must(req{path: "/healthz"}, http.StatusServiceUnavailable)
	if body["status"] != "store not writable" || body["error"] != "claim: attempt to write a readonly database" {
		t.Fatalf("healthz while the store is not writable: %v", body)
	}

	mu.Lock()
	writeErr = nil
	mu.Unlock()
	if body := f.must(req{path: "/healthz"}, http.StatusOK); body["status"] != "ok" {
		t.Fatalf("healthz after recovery: %v", body)
	}
}
