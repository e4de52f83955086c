package faults

// The real thing under test: the munja binary, built once, run as
// `munja serve` processes on fixed free ports (so a process killed and
// started again answers at the same address), with a config written per
// test.

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/reliability/report"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain lets the short scenarios run eight at a time unless -parallel
// is given (they wait on real time — a dead replica's claims, outages,
// restarts — far more than they compute: the short package takes some
// 17 CPU seconds), and removes the binary built by munjaBinary at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", "8")
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// shortParallel runs the short version of a scenario beside the others
// (they mostly wait: on timeouts, restarts, outages), so that `make test`
// stays quick; the long version runs alone, so that its timings are its
// own.
func shortParallel(t *testing.T) {
	if !report.Full() {
		t.Parallel()
	}
}

// munjaBinary builds cmd/munja once per test run (only when a scenario
// needs it).
func munjaBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "munja-faults-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "munja")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/munja-sms/munja/cmd/munja").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago:
// server.listen "127.0.0.1:0" would not say from outside which port the
// process took, and a restarted process must answer at the same address.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// conf is what a scenario's munja.yaml differs in.
type conf struct {
	port      int
	database  string   // SQLite path or postgres:// URL
	providers []string // YAML list items (providerYAML)
	perDay    int      // sms.limits.per_day (0 = unlimited)
	perHour   int      // sms.limits.per_recipient_per_hour
	retry     string   // sms.retry block ("" = defaults)
	logLevel  string   // default info
	server    string   // more server: keys, each line indented by two spaces
}

// aligoYAML is an sms.providers entry for a fake gateway, with the fake's
// key written in plain text and the per-call timeout.
func aligoYAML(name string, f *aligotest.Server, timeout string) string {
	return fmt.Sprintf(`    - name: %s
      type: aligo
      user_id: %q
      key: %q
      base_url: %q
      timeout: %s
`, name, f.UserID, f.Key, f.URL(), timeout)
}

// writeConfig writes munja.yaml into dir and returns its path.
func writeConfig(t testing.TB, dir string, c conf) string {
	t.Helper()
	if c.logLevel == "" {
		c.logLevel = "info"
	}
	text := fmt.Sprintf(`server:
  listen: "127.0.0.1:%d"
  trusted_networks: ["127.0.0.1/32"]
  shutdown_timeout: 5s
%sdatabase: %q
log:
  level: %s
sms:
  sender: %q
  providers:
%s  limits:
    per_day: %d
    per_recipient_per_hour: %d
%s`, c.port, c.server, c.database, c.logLevel, aligotest.DefaultSender, strings.Join(c.providers, ""), c.perDay, c.perHour, c.retry)
	path := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server is one `munja serve` that a scenario starts, kills and starts
// again at the same address; out keeps the output of every run.
type server struct {
	t    testing.TB
	name string
	cfg  string
	addr string
	env  []string
	out  *lockedBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the current run's process is gone
	starts int
	kills  int
}

func newServer(t testing.TB, name, cfg string, port int, env ...string) *server {
	s := &server{t: t, name: name, cfg: cfg, addr: fmt.Sprintf("127.0.0.1:%d", port), env: env, out: &lockedBuffer{}}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("munja %s output (last 60 lines):\n%s", s.name, tail(s.out.String(), 60))
		}
	})
	return s
}

// base is the server's URL without a path.
func (s *server) base() string { return "http://" + s.addr }

// start runs `munja serve` and waits until it listens.
func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(munjaBinary(s.t), "serve", "--config", s.cfg)
	cmd.Env = append(os.Environ(), s.env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.starts++
	run := s.starts
	s.mu.Unlock()
	fmt.Fprintf(s.out, "=== %s run %d (pid %d)\n", s.name, run, cmd.Process.Pid)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			s.out.Write([]byte(line + "\n"))
			if strings.Contains(line, `msg="munja serving"`) {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(s.out, "=== %s run %d ended: %v\n", s.name, run, err)
		pw.Close()
		close(exited)
	}()
	select {
	case <-ready:
	case <-exited:
		s.t.Fatalf("munja %s exited while starting:\n%s", s.name, tail(s.out.String(), 40))
	case <-time.After(60 * time.Second):
		s.t.Fatalf("munja %s did not start within 60 s:\n%s", s.name, tail(s.out.String(), 40))
	}
}

// running reports whether the current run's process is alive.
func (s *server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// pid is the current run's process id (0 when none ran).
func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// kill sends SIGKILL and waits for the process to be gone; a no-op when
// it is not running.
func (s *server) kill() {
	s.signal(syscall.SIGKILL, true)
}

// stop sends SIGTERM and waits up to 30 s; it reports whether munja
// stopped by itself (it is killed otherwise).
func (s *server) stop() bool {
	return s.signal(syscall.SIGTERM, false)
}

func (s *server) signal(sig syscall.Signal, count bool) bool {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return true
	}
	select {
	case <-exited:
		return true
	default:
	}
	_ = cmd.Process.Signal(sig)
	if count {
		s.mu.Lock()
		s.kills++
		s.mu.Unlock()
	}
	select {
	case <-exited:
		return true
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return false
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cli runs a munja command (not serve) and returns its exit code and
// output.
type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t testing.TB, cfg string, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, munjaBinary(t), append([]string{"--config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, so.String(), se.String()}
}
