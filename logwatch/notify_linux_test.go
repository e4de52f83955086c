package logwatch

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// inotifyFDs counts the process's inotify descriptors.
func inotifyFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// TestFollowersShareInotify: 200 followers (more than the kernel's default
// 128 inotify instances per user) use one inotify descriptor between them,
// and each is woken by inotify, not by its poll (set to a minute here),
// when a line is appended to its file; 50 of them follow one shared file.
func TestFollowersShareInotify(t *testing.T) {
	dir := t.TempDir()
	theHub() // the hub's descriptor, if not open yet, is not a follower's
	before := inotifyFDs(t)
	const n = 200
	var cs []*collector
	var ws []*os.File
	shared := filepath.Join(dir, "shared.log")
	for i := range n {
		path := filepath.Join(dir, "f"+strconv.Itoa(i)+".log")
		if i < 50 {
			path = shared
		}
		if i == 0 || i >= 50 { // ws[0]: the shared file, ws[i-49]: file i
			ws = append(ws, openAppend(t, path))
		}
		cs = append(cs, follow(t, path, FollowOptions{Poll: time.Minute}))
	}
	if got := inotifyFDs(t) - before; got > 0 {
		t.Errorf("%d followers opened %d inotify descriptors, want none of their own", n, got)
	}
	// Follow starts at the end: wait until each has opened its file (its
	// first wake-up is inotify's too: the poll is a minute away).
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	appendTo(t, ws[0], "to the shared file\n")
	for i := 50; i < n; i++ {
		appendTo(t, ws[i-49], "to "+strconv.Itoa(i)+"\n")
	}
	for i, c := range cs {
		want := "to the shared file"
		if i >= 50 {
			want = "to " + strconv.Itoa(i)
		}
		c.waitFor(t, "line "+strconv.Itoa(i), func(l []string) bool { return slices.Contains(l, want) })
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("lines reached %d followers in %s, want well under their minute of poll", n, took)
	}
}
