package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
)

func oneRecipient(text string) *sms.Message {
	return &sms.Message{Text: text, Kind: sms.KindSMS, Deliveries: []sms.Delivery{{Phone: "01012345678"}}}
}

func countMessages(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdWriter takes the single writer connection, so the committer blocks on
// its next transaction until release is called.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	tx, err := db.w.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(); err != nil {
			t.Error(err)
		}
	}
}

// waitWriterWaiters waits until n callers have queued for the writer.
func waitWriterWaiters(t *testing.T, db *DB, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.w.Stats().WaitCount < n {
		if time.Now().After(deadline) {
			t.Fatalf("nobody waited for the writer (%d waits)", db.w.Stats().WaitCount)
		}
		time.Sleep(time.Millisecond)
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
	db := openTemp(t, "")
	defer db.Close()
	const callers, each = 32, 20
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
				if m.ID == 0 || m.Deliveries[0].ID == 0 || m.Deliveries[0].MessageID != m.ID {
					t.Errorf("message not filled in: %+v", m)
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
	db := openTemp(t, "")
	defer db.Close()

	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.CreateMessage(done, oneRecipient("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateMessage with a canceled context = %v", err)
	}

	release := holdWriter(t, db)
	// A is taken by the committer, which then waits for the writer.
	ctxA, cancelA := context.WithCancel(t.Context())
	a := oneRecipient("taken")
	errA := make(chan error, 1)
	go func() { errA <- db.CreateMessage(ctxA, a) }()
	waitWriterWaiters(t, db, 1)
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
	// Wait for the committer to pass the withdrawn request, then count.
	if err := db.CreateMessage(t.Context(), oneRecipient("after")); err != nil {
		t.Fatal(err)
	}
	if n := countMessages(t, db); n != 2 {
		t.Errorf("stored %d messages, want 2 (taken, after)", n)
	}
}

func TestCloseCommitsQueued(t *testing.T) {
	path := t.TempDir() + "/munja.db"
	db := openTemp(t, path)
	release := holdWriter(t, db)
	errs := make(chan error, 2)
	go func() { errs <- db.CreateMessage(context.Background(), oneRecipient("first")) }()
	waitWriterWaiters(t, db, 1)
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
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	db = openTemp(t, path)
	defer db.Close()
	if n := countMessages(t, db); n != 2 {
		t.Errorf("after Close and re-open: %d messages, want 2", n)
	}
}

// TestGroupCommitIsolatesFailure has one message of a batch fail: the
// others are stored anyway, each caller gets its own answer.
func TestGroupCommitIsolatesFailure(t *testing.T) {
	db := openTemp(t, "")
	defer db.Close()
	if _, err := db.w.ExecContext(t.Context(), `CREATE TRIGGER poison BEFORE INSERT ON messages
		WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`); err != nil {
		t.Fatal(err)
	}
	// The committer waits for the writer with "first"; the three queue
	// behind it and form the next batch.
	release := holdWriter(t, db)
	errFirst := make(chan error, 1)
	go func() { errFirst <- db.CreateMessage(t.Context(), oneRecipient("first")) }()
	waitWriterWaiters(t, db, 1)
	texts := []string{"good 1", "poison", "good 2"}
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
		if texts[i] == "poison" {
			if err == nil || m.ID != 0 {
				t.Errorf("poisoned message: err %v, ID %d; want an error and no ID", err, m.ID)
			}
			continue
		}
		if err != nil || m.ID == 0 {
			t.Errorf("%s: err %v, ID %d", texts[i], err, m.ID)
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
