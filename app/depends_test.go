package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

// TestDependsOnOnePage: a process check depends on a port check (listen)
// on a real socket. The process exits and the port closes: only the port's
// alert is sent (through the dryrun provider, read back from history), the
// process check shows suppressed_by in the API; when the port opens again
// while the process is still down, the process's alert goes out then.
// On SQLite, and on PostgreSQL when a test server is reachable.
func TestDependsOnOnePage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dependsOnOnePage(t, filepath.Join(t.TempDir(), "munja.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dependsOnOnePage(t, postgresSchema(t))
	})
}

func dependsOnOnePage(t *testing.T, database string) {
	dir := t.TempDir()
	proc := decoyProcess(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	port := ln.Addr().(*net.TCPAddr).Port

	cfg := config.Default()
	cfg.Database = database
	cfg.Host = "depends-test"
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TrustedNetworks = []string{"127.0.0.0/8"}
	cfg.Alerting.Interval = config.Duration(time.Second)
	cfg.Alerting.Recipients = []string{"010-1234-5678"}
	cfg.Checks = []config.Check{
		{Name: "app", Type: "process", Process: proc.name, DependsOn: []string{"web-port"}},
		{Name: "web-port", Type: "listen", Port: port},
	}
	noErr(t, cfg.Validate(validateChecks))
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	t.Cleanup(func() { a.Close() })
	noErr(t, a.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})

	checks := func() map[string]apiCheck {
		resp, err := http.Get("http://" + a.Addr() + "/api/v1/checks")
		noErr(t, err)
		defer resp.Body.Close()
		var body struct{ Checks []apiCheck }
		if resp.StatusCode != http.StatusOK {
			return nil // the monitor is starting (PostgreSQL: until it leads)
		}
		noErr(t, json.NewDecoder(resp.Body).Decode(&body))
		out := map[string]apiCheck{}
		for _, c := range body.Checks {
			out[c.Check] = c
		}
		return out
	}
	waitFor(t, 20*time.Second, "both checks ok", func() bool {
		c := checks()
		return c["app"].State == "ok" && c["web-port"].State == "ok"
	})

	// The process exits (seen at once, through its pidfd), and the port
	// it served closes (seen at the port check's next run). The kernel
	// closes an exiting process's sockets before its pidfd says it is
	// gone, so the port goes first here too: stopping the process first
	// let a port check run in between find the port still open, and the
	// process page (PostgreSQL run in CI, once).
	noErr(t, ln.Close())
	proc.stop()
	portDown := fmt.Sprintf("[경고] %d 포트가 열려있지 않습니다.", port)
	appDown := "[경고] " + proc.name + " 프로세스가 동작하지 않습니다."
	waitFor(t, 15*time.Second, "the port's alert", func() bool { return slices.Contains(alertTexts(t, a), portDown) })
	waitFor(t, 10*time.Second, "app held by web-port", func() bool {
		c := checks()["app"]
		return c.State == "firing" && slices.Equal(c.SuppressedBy, []string{"web-port"})
	})
	// Longer than the port check's interval and timeout (what a first
	// alert waits for its dependency), and a few check intervals.
	time.Sleep(6 * time.Second)
	if got := alertTexts(t, a); !slices.Equal(got, []string{portDown}) {
		t.Fatalf("alerts sent %q, want only the port's", got)
	}
	incs := incidentsOf(t, a)
	if inc := incs["app"]; !slices.Equal(inc.SuppressedBy, []string{"web-port"}) || inc.SentCount != 0 {
		t.Errorf("app's incident %+v, want held by web-port, nothing sent", inc)
	}

	// The port opens again, the process is still down: its alert goes
	// out now (the root cause paged first).
	ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	noErr(t, err)
	t.Cleanup(func() { ln2.Close() })
	portUp := fmt.Sprintf("[복구] %d 포트가 다시 열렸습니다.", port)
	waitFor(t, 15*time.Second, "the port's recovery and the process's alert", func() bool {
		got := alertTexts(t, a)
		return slices.Contains(got, portUp) && slices.Contains(got, appDown)
	})
	if got := alertTexts(t, a); len(got) != 3 || got[0] != portDown {
		t.Errorf("alerts sent %q, want the port's alert, then its recovery and the process's alert", got)
	}
	if c := checks()["app"]; c.State != "firing" || len(c.SuppressedBy) != 0 {
		t.Errorf("app after the port recovered: %+v", c)
	}
}

type apiCheck struct {
	Check        string   `json:"check"`
	State        string   `json:"state"`
	SuppressedBy []string `json:"suppressed_by"`
}

type apiIncident struct {
	Check        string   `json:"check"`
	SuppressedBy []string `json:"suppressed_by"`
	SentCount    int      `json:"sent_count"`
}

// incidentsOf returns the open incidents by check, through the API.
func incidentsOf(t *testing.T, a *App) map[string]apiIncident {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/api/v1/incidents")
	noErr(t, err)
	defer resp.Body.Close()
	var body struct{ Incidents []apiIncident }
	noErr(t, json.NewDecoder(resp.Body).Decode(&body))
	out := map[string]apiIncident{}
	for _, inc := range body.Incidents {
		out[inc.Check] = inc
	}
	return out
}

// alertTexts returns the texts of the alert messages in history, oldest
// first, one line each (a grouped message counts its lines).
func alertTexts(t *testing.T, a *App) []string {
	t.Helper()
	ms := alertMessages(t, a)
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		out = append(out, strings.Split(ms[i].Text, "\n")...)
	}
	return out
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// decoy is a running copy of sleep under a name of the test's own (never
// httpd: the test must not depend on what else runs on the machine).
type decoy struct {
	name string
	cmd  *exec.Cmd
}

func decoyProcess(t *testing.T, dir string) *decoy {
	t.Helper()
	var b [4]byte
	_, err := rand.Read(b[:])
	noErr(t, err)
	name := "mjd" + hex.EncodeToString(b[:])
	src, err := os.ReadFile("/bin/sleep")
	noErr(t, err)
	bin := filepath.Join(dir, name)
	noErr(t, os.WriteFile(bin, src, 0o755))
	cmd := exec.Command(bin, "3600")
	noErr(t, cmd.Start())
	d := &decoy{name: name, cmd: cmd}
	t.Cleanup(d.stop)
	return d
}

func (d *decoy) stop() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}
