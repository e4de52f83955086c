package logwatch

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// naive is the reference matcher: decode CP949, then match each line with
// the regexp package (bytes.Contains for a plain literal).
type naive struct {
	pattern string
	o       Options
	re      *regexp.Regexp
}

func newNaive(pattern string, o Options) *naive {
	expr := pattern
	if !o.Regex {
		expr = regexp.QuoteMeta(pattern)
	}
	if o.IgnoreCase {
		expr = "(?i)" + expr
	}
	n := &naive{pattern: pattern, o: o}
	if o.Regex || o.IgnoreCase || o.Encoding == "cp949" {
		n.re = regexp.MustCompile(expr)
	}
	return n
}

func (n *naive) match(t testing.TB, raw []byte) bool {
	line := raw
	if n.o.Encoding == "cp949" {
		var err error
		if line, err = korean.EUCKR.NewDecoder().Bytes(raw); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
	} else if !n.o.Regex && !n.o.IgnoreCase {
		return bytes.Contains(line, []byte(n.pattern))
	}
	return n.re.Match(line)
}

// lines splits data into lines like grep and keeps the matching ones.
func (n *naive) lines(t testing.TB, data []byte) [][]byte {
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // data ends with '\n' (or is empty)
	}
	var out [][]byte
	for _, line := range lines {
		if n.match(t, line) {
			out = append(out, line)
		}
	}
	return out
}

// checkAgainstNaive compares Scan, Count (reading in each of the chunk
// sizes) and Match with the naive reference.
func checkAgainstNaive(t *testing.T, pattern string, o Options, data []byte, chunks ...int) {
	t.Helper()
	m, err := NewMatcherOpts(pattern, o)
	if err != nil {
		t.Fatalf("NewMatcherOpts(%q, %+v): %v", pattern, o, err)
	}
	ref := newNaive(pattern, o)
	want := ref.lines(t, data)
	for _, chunk := range chunks {
		m.chunk = chunk
		var got [][]byte
		if err := m.Scan(bytes.NewReader(data), func(line []byte) { got = append(got, slices.Clone(line)) }); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			if len(data) > 1000 {
				t.Fatalf("pattern %q %+v chunk %d: Scan found %d lines, naive %d", pattern, o, chunk, len(got), len(want))
			}
			t.Fatalf("pattern %q %+v chunk %d on %q:\nScan  %q\nnaive %q", pattern, o, chunk, data, got, want)
		}
		n, err := m.Count(bytes.NewReader(data))
		if err != nil || n != int64(len(want)) {
			t.Fatalf("pattern %q %+v chunk %d: Count = %d, %v; want %d", pattern, o, chunk, n, err, len(want))
		}
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if got, want := m.Match(line), ref.match(t, line); got != want {
			t.Fatalf("pattern %q %+v: Match(%q) = %v, want %v", pattern, o, line, got, want)
		}
	}
}

func FuzzMatcher(f *testing.F) {
	seeds := []struct {
		pattern string
		regex   bool
		fold    bool
		cp949   bool
		data    string
	}{
		{"Out of memory", false, false, false, "a\nkernel: Out of memory: Killed\nOut of mem\nOut of memory"},
		{"Out of (memory|swap)", true, false, false, "Out of swap\nOut of range\nout of memory\n"},
		{"out OF memory", false, true, false, "OUT of MEMORY\nx\n"},
		{"(?i)k", true, false, false, "\u212a\nK\nk\ns\n"},
		{"colou?r", true, false, false, "color\ncolour\ncolr\n"},
		{"^ab|cd$", true, false, false, "abx\nxab\nxcd\ncdx\n"},
		{"", false, false, false, "\n\nx"},
		{"a.*b", true, false, false, "a\nb\nab\n"},
		{"재고", false, false, true, "\xc0\xe7\xb0\xed \xb5\xbf\xb1\xe2\xc8\xad\nA\xc0\xe7\xb0\xed\n"},
		{"A", false, false, true, "\x81A\nA\n\x81\x81A\n"},
		{"메모리", true, false, true, "\xb8\xde\xb8\xf0\xb8\xae \xba\xce\xc1\xb7\n"},
		{"\ufffd", true, false, false, "\xff\n\xef\xbf\xbd\n"},
		{"[^a]", true, false, false, "\n\na\nb"},
	}
	for _, s := range seeds {
		f.Add(s.pattern, s.regex, s.fold, s.cp949, []byte(s.data), uint8(7))
	}
	f.Fuzz(func(t *testing.T, pattern string, regex, fold, cp949 bool, data []byte, chunk uint8) {
		o := Options{Regex: regex, IgnoreCase: fold}
		if cp949 {
			o.Encoding = "cp949"
		}
		if _, err := NewMatcherOpts(pattern, o); err != nil {
			return
		}
		if strings.Count(pattern, "{") > 3 || len(pattern) > 64 {
			return // keep the regexp reference fast
		}
		checkAgainstNaive(t, pattern, o, data, 16+int(chunk))
	})
}
