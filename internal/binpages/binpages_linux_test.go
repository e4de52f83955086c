package binpages

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssFile is RssFile of /proc/self/status, in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// written is in the binary's writable data: Release must leave it alone.
var written = []string{"before"}

func TestReleaseGivesBackTheBinarysPages(t *testing.T) {
	written[0] = "changed"
	before := rssFile(t)
	st, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("Release: %+v; RssFile %d → %d KiB", st, before>>10, after>>10)
	// A non-PIE Go binary: its code (r-x) and its read-only data (r--).
	if st.Mappings < 2 {
		t.Errorf("gave back %d mappings of the executable, want its code and read-only data (2)", st.Mappings)
	}
	if st.Resident < 1<<20 {
		t.Errorf("the executable's mappings held %d bytes before Release, want over 1 MiB", st.Resident)
	}
	// The test's own code maps some back at once (64 KiB a fault).
	if after > before-st.Resident/4 {
		t.Errorf("RssFile %d → %d bytes: not down by a quarter of the %d resident bytes given back", before, after, st.Resident)
	}
	if written[0] != "changed" {
		t.Errorf("writable data lost its value: %q", written[0])
	}
}

func TestAfterWaitsAndStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st, err := After(ctx, time.Hour); err != context.Canceled || st.Mappings != 0 {
		t.Errorf("After with an ended context = %+v, %v; want nothing done, context.Canceled", st, err)
	}
	st, err := After(context.Background(), 10*time.Millisecond)
	if err != nil || st.Mappings == 0 {
		t.Errorf("After 10ms = %+v, %v; want the pages given back", st, err)
	}
}

// TestReleasedProgramsRun builds a program that does the same work before
// and after Release, plain and position-independent (whose relocated
// read-only data is a private copy Release must not drop), and runs it.
func TestReleasedProgramsRun(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, mode := range []string{"exe", "pie"} {
		t.Run(mode, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "released")
			build := exec.Command(goBin, "build", "-buildmode="+mode, "-o", bin, "./testdata/released")
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build -buildmode=%s: %v\n%s", mode, err, out)
			}
			out, err := exec.Command(bin).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", mode, err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 6 || f[0] != "mappings" || f[2] != "kept" {
				t.Fatalf("output %q", out)
			}
			if n, _ := strconv.Atoi(f[1]); n < 1 {
				t.Errorf("%s: gave back %d mappings, want at least the code", mode, n)
			}
			// PIE: the relocated read-only data (GNU_RELRO) is a private
			// copy, kept; the plain build has none.
			if kept, _ := strconv.Atoi(f[3]); (kept > 0) != (mode == "pie") {
				t.Errorf("%s: kept %d mappings", mode, kept)
			}
			t.Logf("%s: %s", mode, strings.TrimSpace(string(out)))
		})
	}
}
