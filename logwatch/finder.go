package logwatch

import "bytes"

// A finder locates candidate positions of a prefilter literal in a chunk of
// text. Finders keep per-chunk state and are not safe for concurrent use;
// reset must be called before searching a new chunk.
type finder interface {
	reset()
	// find returns the offset >= from of the next candidate in b, or -1.
	find(b []byte, from int) int
}

func newFinder(needles [][]byte, fold bool) finder {
	mk := func(n []byte) finder {
		if fold {
			return newFoldFinder(n)
		}
		return newRareFinder(n)
	}
	if len(needles) == 1 {
		return mk(needles[0])
	}
	m := &multiFinder{next: make([]int, len(needles))}
	for _, n := range needles {
		m.fs = append(m.fs, mk(n))
	}
	return m
}

// rareFinder scans for the needle's rarest byte with bytes.IndexByte (SIMD)
// and compares the needle around each hit; bytes.Index alone keys on the
// first byte, which is often a common one ("error", "timeout"). With AVX2
// it scans for its two rarest bytes at once (indexPair): in a log, `O` of
// "Out of memory" comes every ~600 bytes, and each hit cost a return from
// IndexByte and a compare (~30 ns, 50 ms a GiB); `O` with the `y` 12 bytes
// later almost never comes but in the needle.
type rareFinder struct {
	needle []byte
	k      int // offset in needle of the byte scanned for
	// The pair scan: needle[lo] == c1, needle[lo+d] == c2; d == 0: none.
	lo, d  int
	c1, c2 byte
}

func newRareFinder(n []byte) *rareFinder {
	f := &rareFinder{needle: n}
	for i, c := range n {
		if byteFreq[c] < byteFreq[n[f.k]] {
			f.k = i
		}
	}
	if hasIndexPair && len(n) >= 2 {
		k2 := -1
		for i, c := range n {
			if i != f.k && (k2 < 0 || byteFreq[c] < byteFreq[n[k2]]) {
				k2 = i
			}
		}
		f.lo, f.d = min(f.k, k2), max(f.k, k2)-min(f.k, k2)
		f.c1, f.c2 = n[f.lo], n[f.lo+f.d]
	}
	return f
}

func (f *rareFinder) reset() {}

func (f *rareFinder) find(b []byte, from int) int {
	n := len(f.needle)
	if n == 0 {
		if from > len(b) {
			return -1
		}
		return from
	}
	if f.d > 0 {
		return f.findPair(b, from)
	}
	c := f.needle[f.k]
	fails := 0
	for at := from + f.k; at < len(b); {
		i := bytes.IndexByte(b[at:], c)
		if i < 0 {
			return -1
		}
		p := at + i
		s := p - f.k
		if s+n <= len(b) && bytes.Equal(b[s:s+n], f.needle) {
			return s
		}
		// The byte is common here after all: bytes.Index switches to a
		// SIMD brute-force compare in that case.
		if fails++; fails > 16 && fails*32 > p-from {
			if j := bytes.Index(b[s+1:], f.needle); j >= 0 {
				return s + 1 + j
			}
			return -1
		}
		at = p + 1
	}
	return -1
}

// findPair is find through indexPair.
func (f *rareFinder) findPair(b []byte, from int) int {
	n := len(f.needle)
	fails := 0
	for s := from; s+n <= len(b); {
		j := indexPair(b[s+f.lo:], f.c1, f.c2, f.d)
		if j < 0 {
			return -1
		}
		p := s + j // where the needle would start
		if p+n <= len(b) && bytes.Equal(b[p:p+n], f.needle) {
			return p
		}
		if fails++; fails > 16 && fails*32 > p-from { // the pair is common here
			if i := bytes.Index(b[p+1:], f.needle); i >= 0 {
				return p + 1 + i
			}
			return -1
		}
		s = p + 1
	}
	return -1
}

// foldFinder matches ASCII letters case-insensitively and other bytes
// exactly. It scans for both cases of the needle's rarest byte with
// bytes.IndexByte, remembering the next hit of each so that no byte of the
// text is scanned twice, and compares the needle around each hit.
type foldFinder struct {
	needle  []byte
	k       int  // offset in needle of the byte scanned for
	lo, up  byte // its two cases (equal for a non-letter)
	nlo, nu int  // next position of lo / up; -1 none left, -2 unknown
}

func newFoldFinder(n []byte) *foldFinder {
	f := &foldFinder{needle: n, nlo: -2, nu: -2}
	if len(n) == 0 {
		return f
	}
	bestRank := 1 << 30
	for i, c := range n {
		lo, up := toLower(c), toUpper(c)
		r := int(byteFreq[lo])
		if lo != up {
			r += int(byteFreq[up])
		}
		if r < bestRank {
			bestRank, f.k, f.lo, f.up = r, i, lo, up
		}
	}
	return f
}

func (f *foldFinder) reset() { f.nlo, f.nu = -2, -2 }

func (f *foldFinder) find(b []byte, from int) int {
	n := len(f.needle)
	if n == 0 {
		if from > len(b) {
			return -1
		}
		return from
	}
	for at := from + f.k; at < len(b); {
		f.nlo = nextByte(b, at, f.lo, f.nlo)
		p := f.nlo
		if f.up != f.lo {
			f.nu = nextByte(b, at, f.up, f.nu)
			if p < 0 || (f.nu >= 0 && f.nu < p) {
				p = f.nu
			}
		}
		if p < 0 {
			return -1
		}
		s := p - f.k
		if s+n <= len(b) && equalFoldASCII(b[s:s+n], f.needle) {
			return s
		}
		at = p + 1
	}
	return -1
}

// nextByte returns the first position >= at of c in b, reusing cached (the
// previous answer) when it is still ahead.
func nextByte(b []byte, at int, c byte, cached int) int {
	if cached == -1 || cached >= at {
		return cached
	}
	i := bytes.IndexByte(b[at:], c)
	if i < 0 {
		return -1
	}
	return at + i
}

// multiFinder finds the nearest hit of any of several needles, each
// searched once per chunk.
type multiFinder struct {
	fs   []finder
	next []int // per finder: next hit; -1 none left, -2 unknown
}

func (m *multiFinder) reset() {
	for i, f := range m.fs {
		f.reset()
		m.next[i] = -2
	}
}

func (m *multiFinder) find(b []byte, from int) int {
	best := -1
	for i, f := range m.fs {
		if m.next[i] == -2 || (m.next[i] >= 0 && m.next[i] < from) {
			m.next[i] = f.find(b, from)
		}
		if p := m.next[i]; p >= 0 && (best < 0 || p < best) {
			best = p
		}
	}
	return best
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func toUpper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func equalFoldASCII(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] && toLower(a[i]) != toLower(b[i]) {
			return false
		}
	}
	return true
}

// byteFreq estimates how often each byte occurs in log text, per 10,000
// bytes (measured on syslog, dpkg and application logs), to pick the byte a
// finder scans for: the rarer, the fewer false hits to check.
var byteFreq = func() (f [256]uint16) {
	for i := range f {
		f[i] = 5 // control bytes, rare punctuation
	}
	for i := 0x80; i < 0x100; i++ {
		f[i] = 8 // UTF-8 / CP949 text in mostly ASCII logs
	}
	for c := '0'; c <= '9'; c++ {
		f[c] = 300
	}
	for c := 'A'; c <= 'Z'; c++ {
		f[c] = 12
	}
	for _, c := range "ACDEILMNOPRST" {
		f[c] = 35
	}
	set := func(n uint16, chars string) {
		for _, c := range chars {
			f[c] = n
		}
	}
	set(20, "jqxz")
	set(50, "kvwyg")
	set(110, "bfhmu")
	set(180, "cdilnprt")
	set(280, "aos")
	set(450, "e")
	set(1100, " ")
	set(350, ":")
	set(200, ".-")
	set(100, "\n/[]\"=")
	set(30, "_,()<>+'")
	return f
}()
