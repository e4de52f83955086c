package logwatch

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// edgeData is a small log with what chunk edges can cut: matches, CRLF
// line ends, CP949 double-byte characters (whose trail byte may be an ASCII
// letter), a line longer than the chunk and a last line without '\n'.
// Reading it in every chunk size from 16 to 320 bytes puts an edge at
// every offset of every short line and many of the long one.
func edgeData(t *testing.T, cp949 bool) []byte {
	enc := func(s string) string {
		if !cp949 {
			return s
		}
		b, err := korean.EUCKR.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var b bytes.Buffer
	for i := range 6 {
		fmt.Fprintf(&b, "Nov 25 10:00:%02d web01 kernel: Out of memory: Killed process %d (java)\n", i, 1000+i)
		fmt.Fprintf(&b, "Nov 25 10:00:%02d web01 app: CRLF line Out of swap\r\n", i)
		b.WriteString(enc("app: 재고 동기화 완료 갂B user=김철수 메모리 부족") + "\n")
		b.WriteString("id=0123456789abcdef0123456789abcdef call 010-1234-5678 error 42\n")
		b.WriteString("\n")
	}
	b.WriteString(strings.Repeat("long ", 200) + "Out of memory in a long line " + strings.Repeat("x", 300) + "\n")
	b.WriteString(enc("last 메모리 부족 Out of memory without a newline"))
	return b.Bytes()
}

func TestChunkEdges(t *testing.T) {
	var sizes []int
	for c := 16; c <= 320; c++ {
		sizes = append(sizes, c)
	}
	for _, c := range []struct {
		p    string
		opts Options
	}{
		{"Out of memory", Options{}},
		{"out OF memory", Options{IgnoreCase: true}},
		{"Out of (memory|swap)", Options{Regex: true}},
		{`swap\r$`, Options{Regex: true}},
		{`[0-9a-f]{32}`, Options{Regex: true}},
		{`\d{3}-\d{4}`, Options{Regex: true}},
		{`^$`, Options{Regex: true}},
		{"메모리 부족", Options{}},
		{"user=(김철수|이영희)", Options{Regex: true}},
	} {
		checkAgainstNaive(t, c.p, c.opts, edgeData(t, false), sizes...)
		c.opts.Encoding = "cp949"
		checkAgainstNaive(t, c.p, c.opts, edgeData(t, true), sizes...)
	}
}

// TestCountMemoryBounded counts in a 256 MiB file in a child process and
// checks the child's peak RSS: reading in chunks holds a few of them, not
// the file (mapping it whole had made RSS the file's size).
func TestCountMemoryBounded(t *testing.T) {
	if runtime.GOOS != "linux" && os.Getenv("CI") == "" {
		t.Skip("reads the peak RSS from /proc/self/status (Linux)")
	}
	if path := os.Getenv("LOGWATCH_RSS_CHILD"); path != "" {
		m, err := NewMatcher("Out of memory", false)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := m.Count(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("count=%d hwm_kib=%d\n", n, vmHWM(t))
		return
	}
	// A sparse file (holes read as zeros, no disk) with a line end every
	// 64 KiB and a match every MiB.
	const size = 256 << 20
	path := filepath.Join(t.TempDir(), "sparse.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	want := 0
	for off := int64(64<<10) - 1; off < size; off += 64 << 10 {
		line := "\n"
		if (off+1)%(1<<20) == 0 {
			line = "kernel: Out of memory\n"
			want++
		}
		if _, err := f.WriteAt([]byte(line), off-int64(len(line))+1); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCountMemoryBounded$")
	cmd.Env = append(os.Environ(), "LOGWATCH_RSS_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var n, hwm int
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "count=") {
			fmt.Sscanf(line, "count=%d hwm_kib=%d", &n, &hwm)
		}
	}
	if n != want {
		t.Fatalf("count = %d, want %d\n%s", n, want, out)
	}
	t.Logf("peak RSS counting in a 256 MiB file: %d KiB", hwm)
	if hwm == 0 || hwm > 64<<10 {
		t.Errorf("peak RSS %d KiB, want <= 64 MiB", hwm)
	}
}

// vmHWM is this process's peak RSS in KiB.
func vmHWM(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
