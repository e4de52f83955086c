package main

// End-to-end tests: they build the real munja binary, run it as a separate
// process against a fake Aligo gateway on 127.0.0.1, and kill it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// munjaBinary builds cmd/munja once per test run.
func munjaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "munja-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "munja")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// writeConfig writes a munja.yaml pointing at the fake gateway.
func writeConfig(t *testing.T, fake *aligotest.Server, extra string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: "127.0.0.1:0"
  trusted_networks: ["127.0.0.1/32"]
  shutdown_timeout: 10s
database: %q
log:
  level: debug
sms:
  sender: %q
  providers:
    - name: aligo
      type: aligo
      user_id: %q
      key: "${TEST_ALIGO_KEY}"
      base_url: %q
      timeout: 5s
  limits:
    per_day: 0
    per_recipient_per_hour: 0
%s`, filepath.Join(dir, "munja.db"), fake.Sender, fake.UserID, fake.URL(), extra)
	path := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	done   chan error
}

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

var addrRe = regexp.MustCompile(`msg="munja serving" addr=(\S+)`)

// startServe runs `munja serve` and waits until it listens.
func startServe(t *testing.T, cfgPath string, key string) *proc {
	t.Helper()
	return startServeBinary(t, munjaBinary(t), cfgPath, "TEST_ALIGO_KEY="+key)
}

// startServeBinary runs bin serve (another build of munja, e.g. the
// packaged one) with env added and waits until it listens.
func startServeBinary(t *testing.T, bin, cfgPath string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("munja stderr:\n%s", p.stderr.String())
		}
	})
	select {
	case p.addr = <-found:
	case err := <-p.done:
		t.Fatalf("munja serve exited: %v\n%s", err, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("munja serve did not start\n%s", p.stderr.String())
	}
	return p
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCrashAndResume kills munja with SIGKILL while it is sending and
// checks that after a restart every accepted message reaches the gateway.
func TestCrashAndResume(t *testing.T) {
	fake := aligotest.New(t)
	fake.SetLatency(150 * time.Millisecond)
	cfg := writeConfig(t, fake, "")
	p := startServe(t, cfg, fake.Key)

	const messages = 40
	want := map[string]bool{}
	var ids []int64
	for i := range messages {
		text := fmt.Sprintf("[경고] 테스트 %02d", i)
		code, body := postJSON(t, "http://"+p.addr+"/api/v1/messages", map[string]any{
			"to": []string{"010-1111-2222", "010-3333-4444"}, "text": text,
		})
		if code != http.StatusAccepted {
			t.Fatalf("POST %d: %d %v", i, code, body)
		}
		ids = append(ids, int64(body["id"].(float64)))
		want[text+"|01011112222"] = true
		want[text+"|01033334444"] = true
	}
	// Kill it mid-dispatch: some calls done, others in flight or queued.
	deadline := time.Now().Add(20 * time.Second)
	for len(gatewayTexts(fake)) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("gateway received nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	before := len(fake.Delivered())
	if before >= 2*messages {
		t.Fatalf("everything was sent before the kill (%d); the test needs a slower gateway", before)
	}
	t.Logf("delivered before SIGKILL: %d of %d", before, 2*messages)

	p2 := startServe(t, cfg, fake.Key)
	deadline = time.Now().Add(60 * time.Second)
	for {
		got := map[string]int{}
		for _, d := range fake.Delivered() {
			got[d.Msg+"|"+d.Receiver]++
		}
		missing := 0
		for k := range want {
			if got[k] == 0 {
				missing++
			}
		}
		if missing == 0 {
			dups := len(fake.Delivered()) - len(want)
			t.Logf("all %d deliveries arrived; %d duplicates (bounded by the batches in flight at the kill)", len(want), dups)
			if dups > 2*4 { // at most Concurrency (4) batches of 2 receivers were in flight
				t.Fatalf("%d duplicates: more than the in-flight batches", dups)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries never arrived after restart", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range ids {
		m := getJSON(t, fmt.Sprintf("http://%s/api/v1/messages/%d", p2.addr, id))
		if m["status"] != "sent" {
			t.Fatalf("message %d status %v", id, m["status"])
		}
	}
	// SIGTERM: clean exit.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p2.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("munja did not stop on SIGTERM")
	}
}

// TestSIGTERMFinishesInFlightCall stops munja while a gateway call is in
// flight: the call completes and is recorded, nothing is left sending.
func TestSIGTERMFinishesInFlightCall(t *testing.T) {
	fake := aligotest.New(t)
	fake.SetLatency(1500 * time.Millisecond)
	cfg := writeConfig(t, fake, "")
	p := startServe(t, cfg, fake.Key)
	code, body := postJSON(t, "http://"+p.addr+"/api/v1/messages", map[string]any{"to": "01011112222", "text": "graceful"})
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, body)
	}
	for len(gatewayTexts(fake)) == 0 { // the /send/ call is in flight (the fake answers after 1.5 s)
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not stop")
	}
	out := runCLI(t, cfg, fake.Key, "", "history", "--limit", "1")
	if !strings.Contains(out.stdout, "sent") || strings.Contains(out.stdout, "sending") {
		t.Fatalf("after SIGTERM the in-flight call was not recorded:\n%s", out.stdout)
	}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, cfg, key, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, munjaBinary(t), append([]string{"--config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), "TEST_ALIGO_KEY="+key)
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(t, cmd)
}

// TestSendWhileServeRuns: `munja send` on the database of a running serve
// leaves dispatching to serve (one dispatcher per SQLite file) and still
// reports the gateway's answer.
func TestSendWhileServeRuns(t *testing.T) {
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	startServe(t, cfg, fake.Key)
	r := runCLI(t, cfg, fake.Key, "", "send", "--to", "01012345678", "serve sends it")
	if r.code != 0 || !strings.Contains(r.stdout, "sent") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(gatewayTexts(fake)); n != 1 {
		t.Fatalf("gateway got %d sends, want 1", n)
	}
}

// runCmd runs a prepared munja command and collects its exit code and output.
func runCmd(t *testing.T, cmd *exec.Cmd) cliResult {
	t.Helper()
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
