package logwatch

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A prefilter is a set of literals at least one of which every match of a
// regular expression contains. Lines holding none of them cannot match, so
// only candidate lines are handed to the regexp engine.

const (
	maxNodes     = 10_000 // regexp nodes analyzed; a bigger expression gets no prefilter
	maxSetSize   = 32     // alternatives in a literal set
	maxClassSize = 8      // runes a character class may expand to
	maxConcatRun = 64     // subexpressions tried per concatenation run
)

// litSet is a finite set of strings. With fold set, the strings are meant
// ASCII-case-insensitively (a superset of the exact meaning).
type litSet struct {
	strs []string
	fold bool
}

// litInfo describes what one regexp node can match.
type litInfo struct {
	exact *litSet // the node matches exactly one of these strings; nil = unknown
	req   *litSet // every match contains one of these (all non-empty); nil = none known
}

// requiredLiterals returns a set of literals one of which every match of re
// contains, or nil when there is no useful one.
func requiredLiterals(re *syntax.Regexp) *litSet {
	a := &analyzer{budget: maxNodes}
	info := a.analyze(re)
	if a.budget < 0 {
		return nil
	}
	return best(info.exact, info.req)
}

// analyzer walks a simplified regexp, which may share subtrees; the budget
// bounds the work on pathological ones.
type analyzer struct{ budget int }

func (a *analyzer) analyze(re *syntax.Regexp) litInfo {
	if a.budget--; a.budget < 0 {
		return litInfo{}
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: &litSet{strs: []string{""}}}
	case syntax.OpLiteral:
		return literalInfo(re.Rune, re.Flags&syntax.FoldCase != 0)
	case syntax.OpCharClass:
		return litInfo{exact: classSet(re.Rune)}
	case syntax.OpCapture:
		return a.analyze(re.Sub[0])
	case syntax.OpQuest:
		sub := a.analyze(re.Sub[0])
		if sub.exact == nil {
			return litInfo{}
		}
		return litInfo{exact: union(&litSet{strs: []string{""}}, sub.exact)}
	case syntax.OpPlus:
		sub := a.analyze(re.Sub[0])
		return litInfo{req: best(sub.exact, sub.req)}
	case syntax.OpRepeat:
		if re.Min < 1 {
			return litInfo{}
		}
		sub := a.analyze(re.Sub[0])
		return litInfo{req: best(sub.exact, sub.req)}
	case syntax.OpConcat:
		return a.analyzeConcat(re.Sub)
	case syntax.OpAlternate:
		return a.analyzeAlternate(re.Sub)
	}
	// OpAnyChar, OpAnyCharNotNL, OpStar, OpNoMatch: nothing known.
	return litInfo{}
}

func (a *analyzer) analyzeConcat(subs []*syntax.Regexp) litInfo {
	infos := make([]litInfo, len(subs))
	for i, s := range subs {
		infos[i] = a.analyze(s)
	}
	var req *litSet
	all := &litSet{strs: []string{""}}
	for i := range infos {
		req = best(req, infos[i].req)
		if all != nil {
			all = product(all, infos[i].exact)
		}
		// Every contiguous run of exactly known parts is itself required.
		cur := &litSet{strs: []string{""}}
		for j := i; j < len(infos) && j < i+maxConcatRun; j++ {
			if cur = product(cur, infos[j].exact); cur == nil {
				break
			}
			req = best(req, cur)
		}
	}
	return litInfo{exact: all, req: req}
}

func (a *analyzer) analyzeAlternate(subs []*syntax.Regexp) litInfo {
	exact := &litSet{}
	req := &litSet{}
	for _, s := range subs {
		info := a.analyze(s)
		if exact != nil {
			if info.exact == nil {
				exact = nil
			} else {
				exact = union(exact, info.exact)
			}
		}
		if req != nil {
			if r := best(info.exact, info.req); r == nil {
				req = nil
			} else {
				req = union(req, r)
			}
		}
	}
	return litInfo{exact: exact, req: req}
}

// literalInfo describes a literal. Runes a byte search cannot stand for
// (U+FFFD, which the regexp engine matches against any invalid byte, and
// under case folding runes whose fold orbit leaves ASCII) split it into
// runs, each of which is still required.
func literalInfo(runes []rune, fold bool) litInfo {
	bad := func(r rune) bool {
		return r == utf8.RuneError || (fold && !asciiFoldable([]rune{r}))
	}
	if !slices.ContainsFunc(runes, bad) {
		return litInfo{exact: &litSet{strs: []string{string(runes)}, fold: fold}}
	}
	var req *litSet
	for start := 0; start < len(runes); {
		end := start
		for end < len(runes) && !bad(runes[end]) {
			end++
		}
		if end > start {
			req = best(req, &litSet{strs: []string{string(runes[start:end])}, fold: fold})
		}
		start = end + 1
	}
	return litInfo{req: req}
}

// asciiFoldable reports whether case-insensitive matching of runes is the
// same as ASCII case folding: every rune is caseless or folds only within
// ASCII (not k, whose orbit holds the Kelvin sign, nor s with long s).
func asciiFoldable(runes []rune) bool {
	for _, r := range runes {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if r >= utf8.RuneSelf || f >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}

// classSet expands a small character class (pairs of inclusive ranges).
func classSet(ranges []rune) *litSet {
	n := 0
	for i := 0; i < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > maxClassSize {
			return nil
		}
	}
	s := &litSet{}
	for i := 0; i < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			s.strs = append(s.strs, string(r))
		}
	}
	return s
}

func product(a, b *litSet) *litSet {
	if a == nil || b == nil || len(a.strs)*len(b.strs) > maxSetSize {
		return nil
	}
	out := &litSet{fold: a.fold || b.fold}
	for _, x := range a.strs {
		for _, y := range b.strs {
			out.strs = append(out.strs, x+y)
		}
	}
	return dedup(out)
}

func union(a, b *litSet) *litSet {
	if a == nil || b == nil || len(a.strs)+len(b.strs) > maxSetSize {
		return nil
	}
	out := &litSet{strs: append(slices.Clone(a.strs), b.strs...), fold: a.fold || b.fold}
	return dedup(out)
}

func dedup(s *litSet) *litSet {
	slices.Sort(s.strs)
	s.strs = slices.Compact(s.strs)
	return s
}

// usable reports whether s can serve as a prefilter: non-empty strings
// only, and no U+FFFD (the regexp engine matches it against any invalid
// UTF-8 byte, which a byte search would miss).
func usable(s *litSet) bool {
	if s == nil || len(s.strs) == 0 {
		return false
	}
	for _, x := range s.strs {
		if x == "" || strings.ContainsRune(x, utf8.RuneError) {
			return false
		}
	}
	return true
}

// score rates a prefilter: longer literals are more selective (little gain
// past 6 bytes), and every alternative costs one more pass over the text.
func score(s *litSet) (quality float64, alts int) {
	minLen := len(s.strs[0])
	for _, x := range s.strs {
		minLen = min(minLen, len(x))
	}
	return float64(min(minLen, 6)) / float64(len(s.strs)), len(s.strs)
}

// best returns the better usable prefilter of a and b, or nil.
func best(a, b *litSet) *litSet {
	switch ua, ub := usable(a), usable(b); {
	case !ua && !ub:
		return nil
	case !ua:
		return b
	case !ub:
		return a
	}
	qa, na := score(a)
	qb, nb := score(b)
	if qb > qa || (qb == qa && nb < na) {
		return b
	}
	return a
}
