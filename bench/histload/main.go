// Command histload fills a munja SQLite database with a realistic history
// (by default 100,000 messages over 400 days, one to twenty recipients
// each, mostly delivered, some failed) through the store itself, and
// creates an API token, so the history page and API can be measured:
//
//	go run ./bench/histload -db /tmp/hist/munja.db -n 100000 > /tmp/hist/token
//	munja serve --config /tmp/hist/munja.yaml   # database: /tmp/hist/munja.db
//	go run ./bench/apiload -url 'http://127.0.0.1:8080/api/v1/messages?limit=50' -token "$(tail -1 /tmp/hist/token)"
//
// It prints the ID range (for before= deep in the list), a phone and a word
// that searches find, and the token on the last line.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

func main() {
	db := flag.String("db", "munja.db", "SQLite file to fill (created if missing)")
	n := flag.Int("n", 100_000, "messages to add")
	days := flag.Int("days", 400, "spread the messages over this many days before now")
	workers := flag.Int("workers", 32, "concurrent writers (the store commits them in groups)")
	token := flag.String("token-name", "histload", "name of the API token to create (scope read); empty for none")
	flag.Parse()
	if err := run(context.Background(), *db, *n, *days, *workers, *token); err != nil {
		fmt.Fprintln(os.Stderr, "histload:", err)
		os.Exit(1)
	}
}

var (
	hosts  = []string{"web1", "web2", "db1", "batch", "mail", "erp", "mes-01", "mes-02"}
	alerts = []string{
		"[경고] %s httpd 프로세스가 동작하지 않습니다.",
		"[복구] %s httpd 프로세스가 다시 동작합니다.",
		"[경고] %s 80 포트가 열려있지 않습니다.",
		"[경고] %s 시스템 로그에서 'Out of memory' 탐지됨.",
		"[경고] %s 디스크 사용량 92%%",
	}
	notices = []string{
		"[안내] 오늘 22시부터 24시까지 서버 점검이 있습니다. 업무에 참고 바랍니다.",
		"[공지] 생산관리시스템 접속 주소가 변경되었습니다. 자세한 내용은 메일을 확인하세요.",
		"회의가 15시로 변경되었습니다.",
	}
	failures = []string{"발/착신 번호 에러", "aligo: [-101] authentication failed (인증오류입니다.)", "결번", "수신거부"}
)

func run(ctx context.Context, path string, n, days, workers int, tokenName string) error {
	db, err := sqlite.Open(ctx, path, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	start := now.Add(-time.Duration(days) * 24 * time.Hour)
	step := now.Sub(start) / time.Duration(max(n, 1))
	phones := make([]sms.Phone, 2000)
	for i := range phones {
		phones[i] = sms.Phone(fmt.Sprintf("010%04d%04d", 2000+i*3, (i*7919)%10000))
	}

	began := time.Now()
	jobs := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range jobs {
				if err := db.CreateMessage(ctx, message(rng, i, start.Add(time.Duration(i)*step), phones)); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var sendErr error
	for i := 0; i < n && sendErr == nil; i++ {
		select {
		case jobs <- i:
		case sendErr = <-errc:
		}
	}
	close(jobs)
	wg.Wait()
	if sendErr != nil {
		return fmt.Errorf("create message: %w", sendErr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("create message: %w", err)
	default:
	}
	inserted := time.Since(began)

	delivered, err := settle(ctx, db, now)
	if err != nil {
		return err
	}
	ms, err := db.ListMessages(ctx, store.MessageFilter{Limit: 1})
	if err != nil || len(ms) == 0 {
		return fmt.Errorf("list messages: %v", err)
	}
	fmt.Printf("inserted %d messages in %s (%.0f/s); %d deliveries settled\n", n, inserted.Round(time.Millisecond), float64(n)/inserted.Seconds(), delivered)
	fmt.Printf("newest id %d; deep page: before=%d; phone to search: %s; word: 디스크\n", ms[0].ID, ms[0].ID/10, phones[42].Display())
	if tokenName == "" {
		return nil
	}
	plain, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	if err := db.CreateToken(ctx, &store.Token{Name: tokenName, Scope: auth.ScopeRead, Hash: hash}); err != nil {
		return fmt.Errorf("create token %q: %w", tokenName, err)
	}
	fmt.Println(plain)
	return nil
}

// message builds message i: mostly alerts to one to three people, some
// notices to a group of twenty.
func message(rng *rand.Rand, i int, at time.Time, phones []sms.Phone) *sms.Message {
	m := &sms.Message{Kind: sms.KindSMS, CreatedAt: at, Sender: "0212345678"}
	recipients := 1 + rng.IntN(3)
	switch r := rng.IntN(100); {
	case r < 60:
		m.Source, m.CreatedBy = "alert", "alert:first"
		m.Text = fmt.Sprintf(alerts[rng.IntN(len(alerts))], hosts[rng.IntN(len(hosts))])
	case r < 80:
		m.Source, m.CreatedBy = "api", "token:cron"
		m.Text = fmt.Sprintf("[배치] 야간 작업 %d 완료", i)
	case r < 95:
		m.Source, m.CreatedBy = "console", "user:admin"
		m.Text = notices[rng.IntN(len(notices))]
		if rng.IntN(4) == 0 {
			recipients = 20
		}
	default:
		m.Source, m.CreatedBy = "compat", "net:127.0.0.1"
		m.Text = fmt.Sprintf(alerts[0], "legacy")
	}
	if n, _ := sms.CountBytes(m.Text); n > sms.MaxSMSBytes {
		m.Kind = sms.KindLMS
	}
	seen := map[sms.Phone]bool{}
	for len(m.Deliveries) < recipients {
		p := phones[rng.IntN(len(phones))]
		if !seen[p] {
			seen[p] = true
			m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: p})
		}
	}
	return m
}

// settle claims every queued delivery and records an outcome, as the
// dispatcher and the delivery reports would have: 90% delivered, 6% sent
// (no report), 4% failed with a gateway reason.
func settle(ctx context.Context, db *sqlite.DB, now time.Time) (int, error) {
	rng := rand.New(rand.NewPCG(7, 7))
	total := 0
	for {
		claims, err := db.ClaimDeliveries(ctx, now, 5000, time.Minute, store.ClaimFilter{})
		if err != nil {
			return total, fmt.Errorf("claim: %w", err)
		}
		if len(claims) == 0 {
			return total, nil
		}
		ups := make([]store.DeliveryUpdate, len(claims))
		for i, c := range claims {
			u := store.DeliveryUpdate{ID: c.Delivery.ID, Provider: "aligo", ProviderMsgID: fmt.Sprint(100000000 + c.Message.ID),
				SentAt: c.Message.CreatedAt.Add(time.Second), Status: sms.StatusDelivered}
			switch r := rng.IntN(100); {
			case r < 4:
				u.Status, u.Error = sms.StatusFailed, failures[rng.IntN(len(failures))]
			case r < 10:
				u.Status = sms.StatusSent
			}
			ups[i] = u
		}
		if err := db.CompleteDeliveries(ctx, ups); err != nil {
			return total, fmt.Errorf("complete: %w", err)
		}
		total += len(claims)
	}
}
