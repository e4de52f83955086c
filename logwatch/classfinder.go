package logwatch

import (
	"bytes"
	"regexp/syntax"
	"unicode"
)

// A regexp with no literal to search for, like [0-9a-f]{32} or
// \d{3}-\d{4}, often still requires a fixed run of ASCII byte classes
// (32 hex digits; 3 digits, '-', 4 digits). classFinder looks for such a
// run reading windows backwards (BNDM), so that most bytes of the text are
// never read. Lines holding a run are candidates for the DFA or regexp.

const (
	maxClassRun    = 64 // classes in a run kept
	minClassSkip   = 3  // expected bytes skipped per read for the finder to pay off
	classRunBudget = 10_000
)

// classRun returns the longest run of single-byte ASCII classes that every
// match of re contains, or nil.
func classRun(re *syntax.Regexp) [][256]bool {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var best, cur [][256]bool
	keep := func() {
		if len(cur) > len(best) {
			best = cur
		}
		cur = nil
	}
	budget := classRunBudget
	for _, s := range subs {
		seq, whole := fixedClasses(s, &budget)
		if budget < 0 {
			return nil
		}
		cur = append(cur, seq...)
		if len(cur) > maxClassRun {
			cur = cur[len(cur)-maxClassRun:]
		}
		if !whole {
			keep()
			// what follows is not adjacent to seq: start afresh
		}
	}
	keep()
	return best
}

// fixedClasses returns the byte classes of the runes re must begin with
// (in order), and whether that is all of re (a fixed-length run).
func fixedClasses(re *syntax.Regexp, budget *int) ([][256]bool, bool) {
	if *budget--; *budget < 0 {
		return nil, false
	}
	switch re.Op {
	case syntax.OpCapture:
		return fixedClasses(re.Sub[0], budget)
	case syntax.OpLiteral:
		var out [][256]bool
		for _, r := range re.Rune {
			c, ok := runeClass(r, re.Flags&syntax.FoldCase != 0)
			if !ok {
				return out, false
			}
			out = append(out, c)
		}
		return out, true
	case syntax.OpCharClass:
		var c [256]bool
		for i := 0; i < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= 0x80 {
				return nil, false // a non-ASCII rune is more than one byte
			}
			for r := lo; r <= hi; r++ {
				c[r] = true
			}
		}
		c['\n'] = false // never inside a line
		return [][256]bool{c}, true
	case syntax.OpConcat:
		var out [][256]bool
		for _, s := range re.Sub {
			seq, whole := fixedClasses(s, budget)
			out = append(out, seq...)
			if !whole || len(out) > maxClassRun {
				return out, false
			}
		}
		return out, true
	case syntax.OpPlus:
		seq, _ := fixedClasses(re.Sub[0], budget)
		return seq, false
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil, false
		}
		var out [][256]bool
		for range re.Min {
			seq, whole := fixedClasses(re.Sub[0], budget)
			out = append(out, seq...)
			if !whole || len(out) > maxClassRun {
				return out, false
			}
		}
		return out, re.Max == re.Min
	}
	return nil, false
}

// runeClass is the byte class of an ASCII rune (with its ASCII case
// partner under folding); ok is false when the rune, or a rune it folds
// to, is not one byte.
func runeClass(r rune, fold bool) (c [256]bool, ok bool) {
	if r >= 0x80 || r == '\n' {
		return c, false
	}
	c[r] = true
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f >= 0x80 {
				return c, false // k and s fold to the Kelvin sign and long s
			}
			c[f] = true
		}
	}
	return c, true
}

type classFinder struct {
	run   [][256]bool
	last  *[256]bool
	shift [256]int    // Horspool's move for the byte at a window's end (used to rate the run)
	mask  [256]uint64 // bit n-1-k set when the byte fits run[k]
	// anchor >= 0: run[anchor] is the single byte anchorByte, rare in
	// logs; find looks for it with bytes.IndexByte (SIMD) and checks the
	// run around each one, instead of BNDM.
	anchor     int
	anchorByte byte
}

// maxAnchorFreq is the most common byte (in byteFreq's units, per 10,000)
// worth searching for: '-' and '.' are 200.
const maxAnchorFreq = 200

// newClassFinder returns a finder for run, or nil when it would not skip
// enough of typical log text to beat reading every byte.
func newClassFinder(run [][256]bool) *classFinder {
	n := len(run)
	if n < 2 {
		return nil
	}
	f := buildClassFinder(run)
	if f.anchor < 0 && f.expectedSkip() < minClassSkip {
		return nil
	}
	return f
}

func buildClassFinder(run [][256]bool) *classFinder {
	n := len(run)
	f := &classFinder{run: run, last: &run[n-1], anchor: -1}
	best := maxAnchorFreq + 1
	for k := range n {
		if b, ok := singleByte(&run[k]); ok && int(byteFreq[b]) < best {
			f.anchor, f.anchorByte, best = k, b, int(byteFreq[b])
		}
	}
	for b := range 256 {
		for k := range n {
			if run[k][b] {
				f.mask[b] |= 1 << (n - 1 - k)
			}
		}
		f.shift[b] = n
		for k := n - 2; k >= 0; k-- {
			if run[k][b] {
				f.shift[b] = n - 1 - k
				break
			}
		}
	}
	return f
}

// expectedSkip is the mean window move per byte read over log text,
// counting a read at the run's last class as a 1-byte move.
func (f *classFinder) expectedSkip() float64 {
	var sum, total float64
	for b := range 256 {
		w := float64(byteFreq[b]) + 0.01
		total += w
		if f.last[b] {
			sum += w
		} else {
			sum += w * float64(f.shift[b])
		}
	}
	return sum / total
}

func (f *classFinder) reset() {}

// find returns the start of the first run at or after from, or -1. It is
// BNDM (Navarro and Raffinot) over byte classes: reading a window
// backwards, a bit mask tracks which suffixes of what was read could be a
// piece of the run, and the window moves past the last place where the
// run could begin. With a byte that fits no class at the end of a window,
// one read moves the window its whole length.
func (f *classFinder) find(b []byte, from int) int {
	n := len(f.run)
	if f.anchor >= 0 {
		return f.findAnchored(b, from)
	}
	top := uint64(1) << (n - 1)
	for pos := from; pos+n <= len(b); {
		j, last := n, n
		d := ^uint64(0) >> (64 - n)
		for d != 0 {
			d &= f.mask[b[pos+j-1]]
			j--
			if d&top != 0 {
				if j == 0 {
					return pos
				}
				last = j
			}
			d <<= 1
		}
		pos += last
	}
	return -1
}

// findAnchored is find through the run's rare single byte.
func (f *classFinder) findAnchored(b []byte, from int) int {
	n, k := len(f.run), f.anchor
	for at := from + k; at < len(b); {
		i := bytes.IndexByte(b[at:], f.anchorByte)
		if i < 0 {
			return -1
		}
		s := at + i - k
		if s+n <= len(b) && f.matchAt(b[s:s+n]) {
			return s
		}
		at += i + 1
	}
	return -1
}

// matchAt reports whether w (len(f.run) bytes) is the run.
func (f *classFinder) matchAt(w []byte) bool {
	for k, c := range w {
		if !f.run[k][c] {
			return false
		}
	}
	return true
}

// singleByte returns the one byte of class c, if it has exactly one.
func singleByte(c *[256]bool) (byte, bool) {
	var b byte
	n := 0
	for i, in := range c {
		if in {
			b, n = byte(i), n+1
		}
	}
	return b, n == 1
}
