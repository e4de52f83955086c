package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func count(t *testing.T, st store.Store) int {
	t.Helper()
	ms, err := st.ListMessages(context.Background(), store.MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestSubmitStoresDedupedRecipients(t *testing.T) {
	st := openStore(t)
	woke := 0
	ob := outbox.New(outbox.Options{Store: st, DefaultSender: "02-1234-5678", Wake: func() { woke++ }})
	m, err := ob.Submit(context.Background(), outbox.Request{
		To:   []string{"010-1234-5678", "+82 10-1234-5678", "01098765432"},
		Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Source: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || len(m.Deliveries) != 2 || m.Kind != sms.KindSMS || m.Sender != "0212345678" || woke != 1 {
		t.Fatalf("message %+v woke %d", m, woke)
	}
	got, err := st.GetMessage(context.Background(), m.ID)
	if err != nil || len(got.Deliveries) != 2 || got.Deliveries[0].Status != sms.StatusQueued {
		t.Fatalf("stored %+v, %v", got, err)
	}
	// The template a text was written from is kept with it.
	m, err = ob.Submit(context.Background(), outbox.Request{To: []string{"01012345678"}, Text: "점검 안내", Template: " 정기점검 ", Source: "console"})
	if err != nil || m.Template != "정기점검" {
		t.Fatalf("template: %+v %v", m, err)
	}
	if got, err := st.GetMessage(context.Background(), m.ID); err != nil || got.Template != "정기점검" {
		t.Fatalf("stored template: %+v %v", got, err)
	}
}

func TestSubmitRefusesBadInputAndStoresNothing(t *testing.T) {
	cases := []struct {
		name  string
		req   outbox.Request
		field string
		want  string
	}{
		{"emoji", outbox.Request{To: []string{"01012345678"}, Text: "서버 다운 😀"}, "text", "U+1F600"},
		{"bad number", outbox.Request{To: []string{"01012345678", "0101234"}, Text: "x"}, "to[1]", "0101234"},
		{"bad entry among good", outbox.Request{To: []string{"01012345678", "010-2222-3333", "010 9 8 7 6 5 4 3 2 1"}, Text: "x"}, "to[2]", `"010 9 8 7 6 5 4 3 2 1"`},
		{"blank entry", outbox.Request{To: []string{"01012345678", " "}, Text: "x"}, "to[1]", "empty"},
		{"no recipients", outbox.Request{Text: "x"}, "to", "recipient"},
		{"empty text", outbox.Request{To: []string{"01012345678"}}, "text", ""},
		{"sms too long", outbox.Request{To: []string{"01012345678"}, Text: strings.Repeat("가", 46), Type: "sms"}, "text", "90"},
		{"title emoji", outbox.Request{To: []string{"01012345678"}, Text: strings.Repeat("가", 46), Title: "✔ 완료"}, "title", "U+2714"},
		{"escape", outbox.Request{To: []string{"01012345678"}, Text: "디스크 \x1b[31m부족"}, "text", "control character U+001B at position 5"},
		{"title delete", outbox.Request{To: []string{"01012345678"}, Text: "x", Title: "점검\x7f"}, "title", "U+007F"},
		{"zero width space", outbox.Request{To: []string{"01012345678"}, Text: "서버\u200b다운"}, "text", "U+200B"},
		{"unknown group", outbox.Request{Groups: []string{"nobody"}, Text: "x"}, "groups[0]", "nobody"},
		{"past", outbox.Request{To: []string{"01012345678"}, Text: "x", At: time.Now().Add(-time.Hour)}, "at", "past"},
		{"too far ahead", outbox.Request{To: []string{"01012345678"}, Text: "x", At: time.Now().AddDate(1, 0, 1)}, "at", "year"},
		{"year 9999", outbox.Request{To: []string{"01012345678"}, Text: "x", At: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}, "at", "year"},
		{"template name too long", outbox.Request{To: []string{"01012345678"}, Text: "x", Template: strings.Repeat("점", 101)}, "template", "100"},
		{"template name escape", outbox.Request{To: []string{"01012345678"}, Text: "x", Template: "a\x1b"}, "template", "control"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			ob := outbox.New(outbox.Options{Store: st})
			_, err := ob.Submit(context.Background(), c.req)
			if err == nil {
				t.Fatal("accepted")
			}
			var fe *sms.FieldError
			var ce *sms.CharError
			field := ""
			switch {
			case errors.As(err, &fe):
				field = fe.Field
			case errors.As(err, &ce):
				field = ce.Field
			}
			if field != c.field || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v (field %q), want field %q mentioning %q", err, field, c.field, c.want)
			}
			if n := count(t, st); n != 0 {
				t.Fatalf("%d messages stored after a refusal", n)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if err := st.SaveContact(ctx, &store.Contact{Name: "홍길동", Phone: "01011112222", Groups: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(outbox.Options{Store: st, ConfigGroups: map[string][]string{"ops": {"010-3333-4444", "01011112222"}, "night": {"01055556666"}}})
	m, err := ob.Submit(ctx, outbox.Request{To: []string{"group:night"}, Groups: []string{"ops"}, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[sms.Phone]bool{}
	for _, d := range m.Deliveries {
		got[d.Phone] = true
	}
	if len(m.Deliveries) != 3 || !got["01011112222"] || !got["01033334444"] || !got["01055556666"] {
		t.Fatalf("recipients %v", got)
	}
}

func TestLimits(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	ob := outbox.New(outbox.Options{Store: st, Limits: outbox.Limits{PerDay: 5, PerRecipientPerHour: 2}, Now: func() time.Time { return now }})
	for range 2 {
		if _, err := ob.Submit(ctx, outbox.Request{To: []string{"01011112222"}, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ob.Submit(ctx, outbox.Request{To: []string{"01011112222"}, Text: "x"})
	var le *outbox.LimitError
	if !errors.As(err, &le) || le.Limit != "sms.limits.per_recipient_per_hour" || !strings.Contains(err.Error(), "010-1111-2222") {
		t.Fatalf("third send to one number: %v", err)
	}
	if _, err := ob.Submit(ctx, outbox.Request{To: []string{"01033334444", "01055556666"}, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	_, err = ob.Submit(ctx, outbox.Request{To: []string{"01077778888", "01099990000"}, Text: "x"})
	if !errors.As(err, &le) || le.Limit != "sms.limits.per_day" {
		t.Fatalf("over the daily budget: %v", err)
	}
	if n := count(t, st); n != 3 {
		t.Fatalf("stored %d messages, want 3", n)
	}
}

// BenchmarkSubmit measures durable acceptance: validate, store (commit to
// the SQLite WAL) and return, with the default limits on.
func BenchmarkSubmit(b *testing.B) {
	// Limits on: a budget far away and a per-recipient limit of 30, with
	// recipients rotating over 100,000 numbers as a real relay would see.
	for _, limits := range []outbox.Limits{{}, {PerDay: 1 << 30, PerRecipientPerHour: 30}} {
		name := "nolimits"
		if limits.PerDay > 0 {
			name = "limits"
		}
		b.Run(name+"/sequential", func(b *testing.B) {
			ob := outbox.New(outbox.Options{Store: openStoreB(b), Limits: limits})
			i := 0
			for b.Loop() {
				i++
				req := outbox.Request{To: []string{fmt.Sprintf("010%08d", 10000000+i%100000)}, Text: "[경고] httpd 프로세스가 동작하지 않습니다."}
				if _, err := ob.Submit(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			ob := outbox.New(outbox.Options{Store: openStoreB(b), Limits: limits})
			var seq atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					req := outbox.Request{To: []string{fmt.Sprintf("010%08d", 10000000+i%100000)}, Text: "[경고] httpd 프로세스가 동작하지 않습니다."}
					if _, err := ob.Submit(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func openStoreB(b *testing.B) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func TestDropLimitedKeepsTheOthers(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ob := outbox.New(outbox.Options{Store: st, Limits: outbox.Limits{PerRecipientPerHour: 1}})
	if _, err := ob.Submit(ctx, outbox.Request{To: []string{"01011112222"}, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	req := outbox.Request{To: []string{"01011112222", "01033334444"}, Text: "[경고] httpd 프로세스가 동작하지 않습니다."}
	if _, err := ob.Submit(ctx, req); err == nil {
		t.Fatal("without DropLimited the message must be refused")
	}
	req.DropLimited = true
	m, err := ob.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Deliveries) != 1 || m.Deliveries[0].Phone != "01033334444" || len(m.Dropped) != 1 || m.Dropped[0] != "01011112222" {
		t.Fatalf("deliveries %+v dropped %v", m.Deliveries, m.Dropped)
	}
}

// TestSubmitAtBound: a reservation up to a year ahead is accepted; the
// bound is the same for every caller because it lives here.
func TestSubmitAtBound(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ob := outbox.New(outbox.Options{Store: openStore(t), Now: func() time.Time { return now }})
	for at, ok := range map[time.Time]bool{
		now.Add(10 * time.Minute):                        true,
		now.AddDate(1, 0, 0):                             true,
		now.AddDate(1, 0, 0).Add(time.Second):            false,
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC): false,
	} {
		_, err := ob.Submit(context.Background(), outbox.Request{To: []string{"01012345678"}, Text: "x", At: at})
		var fe *sms.FieldError
		if got := err == nil; got != ok || (!ok && (!errors.As(err, &fe) || fe.Field != "at")) {
			t.Errorf("at %v: err %v, want accepted %v", at, err, ok)
		}
	}
}

// TestLimitsHoldAcrossProcesses: two outboxes on two handles of one SQLite
// file (munja serve and munja send, or two replicas on PostgreSQL) submit
// at once; together they never pass sms.limits. Each used to count only
// its own pending sends in memory, so together they let through up to
// twice the budget.
func TestLimitsHoldAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	var obs []*outbox.Outbox
	for range 2 {
		st, err := sqlite.Open(context.Background(), path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		obs = append(obs, outbox.New(outbox.Options{Store: st, Limits: outbox.Limits{PerDay: 30, PerRecipientPerHour: 5}}))
	}
	var mu sync.Mutex
	accepted, refused := 0, 0
	perPhone := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				to := fmt.Sprintf("0105555%04d", (w*10+i)%12)
				_, err := obs[w%2].Submit(context.Background(), outbox.Request{To: []string{to}, Text: "x", Source: "api"})
				mu.Lock()
				var le *outbox.LimitError
				switch {
				case err == nil:
					accepted++
					perPhone[to]++
				case errors.As(err, &le):
					refused++
				default:
					t.Errorf("Submit: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 30 || refused != 50 {
		t.Errorf("accepted %d, refused %d of 80 with per_day 30: want exactly 30 accepted", accepted, refused)
	}
	for p, n := range perPhone {
		if n > 5 {
			t.Errorf("%s got %d within the hour, limit 5", p, n)
		}
	}
}

// TestSubmitOnce: a request sent again within its window stores nothing,
// wakes nobody and names the first message; after the window it is stored.
func TestSubmitOnce(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	woke := 0
	ob := outbox.New(outbox.Options{Store: st, Now: func() time.Time { return now }, Wake: func() { woke++ }})
	req := outbox.Request{To: []string{"01012345678"}, Text: "[경고] HighLoad", Source: "alertmanager", Once: "k", OnceWindow: 10 * time.Minute}
	first, err := ob.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute)
	var de *outbox.DuplicateError
	if m, err := ob.Submit(context.Background(), req); !errors.As(err, &de) || de.MessageID != first.ID || m != nil {
		t.Fatalf("again within the window: %v, %v", m, err)
	}
	now = now.Add(time.Millisecond)
	if _, err := ob.Submit(context.Background(), req); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if n := count(t, st); n != 2 || woke != 2 {
		t.Fatalf("%d messages stored, %d wake-ups; want 2 and 2", n, woke)
	}
}

// TestSubmitAudits: every stored message is one message.create entry with
// its actor, ID, kind and recipient count — never its text; a refused
// request writes nothing.
func TestSubmitAudits(t *testing.T) {
	st := openStore(t)
	ob := outbox.New(outbox.Options{Store: st})
	ctx := context.Background()
	m, err := ob.Submit(ctx, outbox.Request{To: []string{"01012345678", "01098765432"}, Text: "비밀번호 hunter2", Test: true,
		Source: "api", Actor: "token:ci"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Submit(ctx, outbox.Request{To: []string{"12"}, Text: "x", Source: "api", Actor: "token:ci"}); err == nil {
		t.Fatal("a bad number was accepted")
	}
	m2, err := ob.Submit(ctx, outbox.Request{To: []string{"01012345678"}, Text: "x", Source: "alert"})
	if err != nil {
		t.Fatal(err)
	}
	es, err := st.ListAudit(ctx, 10)
	if err != nil || len(es) != 2 {
		t.Fatalf("audit %+v, %v", es, err)
	}
	want := store.AuditEntry{Actor: "token:ci", Action: "message.create", Target: fmt.Sprintf("message %d", m.ID), Detail: "SMS, 2 recipients, test"}
	if got := es[1]; got.Actor != want.Actor || got.Action != want.Action || got.Target != want.Target || got.Detail != want.Detail {
		t.Errorf("entry %+v, want %+v", got, want)
	}
	if got := es[0]; got.Actor != "alert" || got.Target != fmt.Sprintf("message %d", m2.ID) || got.Detail != "SMS, 1 recipient" {
		t.Errorf("entry without an actor %+v", got)
	}
	for _, e := range es {
		if strings.Contains(e.Detail, "hunter2") {
			t.Errorf("the text is in the audit log: %+v", e)
		}
	}
}

// TestOnCallRecipients: an oncall: recipient is resolved when the message
// is submitted, at the outbox's clock; an unknown schedule is the caller's
// error naming the field, a failing resolver is not, and without
// schedules such a recipient is refused.
func TestOnCallRecipients(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
	var asked []string
	resolve := func(_ context.Context, ref string, at time.Time) ([]sms.Phone, error) {
		asked = append(asked, ref+"@"+at.Format(time.RFC3339))
		switch ref {
		case "ops":
			return []sms.Phone{"01011112222"}, nil
		case "ops:all":
			return []sms.Phone{"01011112222", "01033334444"}, nil
		case "broken":
			return nil, errors.New("database is locked")
		}
		return nil, &outbox.OnCallError{Msg: fmt.Sprintf("oncall:%s: no such schedule", ref)}
	}
	ob := outbox.New(outbox.Options{Store: st, OnCall: resolve, Now: func() time.Time { return now }})
	m, err := ob.Submit(ctx, outbox.Request{To: []string{"oncall:ops", "oncall:ops:all", "010-1111-2222"}, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Deliveries) != 2 || strings.Join(asked, " ") != "ops@2026-12-14T00:00:00Z ops:all@2026-12-14T00:00:00Z" {
		t.Fatalf("deliveries %+v, resolver asked %v", m.Deliveries, asked)
	}
	var fe *sms.FieldError
	if _, err := ob.Submit(ctx, outbox.Request{To: []string{"01011112222", "oncall:nope"}, Text: "x"}); !errors.As(err, &fe) || fe.Field != "to[1]" || !strings.Contains(fe.Msg, "no such schedule") {
		t.Errorf("unknown schedule: %v", err)
	}
	if _, err := ob.Submit(ctx, outbox.Request{To: []string{"oncall:broken"}, Text: "x"}); err == nil || errors.As(err, &fe) {
		t.Errorf("failing resolver: %v, want an error that is not the caller's", err)
	}
	plain := outbox.New(outbox.Options{Store: st})
	if _, err := plain.Submit(ctx, outbox.Request{To: []string{"oncall:ops"}, Text: "x"}); !errors.As(err, &fe) || !strings.Contains(fe.Msg, "no on-call schedules") {
		t.Errorf("no schedules: %v", err)
	}
	if n := count(t, st); n != 1 {
		t.Errorf("%d messages stored, want only the first", n)
	}
}
