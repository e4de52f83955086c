package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/config"
	"golang.org/x/sys/unix"
)

// commLen is the most bytes the kernel keeps of a process name
// (/proc/PID/comm, TASK_COMM_LEN-1).
const commLen = 15

// processFields are the template fields of type process: {{.Process}} the
// name shown (process, else the check name), {{.Count}} processes found,
// {{.Min}} and {{.Max}} the limits (Max 0 = none), {{.PIDs}} their PIDs.
var processFields = map[string]any{"Process": "", "Count": 0, "Min": 0, "Max": 0, "PIDs": []int(nil)}

// procID names one process across PID reuse.
type procID struct {
	pid   int
	start uint64
}

type processCheck struct {
	t        *Texts
	label    string
	process  string
	cmdline  *regexp.Regexp
	pidfile  string
	min, max int
	timeout  time.Duration
	proc     string
	self     int

	// Watch: pidfds unless noPidfd (then /proc is polled every pollEvery).
	noPidfd   bool
	pollEvery time.Duration

	mu       sync.Mutex
	lastFull time.Time     // last full /proc scan
	watched  []procID      // matched by the latest run
	changed  chan struct{} // closed and replaced when watched changes
	wake     func()        // called too when watched changes (a Watch's)
	// The texts of the last run that found processes, and which: a run
	// finding the same ones reuses them instead of formatting again.
	textsFor []procID
	texts    *rendered
}

// ValidateProcess checks the keys of a type process check at path.
func ValidateProcess(cfg config.Check, path string) []error {
	var errs []error
	if cfg.Process == "" && cfg.Cmdline == "" && cfg.Pidfile == "" {
		errs = append(errs, fmt.Errorf("%s.process: one of process, cmdline or pidfile is required for type process", path))
	}
	if cfg.Process != "" && strings.TrimSpace(cfg.Process) != cfg.Process {
		errs = append(errs, fmt.Errorf("%s.process: %q has leading or trailing spaces", path, cfg.Process))
	}
	if cfg.Cmdline != "" {
		if _, err := regexp.Compile(cfg.Cmdline); err != nil {
			errs = append(errs, fmt.Errorf("%s.cmdline: %w", path, err))
		}
	}
	if cfg.Pidfile != "" && !filepath.IsAbs(cfg.Pidfile) {
		errs = append(errs, fmt.Errorf("%s.pidfile: must be an absolute path, got %q", path, cfg.Pidfile))
	}
	if cfg.MinCount < 0 {
		errs = append(errs, fmt.Errorf("%s.min_count: must not be negative", path))
	}
	if cfg.MaxCount < 0 {
		errs = append(errs, fmt.Errorf("%s.max_count: must not be negative (0 = no maximum)", path))
	}
	if cfg.MaxCount > 0 && cfg.MaxCount < max(cfg.MinCount, 1) {
		errs = append(errs, fmt.Errorf("%s.max_count: %d is below min_count %d", path, cfg.MaxCount, max(cfg.MinCount, 1)))
	}
	return append(errs, ValidateTemplates(cfg, path, processFields)...)
}

// NewProcess builds a type process check. A process matches process: NAME
// when its name (/proc/PID/comm) is NAME, like pgrep -x. The kernel keeps
// only 15 bytes of a name, so for a longer NAME a comm equal to its first
// 15 bytes matches when the base name of argv[0] (or of argv[1], a script
// run by its interpreter) is NAME; pgrep -x finds nothing there. Only comm
// is read for other processes, which keeps a scan at one small read per
// process.
// cmdline: is a regular expression on the command line (arguments joined by
// spaces, like pgrep -f); pidfile: reads one PID from a file. Set together,
// all must hold. Zombies and munja itself never count. The check fails
// when fewer than min_count (default 1) or more than max_count (0 = no
// limit) match. It is a Watcher: the exit of a matched process is reported
// at once through a pidfd.
func NewProcess(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateProcess(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &processCheck{
		t: t, label: cfg.Name, process: cfg.Process, pidfile: cfg.Pidfile,
		min: max(cfg.MinCount, 1), max: cfg.MaxCount, timeout: cfg.Timeout.D(),
		proc: defaultProc, self: os.Getpid(), pollEvery: 500 * time.Millisecond,
		changed: make(chan struct{}),
	}
	if cfg.Process != "" {
		c.label = cfg.Process
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if cfg.Cmdline != "" {
		c.cmdline = regexp.MustCompile(cfg.Cmdline)
	}
	return c, nil
}

func (c *processCheck) Name() string { return c.t.Name() }

// Run counts the matching processes.
func (c *processCheck) Run(ctx context.Context) Result {
	start := time.Now()
	var ids []procID
	var err error
	reason := ""
	switch {
	case c.pidfile != "":
		ids, err = c.fromPidfile()
		reason = reasonOf(err, fmt.Sprintf("PID 파일을 읽을 수 없습니다 (%s)", c.pidfile), c.pidfile)
	default:
		if ids = c.stillAlive(); ids == nil {
			ids, err = c.scan(ctx)
			reason = procReason(err)
			c.mu.Lock()
			c.lastFull = time.Now()
			c.mu.Unlock()
		}
	}
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck(reason, err, c.fields(ids)))
	}
	c.setWatched(ids)
	return c.t.resultOf(start, c.textsOf(ids))
}

func (c *processCheck) fields(ids []procID) map[string]any {
	return map[string]any{"Process": c.label, "Count": len(ids), "Min": c.min, "Max": c.max, "PIDs": pidsOf(ids)}
}

// textsOf renders the texts for finding ids, or reuses the last run's when
// it found the same processes (the texts depend on nothing else).
func (c *processCheck) textsOf(ids []procID) rendered {
	c.mu.Lock()
	if c.texts != nil && slices.Equal(c.textsFor, ids) {
		r := *c.texts
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	r := c.t.renderOutcome(c.outcome(len(ids), c.fields(ids)))
	c.mu.Lock()
	c.textsFor, c.texts = ids, &r
	c.mu.Unlock()
	return r
}

func (c *processCheck) outcome(n int, fields map[string]any) Outcome {
	o := Outcome{OK: true, Fields: fields}
	what, whatKo := c.describe(), c.describeKo()
	counted := c.min > 1 || c.max > 0
	o.Resolved = fmt.Sprintf("[복구] %s 프로세스가 다시 동작합니다.", c.label)
	if counted {
		o.Resolved = fmt.Sprintf("[복구] %s 프로세스 수가 정상입니다 (%d개).", c.label, n)
	}
	switch {
	case n == 0:
		o.OK = false
		o.Detail = fmt.Sprintf("no process %s (0 < min %d)", what, c.min)
		o.DetailKo = fmt.Sprintf("%s 프로세스 없음 (0개, 최소 %d개)", whatKo, c.min)
		o.Firing = fmt.Sprintf("[경고] %s 프로세스가 동작하지 않습니다.", c.label)
	case n < c.min:
		o.OK = false
		o.Detail = fmt.Sprintf("%d processes %s (< min %d): pids %v", n, what, c.min, fields["PIDs"])
		o.DetailKo = fmt.Sprintf("%s 프로세스 %d개 (최소 %d개): PID %v", whatKo, n, c.min, fields["PIDs"])
		o.Firing = fmt.Sprintf("[경고] %s 프로세스 수가 부족합니다 (%d개, 최소 %d개).", c.label, n, c.min)
	case c.max > 0 && n > c.max:
		o.OK = false
		o.Detail = fmt.Sprintf("%d processes %s (> max %d): pids %v", n, what, c.max, fields["PIDs"])
		o.DetailKo = fmt.Sprintf("%s 프로세스 %d개 (최대 %d개): PID %v", whatKo, n, c.max, fields["PIDs"])
		o.Firing = fmt.Sprintf("[경고] %s 프로세스 수가 너무 많습니다 (%d개, 최대 %d개).", c.label, n, c.max)
	default:
		o.Detail = fmt.Sprintf("%d processes %s: pids %v", n, what, fields["PIDs"])
		o.DetailKo = fmt.Sprintf("%s 프로세스 %d개 동작 중: PID %v", whatKo, n, fields["PIDs"])
	}
	return o
}

func (c *processCheck) describe() string {
	var parts []string
	if c.pidfile != "" {
		parts = append(parts, "from pidfile "+c.pidfile)
	}
	if c.process != "" {
		parts = append(parts, "named "+c.process)
	}
	if c.cmdline != nil {
		parts = append(parts, "matching /"+c.cmdline.String()+"/")
	}
	return strings.Join(parts, " ")
}

// describeKo names what the check looks for in Korean, before "프로세스":
// the process name, else the command line pattern or the pidfile.
func (c *processCheck) describeKo() string {
	switch {
	case c.process != "":
		return c.process
	case c.cmdline != nil:
		return "명령줄이 /" + c.cmdline.String() + "/에 맞는"
	}
	return "PID 파일(" + c.pidfile + ")의"
}

func pidsOf(ids []procID) []int {
	pids := make([]int, len(ids))
	for i, id := range ids {
		pids[i] = id.pid
	}
	return pids
}

// scanBufs are per-scan read buffers (scans may run concurrently: the
// interval run and a Watch-triggered run).
type scanBufs struct {
	comm, cmdline, stat []byte
}

func newScanBufs() *scanBufs {
	return &scanBufs{comm: make([]byte, 64), cmdline: make([]byte, 32<<10), stat: make([]byte, 1024)}
}

// scan walks /proc once. Only comm is read for most processes when
// matching by name; cmdline is read when comm does not decide.
func (c *processCheck) scan(ctx context.Context) ([]procID, error) {
	dir, err := os.Open(c.proc)
	if err != nil {
		return nil, fmt.Errorf("process scan: %w", err)
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, fmt.Errorf("process scan: %w", err)
	}
	b := newScanBufs()
	var ids []procID
	for i, name := range names {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("process scan: %w", ctx.Err())
		}
		pid, ok := atoiPID(name)
		if !ok || pid == c.self {
			continue
		}
		if id, ok := c.match(pid, b); ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b procID) int { return a.pid - b.pid })
	return ids, nil
}

// match reports whether pid is a live (not zombie) process that matches.
// A process that vanishes midway simply does not match.
func (c *processCheck) match(pid int, b *scanBufs) (procID, bool) {
	base := c.proc + "/" + strconv.Itoa(pid)
	var comm, args []byte
	var err error
	if c.process != "" || c.cmdline != nil {
		if comm, err = readSmall(base+"/comm", b.comm); err != nil {
			return procID{}, false
		}
		comm = bytes.TrimSuffix(comm, []byte{'\n'})
	}
	if c.process != "" {
		switch {
		case len(c.process) <= commLen:
			if string(comm) != c.process {
				return procID{}, false
			}
		case string(comm) != c.process[:commLen]:
			return procID{}, false
		default:
			// comm holds the first 15 bytes of a longer name: confirm with
			// argv[0], or argv[1] for a script run by its interpreter.
			if args, err = readSmall(base+"/cmdline", b.cmdline); err != nil {
				return procID{}, false
			}
			if string(argBase(args, 0)) != c.process && string(argBase(args, 1)) != c.process {
				return procID{}, false
			}
		}
	}
	if c.cmdline != nil {
		if args == nil {
			if args, err = readSmall(base+"/cmdline", b.cmdline); err != nil {
				return procID{}, false
			}
		}
		if !c.cmdline.Match(joinArgs(args, comm)) {
			return procID{}, false
		}
	}
	st, err := readSmall(base+"/stat", b.stat)
	if err != nil {
		return procID{}, false
	}
	ps, err := parseStat(st)
	if err != nil || ps.state == 'Z' || ps.state == 'X' {
		return procID{}, false
	}
	return procID{pid: pid, start: ps.start}, true
}

// argBase returns the base name of argument i of a NUL-separated cmdline
// (nil when there is no such argument).
func argBase(cmdline []byte, i int) []byte {
	for ; i > 0; i-- {
		j := bytes.IndexByte(cmdline, 0)
		if j < 0 {
			return nil
		}
		cmdline = cmdline[j+1:]
	}
	if j := bytes.IndexByte(cmdline, 0); j >= 0 {
		cmdline = cmdline[:j]
	}
	if j := bytes.LastIndexByte(cmdline, '/'); j >= 0 {
		cmdline = cmdline[j+1:]
	}
	return cmdline
}

// joinArgs turns a NUL-separated cmdline into the space-separated form
// pgrep -f matches; a kernel thread (empty cmdline) is matched by its name.
func joinArgs(cmdline, comm []byte) []byte {
	cmdline = bytes.TrimRight(cmdline, "\x00")
	if len(cmdline) == 0 {
		return comm
	}
	out := bytes.Clone(cmdline)
	for i, ch := range out {
		if ch == 0 {
			out[i] = ' '
		}
	}
	return out
}

// fromPidfile returns the pidfile's process when it is alive and matches.
// A missing or empty pidfile means the process is not running.
func (c *processCheck) fromPidfile() ([]procID, error) {
	data, err := os.ReadFile(c.pidfile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, nil
	}
	pid, ok := atoiPID(line)
	if !ok {
		return nil, fmt.Errorf("pidfile %s: %q is not a PID", c.pidfile, line)
	}
	if id, ok := c.match(pid, newScanBufs()); ok {
		return []procID{id}, nil
	}
	return nil, nil
}

// fullScanEvery bounds how long the cheap re-check below may stand in for
// a full scan (new matching processes show up in Detail by then).
const fullScanEvery = 30 * time.Second

// stillAlive is the cheap path of Run for checks with only a minimum: when
// every process the last scan found is still the same live process (one
// small read each, instead of reading every process on the host) and they
// are enough, it returns them; otherwise nil, and Run scans /proc. A
// process that ended is caught here or, sooner, by Watch's pidfd.
func (c *processCheck) stillAlive() []procID {
	c.mu.Lock()
	ids, last := c.watched, c.lastFull
	c.mu.Unlock()
	if c.max > 0 || len(ids) < c.min || time.Since(last) > fullScanEvery {
		return nil
	}
	buf := make([]byte, 1024)
	for _, id := range ids {
		if !c.alive(id, buf) {
			return nil
		}
	}
	return ids
}

// setWatched records the processes of the latest run for Watch.
func (c *processCheck) setWatched(ids []procID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.Equal(c.watched, ids) {
		return
	}
	c.watched = ids
	close(c.changed)
	c.changed = make(chan struct{})
	if c.wake != nil {
		c.wake()
	}
}

func (c *processCheck) watching() ([]procID, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.watched, c.changed
}

// alive reports whether id is still the same live process.
func (c *processCheck) alive(id procID, buf []byte) bool {
	st, err := readSmall(c.proc+"/"+strconv.Itoa(id.pid)+"/stat", buf)
	if err != nil {
		return false
	}
	ps, err := parseStat(st)
	return err == nil && ps.start == id.start && ps.state != 'Z' && ps.state != 'X'
}

// pidfdUnsupported reports errors meaning "no pidfd here" (old kernel,
// seccomp filter), after which Watch polls /proc instead.
func pidfdUnsupported(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)
}
