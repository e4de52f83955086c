package faults

// Scenario 5: sms.limits hold exactly when two replicas on one PostgreSQL
// schema take a burst of concurrent sends.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/reliability/report"
)

// TestLimitsAcrossReplicas is scenario 5.
func TestLimitsAcrossReplicas(t *testing.T) {
	shortParallel(t)
	type size struct{ messages, recipients, perDay, perHour, clients int }
	sz := report.Pick(size{300, 30, 100, 5, 8}, size{3000, 300, 1000, 5, 16})
	pg := postgresSchema(t)
	fake := aligotest.New(t)
	var servers []*server
	for _, name := range []string{"replica-a", "replica-b"} {
		dir := t.TempDir()
		port := freePort(t)
		cfg := writeConfig(t, dir, conf{port: port, database: pg.dsn, providers: []string{aligoYAML("aligo", fake, "5s")},
			perDay: sz.perDay, perHour: sz.perHour})
		s := newServer(t, name, cfg, port)
		s.start()
		servers = append(servers, s)
	}

	// Every recipient gets messages/recipients sends, in random order.
	jobs := make(chan int, sz.messages)
	for _, i := range rand.Perm(sz.messages) {
		jobs <- i
	}
	close(jobs)
	phone := func(i int) string { return fmt.Sprintf("0105555%04d", i%sz.recipients) }
	l := newLedger("limits")
	var mu sync.Mutex
	answers := map[string]int{}    // "202", "429 sms.limits.per_day" …
	acceptedTo := map[string]int{} // recipient → 202s
	refusedBy := map[string]int{}  // replica → 429s
	acceptedBy := map[string]int{} // replica → 202s
	start := time.Now()
	var wg sync.WaitGroup
	for c := range 2 * sz.clients {
		s := servers[c%2]
		wg.Go(func() {
			for i := range jobs {
				to := phone(i)
				text := l.text()
				body, _ := json.Marshal(map[string]any{"to": []string{to}, "text": text})
				resp, err := httpc.Post(s.base()+"/api/v1/messages", "application/json", bytes.NewReader(body))
				if err != nil {
					mu.Lock()
					answers["error ("+errKind(err)+")"]++
					mu.Unlock()
					continue
				}
				var out struct {
					ID    int64  `json:"id"`
					Field string `json:"field"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				mu.Lock()
				switch resp.StatusCode {
				case http.StatusAccepted:
					answers["202"]++
					acceptedTo[to]++
					acceptedBy[s.name]++
					l.accept(text, ack{at: time.Now(), id: out.ID, base: s.base(), to: []string{to}})
					l.count(text, "202")
				case http.StatusTooManyRequests:
					answers["429 "+out.Field]++
					refusedBy[s.name]++
				default:
					answers[strconv.Itoa(resp.StatusCode)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	burst := time.Since(start)
	tl, _ := drain(t, l, report.Pick(30*time.Second, 2*time.Minute), servers, fake)

	// What the store holds, counted in the schema.
	var stored int
	if err := pg.conn(t).QueryRow(context.Background(), `SELECT count(*) FROM deliveries`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	accepted := answers["202"]
	refused := 0
	for k, v := range answers {
		if strings.HasPrefix(k, "429") {
			refused += v
		}
	}
	most, over := 0, 0
	for _, n := range acceptedTo {
		most = max(most, n)
		if n > sz.perHour {
			over++
		}
	}
	deliveredTo := map[string]int{}
	deliveredAll := 0
	for _, d := range fake.Delivered() {
		if strings.HasPrefix(d.Msg, "[limits] ") {
			deliveredTo[d.Receiver]++
			deliveredAll++
		}
	}
	mostDelivered := 0
	for _, n := range deliveredTo {
		mostDelivered = max(mostDelivered, n)
	}

	var problems []string
	if accepted != sz.perDay {
		problems = append(problems, fmt.Sprintf("%d sends accepted, want exactly per_day = %d", accepted, sz.perDay))
	}
	if refused != sz.messages-sz.perDay {
		problems = append(problems, fmt.Sprintf("%d sends refused with 429, want %d", refused, sz.messages-sz.perDay))
	}
	if over > 0 || mostDelivered > sz.perHour {
		problems = append(problems, fmt.Sprintf("%d recipients accepted more than per_recipient_per_hour = %d (most accepted %d, most delivered %d)", over, sz.perHour, most, mostDelivered))
	}
	if deliveredAll != accepted || tl.lost > 0 || stored != accepted {
		problems = append(problems, fmt.Sprintf("accepted %d, stored %d, delivered %d (lost %d): they must be equal", accepted, stored, deliveredAll, tl.lost))
	}
	var keys []string
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var list []string
	for _, k := range keys {
		list = append(list, fmt.Sprintf("%s: %d", k, answers[k]))
	}
	rows := [][]string{
		{"figure", "value"},
		{"sends (one recipient each), recipients", fmt.Sprintf("%d, %d (%d each)", sz.messages, sz.recipients, sz.messages/sz.recipients)},
		{"limits", fmt.Sprintf("per_day %d, per_recipient_per_hour %d", sz.perDay, sz.perHour)},
		{"concurrent clients", fmt.Sprintf("%d on each replica", sz.clients)},
		{"burst took", burst.Round(10 * time.Millisecond).String()},
		{"answers", strings.Join(list, ", ")},
		{"**accepted (202)**", fmt.Sprintf("%d (replica-a %d, replica-b %d)", accepted, acceptedBy["replica-a"], acceptedBy["replica-b"])},
		{"refused (429)", fmt.Sprintf("%d (replica-a %d, replica-b %d)", refused, refusedBy["replica-a"], refusedBy["replica-b"])},
		{"most accepted for one recipient", strconv.Itoa(most)},
		{"recipients over per_recipient_per_hour", strconv.Itoa(over)},
		{"deliveries in the store", strconv.Itoa(stored)},
		{"delivered by the gateway (most to one recipient)", fmt.Sprintf("%d (%d)", deliveredAll, mostDelivered)},
		{"lost", strconv.Itoa(tl.lost)},
	}
	report.Section(t, "faults-5-limits", "Faults 5: limits under concurrency across replicas", fmt.Sprintf(`
Command: `+"`go test -count=1 -run '^TestLimitsAcrossReplicas$' ./reliability/faults/ -args -full`"+`
(short version: without `+"`-full`"+`; the long one is ten times the size).

Two `+"`munja serve`"+` replicas on one PostgreSQL schema, both with `+"`sms.limits`"+` per_day %d and
per_recipient_per_hour %d, one fake Aligo gateway. %d clients on each replica POST %d messages
between them, one recipient each, %d per recipient in random order, all at once. Checked: exactly
per_day accepted (202) and every other send refused with 429, no recipient over its hourly limit,
and what was accepted is what the store holds and what the gateway delivered.

%s
%s`, sz.perDay, sz.perHour, sz.clients, sz.messages, sz.messages/sz.recipients, report.Table(rows), result(problems)))
	fail(t, problems)
}
