package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/sms"
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
