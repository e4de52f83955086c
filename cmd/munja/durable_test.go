package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// TestAcknowledgedIsSynced: `munja send` says "stored" only after the WAL
// holding the message was fsynced, so the acknowledgement survives a power
// cut, not only a kill -9. strace shows the order of the system calls of
// the real process: the WAL written (pwrite), then fsynced, then the
// acknowledgement written to stderr — no WAL write left unsynced at that
// moment.
func TestAcknowledgedIsSynced(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("strace is missing (scripts/test-deps.sh installs it)")
		}
		t.Skip("skipped outside CI: strace is not installed (apt-get install strace)")
	}
	fake := aligotest.New(t)
	cfg := writeConfig(t, fake, "")
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-y", "-e", "trace=fsync,fdatasync,write,pwrite64", "-o", trace,
		munjaBinary(t), "--config", cfg, "send", "--to", "01012345678", "전원이 나가도 남는다")
	cmd.Env = append(os.Environ(), "TEST_ALIGO_KEY="+fake.Key)
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "ptrace") || strings.Contains(string(out), "Operation not permitted") {
			if os.Getenv("CI") == "" {
				t.Skipf("skipped outside CI: strace cannot trace here: %s", out)
			}
		}
		t.Fatalf("munja send under strace: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// With -f a call another thread interrupts is printed in two lines
	// ("fsync(7<…-wal> <unfinished …>" then "<… fsync resumed>"): the call's
	// start is enough, since the commit, and so the acknowledgement, waits
	// for it to end.
	walSync := regexp.MustCompile(`f(data)?sync\(\d+<[^>]*munja\.db-wal>`)
	walWrite := regexp.MustCompile(`pwrite64\(\d+<[^>]*munja\.db-wal>`)
	ack := regexp.MustCompile(`write\(2<[^>]*>, "message \d+ stored`)
	dirty, writes := false, 0
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case walWrite.MatchString(line):
			dirty = true
			writes++
		case walSync.MatchString(line):
			dirty = false
		case ack.MatchString(line):
			if writes == 0 {
				t.Fatalf("no WAL write seen before the acknowledgement:\n%s", raw)
			}
			if dirty {
				t.Fatalf("the message was acknowledged before its WAL was synced:\n%s", raw)
			}
			return
		}
	}
	t.Fatalf("no acknowledgement in the trace:\n%s", raw)
}
