package attack

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/reliability/report"
)

// fuzzTime is how long each fuzz target runs under -full.
const fuzzTime = 20 * time.Second

type fuzzTarget struct {
	name, pkg string // pkg: ./path from the module root
}

var (
	fuzzFunc  = regexp.MustCompile(`^func (Fuzz[A-Za-z0-9_]*)\(`)
	fuzzExecs = regexp.MustCompile(`execs: (\d+)`)
	fuzzNew   = regexp.MustCompile(`new interesting: (\d+) \(total: (\d+)\)`)
	fuzzCrash = regexp.MustCompile(`Failing input written to (\S+)`)
)

// TestFuzz runs every fuzz target of the repository for fuzzTime, as
// `go test -fuzz` does in a shell (scripts/fuzz-all.sh), and counts
// executions and crashers. Inputs that widen coverage stay in the Go
// build cache ($GOCACHE/fuzz), where the next run starts from them; a
// crasher is written by go test to the package's testdata/fuzz/FuzzX/,
// where it becomes a seed that `make test` runs until it is fixed.
func TestFuzz(t *testing.T) {
	if !report.Full() {
		t.Skip("fuzzing runs only in the long version (make reliability, -full); the seed corpora of every fuzz target run in make test already")
	}
	start := time.Now()
	root := moduleRoot(t)
	targets := findFuzzTargets(t, root)
	if len(targets) == 0 {
		t.Fatal("no fuzz targets found")
	}
	rows := [][]string{{"target", "package", "executions", "new inputs (corpus)", "crashers (must be 0)"}}
	var crashes []string
	total := 0
	flakes := 0
	for _, ft := range targets {
		// Go 1.26's fuzzing coordinator may end a run that found nothing
		// with "context deadline exceeded" as -fuzztime runs out
		// (go.dev/issue/75804, fixed in Go 1.27): such a run, with no
		// crasher written, is run again, twice at most.
		var text string
		var err error
		var crashed [][]string
		retried := 0
		for {
			text, err = fuzzOnce(t, root, ft)
			crashed = fuzzCrash.FindAllStringSubmatch(text, -1)
			if err == nil || len(crashed) > 0 || !strings.Contains(text, "context deadline exceeded") || retried == 2 {
				break
			}
			retried++
			flakes++
		}
		// No "execs" line: the time went on replaying the corpus
		// (gathering baseline coverage), which is not fuzzing yet.
		execs, newIn, corpus := "0 (corpus replay only)", "0", "?"
		if m := fuzzExecs.FindAllStringSubmatch(text, -1); m != nil {
			execs = m[len(m)-1][1]
			n, _ := strconv.Atoi(execs)
			total += n
		}
		if m := fuzzNew.FindAllStringSubmatch(text, -1); m != nil {
			newIn, corpus = m[len(m)-1][1], m[len(m)-1][2]
		}
		for _, c := range crashed {
			crashes = append(crashes, fmt.Sprintf("%s in %s: input %s", ft.name, ft.pkg, filepath.Join(ft.pkg, c[1])))
		}
		switch {
		case len(crashed) > 0:
			t.Errorf("fuzz target %s (%s) found a crasher; reproduce with `go test -run '^%s$' %s`:\n%s",
				ft.name, ft.pkg, ft.name, ft.pkg, tail(text, 60))
		case err != nil:
			t.Errorf("fuzz target %s (%s) did not run: %v\n%s", ft.name, ft.pkg, err, tail(text, 30))
		}
		if retried > 0 {
			execs += fmt.Sprintf(" (run %d times)", retried+1)
		}
		rows = append(rows, []string{ft.name, ft.pkg, execs, newIn + " (" + corpus + ")", strconv.Itoa(len(crashed))})
	}
	body := fmt.Sprintf(`Command: %s

Every fuzz target of the repository (%d, found by `+"`^func Fuzz`"+` in *_test.go) ran for %s with
`+"`go test -run '^$' -fuzz '^FuzzX$' -fuzztime %s ./pkg`"+` (2 workers on this machine); executions
are the last "execs" go test printed. New inputs that widen coverage are kept in the Go build
cache ($GOCACHE/fuzz), where the next run starts from them; a crasher would be written to the
package's testdata/fuzz/ and fail this test. In `+"`make test`"+` only the seed corpora run.

%s
%d executions in all, %d crashers. %d run(s) that found nothing but ended with "context deadline
exceeded" as -fuzztime ran out (Go 1.26's fuzzing coordinator, go.dev/issue/75804, fixed in Go 1.27)
were run again. Took %s.`, "`go test ./reliability/attack -run TestFuzz -args -full`",
		len(targets), fuzzTime, fuzzTime, report.Table(rows), total, len(crashes), flakes, report.Since(start))
	if len(crashes) > 0 {
		body += "\n\nCrashers:\n\n- " + strings.Join(crashes, "\n- ")
	}
	report.Section(t, "attack-5-fuzz", "Attack 5: every fuzz target", body)
}

// fuzzOnce runs one fuzz target for fuzzTime and returns its output.
func fuzzOnce(t *testing.T, root string, ft fuzzTarget) (string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), fuzzTime+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+ft.name+"$",
		"-fuzztime", fuzzTime.String(), ft.pkg)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// findFuzzTargets lists the Fuzz functions of every package's tests.
func findFuzzTargets(t *testing.T, root string) []fuzzTarget {
	var out []fuzzTarget
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
		for sc.Scan() {
			if m := fuzzFunc.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, fuzzTarget{name: m[1], pkg: "./" + filepath.ToSlash(rel)})
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
