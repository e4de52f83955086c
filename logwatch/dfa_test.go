package logwatch

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/munja-sms/munja/bench/loggen/gen"
)

// regexCorpus is text for the differential tests: log lines, Korean,
// invalid UTF-8, CR, empty lines, hex ids, phone numbers, a last line
// without '\n'.
func regexCorpus(t *testing.T) []byte {
	var b bytes.Buffer
	if _, err := gen.Write(&b, 16<<10, gen.Options{Seed: 5, MatchEvery: 20}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"", "a", "ab", "ba", "abc", "x y", "\r", "line\r", "a\rb",
		"id=0123456789abcdef0123456789abcdef done", "id=0123456789ABCDEF0123456789abcdef",
		"0123456789abcdef0123456789abcde", "call 010-1234-5678 now", "555-1234", "55-12345",
		"123x4", "12x34", "error 42", "error x", "ERROR 7", "Out of memory", "oom-kill",
		"재고 동기화 완료 user=김철수", "\xff\xfe bad utf8 \xc3", "\xef\xbf\xbd", "k K \u212a s S \u017f",
		"café", "naïve 123-4567", "tab\there", "ends with space ", " leading", "aaaaaaaaaaaaaaaaab",
		"abababababababababababababab", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb a", "\x00nul\x00",
	} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString("last line 999-0000 without a newline")
	return b.Bytes()
}

var regexPatterns = []string{
	`[0-9a-f]{32}`, `\d{3}-\d{4}`, `[0-9]{3}x[0-9]`, `error [0-9]+`, `Out of memory|oom-kill`,
	`^$`, `$^`, `^`, `$`, `^a`, `b$`, `^ab$`, `(?m)^a`, `(?m)b$`, `\Aab`, `ab\z`, `(?s).`, `.`,
	`a*`, `(a|b)*a(a|b){6}`, `(?i)k`, `(?i)S`, `(?i)ERROR \d+`, `\pL+\d`, `[가-힣]+ [가-힣]+`,
	`\x{FFFD}`, `[^a-z]`, `[^\x00-\x7f]`, `\r$`, `a.c`, `a.*c`, `x+y*z?`, `(ab)+`, `(?:a|ab)(c|bcd)`,
	`[[:digit:]]{2}:[[:digit:]]{2}`, `\s\S\w\W`, `user=(김철수|이영희)`, `é`, `(?i)É`, `\bword\b`,
	`\Bor`, `[a-c]{2,4}d?`, `^.{0,3}$`, `(?U)a+?b`, `a{0}`, `(a*)*b`, `[^\n]x`, `(?i)[^k]+`,
	`id=[0-9a-f]{32}( done)?$`, `[0-9]+-[0-9]+`, `\d{2,}\.\d+`, `^[A-Z][a-z]{2} [0-9]{2} `,
}

func TestRegexEquivalence(t *testing.T) {
	data := regexCorpus(t)
	for _, p := range regexPatterns {
		checkAgainstNaive(t, p, Options{Regex: true}, data, 16, 4093, DefaultChunkSize)
		checkAgainstNaive(t, p, Options{Regex: true, IgnoreCase: true}, data, 4093)
	}
}

// TestRegexEquivalenceRandom builds random patterns from RE2 pieces and
// compares with the regexp package on random lines.
func TestRegexEquivalenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	atoms := []string{"a", "b", "ab", "[0-9]", "[a-f]", "\\d", "\\w", "\\s", ".", "[^a]", "가", "\\pL",
		"(a|b)", "(?i:k)", "x", "-", "\\x{FFFD}", "^", "$", "[ab]{2}", "\\.", "é"}
	quants := []string{"", "", "", "*", "+", "?", "{2}", "{1,3}", "{3,}", "*?"}
	alphabet := []string{"a", "b", "k", "K", "\u212a", "0", "7", "f", "x", "-", " ", ".", "가", "é", "\xff", "\xc3", "\r", "\t"}
	var lines []string
	for range 400 {
		var sb strings.Builder
		for range rng.IntN(24) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		lines = append(lines, sb.String())
	}
	data := []byte(strings.Join(lines, "\n"))
	for range 150 {
		var sb strings.Builder
		for range 1 + rng.IntN(5) {
			sb.WriteString(atoms[rng.IntN(len(atoms))])
			sb.WriteString(quants[rng.IntN(len(quants))])
			if rng.IntN(8) == 0 {
				sb.WriteString("|")
			}
		}
		p := strings.TrimSuffix(sb.String(), "|")
		if _, err := regexp.Compile(p); err != nil {
			continue
		}
		checkAgainstNaive(t, p, Options{Regex: true}, data, 64, DefaultChunkSize)
	}
}

// TestDFAStateBlowUp: a pattern whose DFA has more states than the cache
// holds gives the same answers (the cache is dropped, then the regexp
// takes over).
func TestDFAStateBlowUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var b bytes.Buffer
	for range 400 {
		for range 40 + rng.IntN(40) {
			b.WriteByte("ab"[rng.IntN(2)])
		}
		b.WriteByte('\n')
	}
	p := `a[ab]{14}b$` // needs the last 16 bytes: 2^15 states
	checkAgainstNaive(t, p, Options{Regex: true}, b.Bytes(), DefaultChunkSize)
	m, _ := NewMatcherOpts(p, Options{Regex: true})
	d := m.dfa.clone()
	d.scan(b.Bytes(), func(int, int) {})
	if d.resets == 0 {
		t.Errorf("the DFA cache was never dropped (%d states): the test does not test that", len(d.list))
	}
}

func TestClassFinderAnchor(t *testing.T) {
	for _, c := range []struct {
		p      string
		anchor int
	}{
		{`[0-9a-f]{32}`, -1},      // no single-byte class: BNDM
		{`\d{3}-\d{4}`, 3},        // '-'
		{`\d+:\d{2}x[a-z]`, 3},    // the run is :ddx[a-z]; 'x' is rarer than ':'
		{`[0-9]{4}e[0-9]{4}`, -1}, // 'e' is too common to search for
	} {
		f := buildClassFinder(classRun(mustSimplified(t, c.p)))
		if f.anchor != c.anchor {
			t.Errorf("%q: anchor %d, want %d", c.p, f.anchor, c.anchor)
		}
	}
}

func TestClassRun(t *testing.T) {
	for _, c := range []struct {
		p      string
		run    int
		finder bool
	}{
		{`[0-9a-f]{32}`, 32, true},
		{`\d{3}-\d{4}`, 8, true},
		{`x\d+y`, 2, true},      // 'x' then at least one digit: 'x' is searched for
		{`(?i)ab{3}`, 4, false}, // the literal "abbb" (folded) is searched for instead
		{`(?i)k{5}`, 0, false},  // k folds to the Kelvin sign: not one byte
		{`é{4}`, 0, false},
		{`a|b`, 1, false}, // simplified to [ab]
		{`(a|bc)d`, 1, false},
		{`^\d{4}-\d{2}-\d{2}`, 10, true},
	} {
		m, err := NewMatcherOpts(c.p, Options{Regex: true})
		if err != nil {
			t.Fatal(err)
		}
		tree := mustSimplified(t, c.p)
		if got := len(classRun(tree)); got != c.run {
			t.Errorf("%q: class run of %d, want %d", c.p, got, c.run)
		}
		if (m.classes != nil) != c.finder {
			t.Errorf("%q: class finder %v, want %v", c.p, m.classes != nil, c.finder)
		}
	}
}

// TestLiteralFreeRegexUsesFastPaths: the patterns of the benchmark have a
// DFA, and those with a long class run skip through it.
func TestLiteralFreeRegexUsesFastPaths(t *testing.T) {
	for _, p := range []string{`[0-9a-f]{32}`, `\d{3}-\d{4}`} {
		m, _ := NewMatcherOpts(p, Options{Regex: true})
		if m.dfa == nil || m.classes == nil || len(m.needles) > 0 {
			t.Errorf("%q: dfa %v, class finder %v, needles %q", p, m.dfa != nil, m.classes != nil, m.needles)
		}
	}
	m, _ := NewMatcherOpts(`\bfoo`, Options{Regex: true})
	if m.dfa != nil {
		t.Error(`\b: the DFA does not handle word boundaries, it must leave them to the regexp`)
	}
}

func mustSimplified(t *testing.T, p string) *syntax.Regexp {
	t.Helper()
	tree, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return tree.Simplify()
}
