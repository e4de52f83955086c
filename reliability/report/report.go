// Package report is how the reliability scenarios (reliability/...) report
// their figures: each test writes one markdown section; `make reliability`
// gathers them into docs/RELIABILITY.md. In `make test` the scenarios run
// short and their sections are only logged.
package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	full = flag.Bool("full", false, "run the long version of each scenario (make reliability)")
	out  = flag.String("report", "", "folder to write each scenario's markdown section to")
)

// Full reports whether the long version runs (`make reliability`); the
// short one (seconds) runs in `make test`.
func Full() bool { return *full }

// Pick returns long under -full, else short: a scenario's size.
func Pick[T any](short, long T) T {
	if *full {
		return long
	}
	return short
}

// Section records a scenario's result: a markdown section titled title,
// written to the -report folder as NAME.md (sorted by name when gathered),
// and logged.
func Section(t testing.TB, name, title, body string) {
	t.Helper()
	text := fmt.Sprintf("## %s\n\n%s\n", title, strings.TrimSpace(body))
	t.Logf("\n%s", text)
	if *out == "" {
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*out, name+".md"), []byte(text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Table renders rows as a markdown table (the first row is the header).
func Table(rows [][]string) string {
	var b strings.Builder
	for i, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(r)) + "\n")
		}
	}
	return b.String()
}

// Since formats an elapsed time for a report.
func Since(start time.Time) string { return time.Since(start).Round(100 * time.Millisecond).String() }
