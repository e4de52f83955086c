package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
)

func oneRecipient(text string) *sms.Message {
	return &sms.Message{Text: text, Kind: sms.KindSMS, Deliveries: []sms.Delivery{{Phone: "01012345678"}}}
}

func countMessages(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.queryRow(t.Context(), `SELECT count(*) FROM messages`, nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lockMessages locks the messages table of dsn's schema from another
// session, so the committer's next insert waits until release is called.
func lockMessages(t *testing.T, dsn string) (release func()) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `LOCK TABLE messages IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(context.Background()); err != nil {
			t.Error(err)
		}
		c.Close(context.Background())
	}
}

// waitLockWaiter waits until a session of the application waits for a lock.
func waitLockWaiter(t *testing.T, app string) {
	t.Helper()
	admin := adminConn(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the committer never waited for the table lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitQueued waits until n requests wait in the committer's queue.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.creates.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", db.creates.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	db := open(t, pgtest.Schema(t))
	defer db.Close()
	const callers, each = 32, 10
	var wg sync.WaitGroup
	ids := make(chan int64, callers*each)
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				m := oneRecipient(fmt.Sprintf("caller %d message %d", c, i))
				if err := db.CreateMessage(t.Context(), m); err != nil {
					t.Error(err)
					return
				}
				if m.ID == 0 || len(m.Deliveries) != 1 || m.Deliveries[0].ID == 0 || m.Deliveries[0].MessageID != m.ID {
					t.Errorf("message not filled in: %+v", m)
					return
				}
				ids <- m.ID
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %d given twice", id)
		}
		seen[id] = true
	}
	if n := countMessages(t, db); n != callers*each || len(seen) != callers*each {
		t.Errorf("stored %d messages, acknowledged %d; want %d", n, len(seen), callers*each)
	}
	if b := db.creates.Commits(); b >= callers*each {
		t.Errorf("%d commits for %d concurrent messages: nothing was grouped", b, callers*each)
	}
}

func TestCreateMessageCanceled(t *testing.T) {
	app := uniqueName("munja-outbox")
	dsn := pgtest.WithParam(t, pgtest.Schema(t), "application_name", app)
	db := open(t, dsn)
	defer db.Close()

	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.CreateMessage(done, oneRecipient("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateMessage with a canceled context = %v", err)
	}

	release := lockMessages(t, dsn)
	// A is taken by the committer, which then waits for the table lock.
	ctxA, cancelA := context.WithCancel(t.Context())
	a := oneRecipient("taken")
	errA := make(chan error, 1)
	go func() { errA <- db.CreateMessage(ctxA, a) }()
	waitLockWaiter(t, app)
	// B waits in the queue behind it; canceling B withdraws it at once.
	ctxB, cancelB := context.WithCancel(t.Context())
	errB := make(chan error, 1)
	go func() { errB <- db.CreateMessage(ctxB, oneRecipient("withdrawn")) }()
	waitQueued(t, db, 1)
	cancelB()
	select {
	case err := <-errB:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("withdrawn CreateMessage = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("canceled CreateMessage did not return")
	}
	// Canceling A no longer withdraws it: its caller learns the outcome.
	cancelA()
	select {
	case err := <-errA:
		t.Fatalf("CreateMessage returned %v while its transaction was still to run", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-errA; err != nil {
		t.Fatalf("taken CreateMessage = %v, want it committed", err)
	}
	if got, err := db.GetMessage(t.Context(), a.ID); err != nil || got.Text != "taken" {
		t.Errorf("taken message: %+v, %v", got, err)
	}
	if err := db.CreateMessage(t.Context(), oneRecipient("after")); err != nil {
		t.Fatal(err)
	}
	if n := countMessages(t, db); n != 2 {
		t.Errorf("stored %d messages, want 2 (taken, after)", n)
	}
}

func TestCloseCommitsQueued(t *testing.T) {
	app := uniqueName("munja-outbox")
	dsn := pgtest.WithParam(t, pgtest.Schema(t), "application_name", app)
	db := open(t, dsn)
	release := lockMessages(t, dsn)
	errs := make(chan error, 2)
	go func() { errs <- db.CreateMessage(context.Background(), oneRecipient("first")) }()
	waitLockWaiter(t, app)
	go func() { errs <- db.CreateMessage(context.Background(), oneRecipient("queued")) }()
	waitQueued(t, db, 1)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	time.Sleep(20 * time.Millisecond)
	release()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("CreateMessage before Close = %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.CreateMessage(context.Background(), oneRecipient("late")); !errors.Is(err, errClosed) {
		t.Errorf("CreateMessage after Close = %v, want errClosed", err)
	}
	db = open(t, dsn)
	defer db.Close()
	if n := countMessages(t, db); n != 2 {
		t.Errorf("after Close and re-open: %d messages, want 2", n)
	}
}

// TestGroupCommitIsolatesFailure has one message of a batch fail (PostgreSQL
// text cannot hold NUL): the others are stored anyway, each caller gets its
// own answer.
func TestGroupCommitIsolatesFailure(t *testing.T) {
	app := uniqueName("munja-outbox")
	dsn := pgtest.WithParam(t, pgtest.Schema(t), "application_name", app)
	db := open(t, dsn)
	defer db.Close()
	// The committer waits for the table lock with "first"; the three queue
	// behind it and form the next batch.
	release := lockMessages(t, dsn)
	errFirst := make(chan error, 1)
	go func() { errFirst <- db.CreateMessage(t.Context(), oneRecipient("first")) }()
	waitLockWaiter(t, app)
	texts := []string{"good 1", "poison\x00", "good 2"}
	msgs := make([]*sms.Message, len(texts))
	errs := make([]chan error, len(texts))
	for i, text := range texts {
		msgs[i], errs[i] = oneRecipient(text), make(chan error, 1)
		go func() { errs[i] <- db.CreateMessage(t.Context(), msgs[i]) }()
		waitQueued(t, db, i+1)
	}
	before := db.creates.Commits()
	release()
	if err := <-errFirst; err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		err := <-errs[i]
		if i == 1 {
			if err == nil || m.ID != 0 {
				t.Errorf("poisoned message: err %v, ID %d; want an error and no ID", err, m.ID)
			}
			continue
		}
		if err != nil || m.ID == 0 {
			t.Errorf("%q: err %v, ID %d", texts[i], err, m.ID)
		}
	}
	// After first (already counted): the failed batch, then each alone.
	if c := db.creates.Commits() - before; c != 4 {
		t.Errorf("%d commits, want 4 (the failed batch, three alone)", c)
	}
	if n := countMessages(t, db); n != 3 {
		t.Errorf("stored %d messages, want 3", n)
	}
}
