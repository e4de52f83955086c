// Command logscan times `munja logscan --count` against `grep -c` (GNU grep,
// -F for fixed text, -E for the regexps, C locale: grep's fastest) on
// generated syslog-like files with rare matches, side by side: for each
// file size and pattern the two commands alternate, several rounds, pinned
// to one core (taskset -c 0) and not. It checks that both count the same
// lines and prints medians of wall time, CPU time (user+sys) and peak RSS
// as a Markdown table, with the ratios munja/grep. Usage (see run.sh):
//
//	go run ./bench/logscan -munja /tmp/munja -sizes 64M,256M,1G -rounds 5
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/munja-sms/munja/bench/internal/bytesize"
	"github.com/munja-sms/munja/bench/loggen/gen"
)

type pattern struct {
	name  string
	grep  []string // grep flags and pattern
	munja []string // logscan flags
}

var patterns = []pattern{
	{"fixed text `Out of memory`", []string{"-F", "Out of memory"}, []string{"--pattern", "Out of memory"}},
	{"regex with literals `Out of memory|oom-kill`", []string{"-E", "Out of memory|oom-kill"}, []string{"--regex", "--pattern", "Out of memory|oom-kill"}},
	{"regex with a literal `error [0-9]+`", []string{"-E", "error [0-9]+"}, []string{"--regex", "--pattern", "error [0-9]+"}},
	{"no literal `[0-9a-f]{32}`", []string{"-E", "[0-9a-f]{32}"}, []string{"--regex", "--pattern", "[0-9a-f]{32}"}},
	{"no literal `[0-9]{3}-[0-9]{4}`", []string{"-E", "[0-9]{3}-[0-9]{4}"}, []string{"--regex", "--pattern", "[0-9]{3}-[0-9]{4}"}},
}

type sample struct{ wall, cpu, rss float64 } // ms, ms, MiB

func main() {
	munja := flag.String("munja", "", "munja binary (required)")
	sizes := flag.String("sizes", "64M,256M,1G", "file sizes")
	rounds := flag.Int("rounds", 5, "alternating rounds per size, pinning and pattern")
	dir := flag.String("dir", "", "directory for the generated files (default: a new temp dir, removed at the end)")
	only := flag.String("patterns", "", "comma-separated indexes of the patterns to run (default all)")
	flag.Parse()
	if *munja == "" {
		fmt.Fprintln(os.Stderr, "logscan: -munja BINARY is required")
		os.Exit(2)
	}
	if err := run(*munja, *sizes, *rounds, *dir, *only); err != nil {
		fmt.Fprintln(os.Stderr, "logscan:", err)
		os.Exit(1)
	}
}

func run(munja, sizes string, rounds int, dir, only string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "munja-logscan-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	pats := patterns
	if only != "" {
		pats = nil
		for _, s := range strings.Split(only, ",") {
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(patterns) {
				return fmt.Errorf("bad -patterns %q", only)
			}
			pats = append(pats, patterns[i])
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("munja %s, %s, load at start %s", munja, grepVersion(), load)
	fmt.Println()
	fmt.Println("| size | cores | pattern | grep wall | munja wall | ratio | grep CPU | munja CPU | CPU ratio | grep RSS | munja RSS | lines |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, size := range strings.Split(sizes, ",") {
		n, err := bytesize.Parse(size)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, "bench-"+size+".log")
		if err := generate(path, n); err != nil {
			return err
		}
		for _, pinned := range []bool{true, false} {
			for _, p := range pats {
				if err := compare(munja, path, size, pinned, p, rounds); err != nil {
					return err
				}
			}
		}
		os.Remove(path)
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("\nload at end %s", load)
	return nil
}

func generate(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = gen.Write(f, size, gen.Options{Seed: 1, IDs: true})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Into the page cache: both tools read a cached file.
	data, err := os.Open(path)
	if err != nil {
		return err
	}
	defer data.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := data.Read(buf); err != nil {
			return nil
		}
	}
}

func compare(munja, path, size string, pinned bool, p pattern, rounds int) error {
	grepArgs := append(append([]string{"grep", "-c"}, p.grep...), path)
	munjaArgs := append(append([]string{munja, "logscan", "--count"}, p.munja...), path)
	if pinned {
		grepArgs = append([]string{"taskset", "-c", "0"}, grepArgs...)
		munjaArgs = append([]string{"taskset", "-c", "0"}, munjaArgs...)
	}
	var gs, ms []sample
	var gCount, mCount string
	for r := range rounds + 1 { // the first round warms up and is not kept
		for _, first := range []bool{r%2 == 0, r%2 != 0} { // alternate who goes first
			args, dst, count := munjaArgs, &ms, &mCount
			if first {
				args, dst, count = grepArgs, &gs, &gCount
			}
			s, out, err := timeRun(args)
			if err != nil {
				return err
			}
			*count = out
			if r > 0 {
				*dst = append(*dst, s)
			}
		}
	}
	if gCount != mCount {
		return fmt.Errorf("%s %s: grep counted %s lines, munja %s", size, p.name, gCount, mCount)
	}
	g, m := median(gs), median(ms)
	cores := "2"
	if pinned {
		cores = "1 (taskset)"
	}
	fmt.Printf("| %s | %s | %s | %.0f ms | %.0f ms | %.2f× | %.0f ms | %.0f ms | %.2f× | %.1f MiB | %.1f MiB | %s |\n",
		size, cores, strings.ReplaceAll(p.name, "|", `\|`), g.wall, m.wall, m.wall/g.wall, g.cpu, m.cpu, m.cpu/g.cpu, g.rss, m.rss, mCount)
	return nil
}

// timeRun runs args (grep in the C locale), returning its wall time, CPU
// time and peak RSS, and its output trimmed. The peak RSS comes from
// /usr/bin/time: a child's own rusage would count this process's memory,
// which the child shared until it called exec.
func timeRun(args []string) (sample, string, error) {
	rssFile := filepath.Join(os.TempDir(), fmt.Sprintf("munja-logscan-bench-%d.rss", os.Getpid()))
	defer os.Remove(rssFile)
	args = append([]string{"/usr/bin/time", "-f", "%M", "-o", rssFile}, args...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		// grep -c and logscan --count exit 1 when nothing matched.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			return sample{}, "", fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage) // time's and its child's
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rss, err := os.ReadFile(rssFile)
	if err != nil {
		return sample{}, "", err
	}
	kib, err := strconv.ParseFloat(lastLine(string(rss)), 64)
	if err != nil {
		return sample{}, "", fmt.Errorf("/usr/bin/time wrote %q", rss)
	}
	return sample{
		wall: float64(wall.Microseconds()) / 1000,
		cpu:  float64(cpu.Microseconds()) / 1000,
		rss:  kib / 1024,
	}, strings.TrimSpace(out.String()), nil
}

// lastLine: /usr/bin/time writes "Command exited with non-zero status 1"
// before the figures when the command exits 1.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func median(s []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return sample{
		wall: pick(func(x sample) float64 { return x.wall }),
		cpu:  pick(func(x sample) float64 { return x.cpu }),
		rss:  pick(func(x sample) float64 { return x.rss }),
	}
}

func grepVersion() string {
	out, err := exec.Command("grep", "--version").Output()
	if err != nil {
		return "grep ?"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}
