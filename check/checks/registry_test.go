package checks

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
)

func TestTypes(t *testing.T) {
	want := []string{"command", "disk", "heartbeat", "http", "listen", "load", "log", "memory", "process", "tcp"}
	if got := Types(); !slices.Equal(got, want) {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
}

// Every key of config.Check must be usable by some type (a new key nobody
// registers would always be refused), and every registered key must exist.
func TestKeysMatchConfig(t *testing.T) {
	var all []string
	ct := reflect.TypeFor[config.Check]()
	for i := range ct.NumField() {
		key, _, _ := strings.Cut(ct.Field(i).Tag.Get("yaml"), ",")
		all = append(all, key)
	}
	used := map[string]bool{}
	for _, k := range commonKeys {
		used[k] = true
	}
	for typ, k := range registry {
		for _, key := range k.Keys {
			if !slices.Contains(all, key) {
				t.Errorf("type %s registers key %q, which config.Check does not have", typ, key)
			}
			if slices.Contains(commonKeys, key) {
				t.Errorf("type %s registers common key %q", typ, key)
			}
			used[key] = true
		}
	}
	for _, key := range all {
		if !used[key] {
			t.Errorf("config.Check key %q is used by no check type", key)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := []config.Check{
		{Name: "httpd", Type: "process", Process: "httpd"},
		{Name: "web-port", Type: "listen", Port: 80},
		{Name: "db", Type: "tcp", Address: "db:5432", Timeout: config.Duration(3 * time.Second)},
		{Name: "site", Type: "http", URL: "https://example.com/health", Status: []int{200}, CertDays: 14, Severity: "critical"},
		{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory", Window: config.Duration(5 * time.Minute)},
		{Name: "root", Type: "disk", Mount: "/", MaxUsedPct: 90, MinFree: "5GB"},
		{Name: "mem", Type: "memory", MaxUsedPct: 95, Interval: config.Duration(time.Minute)},
		{Name: "load", Type: "load", MaxLoad: 8, LoadPeriod: "5m"},
		{Name: "backup", Type: "command", Shell: "test -f /backup/ok", Recipients: []string{"group:ops"}},
		{Name: "nightly", Type: "heartbeat", Grace: config.Duration(25 * time.Hour), Failures: 2, Successes: 1},
		{Name: "웹서버", Type: "process", Cmdline: "^/usr/sbin/httpd", Message: "[경고] {{.Host}} {{.Process}} {{.Count}}개"},
	}
	if errs := Validate(&config.Config{Checks: valid}); len(errs) > 0 {
		t.Fatalf("valid checks refused: %v", errs)
	}

	known := "command, disk, heartbeat, http, listen, load, log, memory, process, tcp"
	tests := []struct {
		name   string
		checks []config.Check
		want   []string
	}{
		{"port required", []config.Check{{Name: "a", Type: "process", Process: "x"}, {Name: "b", Type: "process", Process: "y"}, {Name: "p", Type: "listen"}},
			[]string{"checks[2].port: required for type listen"}},
		{"unknown type", []config.Check{{Name: "a", Type: "proc", Process: "httpd"}},
			[]string{`checks[0].type: unknown type "proc" (known: ` + known + ")"}},
		{"missing type", []config.Check{{Name: "a"}}, []string{"checks[0].type: required (one of " + known + ")"}},
		{"key of another type", []config.Check{{Name: "a", Type: "process"}, {Name: "b", Type: "process", Process: "httpd", Port: 80}},
			[]string{"checks[0].process: one of process, cmdline or pidfile is required for type process", "checks[1].port: not used by type process"}},
		{"several foreign keys", []config.Check{{Name: "m", Type: "memory", MaxUsedPct: 90, Mount: "/", MinFree: "1G", Grace: config.Duration(time.Minute)}},
			[]string{"checks[0].mount: not used by type memory", "checks[0].min_free: not used by type memory", "checks[0].grace: not used by type memory"}},
		{"name required", []config.Check{{Type: "listen", Port: 22}}, []string{"checks[0].name: required"}},
		{"duplicate name", []config.Check{{Name: "a", Type: "listen", Port: 22}, {Name: "a", Type: "listen", Port: 23}},
			[]string{`checks[1].name: "a" is already used by checks[0]`}},
		{"name with a slash", []config.Check{{Name: "a/b", Type: "listen", Port: 22}},
			[]string{`checks[0].name: "a/b" must not contain spaces, '/' or control characters`}},
		{"severity", []config.Check{{Name: "a", Type: "listen", Port: 22, Severity: "high"}},
			[]string{`checks[0].severity: "high" is not one of info, warning, critical`}},
		{"negative failures", []config.Check{{Name: "a", Type: "listen", Port: 22, Failures: -1}},
			[]string{"checks[0].failures: must not be negative"}},
		{"port range and protocol", []config.Check{{Name: "a", Type: "listen", Port: 70000, Protocol: "sctp"}},
			[]string{"checks[0].port: 70000 is not a port (1-65535)", `checks[0].protocol: "sctp" is not tcp or udp`}},
		{"tcp address", []config.Check{{Name: "a", Type: "tcp", Address: "db"}}, []string{`checks[0].address: "db" is not host:port`}},
		{"http", []config.Check{{Name: "a", Type: "http", URL: "ftp://x", Status: []int{99}, BodyRegex: "("}},
			[]string{`checks[0].url: "ftp://x" is not an http:// or https:// URL`, "checks[0].status[0]: 99 is not an HTTP status", "checks[0].body_regex: "}},
		{"cert_days on http", []config.Check{{Name: "a", Type: "http", URL: "http://x", CertDays: 10}},
			[]string{"checks[0].cert_days: needs an https:// url"}},
		{"process counts", []config.Check{{Name: "a", Type: "process", Process: "x", MinCount: 3, MaxCount: 2}, {Name: "b", Type: "process", Cmdline: "(", Pidfile: "run/x.pid"}},
			[]string{"checks[0].max_count: 2 is below min_count 3", "checks[1].cmdline: ", `checks[1].pidfile: must be an absolute path, got "run/x.pid"`}},
		{"disk", []config.Check{{Name: "a", Type: "disk", Mount: "data"}, {Name: "b", Type: "disk", Mount: "/", MaxUsedPct: 101, MinFree: "lots"}},
			[]string{`checks[0].mount: must be an absolute path, got "data"`, "checks[0].max_used_percent: one of max_used_percent or min_free is required for type disk",
				"checks[1].max_used_percent: 101 is not a percentage (0-100)", `checks[1].min_free: invalid size "lots"`}},
		{"memory and load", []config.Check{{Name: "a", Type: "memory"}, {Name: "b", Type: "load", LoadPeriod: "10m"}},
			[]string{"checks[0].max_used_percent: required for type memory", "checks[1].max_load: required for type load", `checks[1].load_period: "10m" is not 1m, 5m or 15m`}},
		{"command", []config.Check{{Name: "a", Type: "command"}, {Name: "b", Type: "command", Command: []string{"x"}, Shell: "x", ExitCode: 300}},
			[]string{"checks[0].command: one of command or shell is required for type command", "checks[1].shell: set either command or shell, not both", "checks[1].exit_code: 300 is not an exit status (0-255)"}},
		{"heartbeat", []config.Check{{Name: "a", Type: "heartbeat"}}, []string{"checks[0].grace: required for type heartbeat (e.g. 5m)"}},
		{"template field of another type", []config.Check{{Name: "a", Type: "listen", Port: 80, Message: "{{.Process}}"}},
			[]string{`checks[0].message: template: message:1:2: executing "message" at <.Process>: map has no entry for key "Process"`}},
		{"log goes to logcheck", []config.Check{{Name: "l", Type: "log", Journal: true, Port: 80}},
			[]string{"checks[0].port: not used by type log", "checks[0].pattern: required for type log"}},
		{"empty slice is not set", []config.Check{{Name: "a", Type: "listen", Port: 80, Command: []string{}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(&config.Config{Checks: tt.checks})
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors %q, want %d %q", len(errs), errs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestNewAndBuild(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// Listen checks share a sock_diag dump for 50 ms (check.shareFor): one
	// taken by an earlier test (or run, with -count) just before this
	// listener opened would not show it.
	time.Sleep(100 * time.Millisecond)
	cfgs := []config.Check{
		{Name: "port", Type: "listen", Port: port},
		{Name: "addr", Type: "tcp", Address: ln.Addr().String(), Interval: config.Duration(time.Minute), Timeout: config.Duration(2 * time.Second)},
		{Name: "short", Type: "memory", MaxUsedPct: 100, Interval: config.Duration(3 * time.Second)},
	}
	sched, err := Build(cfgs, check.Defaults{Interval: 30 * time.Second, Timeout: 5 * time.Second}, check.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ interval, timeout time.Duration }{{30 * time.Second, 5 * time.Second}, {time.Minute, 2 * time.Second}, {3 * time.Second, 5 * time.Second}}
	for i, s := range sched {
		if s.Interval != want[i].interval || s.Timeout != want[i].timeout {
			t.Errorf("%s: interval %s timeout %s, want %s %s", s.Name(), s.Interval, s.Timeout, want[i].interval, want[i].timeout)
		}
	}
	for i, r := range check.RunOnce(context.Background(), sched) {
		if !r.OK || r.Check != cfgs[i].Name {
			t.Errorf("RunOnce[%d] = %+v", i, r)
		}
	}

	noDefaults, err := Build(cfgs[:1], check.Defaults{}, check.Deps{})
	if err != nil || noDefaults[0].Interval != check.DefaultInterval || noDefaults[0].Timeout != check.DefaultTimeout {
		t.Errorf("built-in defaults: %+v, %v", noDefaults, err)
	}

	_, err = Build([]config.Check{{Name: "x", Type: "listen"}, {Name: "y", Type: "nope"}, {Name: "hb", Type: "heartbeat", Grace: config.Duration(time.Minute)}}, check.Defaults{}, check.Deps{})
	for _, w := range []string{"check x: ", "port: required", `check y: unknown type "nope"`, "check hb: ", "state store"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Build error %v, want %q in it", err, w)
		}
	}
}

func TestUnreadable(t *testing.T) {
	dir := t.TempDir()
	readable := filepath.Join(dir, "messages")
	if err := os.WriteFile(readable, []byte("boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgs := []config.Check{
		{Name: "web-port", Type: "listen", Port: 80},
		{Name: "syslog", Type: "log", Path: readable, Pattern: "x"},
		{Name: "app", Type: "log", Path: filepath.Join(dir, "nope.log"), Pattern: "x"},
		{Name: "job", Type: "command", Command: []string{"/nonexistent/bin/job"}},
		{Name: "fine", Type: "command", Command: []string{"/bin/true"}},
		{Name: "sh", Type: "command", Shell: "anything at all"},
	}
	got := Unreadable(context.Background(), cfgs)
	want := []string{
		"checks[2] (app): path: " + filepath.Join(dir, "nope.log") + " does not exist here",
		`checks[3] (job): command: cannot run /nonexistent/bin/job here: exec: "/nonexistent/bin/job": stat /nonexistent/bin/job: no such file or directory`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Unreadable =\n%q\nwant\n%q", got, want)
	}
}
