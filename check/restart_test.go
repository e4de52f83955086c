package check

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store/sqlite"
)

// Issue 12: a heartbeat's last ping, and when a never-pinged heartbeat
// started waiting, survive a restart (a check built anew on the same
// store).
func TestHeartbeatSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := &fakeClock{t: time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)}
	build := func(name string) Checker {
		c, err := NewHeartbeat(config.Check{Name: name, Type: "heartbeat", Grace: config.Duration(5 * time.Minute)},
			Deps{State: db, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run := func(c Checker, ok bool, detail string) {
		t.Helper()
		r := c.Run(ctx)
		if r.OK != ok || !strings.Contains(r.Detail, detail) {
			t.Fatalf("at %s: %+v, want ok %v and %q", clock.Now().Format("15:04"), r, ok, detail)
		}
	}

	// Pinged, then restarted: the ping counts.
	pinged := build("backup")
	if err := RecordHeartbeat(ctx, db, "backup", clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Never pinged: waits from its first run, across restarts.
	silent := build("nightly")
	run(silent, true, "no ping since the check started 0s ago")
	clock.Add(4 * time.Minute)
	run(pinged, true, "last ping 2026-11-25T14:03:00Z, 4m ago")

	pinged, silent = build("backup"), build("nightly") // munja restarts
	run(pinged, true, "4m ago")
	run(silent, true, "started 4m ago")
	clock.Add(2 * time.Minute)
	run(pinged, false, "last ping 2026-11-25T14:03:00Z, 6m ago")
	run(silent, false, "no ping since the check started 6m ago")
}
