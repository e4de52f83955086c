package logwatch

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/bench/loggen/gen"
	"golang.org/x/text/encoding/korean"
)

func TestMatcherMatch(t *testing.T) {
	cases := []struct {
		pattern string
		opts    Options
		line    string
		want    bool
	}{
		{"Out of memory", Options{}, "kernel: Out of memory: Killed process 1", true},
		{"Out of memory", Options{}, "kernel: out of memory", false},
		{"Out of memory", Options{IgnoreCase: true}, "kernel: OUT OF MEMORY", true},
		{"Out of memory", Options{IgnoreCase: true}, "kernel: OUT OF MEMORY!", true},
		{"Out of memory", Options{IgnoreCase: true}, "kernel: OUT OF MEM", false},
		{"kill", Options{IgnoreCase: true}, "\u212aILL", true}, // Kelvin sign folds to k
		{"Out of (memory|swap)", Options{Regex: true}, "Out of swap space", true},
		{"Out of (memory|swap)", Options{Regex: true}, "Out of range", false},
		{"^Nov", Options{Regex: true}, "Nov 25 x", true},
		{"^Nov", Options{Regex: true}, "x Nov 25", false},
		{"memory$", Options{Regex: true}, "Out of memory", true},
		{"a.c", Options{Regex: true}, "abc", true},
		{"a.b", Options{}, "axb", false}, // literal: '.' is a dot
		{"", Options{}, "", true},
		{"", Options{Regex: true}, "anything", true},
		{"재고 동기화", Options{}, "app: INFO 재고 동기화 완료", true},
		{"메모리 부족", Options{Regex: true}, "app: 메모리 부족 (남은 0%)", true},
		{"[0-9]{3}x", Options{Regex: true}, "id=123x", true},
		{"[0-9]{3}x", Options{Regex: true}, "id=12x", false},
	}
	for _, c := range cases {
		m, err := NewMatcherOpts(c.pattern, c.opts)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got := m.Match([]byte(c.line)); got != c.want {
			t.Errorf("NewMatcherOpts(%q, %+v).Match(%q) = %v, want %v", c.pattern, c.opts, c.line, got, c.want)
		}
	}
}

func TestMatcherErrors(t *testing.T) {
	for _, c := range []struct {
		pattern string
		opts    Options
		want    string
	}{
		{"a(b", Options{Regex: true}, "invalid regular expression"},
		{"two\nlines", Options{}, "line break"},
		{"x", Options{Encoding: "latin1"}, "unknown encoding"},
	} {
		_, err := NewMatcherOpts(c.pattern, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewMatcherOpts(%q, %+v) = %v, want error with %q", c.pattern, c.opts, err, c.want)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	cases := []struct {
		expr string
		want []string // nil: no prefilter
		fold bool
	}{
		{"Out of memory", []string{"Out of memory"}, false},
		{"Out of (memory|swap)", []string{"Out of "}, false},
		{"(memory|swap) exhausted", []string{" exhausted"}, false},
		{"error|warn", []string{"error", "warn"}, false},
		{"colou?r", []string{"colo"}, false},
		{"x?colou?r", []string{"colo"}, false},
		{"Killed process [0-9]+ \\(java\\)", []string{"Killed process "}, false},
		{"(?i)segfault|panic", []string{"EGFAULT", "PANIC"}, true}, // s folds to long s (U+017F)
		{"(?i)kill", []string{"ILL"}, true},                        // k folds to the Kelvin sign: ASCII folding would miss it
		{"(?i)ks", nil, false},
		{"a+bcd", []string{"bcd"}, false},
		{"(abc)+", []string{"abc"}, false},
		{".*", nil, false},
		{"[0-9]{3}", nil, false},
		{"a|.*", nil, false},
		{"^$", nil, false},
		{"\\x{FFFD}abc", []string{"abc"}, false},
		{"ab[cd]ef", []string{"abcef", "abdef"}, false},
	}
	for _, c := range cases {
		re, err := syntax.Parse(c.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got := requiredLiterals(re.Simplify())
		if c.want == nil {
			if got != nil {
				t.Errorf("%q: got %q, want no prefilter", c.expr, got.strs)
			}
			continue
		}
		if got == nil || !slices.Equal(got.strs, c.want) || got.fold != c.fold {
			t.Errorf("%q: got %+v, want %q fold=%v", c.expr, got, c.want, c.fold)
		}
	}
}

// TestCountChunking runs the real generator's output through small and odd
// chunk sizes, long lines and a missing final newline.
func TestCountChunking(t *testing.T) {
	var b bytes.Buffer
	if _, err := gen.Write(&b, 1<<20, gen.Options{Seed: 3, MatchEvery: 50}); err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Repeat("long line ", 50_000) + "Out of memory at the end of a long line\n")
	b.WriteString("Out of memory without a final newline")
	data := b.Bytes()
	patterns := []struct {
		p    string
		opts Options
	}{
		{"Out of memory", Options{}},
		{"out of MEMORY", Options{IgnoreCase: true}},
		{"Out of (memory|swap)", Options{Regex: true}},
		{"(?i)out of (memory|swap)", Options{Regex: true}},
		{"user=(김철수|이영희)", Options{Regex: true}},
		{"[0-9]{3}x[0-9]", Options{Regex: true}},
	}
	for _, p := range patterns {
		checkAgainstNaive(t, p.p, p.opts, data, 16, 1000, 4093, 64<<10, DefaultChunkSize)
	}
}

func TestCP949File(t *testing.T) {
	enc := func(s string) string {
		b, err := korean.EUCKR.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var b bytes.Buffer
	if _, err := gen.Write(&b, 1<<20, gen.Options{Seed: 9, Encoding: "cp949", KoreanPercent: 40, MatchEvery: 100}); err != nil {
		t.Fatal(err)
	}
	// "갂" is 0x81 0x41: its trail byte is 'A'. A raw search for "AB" hits
	// here but must not match, since the decoded text is "갂B".
	b.WriteString(enc("app: 갂B 메모리 부족 발생") + "\n")
	b.WriteString(enc("app: AB 정상") + "\n")
	path := filepath.Join(t.TempDir(), "cp949.log")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    string
		opts Options
		min  int64
	}{
		{"재고 동기화", Options{}, 1},
		{"메모리 부족", Options{}, 1},
		{"AB", Options{}, 1},
		{"ab", Options{IgnoreCase: true}, 1},
		{"user=(김철수|이영희)", Options{Regex: true}, 1},
		{"Out of memory", Options{}, 1},
	} {
		c.opts.Encoding = "cp949"
		checkAgainstNaive(t, c.p, c.opts, data, 4096)
		m, _ := NewMatcherOpts(c.p, c.opts)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := m.Count(f)
		f.Close()
		if err != nil || n < c.min {
			t.Errorf("%q: Count = %d, %v; want at least %d", c.p, n, err, c.min)
		}
	}
	m, _ := NewMatcherOpts("AB", Options{Encoding: "cp949"})
	if m.Match([]byte(enc("갂B"))) {
		t.Error(`"AB" matched the CP949 text "갂B"`)
	}
	if got := m.Text([]byte(enc("app: 갂B"))); got != "app: 갂B" {
		t.Errorf("Text = %q", got)
	}
}
