// Command agentload measures `munja serve` taking agents' reports: N hosts
// of C checks each report every -every (N/every reports a second, spread
// evenly), for -d. Every -sample it prints the server's RSS and how many
// reports were accepted; at the end it stops the server with SIGTERM and
// prints how long the stop took, its exit status, the longest log line and
// how many alert state records the database holds. Standard library only;
// the database is read back with the munja binary itself (munja backup is
// not needed: the server is stopped by then).
//
//	go build -o /tmp/munja ./cmd/munja
//	go run ./bench/agentload -munja /tmp/munja -agents 1000 -d 10m
//	go run ./bench/agentload -munja /tmp/munja -agents 10000 -d 10m
//
// One host in 100 has its first check failing, so incidents open and stay
// open; the others' details change with every report (a percentage), as a
// disk or memory check's do. -kill sends SIGKILL instead of SIGTERM.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	munja          string
	agents, checks int
	every, d       time.Duration
	sample         time.Duration
	workers        int
	kill           bool
	keep           bool
	cpuprofile     string
	memprofile     string
	gctrace        bool
}

func main() {
	var o options
	flag.StringVar(&o.munja, "munja", "", "munja binary (required)")
	flag.IntVar(&o.agents, "agents", 1000, "hosts reporting")
	flag.IntVar(&o.checks, "checks", 20, "checks per host")
	flag.DurationVar(&o.every, "every", 10*time.Second, "each host reports this often")
	flag.DurationVar(&o.d, "d", time.Minute, "how long to report")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "RSS sampling interval")
	flag.IntVar(&o.workers, "c", 32, "concurrent HTTP clients")
	flag.BoolVar(&o.kill, "kill", false, "stop the server with SIGKILL instead of SIGTERM")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write the server's CPU profile to this file")
	flag.StringVar(&o.memprofile, "memprofile", "", "write the server's heap profile (in use and allocated) to this file when it stops")
	flag.BoolVar(&o.gctrace, "gctrace", false, "run the server with GODEBUG=gctrace=1 and print its live heap and heap goal at each sample")
	flag.Parse()
	if o.munja == "" {
		fmt.Fprintln(os.Stderr, "agentload: -munja is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "agentload:", err)
		os.Exit(1)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "agentload")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("work directory:", dir)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `server: {listen: "127.0.0.1:%d"}
database: %q
log: {level: info}
alerting: {recipients: ["01011112222"]}
`, port, filepath.Join(dir, "munja.db")), 0o600); err != nil {
		return err
	}
	out, err := exec.Command(o.munja, "--config", cfg, "token", "create", "agents", "--scope", "send").Output()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]

	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"--config", cfg, "serve"}
	if o.cpuprofile != "" {
		args = append(args, "--cpuprofile", o.cpuprofile)
	}
	if o.memprofile != "" {
		args = append(args, "--memprofile", o.memprofile)
	}
	srv := exec.Command(o.munja, args...)
	srv.Stdout, srv.Stderr = logf, logf
	var gcs *gcTrace
	if o.gctrace {
		gcs = &gcTrace{}
		srv.Env = append(os.Environ(), "GODEBUG=gctrace=1")
		pr, pw, err := os.Pipe()
		if err != nil {
			return err
		}
		srv.Stderr = pw
		go gcs.read(pr, logf)
		defer pw.Close()
	}
	if err := srv.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() { _ = srv.Process.Kill() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/agents/report", port)
	if err := waitUp(port, 30*time.Second); err != nil {
		return err
	}

	var accepted, failed atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), o.d)
	defer cancel()
	jobs := make(chan int, o.workers*4)
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.workers}, Timeout: 30 * time.Second}
	var lastErr atomic.Value
	for range o.workers {
		wg.Go(func() {
			seq := 0
			for h := range jobs {
				seq++
				body := report(h, o.checks, o.every, seq)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					lastErr.Store(err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					accepted.Add(1)
				} else {
					failed.Add(1)
					lastErr.Store(resp.Status)
				}
			}
		})
	}
	// The schedule: host i reports at start + i*every/N + k*every.
	go func() {
		defer close(jobs)
		start := time.Now()
		gap := o.every / time.Duration(o.agents)
		for k := 0; ; k++ {
			for i := range o.agents {
				at := start.Add(time.Duration(k)*o.every + time.Duration(i)*gap)
				if d := time.Until(at); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				select {
				case <-ctx.Done():
					return
				case jobs <- i:
				}
			}
		}
	}()

	fmt.Printf("munja serve: %d hosts × %d checks, one report per host every %s (%.0f reports/s), %s\n",
		o.agents, o.checks, o.every, float64(o.agents)/o.every.Seconds(), o.d)
	if gcs != nil {
		fmt.Println("t_s rss_mib accepted_total failed_total  (reports/s)  [GCs since the last sample: live heap MiB after the last, heap goal MiB]")
	} else {
		fmt.Println("t_s rss_mib accepted_total failed_total  (reports/s)")
	}
	start := time.Now()
	var rss []float64
	tk := time.NewTicker(o.sample)
	prev := int64(0)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-exited:
			return fmt.Errorf("munja serve exited early: %v (log %s)", err, logPath)
		case <-tk.C:
			r := rssMiB(srv.Process.Pid)
			rss = append(rss, r)
			a := accepted.Load()
			fmt.Printf("%4.0f %7.1f %9d %6d  (%.0f/s)", time.Since(start).Seconds(), r, a, failed.Load(),
				float64(a-prev)/o.sample.Seconds())
			if gcs != nil {
				n, live, goal := gcs.since()
				fmt.Printf("  [%d GCs, live %.1f, goal %.1f]", n, live, goal)
			}
			fmt.Println()
			prev = a
		}
	}
	tk.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuSeconds(srv.Process.Pid)
	rssParts := statusFields(srv.Process.Pid, "RssAnon", "RssFile", "RssShmem")

	sig := syscall.SIGTERM
	if o.kill {
		sig = syscall.SIGKILL
	}
	t0 := time.Now()
	_ = srv.Process.Signal(sig)
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("munja serve did not stop within 2 minutes of %s", sig)
	}
	stop := time.Since(t0)
	longest, where := longestLine(logPath)
	fmt.Printf("accepted %d (%.0f/s), failed %d", accepted.Load(), float64(accepted.Load())/elapsed.Seconds(), failed.Load())
	if e, _ := lastErr.Load().(string); e != "" {
		fmt.Printf(" (last: %s)", e)
	}
	fmt.Println()
	fmt.Printf("server CPU: %.1f s in %.0f s (%.2f cores)\n", cpu, elapsed.Seconds(), cpu/elapsed.Seconds())
	if gcs != nil {
		fmt.Println("GC:", gcs.summary())
	}
	if len(rss) >= 2 {
		half := rss[len(rss)/2:]
		sorted := slices.Sorted(slices.Values(half))
		fmt.Printf("RSS MiB: first %.1f, at half time %.1f, last %.1f, max %.1f; second half grew %.1f MiB, its median %.1f\n",
			rss[0], half[0], rss[len(rss)-1], slices.Max(rss), rss[len(rss)-1]-half[0], sorted[len(sorted)/2])
	}
	if rssParts != "" {
		fmt.Println("RSS at the end, before the stop:", rssParts)
	}
	status := "exit 0"
	var ee *exec.ExitError
	if errors.As(exitErr, &ee) {
		status = ee.String()
	}
	fmt.Printf("stop (%s): %.2f s, %s\n", sig, stop.Seconds(), status)
	fmt.Printf("longest log line: %d bytes%s\n", longest, where)
	if n, err := countState(o.munja, cfg); err == nil {
		fmt.Printf("alert state records after the stop: %s\n", n)
	}
	return nil
}

func waitUp(port int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("munja serve not up within %s", within)
}

type result struct {
	Check    string    `json:"check"`
	OK       bool      `json:"ok"`
	At       time.Time `json:"at"`
	Duration int64     `json:"duration_ms"`
	Firing   string    `json:"firing"`
	Resolved string    `json:"resolved"`
	Detail   string    `json:"detail"`
	DetailKo string    `json:"detail_ko"`
}

// report is host h's seq-th report.
func report(h, checks int, every time.Duration, seq int) []byte {
	host := fmt.Sprintf("host-%05d", h)
	now := time.Now()
	rs := make([]result, checks)
	for c := range rs {
		name := fmt.Sprintf("check-%02d", c)
		pct := (h*7 + c*13 + seq) % 90
		ok := !(c == 0 && h%100 == 0)
		rs[c] = result{
			Check: name, OK: ok, At: now, Duration: int64(1 + c%5),
			Firing:   "[경고] " + name + " 사용률이 높습니다.",
			Resolved: "[복구] " + name + " 사용률이 정상입니다.",
			Detail:   fmt.Sprintf("%s used %d%% (max 95%%)", name, pct),
			DetailKo: fmt.Sprintf("%s 사용률 %d%% (최대 95%%)", name, pct),
		}
		if !ok {
			rs[c].Detail, rs[c].DetailKo = name+" used 97% (max 95%)", name+" 사용률 97% (최대 95%)"
		}
	}
	b, _ := json.Marshal(map[string]any{"host": host, "interval_seconds": int(every.Seconds()), "results": rs})
	return b
}

// statusFields is "name MiB" for each of names in /proc/PID/status (the
// parts of RSS: anonymous memory, file pages such as the binary's, shared
// memory such as SQLite's WAL index).
func statusFields(pid int, names ...string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if ok && slices.Contains(names, name) {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			out = append(out, fmt.Sprintf("%s %.1f MiB", name, float64(kb)/1024))
		}
	}
	return strings.Join(out, ", ")
}

func rssMiB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// cpuSeconds is the user and system CPU time pid has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// After the command in parentheses: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// longestLine returns the length of the longest line of the file and, when
// over 4 KiB, its start.
func longestLine(path string) (int, string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	longest, cur := 0, 0
	var start, longStart []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if cur == 0 {
			start = append(start[:0], chunk[:min(len(chunk), 120)]...)
		}
		cur += len(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		n := cur
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			n--
		}
		if n > longest {
			longest, longStart = n, append(longStart[:0], start...)
		}
		cur = 0
		if err != nil {
			break
		}
	}
	if longest > 4096 {
		return longest, fmt.Sprintf(" (starts %q)", longStart)
	}
	return longest, ""
}

// countState counts alert state records per kind with sqlite3, when it is
// installed.
func countState(munja, cfg string) (string, error) {
	_ = munja
	db := filepath.Join(filepath.Dir(cfg), "munja.db")
	out, err := exec.Command("sqlite3", db, `SELECT count(*) FROM alert_state WHERE key LIKE 'alert/check/%';
SELECT count(*) FROM alert_state WHERE key LIKE 'alert/incident/%';`).Output()
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", fmt.Errorf("sqlite3: %q", out)
	}
	return f[0] + " check states, " + f[1] + " incidents", nil
}

// gcTrace reads the server's stderr with GODEBUG=gctrace=1: gc lines are
// counted and their heap figures kept, everything goes on to the log.
type gcTrace struct {
	mu         sync.Mutex
	n          int
	live, goal float64   // MiB, of the last GC
	lives      []float64 // every GC's live heap, MiB
	goals      []float64 // and heap goal
	total      int
}

func (g *gcTrace) read(r io.Reader, log io.Writer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = fmt.Fprintln(log, line)
		// gc 12 @3.1s 2%: …, 40->41->20 MB, 42 MB goal, …
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		var live, goal float64
		for f := range strings.SplitSeq(line, ", ") {
			if h, ok := strings.CutSuffix(f, " MB"); ok && strings.Count(h, "->") == 2 {
				live, _ = strconv.ParseFloat(h[strings.LastIndex(h, ">")+1:], 64)
			}
			if h, ok := strings.CutSuffix(f, " MB goal"); ok {
				goal, _ = strconv.ParseFloat(h, 64)
			}
		}
		g.mu.Lock()
		g.n++
		g.live, g.goal = live, goal // the runtime prints MiB (>>20) as "MB"
		g.lives = append(g.lives, g.live)
		g.goals = append(g.goals, g.goal)
		g.total++
		g.mu.Unlock()
	}
}

// since returns the GCs since the last call and the last one's figures.
func (g *gcTrace) since() (int, float64, float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.n
	g.n = 0
	return n, g.live, g.goal
}

// summary is the median and maximum live heap and goal of the GCs of the
// second half of the run (the first fills the history).
func (g *gcTrace) summary() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.lives) < 2 {
		return "too few GCs"
	}
	med := func(xs []float64) (float64, float64) {
		xs = slices.Clone(xs[len(xs)/2:])
		slices.Sort(xs)
		return xs[len(xs)/2], xs[len(xs)-1]
	}
	lm, lx := med(g.lives)
	gm, gx := med(g.goals)
	return fmt.Sprintf("%d GCs; second half: live heap median %.0f MiB (max %.0f), heap goal median %.0f MiB (max %.0f)", g.total, lm, lx, gm, gx)
}
