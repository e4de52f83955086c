package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/agent"
)

var (
	slimOnce sync.Once
	slimPath string
	slimErr  error
)

// slimAgentBinary builds cmd/munja-agent once per test run.
func slimAgentBinary(t *testing.T) string {
	t.Helper()
	slimOnce.Do(func() {
		dir, err := os.MkdirTemp("", "munja-agent-bin-")
		if err != nil {
			slimErr = err
			return
		}
		slimPath = filepath.Join(dir, "munja-agent")
		// As make build-agent builds it: its check templates run on
		// internal/template.
		out, err := exec.Command("go", "build", "-tags", "slimagent", "-o", slimPath, "../munja-agent").CombinedOutput()
		if err != nil {
			slimErr = fmt.Errorf("go build -tags slimagent ../munja-agent: %v\n%s", err, out)
		}
	})
	if slimErr != nil {
		t.Fatal(slimErr)
	}
	return slimPath
}

// reportSink is a fake munja server's report endpoint: the latest result
// of each check and the latest depends_on, per bearer token.
type reportSink struct {
	mu      sync.Mutex
	results map[string]map[string]agent.Result
	depends map[string]map[string][]string
	hosts   map[string]string
}

func newReportSink(t *testing.T) (*reportSink, *httptest.Server) {
	s := &reportSink{results: map[string]map[string]agent.Result{}, depends: map[string]map[string][]string{}, hosts: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != agent.ReportPath || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var rep agent.Report
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		if s.results[tok] == nil {
			s.results[tok] = map[string]agent.Result{}
		}
		for _, x := range rep.Results {
			s.results[tok][x.Check] = x
		}
		s.depends[tok] = rep.DependsOn
		s.hosts[tok] = rep.Host
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

// state is, per check, "ok" or "fail: DETAIL / DETAIL_KO / FIRING" as
// token's agent reported.
func (s *reportSink) state(tok string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for name, r := range s.results[tok] {
		if r.OK {
			out[name] = "ok"
		} else {
			out[name] = "fail: " + r.Detail + " / " + r.DetailKo + " / " + r.Firing
		}
	}
	return out
}

// TestSlimAgentSameAsMunjaAgent: cmd/munja-agent links none of the server
// (no console, database, gateway), reads the same config as munja agent and
// reports the same results, refuses the same wrong set-ups with the same
// words, and stops on SIGTERM.
func TestSlimAgentSameAsMunjaAgent(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "slimagent", "../munja-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, heavy := range []string{"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/munja-sms/munja/console",
		"github.com/munja-sms/munja/store/sqlite", "github.com/munja-sms/munja/store/postgres", "github.com/munja-sms/munja/provider",
		"github.com/munja-sms/munja/app", "github.com/munja-sms/munja/web", "github.com/chromedp", "html/template", "text/template$"} {
		if matchLine(string(out), "^"+heavy) {
			t.Errorf("munja-agent links %s", heavy)
		}
	}
	slim, full := slimAgentBinary(t), munjaBinary(t)
	sFull, _ := os.Stat(full)
	sSlim, _ := os.Stat(slim)
	t.Logf("binary sizes: munja %d bytes, munja-agent %d bytes", sFull.Size(), sSlim.Size())
	if sSlim.Size() > sFull.Size()/2 {
		t.Errorf("munja-agent is %d bytes, more than half of munja's %d", sSlim.Size(), sFull.Size())
	}

	sink, srv := newReportSink(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A port nothing listens on.
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := cl.Addr().String()
	cl.Close()
	dir := t.TempDir()
	proc := decoyName(t)
	decoy := startDecoy(t, dir, proc)
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, cfg, fmt.Sprintf(`host: web07
agent:
  server: %q
  token: "${TEST_AGENT_TOKEN}"
alerting:
  interval: 1s
log:
  level: debug
checks:
  - {name: app, type: process, process: %s, message: "{{.Name}} on {{.Host}}: {{.Process}} count {{.Count}} (min {{.Min}})"}
  - {name: gone, type: process, process: %s}
  - {name: port, type: tcp, address: %q, depends_on: [app]}
  - {name: disk, type: disk, mount: /, max_used_percent: 100}
  - name: closed
    type: tcp
    address: %q
    message: '{{printf "%%T" .Latency}} {{.Latency.Truncate 3600000000000}} {{.Address | printf "%%q"}}'
`, srv.URL, proc, decoyName(t), ln.Addr().String(), closed))

	start := func(bin, tok string, args ...string) (*exec.Cmd, *lockedBuffer, chan error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "TEST_AGENT_TOKEN="+tok)
		var stderr lockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			if t.Failed() {
				t.Logf("%s stderr:\n%s", bin, stderr.String())
			}
		})
		return cmd, &stderr, done
	}
	fullCmd, _, fullDone := start(full, "tok-full", "agent", "--config", cfg)
	slimCmd, _, slimDone := start(slim, "tok-slim", "--config", cfg)

	waitState := func(what string, want func(map[string]string) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			f, s := sink.state("tok-full"), sink.state("tok-slim")
			if want(f) && want(s) {
				if !reflect.DeepEqual(f, s) {
					t.Fatalf("%s: munja agent reported %q, munja-agent %q", what, f, s)
				}
				t.Logf("%s: both reported %q", what, s)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not reported within 20 s: munja agent %q, munja-agent %q", what, f, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitState("running", func(m map[string]string) bool {
		return len(m) == 5 && m["app"] == "ok" && m["port"] == "ok" && m["disk"] == "ok" && strings.HasPrefix(m["gone"], "fail: ") &&
			strings.HasPrefix(m["closed"], "fail: ")
	})
	// A template calling a time.Duration method (internal/template knows
	// time's methods by name).
	if got, want := sink.state("tok-slim")["closed"], fmt.Sprintf(" / time.Duration 0s %q", closed); !strings.HasSuffix(got, want) {
		t.Errorf("closed's message: %q, want it to end %q", got, want)
	}
	sink.mu.Lock()
	if !reflect.DeepEqual(sink.depends["tok-full"], sink.depends["tok-slim"]) || len(sink.depends["tok-slim"]["port"]) != 1 ||
		sink.hosts["tok-full"] != "web07" || sink.hosts["tok-slim"] != "web07" {
		t.Errorf("depends_on %v / %v, hosts %q / %q", sink.depends["tok-full"], sink.depends["tok-slim"], sink.hosts["tok-full"], sink.hosts["tok-slim"])
	}
	sink.mu.Unlock()

	decoy.Process.Kill()
	decoy.Wait()
	waitState("the process died", func(m map[string]string) bool { return strings.HasPrefix(m["app"], "fail: ") })
	// The check's message template, rendered by each agent (munja-agent's
	// on internal/template).
	if got, want := sink.state("tok-slim")["app"], " / app on web07: "+proc+" count 0 (min 1)"; !strings.HasSuffix(got, want) {
		t.Errorf("app's message: %q, want it to end %q", got, want)
	}

	for name, p := range map[string]struct {
		cmd  *exec.Cmd
		done chan error
	}{"munja agent": {fullCmd, fullDone}, "munja-agent": {slimCmd, slimDone}} {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("%s after SIGTERM: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop within 15 s of SIGTERM", name)
		}
	}

	// The same wrong set-ups, refused with the same words.
	for _, bad := range []string{
		"agent: {token: x}\n",
		"agent: {server: \"http://127.0.0.1:1\"}\n",
		"agent: {server: \"http://127.0.0.1:1\", token: x}\nchecks:\n  - {name: hb, type: heartbeat}\n",
		"agent: {server: \"http://127.0.0.1:1\", token: x}\nchecks:\n  - {name: p, type: process}\n",
		"agnet: {}\n",
	} {
		p := filepath.Join(t.TempDir(), "bad.yaml")
		writeFile(t, p, bad)
		f := exec.Command(full, "agent", "--config", p)
		fOut, fErr := f.CombinedOutput()
		s := exec.Command(slim, "--config", p)
		sOut, sErr := s.CombinedOutput()
		fMsg := strings.ReplaceAll(strings.ReplaceAll(string(fOut), "munja agent:", "PROG:"), "munja:", "PROG:")
		sMsg := strings.ReplaceAll(string(sOut), "munja-agent:", "PROG:")
		if f.ProcessState.ExitCode() != 2 || s.ProcessState.ExitCode() != 2 || fMsg != sMsg {
			t.Errorf("config %q:\nmunja agent (%v): %s\nmunja-agent (%v): %s", bad, fErr, fOut, sErr, sOut)
		}
	}

	if out, err := exec.Command(slim, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "munja-agent ") {
		t.Errorf("munja-agent --version: %v %q", err, out)
	}
	if out, err := exec.Command(slim, "--help").Output(); err != nil || !strings.Contains(string(out), "usage: munja-agent [--config FILE]") {
		t.Errorf("munja-agent --help: %v %q", err, out)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
