package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var errClosed = errors.New("test: closed")

// fake is a commit function that records its batches, fails any batch
// holding a poisoned item, and can be held: while held, a call waits in
// Commit (after announcing itself on entered) until release.
type fake struct {
	mu      sync.Mutex
	batches [][]string
	stored  map[string]int
	held    chan struct{} // closed by release; nil when not held
	entered chan struct{}
}

func newFake() *fake { return &fake{stored: map[string]int{}, entered: make(chan struct{}, 100)} }

func (f *fake) hold() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = make(chan struct{})
	held := f.held
	return func() {
		f.mu.Lock()
		f.held = nil
		f.mu.Unlock()
		close(held)
	}
}

func (f *fake) commit(ctx context.Context, items []string) error {
	f.mu.Lock()
	held := f.held
	f.batches = append(f.batches, slices.Clone(items))
	f.mu.Unlock()
	if held != nil {
		f.entered <- struct{}{}
		<-held
	}
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("commit without a deadline")
	}
	for _, it := range items {
		if strings.HasPrefix(it, "poison") {
			return fmt.Errorf("poisoned by %s", it)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		f.stored[it]++
	}
	return nil
}

func (f *fake) recorded() ([][]string, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches), f.stored
}

func newBatcher(t *testing.T, f *fake, maxWeight int, weight func(string) int) *Batcher[string] {
	t.Helper()
	b := New(Config[string]{
		Commit:    f.commit,
		Weight:    weight,
		MaxWeight: maxWeight,
		Timeout:   30 * time.Second,
		Queue:     64,
		Closed:    errClosed,
		Log:       slog.New(slog.NewTextHandler(t.Output(), nil)),
		Name:      "test",
	})
	t.Cleanup(b.Close)
	return b
}

// waitEntered waits until a held commit call started.
func waitEntered(t *testing.T, f *fake) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the committer never called Commit")
	}
}

// waitQueued waits until n items wait in the queue.
func waitQueued(t *testing.T, b *Batcher[string], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d items queued, want %d", b.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// submitAsync submits item in a goroutine and returns where its answer goes.
func submitAsync(ctx context.Context, b *Batcher[string], item string) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- b.Submit(ctx, item) }()
	return errc
}

// queueBehindHeld holds the committer in a first batch ("blocker") and
// queues items behind it in order, so they form the next batches.
func queueBehindHeld(t *testing.T, b *Batcher[string], f *fake, items []string) (release func(), errs []<-chan error) {
	t.Helper()
	unhold := f.hold()
	blocker := submitAsync(t.Context(), b, "blocker")
	waitEntered(t, f)
	for i, it := range items {
		errs = append(errs, submitAsync(t.Context(), b, it))
		waitQueued(t, b, i+1)
	}
	return func() {
		unhold()
		if err := <-blocker; err != nil {
			t.Errorf("blocker: %v", err)
		}
	}, errs
}

func TestConcurrentSubmitsShareCommits(t *testing.T) {
	f := newFake()
	b := newBatcher(t, f, 1000, nil)
	const callers, each = 32, 20
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				if err := b.Submit(t.Context(), fmt.Sprintf("c%d-%d", c, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	_, stored := f.recorded()
	if len(stored) != callers*each {
		t.Errorf("stored %d items, want %d", len(stored), callers*each)
	}
	for it, n := range stored {
		if n != 1 {
			t.Errorf("%s stored %d times", it, n)
		}
	}
	if c := b.Commits(); c >= callers*each {
		t.Errorf("%d commits for %d concurrent items: nothing was grouped", c, callers*each)
	}
}

func TestBatchesBoundedByWeight(t *testing.T) {
	tests := []struct {
		name      string
		maxWeight int
		weight    func(string) int
		items     []string
		want      [][]string
	}{
		{"count", 2, nil, []string{"a", "b", "c", "d", "e"}, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		{"all fit", 10, nil, []string{"a", "b", "c"}, [][]string{{"a", "b", "c"}}},
		{"by length", 3, func(s string) int { return len(s) }, []string{"aa", "bb", "c", "d", "eee", "f"},
			[][]string{{"aa", "bb"}, {"c", "d", "eee"}, {"f"}}},
		{"heavy first", 3, func(s string) int { return len(s) }, []string{"aaaa", "b"}, [][]string{{"aaaa"}, {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			b := newBatcher(t, f, tt.maxWeight, tt.weight)
			release, errs := queueBehindHeld(t, b, f, tt.items)
			release()
			for i, errc := range errs {
				if err := <-errc; err != nil {
					t.Errorf("%s: %v", tt.items[i], err)
				}
			}
			batches, _ := f.recorded()
			if got := batches[1:]; !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("batches %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFailureIsolated(t *testing.T) {
	f := newFake()
	b := newBatcher(t, f, 100, nil)
	items := []string{"good 1", "poison", "good 2"}
	release, errs := queueBehindHeld(t, b, f, items)
	release()
	for i, errc := range errs {
		err := <-errc
		if (items[i] == "poison") != (err != nil) {
			t.Errorf("%s: err %v", items[i], err)
		}
	}
	batches, stored := f.recorded()
	want := [][]string{{"blocker"}, items, {"good 1"}, {"poison"}, {"good 2"}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches %q, want %q", batches, want)
	}
	if len(stored) != 3 || stored["poison"] != 0 {
		t.Errorf("stored %v, want blocker and the good ones", stored)
	}
	// A batch of one is not retried.
	if err := b.Submit(t.Context(), "poison alone"); err == nil || !strings.Contains(err.Error(), "poison alone") {
		t.Errorf("lone poisoned item: %v", err)
	}
	if batches, _ := f.recorded(); len(batches) != len(want)+1 {
		t.Errorf("%d commits after a lone failure, want %d", len(batches), len(want)+1)
	}
}

func TestCancel(t *testing.T) {
	f := newFake()
	b := newBatcher(t, f, 100, nil)

	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Submit(done, "never"); !errors.Is(err, context.Canceled) {
		t.Errorf("Submit with a canceled context = %v", err)
	}

	// A is taken by the committer, which is held in Commit.
	release := f.hold()
	ctxA, cancelA := context.WithCancel(t.Context())
	errA := submitAsync(ctxA, b, "taken")
	waitEntered(t, f)
	// B waits in the queue behind it; canceling B withdraws it at once.
	ctxB, cancelB := context.WithCancel(t.Context())
	errB := submitAsync(ctxB, b, "withdrawn")
	waitQueued(t, b, 1)
	cancelB()
	select {
	case err := <-errB:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("withdrawn Submit = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("canceled Submit did not return")
	}
	// Canceling A no longer withdraws it: its caller learns the outcome.
	cancelA()
	select {
	case err := <-errA:
		t.Fatalf("Submit returned %v while its commit was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-errA; err != nil {
		t.Fatalf("taken Submit = %v, want it committed", err)
	}
	// The committer passes over the withdrawn item.
	if err := b.Submit(t.Context(), "after"); err != nil {
		t.Fatal(err)
	}
	batches, stored := f.recorded()
	want := [][]string{{"taken"}, {"after"}}
	if !slices.EqualFunc(batches, want, slices.Equal) || stored["withdrawn"] != 0 || stored["never"] != 0 {
		t.Errorf("batches %q, stored %v; want %q", batches, stored, want)
	}
}

func TestCloseCommitsQueued(t *testing.T) {
	f := newFake()
	b := newBatcher(t, f, 1, nil)
	release, errs := queueBehindHeld(t, b, f, []string{"q1", "q2"})
	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while items were queued")
	case <-time.After(20 * time.Millisecond):
	}
	if err := b.Submit(t.Context(), "late"); !errors.Is(err, errClosed) {
		t.Errorf("Submit after Close = %v, want %v", err, errClosed)
	}
	release()
	for _, errc := range errs {
		if err := <-errc; err != nil {
			t.Errorf("Submit before Close = %v", err)
		}
	}
	<-closed
	b.Close() // a second Close returns at once
	if _, stored := f.recorded(); len(stored) != 3 || stored["late"] != 0 {
		t.Errorf("stored %v, want blocker, q1, q2", stored)
	}
}
