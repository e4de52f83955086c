package logwatch

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/bench/loggen/gen"
	"golang.org/x/sys/unix"
)

// onlyReader hides *os.File so that run takes the read path.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestMappedMatchesReadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := gen.Write(f, 3*minMapped, gen.Options{Seed: 11, MatchEvery: 2000})
	if err != nil {
		t.Fatal(err)
	}
	// A last line without '\n' is left to the read path.
	if _, err := f.WriteString("kernel: Out of memory, last line without a newline"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		p    string
		opts Options
	}{
		{"Out of memory", Options{}},
		{"out of SWAP", Options{IgnoreCase: true}},
		{"Out of (memory|swap)", Options{Regex: true}},
		{"user=(김철수|최지은)", Options{Regex: true}},
	} {
		m, err := NewMatcherOpts(c.p, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		var viaRead, viaMap [][]byte
		collect := func(dst *[][]byte) func([]byte) {
			return func(l []byte) { *dst = append(*dst, slices.Clone(l)) }
		}
		rf, _ := os.Open(path)
		if err := m.Scan(onlyReader{rf}, collect(&viaRead)); err != nil {
			t.Fatal(err)
		}
		rf.Close()
		mf, _ := os.Open(path)
		if err := m.Scan(mf, collect(&viaMap)); err != nil {
			t.Fatal(err)
		}
		mf.Seek(0, io.SeekStart)
		n, err := m.Count(mf)
		mf.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(viaRead) == 0 || !slices.EqualFunc(viaRead, viaMap, bytes.Equal) || n != int64(len(viaRead)) {
			t.Errorf("%q: read path %d lines, mapped Scan %d, mapped Count %d", c.p, len(viaRead), len(viaMap), n)
		}
	}
	if st.OOM == 0 {
		t.Fatal("generator wrote no matching lines")
	}
}

func TestMappedFileTruncatedWhileScanning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shrinking.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("Nov 25 kernel: all fine\n"), minMapped/24+1), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatcher("Out of memory", false)
	if _, err := m.scanGuarded(data, 0, len(data), nil); err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("scanGuarded on a truncated mapping = %v, want an error", err)
	}
}
