package logwatch

import (
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	fileEvents = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_MOVE_SELF | unix.IN_DELETE_SELF | unix.IN_CLOSE_WRITE
	dirEvents  = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE
)

// notifier wakes Follow through inotify: on writes to the files it reads,
// and on the log's name appearing in or leaving its directory.
//
// Every notifier of the process shares one inotify descriptor, read by one
// goroutine (the hub). One descriptor and reader per follower, as before,
// cost a goroutine each (4 KiB of stack) and an inotify instance each: the
// kernel allows 128 per user by default (fs.inotify.max_user_instances),
// so past about 120 log checks the others fell back to polling their file
// every 250 ms. Followers of the same file or directory share its watch
// (inotify gives one watch per inode and descriptor), counted per follower.
type notifier struct {
	wake  func() // called by the hub's reader: must not block
	dir   string
	base  string
	dirWd atomic.Int32 // -1 until the directory is watched
	hub   *inotifyHub
}

// inotifyHub is the process's inotify descriptor and who listens to each
// of its watches.
type inotifyHub struct {
	fd   int
	file *os.File // the inotify descriptor in the runtime poller

	mu   sync.Mutex
	subs map[int32][]*notifier // by watch descriptor; a notifier once per watch it holds
}

var hub struct {
	mu sync.Mutex
	h  *inotifyHub
}

// theHub returns the process's inotify hub, started at the first call (and
// at the next one when starting it failed, e.g. out of descriptors).
func theHub() (*inotifyHub, error) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if hub.h != nil {
		return hub.h, nil
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	h := &inotifyHub{fd: fd, file: os.NewFile(uintptr(fd), "inotify"), subs: map[int32][]*notifier{}}
	go h.read()
	hub.h = h
	return h, nil
}

func newNotifier(dir, base string, wake func()) (*notifier, error) {
	h, err := theHub()
	if err != nil {
		return nil, err
	}
	n := &notifier{wake: wake, dir: dir, base: base, hub: h}
	n.dirWd.Store(-1)
	n.watchDir()
	return n, nil
}

// add watches path for events on behalf of n; -1 when it cannot.
func (h *inotifyHub) add(n *notifier, path string, events uint32) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	// IN_MASK_ADD: another follower's watch of the same inode keeps its
	// events.
	wd, err := unix.InotifyAddWatch(h.fd, path, events|unix.IN_MASK_ADD)
	if err != nil {
		return -1
	}
	h.subs[int32(wd)] = append(h.subs[int32(wd)], n)
	return wd
}

// remove drops n's hold on wd, and the watch when nobody holds it.
func (h *inotifyHub) remove(n *notifier, wd int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subs[int32(wd)]
	i := slices.Index(subs, n)
	if i < 0 {
		return // the kernel dropped the watch (IN_IGNORED) meanwhile
	}
	subs = slices.Delete(subs, i, i+1)
	if len(subs) > 0 {
		h.subs[int32(wd)] = subs
		return
	}
	delete(h.subs, int32(wd))
	_, _ = unix.InotifyRmWatch(h.fd, uint32(wd)) // already gone when the file was deleted
}

// watchDir starts watching the directory if not yet done (it may be
// missing for a while).
func (n *notifier) watchDir() {
	if n.dirWd.Load() >= 0 {
		return
	}
	if wd := n.hub.add(n, n.dir, dirEvents|unix.IN_ONLYDIR); wd >= 0 {
		n.dirWd.Store(int32(wd))
	}
}

// watchFile watches the open file f (through /proc/self/fd, so that it is
// f's inode even if path changed meanwhile); -1 when it cannot.
func (n *notifier) watchFile(f *os.File, path string) int {
	wd := n.hub.add(n, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), fileEvents)
	if wd < 0 {
		wd = n.hub.add(n, path, fileEvents)
	}
	return wd
}

func (n *notifier) unwatch(wd int) { n.hub.remove(n, wd) }

// close drops the watches n still holds.
func (n *notifier) close() {
	h := n.hub
	h.mu.Lock()
	var held []int32
	for wd, subs := range h.subs {
		for _, s := range subs {
			if s == n {
				held = append(held, wd)
			}
		}
	}
	h.mu.Unlock()
	for _, wd := range held {
		h.remove(n, int(wd))
	}
}

// read turns inotify events into wake-ups of the notifiers they concern,
// for as long as the process runs.
func (h *inotifyHub) read() {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		k, err := h.file.Read(buf)
		if err != nil {
			return
		}
		h.mu.Lock()
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 { // events were lost: everyone looks
				for _, subs := range h.subs {
					for _, n := range subs {
						n.wake()
					}
				}
				continue
			}
			subs := h.subs[ev.Wd]
			for _, n := range subs {
				switch {
				case ev.Wd != n.dirWd.Load(): // one of its files changed
					n.wake()
				case ev.Mask&unix.IN_IGNORED != 0:
					n.dirWd.Store(-1) // the directory went away; watchDir retries
					n.wake()
				case cstring(name) == n.base:
					n.wake()
				}
			}
			if ev.Mask&unix.IN_IGNORED != 0 { // the kernel dropped the watch
				delete(h.subs, ev.Wd)
			}
		}
		h.mu.Unlock()
	}
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
