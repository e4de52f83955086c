// Package logscan is the munja logscan command: the log check's matcher
// run over whole files, for trying a pattern before deploying it (matching
// lines, like grep, or their count).
//
// It is a package of its own, importing only logwatch and the standard
// library, so that munja can start it from this package's init: Go runs a
// package's init once its imports are initialized, picking the packages in
// import-path order, so this one runs before the inits of the libraries
// only munja's other commands need (the Prometheus client and its procfs,
// modernc's libc and SQLite, the console, the gateways), and a plain
// `munja logscan …` exits before they run. A one-line munja logscan took
// 6.4 ms of CPU, 4.3 more than a binary linking only logwatch; most of it
// is those inits (docs/BENCHMARKS.md §8). Any other command line (--help,
// --config, a flag before the command) goes through main as before, which
// calls Run too.
package logscan

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/munja-sms/munja/logwatch"
)

func init() {
	if len(os.Args) < 2 || os.Args[1] != "logscan" || !plain(os.Args[2:]) {
		return
	}
	os.Exit(Run(os.Args[2:], os.Stdout, os.Stderr))
}

// plain reports whether args need nothing of main: no help (main prints
// the command's usage, as its wantsHelp sees it) and no --config (main
// takes it out of the command line; logscan reads no config). Declining is
// always safe: main then runs Run.
func plain(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return true
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		switch name := strings.TrimLeft(a, "-"); {
		case name == "h" || name == "help", name == "config" || strings.HasPrefix(name, "config="):
			return false
		}
	}
	return true
}

// Run runs munja logscan with args (after the command name) and returns
// its exit code: 0 when some line matched, 1 when none did (like grep), 2
// on a usage error or a file that cannot be read.
func Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("munja logscan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pattern := fs.String("pattern", "", "literal text to look for (a regular expression with --regex)")
	regex := fs.Bool("regex", false, "the pattern is a regular expression (RE2)")
	count := fs.Bool("count", false, "print the number of matching lines instead of the lines")
	icase := fs.Bool("ignore-case", false, "match case-insensitively")
	enc := fs.String("encoding", "utf-8", "log encoding: utf-8 or cp949")
	files, err := ParseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if *pattern == "" || len(files) == 0 {
		fmt.Fprintln(stderr, "munja logscan: usage: munja logscan [--regex] [--count] --pattern P FILE…")
		return 2
	}
	m, err := logwatch.NewMatcherOpts(*pattern, logwatch.Options{Regex: *regex, IgnoreCase: *icase, Encoding: *enc})
	if err != nil {
		fmt.Fprintln(stderr, "munja logscan: --pattern:", err)
		return 2
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	var total int64
	code := 1 // like grep: 1 when nothing matched
	for _, name := range files {
		n, err := scanFile(m, name, *count, len(files) > 1, out)
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "munja logscan: %s: %v\n", name, err)
			return 2
		}
		total += n
		if *count {
			if len(files) > 1 {
				fmt.Fprintf(out, "%s:%d\n", name, n)
			} else {
				fmt.Fprintln(out, n)
			}
		}
	}
	if total > 0 {
		code = 0
	}
	return code
}

func scanFile(m *logwatch.Matcher, name string, count, prefix bool, out io.Writer) (int64, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r = f
	}
	if count {
		return m.Count(r)
	}
	var n int64
	err := m.Scan(r, func(line []byte) {
		n++
		if prefix {
			fmt.Fprintf(out, "%s:", name)
		}
		fmt.Fprintln(out, m.Text(line))
	})
	return n, err
}

// ParseInterleaved parses flags that may come after positional arguments
// (munja's commands all take them so).
func ParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil // after --, all is positional
		}
		args = rest
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "-" || !strings.HasPrefix(args[0], "-") {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
	}
}
