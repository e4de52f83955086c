package alerttest_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/alert/alerttest"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store/sqlite"
)

type outbox struct {
	mu  sync.Mutex
	got []alert.Notification
}

func (o *outbox) Notify(_ context.Context, n alert.Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, n)
	return nil
}

func (o *outbox) take() []alert.Notification {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.got
	o.got = nil
	return g
}

// TestSQLiteRestart runs the engine on the real SQLite store: an incident
// survives closing and reopening the database file.
func TestSQLiteRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "munja.db")
	clock := alerttest.NewClock(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC))
	cfg := &config.Config{
		Host: "web0",
		Checks: []config.Check{
			{Name: "httpd", Type: "process", Process: "httpd"},
			{Name: "web-port", Type: "listen", Port: 80},
			{Name: "oom", Type: "log", Journal: true, Pattern: "Out of memory"},
		},
		Alerting: config.Alerting{
			GroupWait:  config.Duration(10 * time.Second),
			Repeat:     config.Duration(time.Hour),
			Recipients: []string{"01012345678"},
		},
	}
	box := &outbox{}
	open := func() (*sqlite.DB, *alert.Engine) {
		t.Helper()
		db, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := alert.New(alert.Options{Config: cfg, State: db, Notifier: box, Clock: clock,
			PublicURL: "https://munja.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return db, e
	}
	flush := func(e *alert.Engine) {
		t.Helper()
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	texts := []string{
		"[경고] httpd 프로세스가 동작하지 않습니다.",
		"[경고] 80 포트가 열려있지 않습니다.",
		"[경고] 시스템 로그에서 'Out of memory' 탐지됨.",
	}

	db, e := open()
	for i, name := range []string{"httpd", "web-port", "oom"} {
		e.Observe(check.Result{Check: name, Firing: texts[i], Resolved: "[복구] " + name, At: clock.Now()})
	}
	clock.Advance(10 * time.Second)
	flush(e)
	got := box.take()
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, strings.Join(texts, "\n")+"\n확인: https://munja.example.com/ack/") {
		t.Fatalf("first message: %+v", got)
	}
	token := got[0].Text[strings.LastIndex(got[0].Text, "/")+1:]
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, e = open()
	defer db.Close()
	clock.Advance(30 * time.Minute)
	flush(e)
	if got := box.take(); len(got) != 0 {
		t.Fatalf("re-sent after restart: %+v", got)
	}
	if open := e.Incidents(true); len(open) != 3 {
		t.Fatalf("open incidents after restart: %d", len(open))
	}
	clock.Advance(30 * time.Minute)
	flush(e)
	if got := box.take(); len(got) != 1 || got[0].Reason != alert.ReasonRepeat {
		t.Fatalf("reminder: %+v", got)
	}
	if _, err := e.AckByToken(ctx, token, "kim"); err != nil {
		t.Fatalf("ack link after restart: %v", err)
	}
	clock.Advance(2 * time.Hour)
	flush(e)
	if got := box.take(); len(got) != 0 {
		t.Fatalf("reminder after ack: %+v", got)
	}
}
