package logwatch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// positioned follows path with FollowAt until stop is called, keeping the
// lines and the Position after the last one.
type positioned struct {
	*collector
	mu   sync.Mutex
	last Position
	stop func()
}

func followAt(t *testing.T, path string, opts FollowOptions) *positioned {
	t.Helper()
	p := &positioned{collector: newCollector()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- FollowAt(ctx, path, opts, func(line []byte, at time.Time, pos Position) {
			p.mu.Lock()
			p.last = pos
			p.mu.Unlock()
			p.line(line, at)
		})
	}()
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("FollowAt: %v", err)
			}
		})
	}
	t.Cleanup(p.stop)
	return p
}

func (p *positioned) position() Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// stopAt follows path from its end, delivers one marker line, and stops:
// it returns the Position after the marker, as a check saves it.
func stopAt(t *testing.T, path string) Position {
	t.Helper()
	p := followAt(t, path, FollowOptions{})
	w := openAppend(t, path)
	ready(t, p.collector, w)
	appendTo(t, w, "seen before the stop\n")
	p.waitFor(t, "the marker", func(l []string) bool { return slices.Contains(l, "seen before the stop") })
	p.stop()
	pos := p.position()
	if fi, err := os.Stat(path); err != nil || pos.Offset != fi.Size() {
		t.Fatalf("position %+v after the last line, file size %v (%v)", pos, fi.Size(), err)
	}
	return pos
}

func TestResumeReadsWhatWasWrittenMeanwhile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(path, []byte("old 1\nold 2\n"), 0o644)
	pos := stopAt(t, path)

	w := openAppend(t, path)
	appendTo(t, w, "while stopped 1\nwhile stopped 2\npartial")
	p := followAt(t, path, FollowOptions{Resume: &pos})
	p.waitN(t, 2)
	appendTo(t, w, " line\nafter\n")
	got := p.waitN(t, 4)
	if want := []string{"while stopped 1", "while stopped 2", "partial line", "after"}; !slices.Equal(got, want) {
		t.Fatalf("resumed lines %q, want %q", got, want)
	}
}

func TestResumeRotatedFileFromStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "messages")
	os.WriteFile(path, []byte("old\n"), 0o644)
	pos := stopAt(t, path)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("new file 1\nnew file 2\n"), 0o644)
	p := followAt(t, path, FollowOptions{Resume: &pos})
	if got := p.waitN(t, 2); !slices.Equal(got, []string{"new file 1", "new file 2"}) {
		t.Fatalf("lines %q", got)
	}
}

func TestResumeTruncatedFileFromStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(path, []byte(strings.Repeat("a long old line\n", 20)), 0o644)
	pos := stopAt(t, path)
	if err := os.Truncate(path, 0); err != nil { // copytruncate while stopped
		t.Fatal(err)
	}
	w := openAppend(t, path)
	appendTo(t, w, "after truncation\n")
	p := followAt(t, path, FollowOptions{Resume: &pos})
	if got := p.waitN(t, 1); !slices.Equal(got, []string{"after truncation"}) {
		t.Fatalf("lines %q", got)
	}
}

func TestResumeBacklogTooLargeStartsAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(path, []byte("old\n"), 0o644)
	pos := stopAt(t, path)
	w := openAppend(t, path)
	appendTo(t, w, strings.Repeat("written while stopped\n", 100))
	p := followAt(t, path, FollowOptions{Resume: &pos, MaxBacklog: 1000})
	ready(t, p.collector, w)
	appendTo(t, w, "new\n")
	if got := p.waitN(t, 1); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("lines %q: a backlog over MaxBacklog must be skipped", got)
	}
}
