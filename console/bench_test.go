package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// BenchmarkHistoryPage measures the history page over a store holding
// 100,000 messages (150,000 deliveries): the newest page, a page deep in
// the keyset, and searches by recipient, text and status. It reports the
// p50 and p99 latency of a whole HTTP request (session check included).
//
//	go test ./console -run '^$' -bench HistoryPage -benchtime 200x
func BenchmarkHistoryPage(b *testing.B) {
	h := newHarness(b, harnessOpts{})
	const total = 100000
	start := time.Now().Add(-30 * 24 * time.Hour)
	for i := 0; i < total; i++ {
		m := &sms.Message{Text: fmt.Sprintf("[경고] 서버 %d 디스크 사용량 %d%%", i%500, i%100), Kind: sms.KindSMS, Source: "alert",
			CreatedAt:  start.Add(time.Duration(i) * 25 * time.Second),
			Deliveries: []sms.Delivery{{Phone: sms.Phone(fmt.Sprintf("0101%07d", i%5000))}}}
		if i%2 == 0 {
			m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: "01099271179"})
		}
		if err := h.st.CreateMessage(h.ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	day := start.Add(15 * 24 * time.Hour).In(h.cfg.Location()).Format("2006-01-02")
	for _, q := range []struct{ name, query string }{
		{"newest", ""},
		{"deep", "before=20000"},
		{"phone", "phone=" + url.QueryEscape("010-1000-1234")},
		{"text", "q=" + url.QueryEscape("서버 42 ")},
		{"status", "status=failed"},
		{"day", "from=" + day + "&to=" + day},
	} {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				r := c.get("/history?" + q.query)
				lat = append(lat, time.Since(t0))
				if r.status != http.StatusOK || (q.name != "status" && !strings.Contains(r.body, `class="message-row"`)) {
					b.Fatalf("status %d", r.status)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

const (
	benchChecks = 50
	benchDays   = 90
)

func benchCheckName(i int) string { return fmt.Sprintf("check-%02d", i) }

// fillHistory writes the benchmark's history: every check runs every 10 s
// (6 results a minute); the first half measure a latency; each fails for 5
// minutes once a day.
func fillHistory(path string, end time.Time) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	const minutes = benchDays * 24 * 60
	batch := make([]store.CheckSample, 0, 100000)
	for c := range benchChecks {
		name := benchCheckName(c)
		var changes []store.CheckChange
		changes = append(changes, store.CheckChange{Check: name, At: end.Add(-minutes * time.Minute), Status: store.CheckOK, Detail: "ok"})
		for k := minutes - 1; k >= 0; k-- {
			at := end.Add(-time.Duration(k) * time.Minute)
			s := store.CheckSample{Check: name, At: at, OK: 6}
			day, min := k/(24*60), k%(24*60)
			failing := min >= 600+c*5 && min < 605+c*5
			if failing {
				s.OK, s.Failing = 0, 6
				if min == 600+c*5 {
					changes = append(changes, store.CheckChange{Check: name, At: at, Status: store.CheckFailing, Detail: fmt.Sprintf("HTTP 503 on day %d", day)})
				}
			} else if min == 605+c*5 {
				changes = append(changes, store.CheckChange{Check: name, At: at, Status: store.CheckOK, Detail: "HTTP 200"})
			}
			if c < benchChecks/2 {
				lat := time.Duration(30+(k*7+c)%40) * time.Millisecond
				s.LatencyN, s.LatencySum, s.LatencyMax = 6, 6*lat, lat+20*time.Millisecond
			}
			batch = append(batch, s)
			if len(batch) == cap(batch) {
				if err := st.AddCheckHistory(ctx, batch, nil); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err := st.AddCheckHistory(ctx, batch, changes); err != nil {
			return err
		}
		batch = batch[:0]
	}
	return nil
}

// BenchmarkCheckHistoryPages measures the pages that read check history
// over a SQLite store holding 90 days of 50 checks, a sample a minute each
// (6.48 million samples, written first: about a minute):
// the check page with its 24 h, 7 d and 30 d uptimes and a 30-day (and the
// default 24-hour) chart and timeline, and the dashboard with the 24-hour
// uptime of every check, from its 30-second cache and read afresh. It
// reports p50 and p99 of a whole HTTP request (session check included).
//
//	go test ./console -run '^$' -bench CheckHistoryPages -benchtime 200x
func BenchmarkCheckHistoryPages(b *testing.B) {
	// Built once per run of the benchmark (each -count): the sub-benchmarks
	// share it.
	db, end := filepath.Join(b.TempDir(), "munja.db"), time.Now().Truncate(time.Minute)
	start := time.Now()
	if err := fillHistory(db, end); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d days of %d checks (%d samples) in %v", benchDays, benchChecks, benchDays*24*60*benchChecks, time.Since(start).Round(time.Second))
	now := end.Add(30 * time.Second)
	clock := now
	var checks []config.Check
	for c := range benchChecks {
		checks = append(checks, config.Check{Name: benchCheckName(c), Type: "http", URL: "http://127.0.0.1:1/"})
	}
	h := newHarness(b, harnessOpts{engine: true, checks: checks, db: db, now: func() time.Time { return clock }})
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	for _, q := range []struct {
		name, path, want string
		advance          bool // move the clock past the uptime cache
	}{
		{"check-30d", "/checks/check-07?range=30d", `<svg class="latency"`, false},
		{"check-24h", "/checks/check-07", `<svg class="latency"`, false},
		{"dashboard", "/", "check-49", false},
		{"dashboard-uncached", "/", "check-49", true},
	} {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				if q.advance {
					clock = clock.Add(uptimeTTL)
				}
				t0 := time.Now()
				r := c.get(q.path)
				lat = append(lat, time.Since(t0))
				if r.status != http.StatusOK || !strings.Contains(r.body, q.want) || !strings.Contains(r.body, "%</") {
					b.Fatalf("status %d\n%s", r.status, r.body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
