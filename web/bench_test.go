package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/munja-sms/munja/sms"
)

// BenchmarkCreateMessageAPI is POST /api/v1/messages end to end in
// process: bearer-token lookup, JSON decoding, validation, and the SQLite
// insert (group commit) with the dryrun path. Parallel, as many clients
// would be (8 per CPU).
func BenchmarkCreateMessageAPI(b *testing.B) {
	f := newFixture(b)
	body := `{"to":["010-1234-5678","010-8765-4321"],"text":"[경고] httpd 프로세스가 동작하지 않습니다."}`
	auth := "Bearer " + f.tokens["send"]
	b.ReportAllocs()
	b.SetParallelism(8) // 8 × GOMAXPROCS concurrent clients, so group commit has company
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/api/v1/messages", strings.NewReader(body))
			r.RemoteAddr = untrusted
			r.Header.Set("Authorization", auth)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			f.srv.ServeHTTP(w, r)
			if w.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkListMessagesAPI is GET /api/v1/messages?limit=50 over 20,000
// stored messages: the first page, a page deep in the history, and a text
// search.
func BenchmarkListMessagesAPI(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	const n = 20_000
	for i := range n {
		m := &sms.Message{Text: fmt.Sprintf("[경고] web%d 디스크 사용량 %d%%", i%50, i%100), Kind: sms.KindSMS, Source: "alert",
			Deliveries: []sms.Delivery{{Phone: sms.Phone(fmt.Sprintf("0101234%04d", i%300))}}}
		if err := f.db.CreateMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	auth := "Bearer " + f.tokens["read"]
	for _, q := range []string{"limit=50", fmt.Sprintf("limit=50&before=%d", n/10), "limit=50&text=web7", "limit=50&to=010-1234-0042"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("GET", "/api/v1/messages?"+q, nil)
				r.RemoteAddr = untrusted
				r.Header.Set("Authorization", auth)
				w := httptest.NewRecorder()
				f.srv.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
