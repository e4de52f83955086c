package logwatch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"golang.org/x/sys/unix"
)

// minMapped is the smallest file scanned through mmap; smaller files are
// read.
const minMapped = 8 << 20

// scanMapped scans the complete lines of a big regular file f, read from
// its start, through a read-only mapping: no copy out of the page cache,
// and Count splits the work over the CPUs. Each goroutine scans its part a
// window at a time and releases every window it has passed. It leaves f positioned after the
// last line it covered, for run to read the rest (a last line without '\n',
// and whatever was appended meanwhile). It does nothing when f is not such
// a file or cannot be mapped.
func (m *Matcher) scanMapped(f *os.File, fn func([]byte)) (int64, error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < minMapped || int64(int(fi.Size())) != fi.Size() {
		return 0, nil
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 0 {
		return 0, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, nil
	}
	defer unix.Munmap(data)
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL) // a hint only
	end := bytes.LastIndexByte(data, '\n') + 1
	if end == 0 {
		return 0, nil
	}
	var n int64
	if fn != nil {
		n, err = m.scanGuarded(data, 0, end, fn)
	} else {
		n, err = m.countParallel(data, end)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if _, err := f.Seek(int64(end), io.SeekStart); err != nil {
		return 0, err
	}
	return n, nil
}

// countParallel counts the matching lines of data[:size] in parts, one per
// CPU, split at line boundaries.
func (m *Matcher) countParallel(mapping []byte, size int) (int64, error) {
	data := mapping[:size]
	parts := min(runtime.GOMAXPROCS(0), 8, max(1, len(data)/(4<<20)))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error
	)
	for start := 0; start < len(data); {
		end := len(data)
		if parts > 1 {
			end = start + (len(data)-start)/parts
			if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
				end += i + 1
			} else {
				end = len(data)
			}
			parts--
		}
		from, to := start, end
		start = end
		wg.Go(func() {
			n, err := m.scanGuarded(mapping, from, to, nil)
			mu.Lock()
			total += n
			if first == nil {
				first = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, first
}

// scanGuarded scans mapping[from:to] (whole lines) in this goroutine, a
// window at a time, turning the fault that touching a page beyond the end
// of a file truncated meanwhile would be into an error.
func (m *Matcher) scanGuarded(mapping []byte, from, to int, fn func([]byte)) (n int64, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if _, fault := p.(interface{ Addr() uintptr }); !fault {
				panic(p)
			}
			err = fmt.Errorf("file shrank while being read")
		}
	}()
	f, sc := m.newFinder(), m.newScratch()
	window := max(m.window, 1)
	page := unix.Getpagesize()
	for start := from; start < to; {
		end := to
		if start+window < to {
			end = start + window
			if i := bytes.IndexByte(mapping[end:to], '\n'); i >= 0 {
				end += i + 1
			} else {
				end = to
			}
		}
		n += m.scanChunk(mapping[start:end], f, sc, fn)
		// Release the pages wholly behind end (a hint: errors ignored).
		if lo, hi := start/page*page, end/page*page; hi > lo {
			_ = unix.Madvise(mapping[lo:hi], unix.MADV_DONTNEED)
		}
		start = end
	}
	return n, nil
}
