package check_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// Issue 12: every Result carries a Korean detail beside the English one,
// for the Korean console: every check type, ok, failing and cannot check,
// and the runner's own results (a run past its timeout, a panic).

// kv is a StateStore in memory; fail makes it fail.
type kv struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail bool
}

func (s *kv) GetState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, errors.New("database is locked")
	}
	if v, ok := s.m[key]; ok {
		return v, nil
	}
	return nil, store.ErrNotFound
}

func (s *kv) PutState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("database is locked")
	}
	s.m[key] = value
	return nil
}

func hasHangul(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) >= 0
}

type outcome int

const (
	ok outcome = iota
	failing
	blind // cannot check
)

func (o outcome) String() string { return [...]string{"ok", "failing", "cannot check"}[o] }

func outcomeOf(r check.Result) outcome {
	switch {
	case r.Unknown:
		return blind
	case r.OK:
		return ok
	}
	return failing
}

// decoy runs a copy of sleep under a name of the test's own.
func decoy(t *testing.T) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	name := "mjk" + hex.EncodeToString(b[:])
	src, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return name
}

// fakeProc writes a /proc with the given meminfo and loadavg.
func fakeProc(t *testing.T, meminfo, loadavg string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "meminfo"), []byte(meminfo), 0o644)
	os.WriteFile(filepath.Join(dir, "loadavg"), []byte(loadavg), 0o644)
	return dir
}

func TestEveryResultHasAKoreanDetail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := ln.Addr().(*net.TCPAddr).Port
	gone, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := gone.Addr().(*net.TCPAddr).Port
	gone.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	logPath := filepath.Join(dir, "messages")
	os.WriteFile(logPath, []byte("boot\n"), 0o644)
	// A journalctl that finds a journal and, followed, an "Out of memory".
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "journalctl"), []byte(`#!/bin/sh
case " $* " in *" -f "*) ;; *) echo '{"MESSAGE":"boot","__REALTIME_TIMESTAMP":"1"}'; exit 0;; esac
sleep 0.2
echo '{"MESSAGE":"kernel: Out of memory: Killed process 77","__REALTIME_TIMESTAMP":"1764050401000000"}'
exec sleep 60
`), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	proc := fakeProc(t, "MemTotal: 1000 kB\nMemAvailable: 600 kB\n", "3.20 1.00 0.50 2/100 4242\n")
	name := decoy(t)

	st := &kv{m: map[string][]byte{}}
	broken := &kv{fail: true}
	check.RecordHeartbeat(ctx, st, "backup", time.Now().Add(-time.Minute))
	check.RecordHeartbeat(ctx, st, "nightly", time.Now().Add(-time.Hour))

	type tc struct {
		want  outcome
		cfg   config.Check
		state check.StateStore
		proc  string                              // a fake /proc
		watch func(t *testing.T, c check.Checker) // makes it fail before Run
	}
	cases := map[string]tc{
		"process ok":           {ok, config.Check{Type: "process", Process: name}, nil, "", nil},
		"process down":         {failing, config.Check{Type: "process", Process: name + "x"}, nil, "", nil},
		"process too few":      {failing, config.Check{Type: "process", Process: name, MinCount: 2}, nil, "", nil},
		"process cmdline none": {failing, config.Check{Type: "process", Cmdline: "^" + name + " "}, nil, "", nil},
		"process no /proc":     {blind, config.Check{Type: "process", Process: name}, nil, "/nonexistent", nil},
		"listen ok":            {ok, config.Check{Type: "listen", Port: open}, nil, "", nil},
		"listen closed":        {failing, config.Check{Type: "listen", Port: closed}, nil, "", nil},
		"listen udp closed":    {failing, config.Check{Type: "listen", Port: closed, Protocol: "udp"}, nil, "", nil},
		"listen no /proc":      {blind, config.Check{Type: "listen", Port: open}, nil, "/nonexistent", nil},
		"tcp ok":               {ok, config.Check{Type: "tcp", Address: ln.Addr().String()}, nil, "", nil},
		"tcp refused":          {failing, config.Check{Type: "tcp", Address: fmt.Sprintf("127.0.0.1:%d", closed)}, nil, "", nil},
		"http ok":              {ok, config.Check{Type: "http", URL: srv.URL}, nil, "", nil},
		"http 503":             {failing, config.Check{Type: "http", URL: srv.URL + "/down", Status: []int{200}}, nil, "", nil},
		"http body":            {failing, config.Check{Type: "http", URL: srv.URL, BodyContains: "healthy"}, nil, "", nil},
		"http refused":         {failing, config.Check{Type: "http", URL: fmt.Sprintf("http://127.0.0.1:%d/", closed)}, nil, "", nil},
		"log ok":               {ok, config.Check{Type: "log", Path: logPath, Pattern: "Out of memory"}, st, "", nil},
		"log missing":          {blind, config.Check{Type: "log", Path: logPath + ".gone", Pattern: "Out of memory"}, st, "", nil},
		"journal ok":           {ok, config.Check{Type: "log", Journal: true, Pattern: "segfault"}, st, "", nil},
		"disk ok":              {ok, config.Check{Type: "disk", Mount: "/", MaxUsedPct: 100}, nil, "", nil},
		"disk full":            {failing, config.Check{Type: "disk", Mount: "/", MinFree: "1000000TB"}, nil, "", nil},
		"disk over percent":    {failing, config.Check{Type: "disk", Mount: dir, MaxUsedPct: 0.001}, nil, "", nil},
		"disk missing":         {blind, config.Check{Type: "disk", Mount: "/nonexistent/mount", MaxUsedPct: 90}, nil, "", nil},
		"memory ok":            {ok, config.Check{Type: "memory", MaxUsedPct: 90}, nil, proc, nil},
		"memory high":          {failing, config.Check{Type: "memory", MaxUsedPct: 30}, nil, proc, nil},
		"memory no /proc":      {blind, config.Check{Type: "memory", MaxUsedPct: 90}, nil, "/nonexistent", nil},
		"load ok":              {ok, config.Check{Type: "load", MaxLoad: 8}, nil, proc, nil},
		"load high":            {failing, config.Check{Type: "load", MaxLoad: 0.5, LoadPeriod: "5m"}, nil, proc, nil},
		"load no /proc":        {blind, config.Check{Type: "load", MaxLoad: 8}, nil, "/nonexistent", nil},
		"command ok":           {ok, config.Check{Type: "command", Command: []string{"true"}}, nil, "", nil},
		"command exit":         {failing, config.Check{Type: "command", Shell: "echo broken; exit 2"}, nil, "", nil},
		"command output":       {failing, config.Check{Type: "command", Shell: "echo nope", OutputRegex: "^ok"}, nil, "", nil},
		"command timeout":      {failing, config.Check{Type: "command", Command: []string{"sleep", "5"}, Timeout: config.Duration(200 * time.Millisecond)}, nil, "", nil},
		"command signal":       {failing, config.Check{Type: "command", Shell: "kill -9 $$"}, nil, "", nil},
		"command not found":    {blind, config.Check{Type: "command", Command: []string{"/nonexistent/pg_isready"}}, nil, "", nil},
		"heartbeat ok":         {ok, config.Check{Type: "heartbeat", Grace: config.Duration(5 * time.Minute)}, st, "", nil},
		"heartbeat late":       {failing, config.Check{Type: "heartbeat", Grace: config.Duration(5 * time.Minute)}, st, "", nil},
		"heartbeat never":      {ok, config.Check{Type: "heartbeat", Grace: config.Duration(5 * time.Minute)}, st, "", nil},
		"heartbeat store down": {blind, config.Check{Type: "heartbeat", Grace: config.Duration(5 * time.Minute)}, broken, "", nil},
		"log match": {failing, config.Check{Type: "log", Path: logPath, Pattern: "Out of memory", Window: config.Duration(90 * time.Second)}, st, "",
			func(t *testing.T, c check.Checker) {
				watchUntilFailing(t, c, func() {
					f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
					fmt.Fprintln(f, "kernel: Out of memory: Killed process 4242 (java)")
					f.Close()
				})
			}},
		"journal match": {failing, config.Check{Type: "log", Journal: true, Pattern: "Out of memory"}, st, "",
			func(t *testing.T, c check.Checker) { watchUntilFailing(t, c, func() {}) }},
	}
	names := map[string]string{"heartbeat ok": "backup", "heartbeat late": "nightly", "heartbeat never": "weekly"}
	for label, tt := range cases {
		t.Run(label, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Name = names[label]
			if cfg.Name == "" {
				cfg.Name = strings.ReplaceAll(label, " ", "-")
			}
			c, err := checks.New(cfg, check.Defaults{Interval: time.Second}, check.Deps{State: tt.state})
			if err != nil {
				t.Fatal(err)
			}
			if tt.proc != "" {
				check.SetProc(c, tt.proc)
			}
			if tt.watch != nil {
				tt.watch(t, c)
			}
			r := c.Run(ctx)
			if got := outcomeOf(r); got != tt.want {
				t.Fatalf("%s, want %s: %+v", got, tt.want, r)
			}
			if r.Detail == "" || !hasHangul(r.DetailKo) {
				t.Fatalf("Detail %q, DetailKo %q: want both, the second in Korean", r.Detail, r.DetailKo)
			}
			t.Logf("%s\n  en: %s\n  ko: %s", outcomeOf(r), r.Detail, r.DetailKo)
		})
	}
}

// TestDetailKoTemplateField: a check's message template may show the
// Korean detail; {{.Detail}} stays English.
func TestDetailKoTemplateField(t *testing.T) {
	cfg := config.Check{Name: "web", Type: "process", Process: "mjk-none-at-all",
		Message: "[경고] {{.Name}}: {{.DetailKo}} / {{.Detail}}"}
	if errs := check.ValidateProcess(cfg, "checks[0]"); len(errs) > 0 {
		t.Fatal(errs)
	}
	c, err := check.NewProcess(cfg, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run(context.Background())
	if want := "[경고] web: mjk-none-at-all 프로세스 없음 (0개, 최소 1개) / no process named mjk-none-at-all (0 < min 1)"; r.Firing != want {
		t.Errorf("Firing = %q, want %q", r.Firing, want)
	}
}

// watchUntilFailing runs c's Watch, calls act, and waits until Run fails.
func watchUntilFailing(t *testing.T, c check.Checker, act func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.(check.Watcher).Watch(ctx, func(check.Result) {})
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(300 * time.Millisecond) // following
	act()
	for deadline := time.Now().Add(10 * time.Second); c.Run(context.Background()).OK; {
		if time.Now().After(deadline) {
			t.Fatal("never failed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stuck is a check that ignores its deadline, or panics.
type stuck struct{ panics bool }

func (stuck) Name() string { return "stuck" }

func (s stuck) Run(ctx context.Context) check.Result {
	if s.panics {
		panic("nil map")
	}
	time.Sleep(1500 * time.Millisecond)
	return check.Result{OK: true}
}

func TestRunnerResultsHaveAKoreanDetail(t *testing.T) {
	res := check.RunOnce(context.Background(), []check.Scheduled{
		{Checker: stuck{}, Interval: time.Second, Timeout: 10 * time.Millisecond},
		{Checker: stuck{panics: true}, Interval: time.Second},
	})
	overdue, panicked := res[0], res[1]
	if overdue.OK || overdue.Unknown || !hasHangul(overdue.DetailKo) || overdue.Detail == "" {
		t.Errorf("overdue run: %+v", overdue)
	}
	if !panicked.Unknown || !hasHangul(panicked.DetailKo) || !strings.Contains(panicked.DetailKo, "nil map") {
		t.Errorf("panicked run: %+v", panicked)
	}
	t.Logf("overdue: %s\npanicked: %s", overdue.DetailKo, panicked.DetailKo)
}

func TestDurationKo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5분", 90 * time.Second: "1분 30초", 90 * time.Minute: "1시간 30분",
		48 * time.Hour: "2일", 6 * time.Second: "6초", 850 * time.Millisecond: "850ms", time.Microsecond: "0초",
		26*time.Hour + time.Second: "1일 2시간 1초",
	} {
		if got := check.DurationKo(d); got != want {
			t.Errorf("DurationKo(%s) = %q, want %q", d, got, want)
		}
	}
}
