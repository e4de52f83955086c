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

// run reads r a chunk at a time and scans the whole lines of each before
// reading on, in one goroutine: the chunk is still in the CPU's cache when
// it is searched. It holds one chunk of m.chunk bytes (more only while a
// line is longer), whatever the size of the input.
//
// Files are read, not mapped: mapping a 1 GiB log whole made logscan's RSS
// 1 GiB, and mapping costs more CPU than read(2) here anyway (page faults;
// docs/BENCHMARKS.md §8). Reading in one goroutine and scanning in another
// cost more too: the chunk then crosses to the other core's cache.
func (m *Matcher) run(r io.Reader, fn func(line []byte)) (int64, error) {
	buf := make([]byte, max(m.chunk, 16))
	f := m.newFinder()
	sc := m.newScratch()
	var total int64
	n := 0 // bytes in buf
	for {
		var err error
		n, err = fill(r, buf, n)
		if err != nil {
			// The rest, whose last line may lack its '\n'.
			total += m.scanChunk(buf[:n], f, sc, fn)
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		last := bytes.LastIndexByte(buf[:n], '\n')
		if last < 0 { // one line fills the buffer: grow it
			bigger := make([]byte, 2*len(buf))
			copy(bigger, buf[:n])
			buf = bigger
			continue
		}
		total += m.scanChunk(buf[:last+1], f, sc, fn)
		n = copy(buf, buf[last+1:n])
	}
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
