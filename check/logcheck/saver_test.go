package logcheck

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

// TestIdleLogChecksKeepNoSaver: a log check's state is written by a
// goroutine started when a save is due and gone once it is written, not by
// one waiting for as long as the check runs (4 KiB of stack each); and its
// file is followed without a goroutine waiting between lines
// (StartWatch). 100 checks following their files, matches saved (below
// their count, so a save is asked for without alerting): once idle, they
// hold no goroutine, and every match is stored.
func TestIdleLogChecksKeepNoSaver(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	const checks = 100
	var paths []string
	var cs []check.Checker
	for i := range checks {
		path := filepath.Join(dir, fmt.Sprintf("app%d.log", i))
		appendLines(t, path, "boot")
		c, err := New(config.Check{Name: fmt.Sprintf("seg%d", i), Type: "log", Path: path, Pattern: "segfault", Count: 1000},
			check.Deps{State: st})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
		cs = append(cs, c)
	}
	settled := func() int {
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		return runtime.NumGoroutine()
	}
	base := settled()
	for _, c := range cs {
		watching(t, c)
	}
	for _, p := range paths {
		appendLines(t, p, "warming up")
	}
	time.Sleep(500 * time.Millisecond) // the followers are at the files' ends
	for _, p := range paths {
		appendLines(t, p, "app: segfault at 0")
	}
	for _, c := range cs {
		waitDetail(t, c, "1 match")
	}
	// Every match reaches the store (a saver ran for each)…
	deadline := time.Now().Add(10 * time.Second)
	for i := range checks {
		name := fmt.Sprintf("seg%d", i)
		for {
			if _, err := st.GetState(context.Background(), StateKey(name)); err == nil && storedHits(t, st, name) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("seg%d's match was never saved", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// …and no goroutine stays, but a few shared (the inotify reader).
	var added int
	for range 50 {
		if added = settled() - base; added <= 10 {
			return
		}
	}
	t.Errorf("%d idle log checks added %d goroutines, want at most 10", checks, added)
}
