package logwatch

import (
	"bytes"
	"io"
)

// Count returns the number of matching lines in r, like grep -c. A last
// line without '\n' counts as a line.
func (m *Matcher) Count(r io.Reader) (int64, error) {
	return m.run(r, nil)
}

// Scan calls fn with each matching line of r (without '\n'), in order. The
// slice is only valid during the call.
func (m *Matcher) Scan(r io.Reader, fn func(line []byte)) error {
	_, err := m.run(r, fn)
	return err
}

// A chunk is a run of whole lines read from the input.
type chunk struct {
	buf  []byte // backing buffer, recycled after scanning
	data []byte // whole lines; at EOF the last one may lack its '\n'
	err  error  // after data: io.EOF is not reported
}

// numBuffers: one being read into, one being scanned, one in flight.
const numBuffers = 3

// run reads r in one goroutine while scanning in another, so that copying
// and searching overlap. It holds numBuffers chunks of m.chunk bytes (plus
// the longest line, when one is longer), whatever the size of the input.
//
// Files are read, not mapped: mapping a 1 GiB log whole made logscan's RSS
// 1 GiB, and scanning a mapping in windows released behind (MADV_DONTNEED)
// cost 3x the CPU of read(2) into a buffer that stays in the CPU cache
// (page faults; docs/BENCHMARKS.md).
func (m *Matcher) run(r io.Reader, fn func(line []byte)) (int64, error) {
	chunks := make(chan chunk, 1)
	free := make(chan []byte, numBuffers)
	done := make(chan struct{})
	defer close(done)
	go readChunks(r, max(m.chunk, 16), chunks, free, done)

	f := m.newFinder()
	sc := m.newScratch()
	var n int64
	for c := range chunks {
		n += m.scanChunk(c.data, f, sc, fn)
		if c.err != nil {
			return n, c.err
		}
		free <- c.buf
	}
	return n, nil
}

// scanChunk counts (and passes to fn) the matching lines of data.
func (m *Matcher) scanChunk(data []byte, f finder, sc *scratch, fn func([]byte)) int64 {
	var n int64
	if f == nil && sc.dfa != nil && !m.cp949 {
		sc.dfa.scan(data, func(start, end int) {
			n++
			if fn != nil {
				fn(data[start:end])
			}
		})
		return n
	}
	if f == nil {
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if m.verify(line, sc) {
				n++
				if fn != nil {
					fn(line)
				}
			}
		}
		return n
	}
	f.reset()
	for pos := 0; pos < len(data); {
		h := f.find(data, pos)
		if h < 0 {
			break
		}
		start := pos + bytes.LastIndexByte(data[pos:h], '\n') + 1
		end := len(data)
		if i := bytes.IndexByte(data[h:], '\n'); i >= 0 {
			end = h + i
		}
		if line := data[start:end]; m.verify(line, sc) {
			n++
			if fn != nil {
				fn(line)
			}
		}
		pos = end + 1
	}
	return n
}

// readChunks fills buffers from r and sends the whole lines of each; the
// partial line at the end of a buffer is carried to the start of the next.
// A line longer than a buffer makes the buffer grow.
func readChunks(r io.Reader, size int, out chan<- chunk, free chan []byte, done <-chan struct{}) {
	defer close(out)
	allocated := 0
	get := func(need int) []byte {
		var b []byte
		select {
		case b = <-free:
		default:
			if allocated < numBuffers {
				allocated++
				b = make([]byte, max(size, need))
			} else {
				select {
				case b = <-free:
				case <-done:
					return nil
				}
			}
		}
		if len(b) < need {
			b = make([]byte, need)
		}
		return b
	}
	send := func(c chunk) bool {
		select {
		case out <- c:
			return true
		case <-done:
			return false
		}
	}

	buf := get(size)
	if buf == nil {
		return
	}
	n := 0 // bytes in buf
	for {
		var err error
		n, err = fill(r, buf, n)
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			send(chunk{buf: buf, data: buf[:n], err: err})
			return
		}
		last := bytes.LastIndexByte(buf[:n], '\n')
		if last < 0 { // one line fills the buffer: grow it
			bigger := make([]byte, 2*len(buf))
			copy(bigger, buf[:n])
			buf = bigger
			continue
		}
		carry := n - (last + 1)
		next := get(carry + size/2)
		if next == nil {
			return
		}
		copy(next, buf[last+1:n])
		if !send(chunk{buf: buf, data: buf[:last+1]}) {
			return
		}
		buf, n = next, carry
	}
}

// fill reads into buf[n:] until it is full, returning the new length; the
// error is io.EOF at the end of the input.
func fill(r io.Reader, buf []byte, n int) (int, error) {
	empty := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			if empty++; empty > 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}
