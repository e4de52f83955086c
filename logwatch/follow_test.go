package logwatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collector gathers lines delivered by Follow.
type collector struct {
	mu       sync.Mutex
	lines    []string
	at       []time.Time
	problems []error
	changed  chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) line(b []byte, at time.Time) {
	c.mu.Lock()
	c.lines = append(c.lines, string(b))
	c.at = append(c.at, at)
	c.mu.Unlock()
	c.poke()
}

func (c *collector) problem(err error) {
	c.mu.Lock()
	c.problems = append(c.problems, err)
	c.mu.Unlock()
	c.poke()
}

func (c *collector) poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.lines)
}

// waitFor waits until cond holds for the lines so far (generous bound).
func (c *collector) waitFor(t *testing.T, what string, cond func(lines []string) bool) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if lines := c.snapshot(); cond(lines) {
			return lines
		}
		select {
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			got := c.snapshot()
			t.Fatalf("timed out waiting for %s; got %d lines, the last: %q", what, len(got), got[max(0, len(got)-3):])
		}
	}
}

func (c *collector) waitN(t *testing.T, n int) []string {
	t.Helper()
	return c.waitFor(t, fmt.Sprintf("%d lines", n), func(l []string) bool { return len(l) >= n })
}

// follow runs Follow on path until the test ends.
func follow(t *testing.T, path string, opts FollowOptions) *collector {
	t.Helper()
	c := newCollector()
	if opts.Problem == nil {
		opts.Problem = c.problem
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, path, opts, c.line) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	return c
}

// ready waits until Follow has opened path, by writing a marker line.
func ready(t *testing.T, c *collector, w *os.File) {
	t.Helper()
	for i := 0; ; i++ {
		mark := fmt.Sprintf("ready %d", i)
		appendTo(t, w, mark+"\n")
		select {
		case <-time.After(100 * time.Millisecond):
		case <-c.changed:
		}
		if slices.Contains(c.snapshot(), mark) {
			c.mu.Lock()
			c.lines = nil
			c.mu.Unlock()
			return
		}
		if i > 100 {
			t.Fatal("Follow never started")
		}
	}
}

func openAppend(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func appendTo(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestFollowAppendFromEnd(t *testing.T) {
	for _, pollOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("pollOnly=%v", pollOnly), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "messages")
			if err := os.WriteFile(path, []byte("old 1\nold 2\nOut of memory (old)\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			w := openAppend(t, path)
			c := follow(t, path, FollowOptions{pollOnly: pollOnly})
			ready(t, c, w)
			start := time.Now()
			appendTo(t, w, "new 1\n")
			c.waitN(t, 1)
			latency := time.Since(start)
			appendTo(t, w, "new 2\nnew 3\n")
			got := c.waitN(t, 3)
			if want := []string{"new 1", "new 2", "new 3"}; !slices.Equal(got, want) {
				t.Fatalf("lines = %q, want %q", got, want)
			}
			t.Logf("append → callback: %v", latency)
			if !pollOnly && latency > 200*time.Millisecond {
				t.Errorf("latency with inotify %v, want a few ms", latency)
			}
		})
	}
}

func TestFollowFromStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := follow(t, path, FollowOptions{FromStart: true})
	appendTo(t, openAppend(t, path), "c\n")
	if got := c.waitN(t, 3); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("lines = %q", got)
	}
}

func TestFollowPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	// The file ends inside a line: that line is delivered once complete.
	if err := os.WriteFile(path, []byte("done\nbegun before"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := follow(t, path, FollowOptions{})
	w := openAppend(t, path)
	time.Sleep(300 * time.Millisecond)
	appendTo(t, w, " start, ")
	time.Sleep(300 * time.Millisecond)
	if got := c.snapshot(); len(got) != 0 {
		t.Fatalf("partial line delivered: %q", got)
	}
	appendTo(t, w, "finished\nnext")
	c.waitN(t, 1)
	appendTo(t, w, " line\n")
	got := c.waitN(t, 2)
	if want := []string{"begun before start, finished", "next line"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

func TestFollowRenameRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "messages")
	w := openAppend(t, path)
	c := follow(t, path, FollowOptions{})
	ready(t, c, w)
	appendTo(t, w, "a1\na2\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	// The daemon keeps writing to the renamed file until it reopens.
	appendTo(t, w, "a3\na4 partial")
	time.Sleep(100 * time.Millisecond)
	appendTo(t, w, " done\n")
	w2 := openAppend(t, path)
	appendTo(t, w2, "b1\nb2\n")
	got := c.waitN(t, 6)
	if want := []string{"a1", "a2", "a3", "a4 partial done", "b1", "b2"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
	// A late write to the old file within the grace period still counts.
	appendTo(t, w, "a5 late\n")
	appendTo(t, w2, "b3\n")
	got = c.waitN(t, 8)
	if !slices.Contains(got, "a5 late") || !slices.Contains(got, "b3") {
		t.Fatalf("lines = %q, want a5 late and b3 too", got)
	}
}

func TestFollowCopyTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w := openAppend(t, path)
	c := follow(t, path, FollowOptions{})
	ready(t, c, w)
	appendTo(t, w, "before 1\nbefore 2\n")
	c.waitN(t, 2)
	// logrotate copytruncate: copy, then truncate in place; the writer
	// (O_APPEND) goes on at offset 0.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, w, "after 1\n")
	c.waitN(t, 3)
	appendTo(t, w, "after 2\n")
	got := c.waitN(t, 4)
	if want := []string{"before 1", "before 2", "after 1", "after 2"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

func TestFollowDeletedAndRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w := openAppend(t, path)
	c := follow(t, path, FollowOptions{})
	ready(t, c, w)
	appendTo(t, w, "one\n")
	c.waitN(t, 1)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "a problem report", func([]string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.problems) == 1 && c.problems[0] != nil
	})
	if err := os.WriteFile(path, []byte("two\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := c.waitN(t, 3)
	if want := []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.problems) != 2 || c.problems[1] != nil || !strings.Contains(c.problems[0].Error(), "no such file") {
		t.Fatalf("problems = %v, want [missing, nil]", c.problems)
	}
}

func TestFollowMissingAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	path := filepath.Join(dir, "app.log")
	c := follow(t, path, FollowOptions{})
	c.waitFor(t, "a problem report", func([]string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.problems) > 0
	})
	// The directory appears too: Follow starts watching it.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.waitN(t, 1); got[0] != "first" {
		t.Fatalf("lines = %q", got)
	}
}

func TestFollowLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w := openAppend(t, path)
	c := follow(t, path, FollowOptions{MaxLine: 100})
	ready(t, c, w)
	long := strings.Repeat("x", 250)
	appendTo(t, w, long[:150])
	time.Sleep(50 * time.Millisecond)
	appendTo(t, w, long[150:]+"\nshort\n")
	got := c.waitN(t, 2)
	if want := []string{long[:100], "short"}; !slices.Equal(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

// TestFollowManyLines writes 10,000 numbered lines, rotating by rename and
// by copytruncate in between, and expects each exactly once, in order.
func TestFollowManyLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.log")
	w := openAppend(t, path)
	c := follow(t, path, FollowOptions{})
	ready(t, c, w)
	const total = 10_000
	want := make([]string, total)
	for i := range want {
		want[i] = fmt.Sprintf("line %05d Out of memory? no, just line %d", i, i)
	}
	rotations := 0
	for i := 0; i < total; i++ {
		appendTo(t, w, want[i]+"\n")
		if i%1000 != 999 || i == total-1 {
			continue
		}
		rotations++
		if rotations%2 == 1 {
			// rename, a few more lines into the old file, then a new file.
			if err := os.Rename(path, fmt.Sprintf("%s.%d", path, rotations)); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				i++
				appendTo(t, w, want[i]+"\n")
			}
			w.Close()
			w = openAppend(t, path)
			// A path follower must see each new file before the next
			// rename (it cannot know a file it never saw): wait for that.
			i++
			appendTo(t, w, want[i]+"\n")
			c.waitN(t, i+1)
		} else {
			// copytruncate loses what was not read before the truncation,
			// for any follower: catch up first, as logrotate's delay does.
			c.waitN(t, i+1)
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.waitN(t, total)
	time.Sleep(300 * time.Millisecond) // nothing repeated late
	got := c.snapshot()
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("line %d = %q, want %q (got %d lines)", i, got[i], want[i], len(got))
			}
		}
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
}

// TestStartFollowHoldsNoGoroutine: 200 followers started with StartFollow
// hold no goroutine while their files are idle, still deliver every line
// appended (woken by inotify, or the poll where there is none), and each
// calls done once when ctx ends.
func TestStartFollowHoldsNoGoroutine(t *testing.T) {
	dir := t.TempDir()
	theHub() // the shared inotify reader is not a follower's
	settled := func() int {
		time.Sleep(200 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	base := settled()
	const n = 200
	ctx, cancel := context.WithCancel(context.Background())
	var ended sync.WaitGroup
	var cs []*collector
	var ws []*os.File
	for i := range n {
		path := filepath.Join(dir, "f"+strconv.Itoa(i)+".log")
		ws = append(ws, openAppend(t, path))
		c := newCollector()
		cs = append(cs, c)
		ended.Add(1)
		var calls atomic.Int32
		StartFollow(ctx, path, FollowOptions{Poll: time.Minute, pollOnly: i%10 == 0},
			func(line []byte, _ time.Time, _ Position) { c.line(line, time.Time{}) },
			func(err error) {
				if err != nil {
					t.Errorf("follower %d: %v", i, err)
				}
				if calls.Add(1) == 1 {
					ended.Done()
				} else {
					t.Errorf("follower %d: done called again", i)
				}
			})
	}
	for i := range n {
		if i%10 != 0 { // the poll-only ones are not at the end before the poll
			ready(t, cs[i], ws[i])
		}
	}
	if extra := settled() - base; extra > 5 {
		t.Errorf("%d idle followers hold %d goroutines, want none of their own", n, extra)
	}
	for i := range n {
		if i%10 != 0 {
			appendTo(t, ws[i], "line "+strconv.Itoa(i)+"\n")
		}
	}
	for i, c := range cs {
		if i%10 != 0 {
			c.waitFor(t, "line "+strconv.Itoa(i), func(l []string) bool { return slices.Contains(l, "line "+strconv.Itoa(i)) })
		}
	}
	cancel()
	waited := make(chan struct{})
	go func() { ended.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("not every follower called done after ctx ended")
	}
	if extra := settled() - base; extra > 5 {
		t.Errorf("after the end, %d goroutines remain", extra)
	}
}

// TestFollowPanicInFn: a panic in fn ends following: StartFollow passes it
// to done as an error (the follower's goroutine does not crash the
// process), FollowAt raises it again in its caller.
func TestFollowPanicInFn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("boom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fn := func([]byte, time.Time, Position) { panic("fn failed") }
	done := make(chan error, 1)
	StartFollow(context.Background(), path, FollowOptions{FromStart: true}, fn, func(err error) { done <- err })
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "fn failed") {
			t.Fatalf("done(%v), want the panic", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("done not called after fn panicked")
	}
	defer func() {
		if p := recover(); p != "fn failed" {
			t.Fatalf("FollowAt raised %v, want fn's panic", p)
		}
	}()
	_ = FollowAt(context.Background(), path, FollowOptions{FromStart: true}, fn)
	t.Fatal("FollowAt returned")
}
