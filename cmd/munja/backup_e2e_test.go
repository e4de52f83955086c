package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupWhileAccepting takes `munja backup` while clients keep posting
// messages to a running munja serve: the copy opens as a sound database
// that holds every message acknowledged (202) before the backup started.
func TestBackupWhileAccepting(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "munja.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `server:
  listen: "127.0.0.1:0"
  trusted_networks: ["127.0.0.1/32"]
database: %q
log:
  level: info
sms:
  limits:
    per_day: 0
    per_recipient_per_hour: 0
`, filepath.Join(dir, "munja.db")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, cfg, "")

	var (
		mu    sync.Mutex
		acked []int64 // in order of acknowledgement
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body, _ := json.Marshal(map[string]any{"to": []string{"01012345678"}, "text": fmt.Sprintf("w%d #%d", w, i)})
				resp, err := http.Post("http://"+p.addr+"/api/v1/messages", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				var out struct {
					ID int64 `json:"id"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted || err != nil || out.ID == 0 {
					t.Errorf("POST: %d %v", resp.StatusCode, err)
					return
				}
				mu.Lock()
				acked = append(acked, out.ID)
				mu.Unlock()
			}
		})
	}
	// Let the writes run, then back up in the middle of them.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || t.Failed() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(dir, "copy.db")
	r := runCLI(t, cfg, "", "", "backup", backup)
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	close(stop)
	wg.Wait()
	if r.code != 0 || !strings.Contains(r.stdout, backup) {
		t.Fatalf("munja backup: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("%d messages acknowledged before the backup, %d while it ran", len(before), during)

	db, err := sql.Open("sqlite", "file:"+backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	have := map[int64]bool{}
	rows, err := db.Query(`SELECT id FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	missing := 0
	for _, id := range before {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("the backup lacks %d of the %d messages acknowledged before it started", missing, len(before))
	}
	var deliveries int
	if err := db.QueryRow(`SELECT count(*) FROM deliveries WHERE message_id IN (SELECT id FROM messages)`).Scan(&deliveries); err != nil || deliveries < len(before) {
		t.Errorf("deliveries in the backup = %d (%v), want at least %d", deliveries, err, len(before))
	}

	// A second backup to the same file is refused, the first kept whole.
	if r := runCLI(t, cfg, "", "", "backup", backup); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d\n%s", r.code, r.stderr)
	}
}

// TestBackupPostgresSaysPgDump: munja does not pretend to copy PostgreSQL.
func TestBackupPostgresSaysPgDump(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "munja.yaml")
	if err := os.WriteFile(cfg, []byte("database: \"postgres://munja@127.0.0.1:1/munja\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	code := run(context.Background(), []string{"--config", cfg, "backup", filepath.Join(t.TempDir(), "x")}, strings.NewReader(""), &so, &se)
	if code != 1 || !strings.Contains(se.String(), "pg_dump") {
		t.Fatalf("exit %d, stderr %q", code, se.String())
	}
}

// TestCompletion: both scripts name every command and parse in their shell.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		var so, se bytes.Buffer
		if code := run(context.Background(), []string{"completion", sh}, strings.NewReader(""), &so, &se); code != 0 {
			t.Fatalf("completion %s: exit %d %s", sh, code, se.String())
		}
		for _, c := range commands() {
			if !regexp.MustCompile(`\b` + c.name + `\b`).MatchString(so.String()) {
				t.Errorf("%s completion lacks %s", sh, c.name)
			}
		}
		for _, w := range []string{"--limit", "add passwd list", "bash zsh", "--config"} {
			if !strings.Contains(so.String(), w) {
				t.Errorf("%s completion lacks %q", sh, w)
			}
		}
		if shell, err := exec.LookPath(sh); err == nil {
			f := filepath.Join(t.TempDir(), "c")
			os.WriteFile(f, so.Bytes(), 0o644)
			if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		}
	}
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"completion", "fish"}, strings.NewReader(""), &so, &se); code != 2 {
		t.Errorf("completion fish: exit %d", code)
	}
}
