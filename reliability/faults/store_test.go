package faults

// Scenario 4: the store fails under munja — a SQLite database that turns
// read-only, a disk that fills up, PostgreSQL ending munja's connections.
// Nothing may be acknowledged that is not stored; what was acknowledged is
// delivered once the store is back.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/reliability/report"
)

// quickRetry makes a failed delivery come back within a second, so a
// scenario that fails the gateway on purpose does not wait out the 2 s … 5 m
// backoff.
const quickRetry = `  retry:
    initial: 200ms
    max: 1s
`

// health is one GET /healthz.
type health struct {
	code   int
	Status string `json:"status"`
	Error  string `json:"error"`
}

func healthz(s *server) health {
	var h health
	h.code = getJSON(s.base()+"/healthz", "", &h)
	return h
}

// waitHealth polls /healthz until ok says yes or timeout; it returns the
// last answer and how long it took.
func waitHealth(s *server, timeout time.Duration, ok func(health) bool) (health, time.Duration, bool) {
	start := time.Now()
	for {
		h := healthz(s)
		if ok(h) {
			return h, time.Since(start), true
		}
		if time.Since(start) > timeout {
			return h, time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func notWritable(h health) bool {
	return h.code == http.StatusServiceUnavailable && h.Status == "store not writable"
}
func healthy(h health) bool { return h.code == http.StatusOK }

// postN posts n new messages one after another and returns how many were
// acknowledged.
func postN(l *ledger, s *server, n int) int {
	acked := 0
	for range n {
		if l.post(context.Background(), s.base(), pair()) == http.StatusAccepted {
			acked++
		}
	}
	return acked
}

// setWriteVersion makes SQLite refuse (v > 2) or take (v = the original)
// writes to the database at path, used by s: the WAL is checkpointed into
// the file and truncated, then byte 18 of the header (the file format
// write version) is set; SQLite refuses every write to a file whose write
// version is above 2, whoever runs it (file modes do not stop root). munja
// is paused (SIGSTOP) meanwhile so that none of its writes lands between
// the checkpoint and the header write. It returns the previous value.
func setWriteVersion(t *testing.T, path string, s *server, v byte) byte {
	t.Helper()
	pid := s.pid()
	for try := 0; ; try++ {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		old, err := func() (byte, error) {
			c, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(200)")
			if err != nil {
				return 0, err
			}
			defer c.Close()
			var busy, frames, done int
			if err := c.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
				return 0, err
			}
			if busy != 0 {
				return 0, errors.New("checkpoint blocked by a reader")
			}
			fh, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				return 0, err
			}
			defer fh.Close()
			b := make([]byte, 1)
			if _, err := fh.ReadAt(b, 18); err != nil {
				return 0, err
			}
			if _, err := fh.WriteAt([]byte{v}, 18); err != nil {
				return 0, err
			}
			return b[0], fh.Sync()
		}()
		if kerr := syscall.Kill(pid, syscall.SIGCONT); kerr != nil {
			t.Fatal(kerr)
		}
		if err == nil {
			return old
		}
		if try == 100 {
			t.Fatalf("cannot set the write version: %v", err)
		}
		time.Sleep(time.Duration(10+try) * time.Millisecond)
	}
}

// window is what a scenario saw while its store fault lasted.
type window struct {
	posts    int
	early    int           // POSTs refused (503) while /healthz still said ok
	sawDown  bool          // /healthz said "store not writable"
	downIn   time.Duration // after this long
	last     health        // that answer (or the last one)
	lasted   time.Duration
	survived bool // munja still running at the end
}

// faultWindow posts a new message every 100 ms for hold, watching /healthz.
func faultWindow(l *ledger, s *server, hold time.Duration) window {
	var w window
	start := time.Now()
	for time.Since(start) < hold {
		if !w.sawDown {
			w.last = healthz(s)
			if notWritable(w.last) {
				w.sawDown, w.downIn = true, time.Since(start)
			}
		}
		code := l.post(context.Background(), s.base(), pair())
		w.posts++
		if !w.sawDown && code == http.StatusServiceUnavailable {
			w.early++
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.lasted, w.survived = time.Since(start), s.running()
	return w
}

func (w window) healthRow() string {
	if !w.sawDown {
		return fmt.Sprintf("never said not writable; last %d %q", w.last.code, w.last.Status)
	}
	return fmt.Sprintf("%d %q after %s: %s", w.last.code, w.last.Status, ms(w.downIn), w.last.Error)
}

// TestStoreReadOnly is scenario 4a: the SQLite database refuses writes
// while munja runs, then takes them again.
func TestStoreReadOnly(t *testing.T) {
	shortParallel(t)
	g := aligotest.New(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "munja.db")
	port := freePort(t)
	cfg := writeConfig(t, dir, conf{port: port, database: db, providers: []string{aligoYAML("aligo", g, "1s")}, retry: quickRetry})
	s := newServer(t, "serve", cfg, port)
	s.start()
	l := newLedger("read-only")
	n := report.Pick(20, 200)
	hold := report.Pick(3*time.Second, 30*time.Second)
	var problems []string

	// Before: acknowledged messages wait in the queue (the gateway
	// answers 500), so there is something to deliver after the fault.
	g.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 500})
	ackedBefore := postN(l, s, n)
	if ackedBefore != n {
		problems = append(problems, fmt.Sprintf("before the fault only %d of %d POSTs were acknowledged", ackedBefore, n))
	}
	orig := setWriteVersion(t, db, s, 3)
	faultAt := time.Now()
	g.SetFailure(aligotest.Failure{})

	// During: nothing may be acknowledged.
	during := newLedger("read-only-during")
	w := faultWindow(during, s, hold)
	ackedDuring := len(during.acks())
	refused := during.answered("503 with Retry-After")
	if !w.sawDown {
		problems = append(problems, "/healthz never said the store is not writable: "+w.healthRow())
	}
	if ackedDuring > 0 {
		problems = append(problems, fmt.Sprintf("%d messages acknowledged while the database refused writes", ackedDuring))
	}
	if refused != w.posts {
		problems = append(problems, fmt.Sprintf("%d of %d POSTs were answered 503 with Retry-After while read-only (%s)", refused, w.posts, during.answerList()))
	}
	if !w.survived {
		problems = append(problems, "munja exited while the database was read-only")
		s.start()
	}

	// After: the database takes writes again. SQLite keeps a connection
	// that saw the write version above 2 read-only until it is reopened
	// (its BTS_READ_ONLY flag), so munja may need a restart.
	setWriteVersion(t, db, s, orig)
	restored := time.Now()
	_, tookUp, byItself := waitHealth(s, report.Pick(2*time.Second, 30*time.Second), healthy)
	restart := "not needed"
	// Gateway calls while munja could not write: each one's outcome is
	// lost and its receivers are sent again after the restart. Only the
	// batches already in flight when the store stopped taking writes
	// should be among them.
	blind := sends(g, faultAt, time.Now())
	if !byItself {
		t0 := time.Now()
		blind = sends(g, faultAt, t0)
		clean := s.stop()
		restart = fmt.Sprintf("SIGTERM: stopped cleanly %v in %s; started again", clean, ms(time.Since(t0)))
		if !clean {
			problems = append(problems, "munja did not stop on SIGTERM within 30 s after the fault")
		}
		s.start()
		if _, _, ok := waitHealth(s, 10*time.Second, healthy); !ok {
			problems = append(problems, "/healthz does not say ok after the restart")
		}
	}
	ackedAfter := postN(l, s, n)
	if ackedAfter != n {
		problems = append(problems, fmt.Sprintf("after the fault only %d of %d POSTs were acknowledged (%s)", ackedAfter, n, l.answerList()))
	}
	tl, _ := drain(t, l, report.Pick(30*time.Second, time.Minute), []*server{s}, g)
	if tl.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged deliveries lost, e.g. %s", tl.lost, strings.Join(tl.lostSample, ", ")))
	}
	if blind > dispatchConcurrency {
		problems = append(problems, fmt.Sprintf("munja made %d gateway calls while the store refused writes (until the restart), more than the %d "+
			"in flight when it stopped taking writes: it went on starting batches it had claimed although it knew it could not record "+
			"their outcomes (dispatcher DispatchOnce starts the next claimed batch when a batch's record gives up, before a third "+
			"of the lease), and those receivers are sent again after the restart", blind, dispatchConcurrency))
	}
	if bound := blind * len(pair()); tl.dups > bound {
		problems = append(problems, fmt.Sprintf("%d deliveries went out twice: more than the %d receivers of the calls made while the store refused writes", tl.dups, bound))
	}
	recovery := time.Since(restored)
	selfRow := "no: still not writable after " + ms(tookUp)
	if byItself {
		selfRow = "yes, after " + ms(tookUp)
	}

	rows := [][]string{
		{"figure", "value"},
		{"acknowledged before the fault (queued: the gateway answered 500)", fmt.Sprintf("%d of %d", ackedBefore, n)},
		{"read-only for", w.lasted.Round(100 * time.Millisecond).String()},
		{"POSTs while read-only (one per 100 ms)", strconv.Itoa(w.posts)},
		{"their answers", during.answerList()},
		{"acknowledged while read-only", strconv.Itoa(ackedDuring)},
		{"/healthz while read-only", w.healthRow()},
		{"munja still running while read-only", strconv.FormatBool(w.survived)},
		{"writable again by itself once the byte was restored", selfRow},
		{"restart", restart},
		{"acknowledged after the fault", fmt.Sprintf("%d of %d", ackedAfter, n)},
		{"deliveries acknowledged in all", strconv.Itoa(tl.expected)},
		{"delivered", strconv.Itoa(tl.delivered)},
		{"**lost**", strconv.Itoa(tl.lost)},
		{"gateway calls while munja could not write (bound: the 4 in flight)", strconv.Itoa(blind)},
		{"duplicates (bound: those calls × 2 receivers)", strconv.Itoa(tl.dups)},
		{"all delivered after the restore in", recovery.Round(100 * time.Millisecond).String()},
	}
	report.Section(t, "faults-4a-read-only", "Faults 4a: the SQLite database turns read-only", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestStoreReadOnly$' ./reliability/faults/ -args -full`"+` (short
version: without `+"`-full`"+`).

`+"`munja serve`"+` on SQLite, one fake Aligo gateway. %[1]d messages (two receivers each) are acknowledged
while the gateway answers 500, so they wait in the queue. Then the database refuses writes: its WAL
is checkpointed and the header's write version (byte 18) set to 3, which makes SQLite refuse every
write whoever runs it (the tests run as root, so file modes would not; munja is paused with SIGSTOP
for the few milliseconds this takes, so none of its writes lands in between), and the gateway is
healthy again. For %[2]s a message is posted every 100 ms and /healthz is polled. Then the byte is set
back; if munja does not write again by itself within %[3]s it is restarted (SIGTERM). %[1]d more
messages are posted and munja drains. Checked: nothing acknowledged while read-only, every such POST
answered 503 with Retry-After, /healthz says "store not writable", munja keeps running, every
acknowledged message is delivered, and duplicates stay within the batches in flight when the store
stopped taking writes (a batch the gateway took whose outcome cannot be written is sent again after
the restart: at-least-once, and munja logs it).

SQLite itself keeps a connection that read a write version above 2 read-only until the connection is
closed (shown with a bare database/sql connection as well), so after this fault munja's open
connections do not write again until it restarts; a file made read-only by other means (a file
system remounted read-only) needs an operator anyway.

%[4]s
%[5]s`, n, hold, report.Pick(2*time.Second, 30*time.Second), report.Table(rows), result(problems)))
	fail(t, problems)
}

// tmpfs mounts a tmpfs of size bytes at dir (root only); it skips the
// test with the reason when it cannot.
func tmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full disk: not root, so no tmpfs can be mounted")
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("full disk: mount -t tmpfs failed (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// fill writes path until the disk is full and returns how much it wrote.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return 0
		}
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return n
		}
	}
}

// TestStoreDiskFull is scenario 4b: the disk under the SQLite database
// fills up while munja runs, then space is freed.
func TestStoreDiskFull(t *testing.T) {
	shortParallel(t)
	g := aligotest.New(t)
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	tmpfs(t, disk, 16<<20) // before newServer: unmounted after munja is gone
	db := filepath.Join(disk, "munja.db")
	port := freePort(t)
	cfg := writeConfig(t, dir, conf{port: port, database: db, providers: []string{aligoYAML("aligo", g, "2s")}, retry: quickRetry})
	s := newServer(t, "serve", cfg, port)
	s.start()
	l := newLedger("disk-full")
	n := report.Pick(20, 200)
	hold := report.Pick(3*time.Second, 30*time.Second)
	var problems []string

	g.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 500})
	ackedBefore := postN(l, s, n)
	if ackedBefore != n {
		problems = append(problems, fmt.Sprintf("before the fault only %d of %d POSTs were acknowledged", ackedBefore, n))
	}
	filler := filepath.Join(disk, "filler")
	filled := fill(t, filler)
	g.SetFailure(aligotest.Failure{})

	// While full: each POST is a new message of the same ledger, so one
	// acknowledged (SQLite may still have room it took before) must be
	// delivered like the others.
	acks0 := len(l.acks())
	w := faultWindow(l, s, hold)
	ackedWhileFull := len(l.acks()) - acks0
	if !w.survived {
		problems = append(problems, "munja exited while the disk was full")
		s.start()
	}
	if !w.sawDown {
		problems = append(problems, "/healthz never said the store is not writable: "+w.healthRow())
	}
	if bad := l.answeredOther("202", "503 with Retry-After"); bad > 0 {
		problems = append(problems, "POSTs answered other than 202 or 503 with Retry-After: "+l.answerList())
	}
	answersWhileFull := l.answerList()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	_, tookUp, ok := waitHealth(s, 30*time.Second, healthy)
	if !ok {
		problems = append(problems, "/healthz still says the store is not writable 30 s after space was freed")
	}
	acks1 := len(l.acks())
	postN(l, s, n)
	ackedAfter := len(l.acks()) - acks1
	if ackedAfter != n {
		problems = append(problems, fmt.Sprintf("after space was freed only %d of %d POSTs were acknowledged", ackedAfter, n))
	}
	tl, _ := drain(t, l, report.Pick(30*time.Second, time.Minute), []*server{s}, g)
	if tl.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged deliveries lost, e.g. %s", tl.lost, strings.Join(tl.lostSample, ", ")))
	}
	if bound := dispatchConcurrency * len(pair()); tl.dups > bound {
		problems = append(problems, fmt.Sprintf("%d deliveries went out twice: more than the %d of the batches in flight when the store stopped taking writes", tl.dups, bound))
	}
	recovery := time.Since(freed)
	rows := [][]string{
		{"figure", "value"},
		{"disk", "tmpfs of 16 MiB; the filler took " + strconv.FormatInt(filled>>10, 10) + " KiB"},
		{"acknowledged before the disk filled (queued: the gateway answered 500)", fmt.Sprintf("%d of %d", ackedBefore, n)},
		{"full for", w.lasted.Round(100 * time.Millisecond).String()},
		{"POSTs while full (one per 100 ms)", strconv.Itoa(w.posts)},
		{"acknowledged while full (each must be delivered)", strconv.Itoa(ackedWhileFull)},
		{"answers until space was freed (all phases)", answersWhileFull},
		{"/healthz while full", w.healthRow()},
		{"POSTs refused (503) before /healthz said so", strconv.Itoa(w.early)},
		{"munja still running while full", strconv.FormatBool(w.survived)},
		{"/healthz 200 again after space was freed", ms(tookUp)},
		{"acknowledged after space was freed", fmt.Sprintf("%d of %d", ackedAfter, n)},
		{"deliveries acknowledged in all", strconv.Itoa(tl.expected)},
		{"delivered", strconv.Itoa(tl.delivered)},
		{"**lost**", strconv.Itoa(tl.lost)},
		{"duplicates (bound: 4 batches in flight × 2 receivers = 8)", strconv.Itoa(tl.dups)},
		{"all delivered after space was freed in", recovery.Round(100 * time.Millisecond).String()},
	}
	report.Section(t, "faults-4b-disk-full", "Faults 4b: the disk under SQLite fills up", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestStoreDiskFull$' ./reliability/faults/ -args -full`"+` (short
version: without `+"`-full`"+`; needs root to mount a tmpfs, else skipped with the reason).

`+"`munja serve`"+` with its SQLite database on a 16 MiB tmpfs mounted for the test, one fake Aligo
gateway. %[1]d messages are acknowledged while the gateway answers 500 (they wait in the queue). Then
a file fills the disk to the last byte and the gateway is healthy again. For %[2]s a message is posted
every 100 ms and /healthz is polled. Then the file is removed, %[1]d more messages are posted, and
munja drains. Checked: every POST is answered 202 or 503 with Retry-After, /healthz says "store not
writable", munja keeps running and writes again by itself, every acknowledged message — also one
acknowledged while the disk was full — is delivered, and duplicates stay within the batches in flight
when the store stopped taking writes.

%[3]s
%[4]s`, n, hold, report.Table(rows), result(problems)))
	fail(t, problems)
}

// TestPostgresConnectionsKilled is scenario 4c: PostgreSQL ends every
// connection of two munja replicas (pg_terminate_backend, as a server
// restart or a network cut would) again and again while messages flow.
func TestPostgresConnectionsKilled(t *testing.T) {
	shortParallel(t)
	pg := postgresSchema(t)
	admin := pg.conn(t)
	fake := slowGateway(t)
	var servers []*server
	for _, name := range []string{"replica-a", "replica-b"} {
		dir := t.TempDir()
		port := freePort(t)
		cfg := writeConfig(t, dir, conf{port: port, database: pg.dsn, providers: []string{aligoYAML("aligo", fake, "5s")}})
		s := newServer(t, name, cfg, port)
		s.start()
		servers = append(servers, s)
	}
	l := newLedger("pg-terminate")
	rounds := report.Pick(3, 20)
	pause := report.Pick([2]time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}, [2]time.Duration{2 * time.Second, 10 * time.Second})
	start := time.Now()
	f := startFlow(l, 4, 15*time.Millisecond, func() []string { return []string{servers[0].base(), servers[1].base()} })
	ended := 0
	for range rounds {
		time.Sleep(randomBetween(pause[0], pause[1]))
		ended += pg.terminateBackends(t, admin, servers[0].pid(), servers[1].pid())
	}
	time.Sleep(pause[0])
	f.stop()
	flowFor := time.Since(start)
	tl, drained := drain(t, l, report.Pick(45*time.Second, 4*time.Minute), servers, fake)
	var problems []string
	if tl.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged deliveries lost (waited %s), e.g. %s", tl.lost, drained.Round(time.Second), strings.Join(tl.lostSample, ", ")))
	}
	for _, s := range servers {
		if !s.running() {
			problems = append(problems, s.name+" exited")
		}
	}
	bad := l.answeredOther("202", "503 with Retry-After")
	// How the replicas took it, from their logs.
	var reaped, stale, lostLocks int
	for _, s := range servers {
		out := s.out.String()
		reaped += strings.Count(out, "a replica stopped while sending")
		stale += strings.Count(out, "outcomes not recorded: another dispatcher claimed these deliveries again")
		lostLocks += strings.Count(out, "leader lock lost")
	}
	bound := rounds * len(servers) * dispatchConcurrency * len(pair())
	if tl.dups > bound {
		problems = append(problems, fmt.Sprintf("%d duplicate deliveries: more than the batches in flight at each cut allow (%d): live replicas' claims were handed back and sent again", tl.dups, bound))
	}
	rows := [][]string{
		{"figure", "value"},
		{"rounds of pg_terminate_backend on both replicas' sessions", strconv.Itoa(rounds)},
		{"sessions ended", strconv.Itoa(ended)},
		{"traffic duration", flowFor.Round(100 * time.Millisecond).String()},
		{"POSTs made", strconv.Itoa(l.posts())},
		{"answers", l.answerList()},
		{"answers other than 202 / 503 with Retry-After", strconv.Itoa(bad)},
		{"messages acknowledged", strconv.Itoa(tl.acked)},
		{"deliveries acknowledged", strconv.Itoa(tl.expected)},
		{"delivered", strconv.Itoa(tl.delivered)},
		{"**lost**", strconv.Itoa(tl.lost)},
		{"duplicates (most copies)", fmt.Sprintf("%d (%d)", tl.dups, tl.maxCopies)},
		{"duplicate bound checked (rounds × 2 replicas × 4 batches × 2 receivers)", strconv.Itoa(bound)},
		{"delivered without a 202", tl.unackedList()},
		{"log: leader/presence locks lost", strconv.Itoa(lostLocks)},
		{"log: a replica's claims handed back as if it had stopped", strconv.Itoa(reaped)},
		{"log: outcomes dropped as stale (claimed again meanwhile)", strconv.Itoa(stale)},
		{"drained after the traffic stopped in", drained.Round(100 * time.Millisecond).String()},
	}
	report.Section(t, "faults-4c-postgres-connections", "Faults 4c: PostgreSQL ends munja's connections", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestPostgresConnectionsKilled$' ./reliability/faults/ -args -full`"+`
(short version: without `+"`-full`"+`).

Restarting the shared PostgreSQL server would cut other tests' connections, so the scenario does to
munja what a restart does to it: two `+"`munja serve`"+` replicas on one schema, one fake Aligo gateway
(takes each send at once, answers in 20 ms); four clients POST to either replica, and %d times, %s –
%s apart, every PostgreSQL session of both munja processes — pool, leader and presence connections,
found by their client ports — is ended with `+"`pg_terminate_backend`"+`. Then munja drains. Checked:
nothing acknowledged is lost, both replicas keep running, and duplicates stay within the batches in
flight at each cut (a loose bound: no replica stops here). A replica whose presence session is cut is
taken for dead by the other, which hands its claims back while it still sends them: the log rows
below count it, and 4d isolates it.

%s
%s`, rounds, pause[0], pause[1], report.Table(rows), result(problems)))
	fail(t, problems)
}

// TestPostgresPresenceLost is scenario 4d: one replica of two loses its
// PostgreSQL sessions (a network blip, a proxy or an idle-session killer
// ending them) while it holds claims, and keeps running. It is not dead, so
// the other replica must not send what it claimed.
func TestPostgresPresenceLost(t *testing.T) {
	shortParallel(t)
	rounds := report.Pick(1, 5)
	rows := [][]string{{"round", "deliveries claimed at the cut", "sessions ended", "delivered", "lost",
		"**duplicates** (most copies)", "log: claims handed back as if a replica had stopped", "log: outcomes dropped as stale", "drained in"}}
	var problems []string
	for r := range rounds {
		t.Run(fmt.Sprintf("round-%d", r+1), func(t *testing.T) {
			row, p := presenceRound(t)
			rows = append(rows, append([]string{strconv.Itoa(r + 1)}, row...))
			fail(t, p)
			problems = append(problems, p...)
		})
	}
	report.Section(t, "faults-4d-postgres-presence", "Faults 4d: a live replica loses its PostgreSQL sessions", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestPostgresPresenceLost$' ./reliability/faults/ -args -full`"+`
(short version: without `+"`-full`"+`: one round instead of %d).

Each round: two `+"`munja serve`"+` replicas on a fresh PostgreSQL schema, one fake Aligo gateway that
takes each send at once and answers 300 ms later (provider `+"`timeout: 1s`"+`). %d messages (two receivers
each) are posted to replica-a, which claims them all and has about 30 s of work; then replica-b
starts, with nothing left to claim. Then every PostgreSQL session of replica-a — pool, leader and presence connections — is
ended with `+"`pg_terminate_backend`"+`, as a network blip, a proxy or a PostgreSQL restart would;
replica-a keeps running and reconnects. Checked: nothing acknowledged is lost, and nothing goes out
twice beyond the batches in flight at the cut (4 × 2 = 8): replica-a is alive, so replica-b must not
send what replica-a claimed.

%s
%s`, report.Pick(5, 5), presenceMessages, report.Table(rows), result(problems)))
}

// presenceMessages is how many messages replica-a claims in a round of 4d:
// about 30 s of work at 4 calls of 300 ms at a time, claimed in two or
// three claims (a dispatcher claims again only when it is done with the
// last claim). With the provider's timeout of 1 s munja reckons a batch is
// in flight 10 s at most (a call and two lookups, plus 5 s), but a
// replica starts a batch it claimed up to a third of the claim lease
// (40 s) after claiming it: the round covers both.
const presenceMessages = 400

// presenceRound runs one round of 4d and returns its table row and the
// broken guarantees.
func presenceRound(t *testing.T) ([]string, []string) {
	pg := postgresSchema(t)
	admin := pg.conn(t)
	fake := aligotest.New(t)
	fake.SetFailure(aligotest.Failure{Mode: aligotest.LateAnswer, Delay: 300 * time.Millisecond})
	var servers []*server
	for _, name := range []string{"replica-a", "replica-b"} {
		dir := t.TempDir()
		port := freePort(t)
		cfg := writeConfig(t, dir, conf{port: port, database: pg.dsn, providers: []string{aligoYAML("aligo", fake, "1s")}})
		servers = append(servers, newServer(t, name, cfg, port))
	}
	a, b := servers[0], servers[1]
	a.start()
	l := newLedger("presence")
	jobs := make(chan struct{}, presenceMessages)
	for range presenceMessages {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range jobs {
				l.post(context.Background(), a.base(), pair())
			}
		})
	}
	wg.Wait()
	// replica-a claims everything, then replica-b starts with nothing to
	// claim: it stays idle and looks for stopped replicas' claims every 5 s.
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var queued int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'queued'`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica-a has not claimed its %d queued deliveries in 30 s", queued)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.start()
	var claimed int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'sending'`).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	ended := pg.terminateBackends(t, admin, a.pid())
	tl, drained := drain(t, l, 90*time.Second, servers, fake)
	var reaped, stale int
	for _, s := range servers {
		reaped += strings.Count(s.out.String(), "a replica stopped while sending")
		stale += strings.Count(s.out.String(), "outcomes not recorded: another dispatcher claimed these deliveries again")
	}
	var problems []string
	if tl.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged deliveries lost, e.g. %s", tl.lost, strings.Join(tl.lostSample, ", ")))
	}
	for _, s := range servers {
		if !s.running() {
			problems = append(problems, s.name+" exited")
		}
	}
	if bound := dispatchConcurrency * len(pair()); tl.dups > bound {
		problems = append(problems, fmt.Sprintf("%d deliveries went out twice (most copies %d) although no replica stopped: "+
			"replica-b took replica-a for dead when replica-a's presence lock went with its PostgreSQL session, handed back "+
			"the claims older than munja reckons a batch can be in flight (log lines: %d) and sent them while replica-a, alive, "+
			"was still to send them (%d outcomes dropped as stale): a replica starts a batch it claimed up to a third of the "+
			"lease after claiming it, longer than that reckoning. A live replica's claims must not be released "+
			"(store/postgres/presence.go ReleaseDeadClaims, dispatcher inFlight; the bound here is the %d deliveries of the "+
			"batches in flight at the cut)", tl.dups, tl.maxCopies, reaped, stale, bound))
	}
	return []string{strconv.Itoa(claimed), strconv.Itoa(ended), fmt.Sprintf("%d of %d", tl.delivered, tl.expected),
		strconv.Itoa(tl.lost), fmt.Sprintf("%d (%d)", tl.dups, tl.maxCopies), strconv.Itoa(reaped), strconv.Itoa(stale),
		drained.Round(100 * time.Millisecond).String()}, problems
}
