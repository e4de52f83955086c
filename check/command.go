package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/munja-sms/munja/config"
)

// maxOutput is how much of a command's output is kept and matched.
const maxOutput = 64 << 10

// commandFields are the template fields of type command: {{.ExitCode}}
// (-1 when the command was killed or did not start), {{.Output}} (stdout
// and stderr together, trimmed, at most 64 KB) and {{.TimedOut}}.
var commandFields = map[string]any{"ExitCode": 0, "Output": "", "TimedOut": false}

type commandCheck struct {
	t        *Texts
	argv     []string
	shell    string
	exitCode int
	re       *regexp.Regexp
	timeout  time.Duration
}

// ValidateCommand checks the keys of a type command check at path.
func ValidateCommand(cfg config.Check, path string) []error {
	var errs []error
	switch {
	case len(cfg.Command) == 0 && cfg.Shell == "":
		errs = append(errs, fmt.Errorf("%s.command: one of command or shell is required for type command", path))
	case len(cfg.Command) > 0 && cfg.Shell != "":
		errs = append(errs, fmt.Errorf("%s.shell: set either command or shell, not both", path))
	case len(cfg.Command) > 0 && strings.TrimSpace(cfg.Command[0]) == "":
		errs = append(errs, fmt.Errorf("%s.command[0]: the program must not be empty", path))
	}
	if cfg.ExitCode < 0 || cfg.ExitCode > 255 {
		errs = append(errs, fmt.Errorf("%s.exit_code: %d is not an exit status (0-255)", path, cfg.ExitCode))
	}
	if cfg.OutputRegex != "" {
		if _, err := regexp.Compile(cfg.OutputRegex); err != nil {
			errs = append(errs, fmt.Errorf("%s.output_regex: %w", path, err))
		}
	}
	return append(errs, ValidateTemplates(cfg, path, commandFields)...)
}

// ProbeCommand says whether the program of a valid type command check can
// be found on this host now (for munja config check): nil, or an error
// naming the key. A shell: check is not looked into.
func ProbeCommand(_ context.Context, cfg config.Check) error {
	if len(cfg.Command) == 0 {
		return nil
	}
	if _, err := exec.LookPath(cfg.Command[0]); err != nil {
		return fmt.Errorf("command: cannot run %s here: %w", cfg.Command[0], err)
	}
	return nil
}

// NewCommand builds a type command check: it runs command (argv, no shell)
// or shell (through /bin/sh -c) in its own process group with munja's
// environment and no stdin. It passes when the exit status is exit_code
// (default 0) and, if output_regex is set, stdout+stderr (first 64 KB)
// match it. At the timeout the whole process group is killed.
func NewCommand(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateCommand(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &commandCheck{t: t, argv: cfg.Command, shell: cfg.Shell, exitCode: cfg.ExitCode, timeout: cfg.Timeout.D()}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if cfg.OutputRegex != "" {
		c.re = regexp.MustCompile(cfg.OutputRegex)
	}
	return c, nil
}

func (c *commandCheck) Name() string { return c.t.Name() }

func (c *commandCheck) Run(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var cmd *exec.Cmd
	if c.shell != "" {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", c.shell)
	} else {
		cmd = exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	}
	cmd.Env = commandEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Children left holding stdout must not hold the check forever.
	cmd.WaitDelay = time.Second
	out := &cappedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out

	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = nil // the command itself exited; judge its status
	}
	output := strings.TrimSpace(string(out.b))
	fields := map[string]any{"ExitCode": -1, "Output": output, "TimedOut": false}
	o := Outcome{Fields: fields, Resolved: fmt.Sprintf("[복구] %s 명령 점검이 정상입니다.", c.t.Name())}
	failed := func(why, detail, detailKo string) Outcome {
		o.Firing = fmt.Sprintf("[경고] %s 명령 점검 실패 (%s)", c.t.Name(), why)
		o.Detail = detail + outputTail(output)
		o.DetailKo = detailKo + outputTail(output)
		return o
	}

	var exitErr *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && (cmd.ProcessState == nil || !cmd.ProcessState.Exited()):
		fields["TimedOut"] = true
		return c.t.Result(start, failed("시간 초과", fmt.Sprintf("killed after %s", c.timeout),
			fmt.Sprintf("시간 초과: %s 후 강제 종료", DurationKo(c.timeout))))
	case errors.As(err, &exitErr):
		ws, _ := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return c.t.Result(start, failed("signal "+ws.Signal().String(), fmt.Sprintf("killed by signal %s", ws.Signal()),
				fmt.Sprintf("시그널로 종료됨 (%s)", ws.Signal())))
		}
		fields["ExitCode"] = exitErr.ExitCode()
	case err != nil:
		// The command did not start: munja cannot check, which says
		// nothing about what the command would have found.
		return c.t.Result(start, c.t.CannotCheck(c.startReason(err), err, fields))
	default:
		fields["ExitCode"] = 0
	}

	code := fields["ExitCode"].(int)
	if c.shell != "" && code == 127 && c.exitCode != 127 {
		// POSIX shells exit 127 when the command is not found.
		what := notFoundIn(output)
		if what == "" {
			what = c.shell
		}
		return c.t.Result(start, c.t.CannotCheck(ReasonCommandNotFound(what), fmt.Errorf("sh: exit status 127 (command not found)%s", outputTail(output)), fields))
	}
	if code != c.exitCode {
		return c.t.Result(start, failed(fmt.Sprintf("exit %d", code), fmt.Sprintf("exit status %d, want %d", code, c.exitCode),
			fmt.Sprintf("종료 코드 %d (기대 %d)", code, c.exitCode)))
	}
	if c.re != nil && !c.re.MatchString(output) {
		return c.t.Result(start, failed("출력 불일치", fmt.Sprintf("output does not match /%s/", c.re),
			fmt.Sprintf("출력이 /%s/와 맞지 않음", c.re)))
	}
	o.OK = true
	took := time.Since(start)
	o.Detail = fmt.Sprintf("exit status %d in %s", code, took.Round(time.Millisecond)) + outputTail(output)
	o.DetailKo = fmt.Sprintf("종료 코드 %d, %s", code, latencyKo(took)) + outputTail(output)
	return c.t.Result(start, o)
}

// startReason says why the program could not be started.
func (c *commandCheck) startReason(err error) string {
	prog := c.argv[0]
	if c.shell != "" {
		prog = "/bin/sh"
	}
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return ReasonCommandNotFound(prog)
	case errors.Is(err, fs.ErrPermission):
		return ReasonPermission(prog)
	}
	return fmt.Sprintf("명령을 실행할 수 없습니다 (%s)", prog)
}

// notFoundRe finds the command a shell could not find in its message:
// "sh: 1: nope: not found" (dash), "bash: nope: command not found".
var notFoundRe = regexp.MustCompile(`([^\s:]+): (?:command )?not found`)

func notFoundIn(output string) string {
	if m := notFoundRe.FindStringSubmatch(output); m != nil {
		return m[1]
	}
	return ""
}

// outputTail is the end of the output for Detail (the end of a script's
// output usually says why it failed).
func outputTail(output string) string {
	const max = 200
	if output == "" {
		return ""
	}
	if len(output) > max {
		output = "…" + strings.ToValidUTF8(output[len(output)-max:], "")
	}
	return ": " + output
}

// cappedBuffer keeps the first max bytes written and drops the rest while
// still accepting it, so a chatty command is not stopped by a full pipe.
// exec.Cmd writes to it from one goroutine when Stdout == Stderr.
type cappedBuffer struct {
	b   []byte
	max int
}

func (w *cappedBuffer) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// commandEnv is the environment a check command gets: only the variables a
// command needs to run, so secrets munja itself was given (ALIGO_KEY and
// the like, for ${VAR} in the config) never reach check commands.
func commandEnv(env []string) []string {
	keep := map[string]bool{"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "LANG": true,
		"LC_ALL": true, "LC_CTYPE": true, "TZ": true, "TMPDIR": true, "SHELL": true}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if keep[k] {
			out = append(out, kv)
		}
	}
	return out
}
