package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/config"
)

// postgresSchema returns the URL of an empty schema on the test PostgreSQL,
// dropped when the test ends (pgtest: skipped without a server, failing
// when CI is set).
func postgresSchema(t *testing.T) string { return pgtest.Schema(t) }

// replica is one munja serving on a shared PostgreSQL schema, with a
// command check that appends a line to runs on every run.
type replica struct {
	a       *App
	runs    string
	metrics *httptest.Server
	cancel  context.CancelFunc
	done    chan error
	stopped sync.Once
}

func startReplica(t *testing.T, dsn string) *replica {
	t.Helper()
	r := &replica{runs: filepath.Join(t.TempDir(), "runs"), done: make(chan error, 1)}
	cfg := config.Default()
	cfg.Database = dsn
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TrustedNetworks = []string{"127.0.0.0/8"}
	cfg.Checks = []config.Check{{
		Name: "probe", Type: "command", Interval: config.Duration(100 * time.Millisecond),
		// A generous timeout: on a loaded machine /bin/sh can take more
		// than the interval to start, and a run killed at 100 ms would be
		// a failure the tests do not expect.
		Timeout: config.Duration(10 * time.Second),
		Command: []string{"/bin/sh", "-c", `echo run >> "$0"`, r.runs},
	}}
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	noErr(t, err)
	r.a = a
	t.Cleanup(func() { a.Close() })
	noErr(t, a.Listen())
	r.metrics = httptest.NewServer(a.Metrics.Handler())
	t.Cleanup(r.metrics.Close)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run (giving up the leadership) and waits for it.
func (r *replica) stop(t *testing.T) {
	r.stopped.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return 30 s after its context ended")
		}
	})
}

// runCount is how many times this replica ran the check.
func (r *replica) runCount(t *testing.T) int {
	b, err := os.ReadFile(r.runs)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	noErr(t, err)
	return strings.Count(string(b), "run\n")
}

// reportsCheck tells whether the replica's metrics and API show the check
// as passing, i.e. whether its running engine has the results.
func (r *replica) reportsCheck(t *testing.T) bool {
	got := scrape(t, r.metrics.URL)
	up, inMetrics := got[`munja_check_up{check="probe",host=""}`]
	resp, err := http.Get("http://" + r.a.Addr() + "/api/v1/checks")
	noErr(t, err)
	defer resp.Body.Close()
	var body struct {
		Checks []struct{ Check, State string }
	}
	noErr(t, json.NewDecoder(resp.Body).Decode(&body))
	inAPI := len(body.Checks) == 1 && body.Checks[0].State == "ok"
	return inMetrics && up == 1 && inAPI
}

// waitLeader waits until exactly one of rs runs the check and returns it.
func waitLeader(t *testing.T, within time.Duration, rs ...*replica) *replica {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var leaders []*replica
		for _, r := range rs {
			if r.a.leading.Load() != nil && r.reportsCheck(t) {
				leaders = append(leaders, r)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("%d replicas run the monitor at once", len(leaders))
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica took the monitor over within %v", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMonitorOneLeader starts two replicas on one PostgreSQL schema: only
// one runs the checks and reports them, and when it stops the other takes
// over within a couple of election rounds.
func TestMonitorOneLeader(t *testing.T) {
	dsn := postgresSchema(t)
	r1, r2 := startReplica(t, dsn), startReplica(t, dsn)

	leader := waitLeader(t, 15*time.Second, r1, r2)
	other := r1
	if leader == r1 {
		other = r2
	}
	// Longer than an election round: the other replica stays out.
	time.Sleep(leaderRetry + time.Second)
	if n := other.runCount(t); n != 0 {
		t.Errorf("the replica that does not lead ran the check %d times", n)
	}
	if other.a.leading.Load() != nil || other.reportsCheck(t) {
		t.Error("the replica that does not lead reports the check")
	}
	if _, ok := scrape(t, other.metrics.URL)["munja_incidents_open"]; ok {
		t.Error("the replica that does not lead exports munja_incidents_open")
	}
	if n := leader.runCount(t); n < 5 {
		t.Errorf("the leader ran the check %d times in %v", n, leaderRetry+time.Second)
	}

	leader.stop(t)
	ran := leader.runCount(t)
	start := time.Now()
	if got := waitLeader(t, 15*time.Second, other); got != other {
		t.Fatal("wrong replica")
	}
	t.Logf("took over after %v", time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(10 * time.Second)
	for other.runCount(t) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the new leader does not run the check")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := leader.runCount(t); n != ran {
		t.Errorf("the stopped leader ran the check %d more times", n-ran)
	}
}

// TestMonitorLeaderLost ends the leader lock's session on the server (a
// network partition, a proxy timeout): the replica stops its monitor when
// it notices, and takes the lock again with a fresh monitor.
func TestMonitorLeaderLost(t *testing.T) {
	dsn := postgresSchema(t)
	r := startReplica(t, dsn)
	waitLeader(t, 15*time.Second, r)

	u, err := url.Parse(dsn)
	noErr(t, err)
	schema := u.Query().Get("search_path")
	c, err := pgx.Connect(t.Context(), dsn)
	noErr(t, err)
	defer c.Close(context.Background())
	// The session holding this schema's monitor lock (see store/postgres leaderKey).
	var pid int
	noErr(t, c.QueryRow(t.Context(), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('munja leader ' || $1 || ' ' || $2, 0)`,
		schema, monitorLeader).Scan(&pid))
	first := r.a.leading.Load()
	if _, err := c.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for r.a.leading.Load() == first {
		if time.Now().After(deadline) {
			t.Fatal("the monitor still runs 15 s after its leader lock was lost")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waitLeader(t, 15*time.Second, r); r.a.leading.Load() == first {
		t.Error("the replica leads again with the old monitor, not a fresh one")
	}
}

// TestMonitorFollowerIsReadOnly: the replica that does not lead shows the
// leader's alert state (read from the store) but refuses to silence or
// acknowledge — the leader would never see it — with 503, so the operator
// or a load balancer retries; agents' reports get 503 too.
func TestMonitorFollowerIsReadOnly(t *testing.T) {
	dsn := postgresSchema(t)
	r1, r2 := startReplica(t, dsn), startReplica(t, dsn)
	leader := waitLeader(t, 15*time.Second, r1, r2)
	follower := r1
	if leader == r1 {
		follower = r2
	}
	post := func(r *replica, path, body string) int {
		resp, err := http.Post("http://"+r.a.Addr()+path, "application/json", strings.NewReader(body))
		noErr(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	until := time.Now().Add(time.Hour).Format(time.RFC3339)
	silence := `{"check":"probe","until":"` + until + `"}`
	if code := post(follower, "/api/v1/silences", silence); code != http.StatusServiceUnavailable {
		t.Errorf("silence on the follower: %d, want 503", code)
	}
	if code := post(follower, "/api/v1/agents/report", `{"host":"web01","interval_seconds":10}`); code != http.StatusServiceUnavailable {
		t.Errorf("agent report to the follower: %d, want 503", code)
	}
	if code := post(leader, "/api/v1/silences", silence); code/100 != 2 {
		t.Fatalf("silence on the leader: %d", code)
	}
	// The follower's view catches up within an election round.
	deadline := time.Now().Add(2*leaderRetry + 5*time.Second)
	for {
		resp, err := http.Get("http://" + follower.a.Addr() + "/api/v1/silences")
		noErr(t, err)
		var body struct{ Silences []struct{ Check string } }
		noErr(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		if len(body.Silences) == 1 && body.Silences[0].Check == "probe" {
			t.Logf("the follower shows the leader's silence after %s", time.Since(deadline.Add(-2*leaderRetry-5*time.Second)).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follower still shows %+v", body.Silences)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
