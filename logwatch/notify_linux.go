package logwatch

import (
	"os"
	"strconv"
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
type notifier struct {
	fd    int
	file  *os.File // the inotify descriptor in the runtime poller
	c     chan struct{}
	dir   string
	base  string
	dirWd atomic.Int32 // -1 until the directory is watched
}

func newNotifier(dir, base string) (*notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	n := &notifier{fd: fd, file: os.NewFile(uintptr(fd), "inotify"), c: make(chan struct{}, 1), dir: dir, base: base}
	n.dirWd.Store(-1)
	n.watchDir()
	go n.read()
	return n, nil
}

// watchDir starts watching the directory if not yet done (it may be
// missing for a while).
func (n *notifier) watchDir() {
	if n.dirWd.Load() >= 0 {
		return
	}
	if wd, err := unix.InotifyAddWatch(n.fd, n.dir, dirEvents|unix.IN_ONLYDIR); err == nil {
		n.dirWd.Store(int32(wd))
	}
}

// watchFile watches the open file f (through /proc/self/fd, so that it is
// f's inode even if path changed meanwhile); -1 when it cannot.
func (n *notifier) watchFile(f *os.File, path string) int {
	wd, err := unix.InotifyAddWatch(n.fd, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), fileEvents)
	if err != nil {
		if wd, err = unix.InotifyAddWatch(n.fd, path, fileEvents); err != nil {
			return -1
		}
	}
	return wd
}

func (n *notifier) unwatch(wd int) {
	_, _ = unix.InotifyRmWatch(n.fd, uint32(wd)) // already gone when the file was deleted
}

func (n *notifier) close() { n.file.Close() }

// read turns inotify events into wake-ups until the descriptor is closed.
func (n *notifier) read() {
	// Room for a few events at a time (one needs at most 272 bytes; what
	// does not fit is read on the next turn). 64 events' worth (17 KiB)
	// on the stack made each follower's idle reader hold a 32 KiB stack:
	// 4 of the 7.5 MiB of goroutine stacks of 200 log checks.
	buf := make([]byte, 4*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		k, err := n.file.Read(buf)
		if err != nil {
			return
		}
		wake := false
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0 || ev.Wd != n.dirWd.Load():
				wake = true // our files changed, or events were lost
			case ev.Mask&unix.IN_IGNORED != 0:
				n.dirWd.Store(-1) // the directory went away; watchDir retries
				wake = true
			case cstring(name) == n.base:
				wake = true
			}
		}
		if wake {
			select {
			case n.c <- struct{}{}:
			default:
			}
		}
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
