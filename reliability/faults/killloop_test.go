package faults

// Scenarios 1 and 2: kill -9 while messages flow, on SQLite and on two
// replicas sharing a PostgreSQL schema. Nothing acknowledged may be lost;
// duplicates are bounded by what was in a gateway call at a kill.

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/reliability/report"
)

// dispatchConcurrency is the dispatcher's default number of gateway calls
// in flight (dispatcher.Options.Concurrency); munja has no key to change
// it. At a kill at most this many batches are in a call or have their
// outcome not yet written, so only their receivers can go out twice.
const dispatchConcurrency = 4

// slowGateway is a fake Aligo that takes each send at once and answers
// 20 ms later, like a real gateway: a kill during a call leaves a message
// the gateway has and munja has not recorded, which goes out again after
// the restart (the duplicates the guarantee allows). (Its LateAnswer mode,
// with an answer well within the provider's timeout.)
func slowGateway(t *testing.T) *aligotest.Server {
	fake := aligotest.New(t)
	fake.SetFailure(aligotest.Failure{Mode: aligotest.LateAnswer, Delay: 20 * time.Millisecond})
	return fake
}

// killLoop is one run of a kill -9 loop and its figures.
type killLoop struct {
	servers  []*server
	fake     *aligotest.Server
	ledger   *ledger
	kills    int
	pause    [2]time.Duration // random wait between kills
	restarts []time.Duration  // kill → listening again
	flowFor  time.Duration
	drained  time.Duration
	tally    tally
}

// run lets clients post to every running server while it kills a random
// server at random moments, restarting it at once, then lets munja drain.
func (k *killLoop) run(t *testing.T, clients int, drainTimeout time.Duration) {
	targets := func() []string {
		var out []string
		for _, s := range k.servers {
			out = append(out, s.base())
		}
		return out
	}
	start := time.Now()
	f := startFlow(k.ledger, clients, 15*time.Millisecond, targets)
	for range k.kills {
		time.Sleep(randomBetween(k.pause[0], k.pause[1]))
		s := k.servers[rand.IntN(len(k.servers))]
		s.kill()
		t0 := time.Now()
		s.start()
		k.restarts = append(k.restarts, time.Since(t0))
	}
	time.Sleep(k.pause[0]) // some traffic after the last restart
	f.stop()
	k.flowFor = time.Since(start)
	k.tally, k.drained = drain(t, k.ledger, drainTimeout, k.servers, k.fake)
}

// bound is the most duplicates the guarantee allows: per kill, the
// batches in flight (dispatchConcurrency) times the receivers of a message.
func (k *killLoop) bound() int { return k.kills * dispatchConcurrency * len(pair()) }

// logged sums the count= of log lines matching msg in every server's output.
func (k *killLoop) logged(msg, field string) (lines, total int) {
	re := regexp.MustCompile(regexp.QuoteMeta(msg) + `.*\b` + field + `=(\d+)`)
	for _, s := range k.servers {
		for _, m := range re.FindAllStringSubmatch(s.out.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			lines++
			total += n
		}
	}
	return lines, total
}

// figures are the rows every kill loop reports.
func (k *killLoop) figures() [][]string {
	med, mx := durations(k.restarts)
	tl := k.tally
	return [][]string{
		{"figure", "value"},
		{"SIGKILLs (each followed by a restart)", strconv.Itoa(k.kills)},
		{"traffic duration", k.flowFor.Round(100 * time.Millisecond).String()},
		{"POSTs made", strconv.Itoa(k.ledger.posts())},
		{"answers", k.ledger.answerList()},
		{"messages acknowledged (202)", strconv.Itoa(tl.acked)},
		{"deliveries acknowledged (2 receivers each)", strconv.Itoa(tl.expected)},
		{"delivered (accepted by the fake gateway)", strconv.Itoa(tl.delivered)},
		{"**lost** (acknowledged, never delivered)", strconv.Itoa(tl.lost)},
		{"duplicated deliveries (extra copies)", strconv.Itoa(tl.dups)},
		{"most copies of one delivery", strconv.Itoa(tl.maxCopies)},
		{"duplicate bound checked (kills × 4 batches × 2 receivers)", strconv.Itoa(k.bound())},
		{"delivered without a 202 (stored, then the connection died)", tl.unackedList()},
		{"restart to listening, median / max", ms(med) + " / " + ms(mx)},
		{"drained after the traffic stopped in", k.drained.Round(100 * time.Millisecond).String()},
	}
}

// problems are the broken guarantees: a lost message, too many
// duplicates (and a run that acknowledged nothing proves nothing).
func (k *killLoop) problems() []string {
	var p []string
	if k.tally.lost > 0 {
		p = append(p, fmt.Sprintf("%d acknowledged deliveries never reached the gateway (waited %s), e.g. %s",
			k.tally.lost, k.drained.Round(time.Second), strings.Join(k.tally.lostSample, ", ")))
	}
	if k.tally.dups > k.bound() {
		p = append(p, fmt.Sprintf("%d duplicate deliveries after %d kills: more than the batches in flight allow (%d)", k.tally.dups, k.kills, k.bound()))
	}
	if k.tally.acked == 0 {
		p = append(p, "nothing was acknowledged")
	}
	return p
}

// TestKillLoopSQLite is scenario 1: `munja serve` on SQLite, SIGKILLed at
// random moments while four clients post, restarted each time.
func TestKillLoopSQLite(t *testing.T) {
	shortParallel(t)
	fake := slowGateway(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := writeConfig(t, dir, conf{port: port, database: filepath.Join(dir, "munja.db"),
		providers: []string{aligoYAML("aligo", fake, "5s")}})
	s := newServer(t, "serve", cfg, port)
	s.start()
	k := &killLoop{servers: []*server{s}, fake: fake, ledger: newLedger("sqlite-kill"),
		kills: report.Pick(3, 25), pause: report.Pick([2]time.Duration{300 * time.Millisecond, time.Second},
			[2]time.Duration{time.Second, 6 * time.Second})}
	k.run(t, 4, report.Pick(30*time.Second, 3*time.Minute))
	resumed, handed := k.logged("resuming deliveries interrupted by the previous run", "count")
	problems := k.problems()
	rows := append(k.figures(), []string{"restarts that handed claimed deliveries back (deliveries)", fmt.Sprintf("%d (%d)", resumed, handed)})
	report.Section(t, "faults-1-kill-sqlite", "Faults 1: kill -9 loop on SQLite", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestKillLoopSQLite$' ./reliability/faults/ -args -full`"+` (short
version: without `+"`-full`"+`).

One `+"`munja serve`"+` (the real binary) on a SQLite file, one fake Aligo gateway that takes each send
at once and answers 20 ms later (so a kill can fall between the gateway taking a batch and munja
recording it). Four clients POST `+"`/api/v1/messages`"+` continuously, each message with a text of its
own and two receivers. %d times, at a random moment (%s – %s after the previous start), the process
gets SIGKILL and is started again at once on the same file and port; then the traffic stops and
munja drains. Each acknowledged (202) message is matched by its text with what the gateway
accepted. A POST refused or cut by the kill is not acknowledged; the client moves on with a new text.
%s

%s
%s`, k.kills, k.pause[0], k.pause[1], checkedKills, report.Table(rows), result(problems)))
	fail(t, problems)
}

// TestKillLoopPostgres is scenario 2: two `munja serve` replicas on one
// PostgreSQL schema, one or the other SIGKILLed at random moments.
func TestKillLoopPostgres(t *testing.T) {
	shortParallel(t)
	pg := postgresSchema(t)
	fake := slowGateway(t)
	var servers []*server
	for _, name := range []string{"replica-a", "replica-b"} {
		dir := t.TempDir()
		port := freePort(t)
		cfg := writeConfig(t, dir, conf{port: port, database: pg.dsn, providers: []string{aligoYAML("aligo", fake, "1s")}})
		s := newServer(t, name, cfg, port)
		s.start()
		servers = append(servers, s)
	}
	k := &killLoop{servers: servers, fake: fake, ledger: newLedger("pg-kill"),
		kills: report.Pick(3, 25), pause: report.Pick([2]time.Duration{300 * time.Millisecond, time.Second},
			[2]time.Duration{time.Second, 6 * time.Second})}
	// A killed replica's claims come back when another sees its presence
	// lock free (it looks every 5 s) and none of them can still be sent by
	// it: a third of the 2-minute lease to start a batch plus the longest
	// batch (10 s with the 1 s timeout), 50 s after the claim.
	k.run(t, 4, report.Pick(90*time.Second, 4*time.Minute))
	reaped, back := k.logged("a replica stopped while sending", "deliveries")
	killsOf := []string{}
	for _, s := range servers {
		killsOf = append(killsOf, fmt.Sprintf("%s: %d", s.name, s.kills))
	}
	problems := k.problems()
	rows := append(k.figures(),
		[]string{"kills per replica", strings.Join(killsOf, ", ")},
		[]string{"dead replicas' claims handed back by the other (times, deliveries)", fmt.Sprintf("%d, %d", reaped, back)},
	)
	report.Section(t, "faults-2-kill-postgres", "Faults 2: kill -9 loop on two PostgreSQL replicas", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestKillLoopPostgres$' ./reliability/faults/ -args -full`"+` (short
version: without `+"`-full`"+`).

Two `+"`munja serve`"+` replicas on one PostgreSQL schema (a schema made for the run on the local
server), one fake Aligo gateway that takes each send at once and answers 20 ms later (provider
`+"`timeout: 1s`"+`). Four clients POST to either replica at random
(the other when one does not answer), each message with a text of its own and two receivers. %d
times, at a random moment (%s – %s apart), one replica picked at random gets SIGKILL and is started
again at once; the other keeps serving and takes over the dead one's claims when it sees its presence
lock free and none of them can still be sent by it (50 s after the claim with this timeout: a third
of the 2-minute lease to start a batch, plus 10 s for a call and its lookups). Then the traffic stops
and munja drains: what the dead replicas held comes back only then, hence the drain time.
%s

%s
%s`, k.kills, k.pause[0], k.pause[1], checkedKills, report.Table(rows), result(problems)))
	fail(t, problems)
}

// checkedKills says what the kill loops check, and why the bound holds.
const checkedKills = `Checked: nothing acknowledged is lost, and duplicates ≤ kills × 4 × 2. The dispatcher has at
most 4 gateway calls in flight (its default concurrency; munja has no key for it), each the batch of
one message (2 receivers here), and a kill can only make those go out again: deliveries claimed but
not yet sent are handed back and sent once.`

// result is a scenario's verdict for its report: the checks that held, or
// what broke.
func result(problems []string) string {
	if len(problems) == 0 {
		return "Result: **passed** (every check above held)."
	}
	return "Result: **FAILED**:\n\n- " + strings.Join(problems, "\n- ")
}

// fail reports each problem as a test error.
func fail(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}
