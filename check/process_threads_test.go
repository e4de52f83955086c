package check

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// threads is this process's OS thread count (/proc/self/status Threads).
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// TestProcessWatchThreadsBounded: 300 process checks, each watching the
// exit of 3 processes, wait without holding an OS thread each (they held
// one each in a blocking poll(2): 264 threads at 1,000 checks in munja
// serve) or a goroutine each (their pidfds are in one epoll descriptor,
// waited on by one goroutine), and all of them still report an exit at
// once.
func TestProcessWatchThreadsBounded(t *testing.T) {
	const n = 300
	name := uniq("thr")
	victim := startNamed(t, name, "")
	startNamed(t, name, "")
	startNamed(t, name, "")
	var sched []Scheduled
	for i := range n {
		c := newProcessT(t, config.Check{Name: "p" + strconv.Itoa(i), Process: name, MinCount: 3})
		sched = append(sched, Scheduled{Checker: c, Interval: time.Minute})
	}
	before := threads(t)
	if _, err := thePidHub(); err != nil { // its goroutine is not a check's
		t.Fatal(err)
	}
	goroutinesBefore := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	done := make(chan struct{})
	go func() {
		NewRunner(sched, nil).Run(ctx, func(r Result) {
			if r.OK {
				ok.Add(1)
			} else {
				if failed.Add(1) == 1 {
					t.Logf("first failure: %s %s", r.Check, r.Detail)
				}
			}
		})
		close(done)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("runner did not stop within 10 s")
		}
	}()
	// Each check's first run (300 scans of /proc at once: slow under
	// -race on a busy machine, hence the minute of interval and timeout).
	deadline := time.Now().Add(time.Minute)
	for ok.Load()+failed.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d checks ran within a minute", ok.Load()+failed.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // every watch armed
	during := threads(t)
	t.Logf("OS threads: %d before, %d with %d process checks watching", before, during, n)
	if during-before > 50 {
		t.Errorf("%d process checks added %d OS threads (bound 50)", n, during-before)
	}
	var added int
	for range 100 { // the last runs' goroutines end just after they report
		if added = runtime.NumGoroutine() - goroutinesBefore; added <= 10 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if added > 10 {
		t.Errorf("%d process checks watching hold %d goroutines, want a scheduler and a few", n, added)
	}
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d failed results while all 3 processes ran", f)
	}
	stop(victim)
	deadline = time.Now().Add(30 * time.Second)
	for failed.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d checks reported the exit within 30 s", failed.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after := threads(t); after-before > 50 {
		t.Errorf("after the exit: %d OS threads, %d before (bound +50)", after, before)
	}
}
