package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// crashDBEnv names the database the crash child writes to. It is read only
// by TestCrashChild, which the parent test runs in a child process.
const crashDBEnv = "MUNJA_SQLITE_CRASH_DB"

// TestKill9KeepsAcknowledged runs a child process that creates messages and
// prints each ID once CreateMessage returned, kills it with SIGKILL mid-run
// and checks that every acknowledged message is in the file.
func TestKill9KeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "munja.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(acked) < 50 {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			continue // test framework chatter
		}
		acked = append(acked, id)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error is expected
	if len(acked) < 50 {
		t.Fatalf("child acknowledged only %d messages before it stopped", len(acked))
	}

	db := openTemp(t, path)
	defer db.Close()
	for _, id := range acked {
		m, err := db.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatalf("acknowledged message %d lost after kill -9: %v", id, err)
		}
		if len(m.Deliveries) != 1 || m.Deliveries[0].Status != sms.StatusQueued {
			t.Errorf("message %d after kill -9: %+v", id, m.Deliveries)
		}
	}
	if n, err := db.CountDeliveriesSince(t.Context(), time.Time{}, ""); err != nil || n < len(acked) {
		t.Errorf("deliveries after kill -9 = %d, %v; want at least %d", n, err, len(acked))
	}
}

// TestCrashChild is the child process of TestKill9KeepsAcknowledged; it does
// nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("child process of TestKill9KeepsAcknowledged")
	}
	db, err := Open(context.Background(), path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		m := &sms.Message{Text: fmt.Sprint("crash ", i), Kind: sms.KindSMS, Deliveries: []sms.Delivery{{Phone: "01012345678"}}}
		if err := db.CreateMessage(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(w, m.ID)
		w.Flush()
	}
}

var _ store.Store = (*DB)(nil)
