package logwatch

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/korean"
)

// Options configure a Matcher.
type Options struct {
	// Regex: the pattern is a Go regular expression (RE2 syntax), matched
	// against each line; ^ and $ anchor at the line's start and end.
	Regex bool
	// IgnoreCase matches with Unicode simple case folding, like (?i).
	IgnoreCase bool
	// Encoding of the log: "utf-8" (default, also "") or "cp949" (alias
	// "euc-kr"). CP949 lines are matched as if decoded to UTF-8.
	Encoding string
}

// DefaultChunkSize is how much text Count and Scan read at a time: small
// enough to stay in the CPU's cache between read(2) and the search.
const DefaultChunkSize = 256 << 10

// Matcher decides whether log lines match a pattern. A line is the text
// between two '\n' bytes, without them; a literal pattern matches a line
// containing it byte for byte (after decoding, for CP949). A Matcher is
// safe for concurrent use.
type Matcher struct {
	pattern string
	opts    Options
	cp949   bool

	// Literal modes (re == nil): lit is searched for directly.
	lit     []byte
	litFold bool // ASCII case-insensitive
	aligned bool // CP949: a hit must start on a character boundary

	// Regexp mode: lines holding one of needles (ASCII-case-insensitively
	// when needFold) are candidates; none = every line is.
	re       *regexp.Regexp
	dfa      *dfa // template for each scratch's DFA; nil: re decides
	needles  [][]byte
	needFold bool
	classes  *classFinder // with no needles: a run of byte classes every match holds; nil: none

	folds []foldFinder // templates for Match: lit, or each needle when needFold

	chunk   int       // read size for Count and Scan
	scratch sync.Pool // *scratch, for Match
}

// NewMatcher returns a case-sensitive matcher for UTF-8 (or ASCII) logs.
func NewMatcher(pattern string, regex bool) (*Matcher, error) {
	return NewMatcherOpts(pattern, Options{Regex: regex})
}

// NewMatcherOpts returns a matcher with the given options.
func NewMatcherOpts(pattern string, o Options) (*Matcher, error) {
	m := &Matcher{pattern: pattern, opts: o, chunk: DefaultChunkSize}
	switch strings.ToLower(o.Encoding) {
	case "", "utf-8", "utf8":
	case "cp949", "euc-kr", "euckr":
		m.cp949 = true
	default:
		return nil, fmt.Errorf("unknown encoding %q (use utf-8 or cp949)", o.Encoding)
	}
	expr := pattern
	if !o.Regex {
		if strings.ContainsAny(pattern, "\r\n") {
			return nil, errors.New("pattern must not contain a line break")
		}
		if m.literal(pattern) {
			return m, nil
		}
		expr = regexp.QuoteMeta(pattern)
	}
	if o.IgnoreCase {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	tree = tree.Simplify()
	if lit, ok := plainLiteral(tree); ok && !m.cp949 {
		m.lit = []byte(lit)
		return m, nil
	}
	m.re = re
	m.dfa = newDFA(tree, re)
	if set := requiredLiterals(tree); set != nil {
		m.needFold = set.fold
		for _, s := range set.strs {
			b, ok := m.encode(s)
			if !ok {
				m.needles = nil
				break
			}
			m.needles = append(m.needles, b)
			if m.needFold {
				m.folds = append(m.folds, *newFoldFinder(b))
			}
		}
	}
	// A short literal (one byte, like '-' in \d{3}-\d{4}) is usually
	// common; a longer run of byte classes skips more.
	if shortest := minLen(m.needles); shortest < 4 {
		if run := classRun(tree); len(run) > shortest {
			if f := newClassFinder(run); f != nil {
				m.classes, m.needles, m.folds, m.needFold = f, nil, nil, false
			}
		}
	}
	return m, nil
}

// minLen is the length of the shortest of needles, 0 when there are none.
func minLen(needles [][]byte) int {
	n := 0
	for i, b := range needles {
		if i == 0 || len(b) < n {
			n = len(b)
		}
	}
	return n
}

// literal sets up a direct literal search when one is exact for pattern.
func (m *Matcher) literal(pattern string) bool {
	if m.opts.IgnoreCase {
		runes := []rune(pattern)
		if m.cp949 || !asciiFoldable(runes) || strings.ContainsRune(pattern, utf8.RuneError) {
			return false
		}
		m.lit, m.litFold = []byte(pattern), true
		m.folds = []foldFinder{*newFoldFinder(m.lit)}
		return true
	}
	b, ok := m.encode(pattern)
	if !ok {
		return false
	}
	m.lit, m.aligned = b, m.cp949
	return true
}

// encode converts s to the log's encoding.
func (m *Matcher) encode(s string) ([]byte, bool) {
	if !m.cp949 {
		return []byte(s), true
	}
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	return b, err == nil
}

// plainLiteral reports whether re matches exactly the lines containing one
// fixed string.
func plainLiteral(re *syntax.Regexp) (string, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	s := string(re.Rune)
	if strings.ContainsAny(s, "\n\uFFFD") {
		return "", false
	}
	return s, true
}

// Pattern returns the pattern as given.
func (m *Matcher) Pattern() string { return m.pattern }

// Match reports whether line (without its '\n') matches.
func (m *Matcher) Match(line []byte) bool {
	if m.re == nil {
		return m.matchLiteral(line)
	}
	if len(m.needles) > 0 && !m.hasNeedle(line) {
		return false
	}
	if m.classes != nil && m.classes.find(line, 0) < 0 {
		return false
	}
	sc, _ := m.scratch.Get().(*scratch)
	if sc == nil {
		sc = m.newScratch()
	}
	ok := m.verify(line, sc)
	m.scratch.Put(sc)
	return ok
}

func (m *Matcher) matchLiteral(line []byte) bool {
	switch {
	case m.litFold:
		f := m.folds[0]
		return f.find(line, 0) >= 0
	case m.aligned:
		return cp949Index(line, m.lit) >= 0
	}
	return bytes.Contains(line, m.lit)
}

func (m *Matcher) hasNeedle(line []byte) bool {
	for i, n := range m.needles {
		if m.needFold {
			f := m.folds[i]
			if f.find(line, 0) >= 0 {
				return true
			}
		} else if bytes.Contains(line, n) {
			return true
		}
	}
	return false
}

// Text returns line as UTF-8 text, decoding CP949; invalid bytes become
// U+FFFD.
func (m *Matcher) Text(line []byte) string {
	if !m.cp949 {
		return strings.ToValidUTF8(string(line), "\uFFFD")
	}
	sc := m.newScratch()
	return string(sc.decode(line))
}

// scratch is per-goroutine state for matching.
type scratch struct {
	dec *encoding.Decoder
	buf []byte
	dfa *dfa // nil: m.re decides
}

func (m *Matcher) newScratch() *scratch {
	sc := &scratch{dfa: m.dfa.clone()}
	if m.cp949 {
		sc.dec = korean.EUCKR.NewDecoder()
	}
	return sc
}

// decode converts a CP949 line to UTF-8 in sc's buffer.
func (sc *scratch) decode(line []byte) []byte {
	// A byte decodes to at most 3 bytes of UTF-8 (U+FFFD).
	if need := 3*len(line) + 4; cap(sc.buf) < need {
		sc.buf = make([]byte, need)
	}
	sc.dec.Reset()
	n, _, err := sc.dec.Transform(sc.buf[:cap(sc.buf)], line, true)
	if err != nil {
		// Unreachable with the buffer sized above; decode through the
		// slow path to stay correct regardless.
		out, _ := sc.dec.Bytes(line)
		return out
	}
	return sc.buf[:n]
}

// verify decides a candidate line: one the finder hit, or any line when
// there is no finder.
func (m *Matcher) verify(line []byte, sc *scratch) bool {
	if m.re == nil {
		if m.aligned {
			return cp949Index(line, m.lit) >= 0
		}
		return true // the finder's hit lies inside the line
	}
	if m.cp949 {
		line = sc.decode(line)
	}
	if sc.dfa != nil {
		return sc.dfa.matchLine(line)
	}
	return m.re.Match(line)
}

// newFinder returns the chunk searcher, or nil for line-by-line matching.
func (m *Matcher) newFinder() finder {
	if m.re == nil {
		if m.litFold {
			return newFoldFinder(m.lit)
		}
		return newRareFinder(m.lit)
	}
	if len(m.needles) == 0 {
		if m.classes != nil {
			return m.classes // stateless
		}
		return nil
	}
	return newFinder(m.needles, m.needFold)
}
