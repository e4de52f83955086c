package logwatch

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode/utf8"
)

// A lazy DFA answers "does this line match anywhere" for a regexp, one
// table lookup per ASCII byte, building its states from the regexp's
// compiled program as the text needs them (like grep's and RE2's). Go's
// regexp runs an NFA or a backtracker per line, which for a pattern with
// no literal to prefilter on was 5x slower than grep -E.
//
// Semantics are Go's: the program is the one regexp.Compile builds (RE2
// syntax, Perl flags), runes are decoded as Go does (an invalid byte is
// U+FFFD of width 1), ^ and $ hold only at the line's start and end (a line
// holds no '\n'). Patterns with \b or \B are left to the regexp package.

const (
	dfaMaxStates = 2000 // cached states before the cache is dropped (~1 KiB each)
	dfaMaxResets = 8    // cache drops in one DFA before it gives up for the regexp
)

type dfa struct {
	prog   *syntax.Prog
	re     *regexp.Regexp // fallback once the DFA has given up
	states map[string]*dstate
	start0 *dstate // at a line's start: ^ holds
	mid    []int   // closure of the start mid-line, added at every step (unanchored search)
	resets int
	list   []*dstate // by index; list[0] is unused
	// trans[s.idx<<8|c] is the state after s reads ASCII byte c: the next
	// state's idx<<8, plus 1 when it stops the line; 0 when not computed
	// yet ('\n' and non-ASCII bytes always).
	trans []uint32
	bad   bool // too many states: use re

	// scratch for building states
	set    sparseSet
	stack  []uint32
	key    []byte
	pcsBuf []uint32
}

// dstate is a set of program positions: rune instructions waiting for the
// next rune, and $ instructions waiting for the line's end.
type dstate struct {
	pcs   []uint32
	match bool   // a match has been seen: the line matches
	endOK bool   // the line matches if it ends here
	dead  bool   // no rune can lead to a match any more (anchored patterns)
	stop  bool   // match or dead: the rest of the line need not be read
	idx   uint32 // in dfa.list; its row of dfa.trans starts at idx<<8
	wide  map[rune]*dstate
}

// newDFA returns a DFA for the simplified regexp tree, or nil when the
// pattern uses something it does not handle.
func newDFA(tree *syntax.Regexp, re *regexp.Regexp) *dfa {
	prog, err := syntax.Compile(tree)
	if err != nil {
		return nil
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&(syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 {
			return nil
		}
	}
	d := &dfa{prog: prog, re: re}
	d.set = sparseSet{dense: make([]uint32, 0, len(prog.Inst)), sparse: make([]uint32, len(prog.Inst))}
	d.init()
	return d
}

// clone returns a DFA with the same program and an empty cache, for use in
// another goroutine.
func (d *dfa) clone() *dfa {
	if d == nil {
		return nil
	}
	c := &dfa{prog: d.prog, re: d.re}
	c.set = sparseSet{dense: make([]uint32, 0, len(d.prog.Inst)), sparse: make([]uint32, len(d.prog.Inst))}
	c.init()
	return c
}

const (
	beginFlags = syntax.EmptyBeginLine | syntax.EmptyBeginText
	endFlags   = syntax.EmptyEndLine | syntax.EmptyEndText
)

func (d *dfa) init() {
	d.states = make(map[string]*dstate)
	d.list = append(d.list[:0], nil)
	d.trans = append(d.trans[:0], make([]uint32, 256)...)
	d.set.clear()
	d.closure(uint32(d.prog.Start), 0)
	d.mid = d.mid[:0]
	for _, pc := range d.set.dense {
		d.mid = append(d.mid, int(pc))
	}
	matchMid := d.setMatches()
	d.set.clear()
	d.closure(uint32(d.prog.Start), beginFlags)
	// The start state is not shared with the cache: its endOK is for an
	// empty line, where begin and end hold at once.
	start := d.build(d.setMatches() || matchMid)
	d.set.clear()
	d.closure(uint32(d.prog.Start), beginFlags|endFlags)
	start.endOK = start.match || d.setMatches()
	start.dead, start.stop = false, start.match // dead is known only after a rune
	d.start0 = start
}

// setMatches reports whether the set holds InstMatch (kept as a marker).
func (d *dfa) setMatches() bool {
	return slices.ContainsFunc(d.set.dense, func(pc uint32) bool { return d.prog.Inst[pc].Op == syntax.InstMatch })
}

// closure adds to d.set the rune and pending $ instructions reachable from
// pc without consuming a rune, given the empty-width flags that hold here.
func (d *dfa) closure(pc uint32, flags syntax.EmptyOp) {
	stack := append(d.stack[:0], pc)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d.set.has(pc) {
			continue
		}
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			d.set.add(pc) // marks it visited; dropped from the state key
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			d.set.add(pc)
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(in.Arg)
			if op&^flags == 0 {
				d.set.add(pc)
				stack = append(stack, in.Out)
			} else if op&^(endFlags|flags) == 0 {
				d.set.add(pc) // pending: holds if the line ends here
			}
		case syntax.InstFail:
		default: // runes, match
			d.set.add(pc)
		}
	}
	d.stack = stack
}

// intern returns the cached state for the rune, pending and match
// instructions in d.set.
func (d *dfa) intern(match bool) *dstate {
	pcs, match, key := d.stateKey(match)
	if c, ok := d.states[string(key)]; ok {
		return c
	}
	s := d.newState(pcs, match)
	d.states[string(key)] = s
	return s
}

// build makes a state of d.set that is not cached.
func (d *dfa) build(match bool) *dstate {
	pcs, match, _ := d.stateKey(match)
	return d.newState(pcs, match)
}

// stateKey returns the instructions of d.set that make a state, and its key.
func (d *dfa) stateKey(match bool) ([]uint32, bool, []byte) {
	key := d.key[:0]
	pcs := d.pcsBuf[:0]
	for _, pc := range d.set.dense {
		switch d.prog.Inst[pc].Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL, syntax.InstEmptyWidth:
			pcs = append(pcs, pc)
		case syntax.InstMatch:
			match = true
		}
	}
	if match {
		pcs = pcs[:0] // every match state is the same
	}
	slices.Sort(pcs)
	if match {
		key = append(key, 1)
	} else {
		key = append(key, 0)
	}
	for _, pc := range pcs {
		key = binary.LittleEndian.AppendUint32(key, pc)
	}
	d.key, d.pcsBuf = key, pcs
	return pcs, match, key
}

func (d *dfa) newState(pcs []uint32, match bool) *dstate {
	s := &dstate{pcs: slices.Clone(pcs), match: match, idx: uint32(len(d.list))}
	d.list = append(d.list, s)
	d.trans = append(d.trans, make([]uint32, 256)...)
	s.endOK = match || d.endMatches(pcs)
	runes := slices.ContainsFunc(pcs, func(pc uint32) bool { return d.prog.Inst[pc].Op != syntax.InstEmptyWidth })
	s.dead = !match && !runes && !s.endOK && !d.midRunes()
	s.stop = s.match || s.dead
	return s
}

// midRunes reports whether the mid-line start holds rune instructions, i.e.
// a match can still begin later in the line.
func (d *dfa) midRunes() bool {
	for _, pc := range d.mid {
		switch d.prog.Inst[pc].Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return true
		}
	}
	return false
}

// endMatches reports whether a pending $ among pcs leads to a match when
// the line ends.
func (d *dfa) endMatches(pcs []uint32) bool {
	saved := d.set
	d.set = sparseSet{dense: make([]uint32, 0, 8), sparse: make([]uint32, len(d.prog.Inst))}
	defer func() { d.set = saved }()
	for _, pc := range pcs {
		in := &d.prog.Inst[pc]
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&^endFlags == 0 {
			d.closure(in.Out, endFlags)
		}
	}
	return d.setMatches()
}

// step returns the state after s reads r.
func (d *dfa) step(s *dstate, r rune) *dstate {
	if s.match {
		return s
	}
	d.set.clear()
	for _, pc := range s.pcs {
		in := &d.prog.Inst[pc]
		var ok bool
		switch in.Op {
		case syntax.InstRune1:
			ok = r == in.Rune[0]
		case syntax.InstRune:
			ok = in.MatchRune(r)
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = r != '\n'
		}
		if ok {
			d.closure(in.Out, 0)
		}
	}
	for _, pc := range d.mid {
		d.closure(uint32(pc), 0)
	}
	if len(d.states) >= dfaMaxStates {
		d.resets++
		if d.resets > dfaMaxResets {
			d.bad = true
		}
		// Keep the new set; drop every cached state (s stays valid for
		// the caller, it is just no longer cached).
		saved := slices.Clone(d.set.dense)
		d.init()
		d.set.clear()
		for _, pc := range saved {
			d.set.add(pc)
		}
	}
	return d.intern(false)
}

func (d *dfa) next(s *dstate, r rune) *dstate {
	if r < utf8.RuneSelf {
		if v := d.trans[s.idx<<8|uint32(r)]; v != 0 {
			return d.list[v>>8]
		}
		n := d.step(s, r)
		if r != '\n' && int(s.idx) < len(d.list) && d.list[s.idx] == s { // s not dropped by a reset
			v := n.idx << 8
			if n.stop {
				v |= 1
			}
			d.trans[s.idx<<8|uint32(r)] = v
		}
		return n
	}
	if n, ok := s.wide[r]; ok {
		return n
	}
	n := d.step(s, r)
	if s.wide == nil {
		s.wide = make(map[rune]*dstate)
	}
	s.wide[r] = n
	return n
}

// matchLine reports whether line (no '\n') matches.
func (d *dfa) matchLine(line []byte) bool {
	if d.bad {
		return d.re.Match(line)
	}
	s := d.start0
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			s = d.next(s, rune(c))
			i++
		} else {
			r, w := utf8.DecodeRune(line[i:])
			s = d.next(s, r)
			i += w
		}
		if s.stop {
			return s.match
		}
		if d.bad {
			return d.re.Match(line)
		}
	}
	return s.endOK
}

// scan calls emit with the bounds of each matching line of data (whole
// lines; the last may lack its '\n'), in order.
func (d *dfa) scan(data []byte, emit func(start, end int)) {
	lineStart := 0
	s := d.start0
	for i := 0; i < len(data); {
		// The hot loop: one table lookup per byte while the transitions
		// are cached and nothing happens; '\n' and non-ASCII bytes are
		// never cached.
		trans, row := d.trans, s.idx<<8
		for i < len(data) {
			v := trans[row|uint32(data[i])]
			if v == 0 {
				break
			}
			row = v &^ 1
			i++
			if v&1 != 0 {
				break
			}
		}
		s = d.list[row>>8]
		if !s.stop && i < len(data) {
			if d.bad {
				d.scanRE(data, lineStart, emit)
				return
			}
			c := data[i]
			switch {
			case c == '\n':
				if s.endOK {
					emit(lineStart, i)
				}
				i++
				lineStart, s = i, d.start0
				continue
			case c < utf8.RuneSelf:
				s = d.next(s, rune(c))
				i++
			default:
				r, w := utf8.DecodeRune(data[i:])
				s = d.next(s, r)
				i += w
			}
		}
		if s.stop {
			end := len(data)
			if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				end = i + j
			}
			if s.match {
				emit(lineStart, end)
			}
			i = end + 1
			lineStart, s = i, d.start0
		}
	}
	if lineStart < len(data) && s.endOK {
		emit(lineStart, len(data))
	}
}

// scanRE is scan through the regexp, line by line from start.
func (d *dfa) scanRE(data []byte, start int, emit func(start, end int)) {
	for start < len(data) {
		end := len(data)
		if j := bytes.IndexByte(data[start:], '\n'); j >= 0 {
			end = start + j
		}
		if d.re.Match(data[start:end]) {
			emit(start, end)
		}
		start = end + 1
	}
}

// sparseSet is a set of small integers with O(1) clear (Briggs & Torczon).
type sparseSet struct {
	dense  []uint32
	sparse []uint32
}

func (s *sparseSet) has(x uint32) bool {
	i := s.sparse[x]
	return int(i) < len(s.dense) && s.dense[i] == x
}

func (s *sparseSet) add(x uint32) {
	s.sparse[x] = uint32(len(s.dense))
	s.dense = append(s.dense, x)
}

func (s *sparseSet) clear() { s.dense = s.dense[:0] }
