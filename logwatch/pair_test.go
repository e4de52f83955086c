package logwatch

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestIndexPair compares indexPair with a plain loop on random texts of
// every length up to 300 (the vector loop, its tail and their seam).
func TestIndexPair(t *testing.T) {
	if !hasIndexPair {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = "abcO y"[r.IntN(6)]
			}
			c1, c2 := "abcOy"[r.IntN(5)], "abcOy"[r.IntN(5)]
			d := 1 + r.IntN(40)
			want := -1
			for j := 0; j+d < n; j++ {
				if b[j] == c1 && b[j+d] == c2 {
					want = j
					break
				}
			}
			if got := indexPair(b, c1, c2, d); got != want {
				t.Fatalf("indexPair(%q, %q, %q, %d) = %d, want %d", b, c1, c2, d, got, want)
			}
		}
	}
}

// TestRareFinderPair: the finder (through indexPair where there is AVX2)
// finds what bytes.Index finds, from every offset, for needles whose
// bytes are common in the text, rare, repeated or alone.
func TestRareFinderPair(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	needles := []string{"Out of memory", "OO", "ab", "aaaa", "a", "yO", "Out", "memory Out", "b a"}
	for range 300 {
		n := r.IntN(400)
		b := make([]byte, n)
		for i := range b {
			b[i] = "abOut ofmemry\n"[r.IntN(14)]
		}
		for _, nd := range needles {
			if r.IntN(3) == 0 && n > len(nd) { // plant one
				copy(b[r.IntN(n-len(nd)):], nd)
			}
			f := newRareFinder([]byte(nd))
			for from := 0; from <= n; from += 1 + r.IntN(7) {
				want := bytes.Index(b[from:], []byte(nd))
				if want >= 0 {
					want += from
				}
				if got := f.find(b, from); got != want {
					t.Fatalf("find %q in %q from %d = %d, want %d", nd, b, from, got, want)
				}
			}
		}
	}
}
