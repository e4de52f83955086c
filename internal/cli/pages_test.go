package cli

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	m := regexp.MustCompile(`(?m)^RssFile:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Skip("no RssFile in /proc/self/status")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestDropStartupPages: the executable's read-only pages leave RSS and the
// process goes on running (what it touches next is mapped back).
func TestDropStartupPages(t *testing.T) {
	before := rssFileKiB(t)
	if err := DropStartupPages(); err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	t.Logf("RssFile %d → %d KiB", before, after)
	if after >= before {
		t.Errorf("RssFile did not drop: %d → %d KiB", before, after)
	}
	// Code and read-only data still work: format, parse, regexp.
	if s := strconv.Quote("문자"); s != `"문자"` || !regexp.MustCompile(`^a+b$`).MatchString("aab") {
		t.Errorf("after dropping pages: %q", s)
	}
	if err := DropStartupPages(); err != nil { // twice is harmless
		t.Fatal(err)
	}
}
