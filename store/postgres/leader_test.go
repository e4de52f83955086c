package postgres

import (
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func tryLeader(t *testing.T, db *DB, name string) (func(), bool) {
	t.Helper()
	release, ok, err := db.TryLeader(t.Context(), name)
	if err != nil {
		t.Fatalf("TryLeader(%q): %v", name, err)
	}
	return release, ok
}

func TestLeaderOneAtATime(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	name := uniqueName("alert")

	releaseA, ok := tryLeader(t, a, name)
	if !ok {
		t.Fatal("first TryLeader did not get the lock")
	}
	if _, ok := tryLeader(t, b, name); ok {
		t.Fatal("a second replica got the lock the first holds")
	}
	if _, ok := tryLeader(t, a, name); ok {
		t.Fatal("the holder got its own lock a second time")
	}
	// Another name is another lock.
	releaseOther, ok := tryLeader(t, b, name+"-other")
	if !ok {
		t.Fatal("a lock of another name was refused")
	}
	releaseOther()

	releaseA()
	releaseA() // a second release is harmless
	releaseB, ok := tryLeader(t, b, name)
	if !ok {
		t.Fatal("the second replica did not get the lock after the first released it")
	}
	releaseB()
}

// TestLeaderTakeover kills the holder's connection on the server, as a dead
// or partitioned replica would lose it: the holder learns it lost the lock
// and the other replica takes over.
func TestLeaderTakeover(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	a.keepalive = 50 * time.Millisecond
	name := uniqueName("alert")

	la, err := a.Lead(t.Context(), name)
	if err != nil || la == nil {
		t.Fatalf("Lead = %v, %v; want the lock", la, err)
	}
	defer la.Release()
	if _, ok := tryLeader(t, b, name); ok {
		t.Fatal("the second replica got a held lock")
	}

	admin := adminConn(t)
	pids := backends(t, admin, "munja leader "+name)
	if len(pids) != 1 {
		t.Fatalf("leader connections on the server: %v, want 1", pids)
	}
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the holder was not told that its lock's connection died")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		release, ok := tryLeader(t, b, name)
		if ok {
			release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second replica did not get the lock after the holder's connection died")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLeadershipReleaseClosesLost(t *testing.T) {
	db := open(t, pgtest.Schema(t))
	defer db.Close()
	l, err := db.Lead(t.Context(), uniqueName("x"))
	if err != nil || l == nil {
		t.Fatalf("Lead = %v, %v", l, err)
	}
	select {
	case <-l.Lost():
		t.Fatal("Lost closed while the lock is held")
	default:
	}
	l.Release()
	select {
	case <-l.Lost():
	default:
		t.Error("Lost still open after Release")
	}
}

// TestDeadReplicaClaimsReleased: a replica that claimed deliveries and is
// gone (its presence lock ended with its session) has its claims handed
// back by another at once; a live replica's claims are never touched.
func TestDeadReplicaClaimsReleased(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer b.Close()
	ctx := t.Context()
	now := time.Now()
	m := &sms.Message{Text: "claimed", Kind: sms.KindSMS, Source: "api", CreatedAt: now,
		Deliveries: []sms.Delivery{{Phone: "01011112222"}, {Phone: "01033334444"}}}
	if err := a.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	claims, err := a.ClaimDeliveries(ctx, now, 10, 2*time.Minute, store.ClaimFilter{})
	if err != nil || len(claims) != 2 {
		t.Fatalf("claim: %v %d", err, len(claims))
	}
	// A alive: B releases nothing.
	if n, err := b.ReleaseDeadClaims(ctx, now.Add(time.Hour), time.Second); err != nil || n != 0 {
		t.Fatalf("release while the claimer lives: %d %v", n, err)
	}
	// A dies (its sessions end without a word). Its claims are not handed
	// back while a batch could still be in flight (A may only have lost its
	// connections), then they are.
	a.Close()
	time.Sleep(200 * time.Millisecond)
	if n, err := b.ReleaseDeadClaims(ctx, now.Add(30*time.Second), time.Minute); err != nil || n != 0 {
		t.Fatalf("released %d claims younger than a batch can be in flight (%v)", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := b.ReleaseDeadClaims(ctx, now.Add(2*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("released %d of the dead replica's 2 claims", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	again, err := b.ClaimDeliveries(ctx, now.Add(2*time.Minute), 10, 2*time.Minute, store.ClaimFilter{})
	if err != nil || len(again) != 2 || again[0].Delivery.Attempts != 2 {
		t.Fatalf("claim after release: %v %+v", err, again)
	}
}
