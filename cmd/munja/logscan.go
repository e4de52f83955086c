package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/munja-sms/munja/logwatch"
)

// cmdLogscan runs the log check's matcher over whole files, for trying a
// pattern before deploying it: matching lines (like grep), or their count.
func cmdLogscan(e *env, args []string) int {
	fs := newFlags(e, "logscan")
	pattern := fs.String("pattern", "", "literal text to look for (a regular expression with --regex)")
	regex := fs.Bool("regex", false, "the pattern is a regular expression (RE2)")
	count := fs.Bool("count", false, "print the number of matching lines instead of the lines")
	icase := fs.Bool("ignore-case", false, "match case-insensitively")
	enc := fs.String("encoding", "utf-8", "log encoding: utf-8 or cp949")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if *pattern == "" || len(files) == 0 {
		fmt.Fprintln(e.stderr, "munja logscan: usage: munja logscan [--regex] [--count] --pattern P FILE…")
		return 2
	}
	m, err := logwatch.NewMatcherOpts(*pattern, logwatch.Options{Regex: *regex, IgnoreCase: *icase, Encoding: *enc})
	if err != nil {
		fmt.Fprintln(e.stderr, "munja logscan: --pattern:", err)
		return 2
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	var total int64
	code := 1 // like grep: 1 when nothing matched
	for _, name := range files {
		n, err := scanFile(m, name, *count, len(files) > 1, out)
		if err != nil {
			out.Flush()
			fmt.Fprintf(e.stderr, "munja logscan: %s: %v\n", name, err)
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
