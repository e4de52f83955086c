package check

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
)

// TestProcessTextsFollowProcesses: texts are kept while a run finds the
// same processes and rendered again when they change.
func TestProcessTextsFollowProcesses(t *testing.T) {
	name := uniq("tx")
	c := newProcessT(t, config.Check{Name: "svc", Process: name, MinCount: 2,
		Message:  "{{.Process}} {{.Count}} {{.PIDs}} {{.Detail}}",
		Resolved: "ok {{.Count}} {{.PIDs}}"})
	a := startNamed(t, name, "")
	r1 := c.Run(context.Background())
	if r1.OK || r1.Firing != fmt.Sprintf("%s 1 [%d] %s", name, a.Process.Pid, r1.Detail) {
		t.Fatalf("one of two: %+v", r1)
	}
	if r := c.Run(context.Background()); r.Firing != r1.Firing || r.Resolved != r1.Resolved || r.Detail != r1.Detail {
		t.Fatalf("same processes, other texts: %+v then %+v", r1, r)
	}
	b := startNamed(t, name, "")
	r2 := c.Run(context.Background())
	lo, hi := min(a.Process.Pid, b.Process.Pid), max(a.Process.Pid, b.Process.Pid)
	if !r2.OK || r2.Firing != "" || r2.Resolved != fmt.Sprintf("ok 2 [%d %d]", lo, hi) {
		t.Fatalf("two of two: %+v", r2)
	}
	stop(a)
	r3 := c.Run(context.Background())
	if r3.OK || r3.Firing != fmt.Sprintf("%s 1 [%d] %s", name, b.Process.Pid, r3.Detail) || !strings.Contains(r3.Detail, fmt.Sprint(b.Process.Pid)) {
		t.Fatalf("after one exited: %+v", r3)
	}
}

// TestProcessTemplateRenderedOncePerState: a template that fails at run
// time is only tried (and logged) when what the check finds changes.
func TestProcessTemplateRenderedOncePerState(t *testing.T) {
	name := uniq("tf")
	var logs bytes.Buffer
	cfg := config.Check{Name: "svc", Type: "process", Process: name,
		Resolved: "{{if .Count}}{{index .PIDs 5}}{{end}}"} // valid, fails with a process
	chk, err := NewProcess(cfg, Deps{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := chk.(*processCheck)
	startNamed(t, name, "")
	for range 5 {
		r := c.Run(context.Background())
		if want := fmt.Sprintf("[복구] %s 프로세스가 다시 동작합니다.", name); !r.OK || r.Resolved != want {
			t.Fatalf("resolved = %q (ok %v), want the default %q", r.Resolved, r.OK, want)
		}
	}
	if n := strings.Count(logs.String(), "check template failed"); n != 1 {
		t.Errorf("template failure logged %d times over 5 runs with the same process, want 1:\n%s", n, logs.String())
	}
}

// BenchmarkProcessSteady is a run that finds the same process as the last
// one (the common case: cheap re-check, texts reused).
func BenchmarkProcessSteady(b *testing.B) {
	name := uniq("bs")
	startNamed(b, name, "")
	chk, err := NewProcess(config.Check{Name: "bench", Type: "process", Process: name}, Deps{})
	if err != nil {
		b.Fatal(err)
	}
	c := chk.(*processCheck)
	if !c.Run(context.Background()).OK {
		b.Fatal("process not found")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !c.Run(context.Background()).OK {
			b.Fatal("process lost")
		}
	}
}
