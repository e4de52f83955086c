package logwatch

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/bench/loggen/gen"
)

var logFile = flag.String("logfile", "", "a big log file for TestCountFile (see bench/loggen)")

var benchLog = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if _, err := gen.Write(&b, 64<<20, gen.Options{Seed: 7, MatchEvery: 1000}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

func BenchmarkCount(b *testing.B) {
	data := benchLog()
	cases := []struct {
		name    string
		pattern string
		opts    Options
	}{
		{"literal", "Out of memory", Options{}},
		{"literal-ignorecase", "out of memory", Options{IgnoreCase: true}},
		{"literal-korean", "재고 동기화", Options{}},
		{"regex-alternation", "Out of (memory|swap)", Options{Regex: true}},
		{"regex-two-literals", "Killed process [0-9]+ \\(java\\)", Options{Regex: true}},
		{"regex-word-alternatives", "(?i)(segfault|panic|oom-killer)", Options{Regex: true}},
		{"regex-no-literal", "[0-9]{3}x[0-9]", Options{Regex: true}},
		{"regex-hex32", "[0-9a-f]{32}", Options{Regex: true}},
		{"regex-phone", `\d{3}-\d{4}`, Options{Regex: true}},
	}
	for _, c := range cases {
		m, err := NewMatcherOpts(c.pattern, c.opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := m.Count(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCountFile counts in a file in the page cache, as logscan does
// (through mmap on Linux).
func BenchmarkCountFile(b *testing.B) {
	data := benchLog()
	path := filepath.Join(b.TempDir(), "bench.log")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		pattern string
		regex   bool
	}{{"literal", "Out of memory", false}, {"regex", "Out of (memory|swap)", true}} {
		m, err := NewMatcher(c.pattern, c.regex)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				_, err = m.Count(f)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCountFile times Count on a big file, for comparing with grep by hand:
//
//	go run ./bench/loggen -size 1G -o /tmp/munja-bench.log
//	go test ./logwatch -run TestCountFile -v -logfile /tmp/munja-bench.log
func TestCountFile(t *testing.T) {
	if *logFile == "" {
		t.Skip("no -logfile")
	}
	for _, c := range []struct {
		pattern string
		regex   bool
	}{{"Out of memory", false}, {"Out of (memory|swap)", true}} {
		m, err := NewMatcher(c.pattern, c.regex)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			f, err := os.Open(*logFile)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			n, err := m.Count(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-22q regex=%-5v count=%d in %v", c.pattern, c.regex, n, time.Since(start).Round(time.Millisecond))
		}
	}
}
