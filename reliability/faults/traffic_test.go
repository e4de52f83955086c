package faults

// Traffic: clients that POST messages, each with a text of its own, and a
// ledger of what munja acknowledged (HTTP 202), matched afterwards with
// what the fake gateways accepted.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/aligo/aligotest"
)

// httpc is the clients' HTTP client: a request to a killed munja fails
// quickly (connection refused or reset).
var httpc = &http.Client{Timeout: 15 * time.Second}

// ack is one message munja acknowledged.
type ack struct {
	at   time.Time
	id   int64
	base string // the munja that acknowledged it
	to   []string
}

// ledger records every POST of a scenario.
type ledger struct {
	prefix string
	seq    atomic.Int64
	// extra, when set, adds what gateways other than the Aligo fakes
	// accepted (text|receiver → copies).
	extra func() map[string]int

	mu      sync.Mutex
	acked   map[string]ack    // text → acknowledgement
	tried   map[string]string // text → the answer it got
	answers map[string]int    // "202", "503 with Retry-After", "error (EOF)" … → count
}

func newLedger(prefix string) *ledger {
	return &ledger{prefix: prefix, acked: map[string]ack{}, tried: map[string]string{}, answers: map[string]int{}}
}

// text is a new message text, unique in the whole run.
func (l *ledger) text() string {
	return fmt.Sprintf("[%s] 점검 메시지 %06d", l.prefix, l.seq.Add(1))
}

// post sends one new message to base and records the answer; it returns
// the HTTP status (0 when the request failed).
func (l *ledger) post(ctx context.Context, base string, to []string) int {
	text := l.text()
	body, _ := json.Marshal(map[string]any{"to": to, "text": text})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/messages", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpc.Do(req)
	if err != nil {
		l.count(text, "error ("+errKind(err)+")")
		return 0
	}
	defer resp.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	derr := json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == http.StatusAccepted {
		if derr != nil || out.ID == 0 {
			// The status came, the body did not: not an acknowledgement
			// a client could act on, but munja did store it.
			l.count(text, "202 without body")
			return resp.StatusCode
		}
		l.accept(text, ack{at: time.Now(), id: out.ID, base: base, to: to})
	}
	key := strconv.Itoa(resp.StatusCode)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
		key += " with Retry-After"
	}
	l.count(text, key)
	return resp.StatusCode
}

// accept records an acknowledgement.
func (l *ledger) accept(text string, a ack) {
	l.mu.Lock()
	l.acked[text] = a
	l.mu.Unlock()
}

// count records the answer a POST of text got.
func (l *ledger) count(text, answer string) {
	l.mu.Lock()
	l.tried[text] = answer
	l.answers[answer]++
	l.mu.Unlock()
}

// errKind names a failed request's error for the report.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cut when the traffic stopped"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed without an answer"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

// answered is how many POSTs got answer.
func (l *ledger) answered(answer string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answers[answer]
}

// answeredOther is how many POSTs got an answer not in answers.
func (l *ledger) answeredOther(answers ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.answers {
		if !slices.Contains(answers, k) {
			n += v
		}
	}
	return n
}

// answerList renders the answers as "202: 10, error: 3".
func (l *ledger) answerList() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, l.answers[k]))
	}
	return strings.Join(parts, ", ")
}

// posts is how many POSTs were made.
func (l *ledger) posts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tried)
}

// acks returns a copy of the acknowledged messages.
func (l *ledger) acks() map[string]ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]ack, len(l.acked))
	for k, v := range l.acked {
		out[k] = v
	}
	return out
}

// flow is clients posting until stopped.
type flow struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFlow runs clients goroutines, each posting a new message (to
// pair()) to a
// target (targets() is asked each time: the replicas a scenario has),
// pausing pause between posts, and trying another target when one does
// not answer.
func startFlow(l *ledger, clients int, pause time.Duration, targets func() []string) *flow {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flow{cancel: cancel}
	for c := range clients {
		f.wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				ts := targets()
				base := ts[r.IntN(len(ts))]
				if code := l.post(ctx, base, pair()); code == 0 && ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond) // restarting: do not spin
				}
				if pause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(pause/2 + time.Duration(r.Int64N(int64(pause)))):
					}
				}
			}
		})
	}
	return f
}

// stop ends the flow and waits for the clients' last requests.
func (f *flow) stop() {
	f.cancel()
	f.wg.Wait()
}

// pair is the usual receivers of a message: two, so that a gateway call
// carries a batch.
func pair() []string { return []string{"01011112222", "01033334444"} }

// tally is what the gateways received, matched with the ledger.
type tally struct {
	acked     int // messages acknowledged
	expected  int // receivers of acknowledged messages
	delivered int // of those, accepted by a gateway at least once
	lost      int // expected - delivered
	dups      int // extra copies of any message of the scenario (acknowledged or not)
	maxCopies int // most copies of one message to one receiver
	unacked   int // receivers of messages not acknowledged that were delivered anyway
	// unackedAnswers are the answers the POSTs of those messages got.
	unackedAnswers map[string]int
	lostSample     []string
}

// unackedList renders unacked with the answers their POSTs got.
func (t tally) unackedList() string {
	if t.unacked == 0 {
		return "0"
	}
	var parts []string
	for k, v := range t.unackedAnswers {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d (their POSTs were answered %s)", t.unacked, strings.Join(parts, ", "))
}

// key of one message to one receiver.
func key(text, receiver string) string { return text + "|" + receiver }

// copies counts what the fakes accepted for this ledger's texts.
func (l *ledger) copies(fakes ...*aligotest.Server) map[string]int {
	got := map[string]int{}
	if l.extra != nil {
		for k, n := range l.extra() {
			got[k] += n
		}
	}
	tag := "[" + l.prefix + "] "
	for _, f := range fakes {
		for _, d := range f.Delivered() {
			if strings.HasPrefix(d.Msg, tag) {
				got[key(d.Msg, d.Receiver)]++
			}
		}
	}
	return got
}

func (l *ledger) tally(fakes ...*aligotest.Server) tally {
	got := l.copies(fakes...)
	acks := l.acks()
	var t tally
	t.acked = len(acks)
	want := map[string]bool{}
	for text, a := range acks {
		for _, r := range a.to {
			k := key(text, r)
			want[k] = true
			t.expected++
			if got[k] > 0 {
				t.delivered++
			} else if len(t.lostSample) < 5 {
				t.lostSample = append(t.lostSample, fmt.Sprintf("%s (id %d)", k, a.id))
			}
		}
	}
	t.lost = t.expected - t.delivered
	t.unackedAnswers = map[string]int{}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, n := range got {
		t.dups += n - 1
		t.maxCopies = max(t.maxCopies, n)
		if !want[k] {
			t.unacked++
			text, _, _ := strings.Cut(k, "|")
			t.unackedAnswers[l.tried[text]]++
		}
	}
	return t
}

// drain waits until every acknowledged message reached a gateway and
// munja has nothing queued or sending (asked through the first server that
// answers), or until timeout. It returns the final tally and how long it
// took.
func drain(t testing.TB, l *ledger, timeout time.Duration, servers []*server, fakes ...*aligotest.Server) (tally, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		tl := l.tally(fakes...)
		if tl.lost == 0 && idle(servers) {
			// A last look: what was in flight when the store went idle.
			time.Sleep(200 * time.Millisecond)
			return l.tally(fakes...), time.Since(start)
		}
		if time.Now().After(deadline) {
			return tl, time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idle reports whether a running server says no delivery is queued or
// sending.
func idle(servers []*server) bool {
	for _, s := range servers {
		if !s.running() {
			continue
		}
		for _, st := range []string{"queued", "sending"} {
			var out struct {
				Messages []json.RawMessage `json:"messages"`
			}
			if code := getJSON(s.base()+"/api/v1/messages?limit=1&status="+st, "", &out); code != http.StatusOK || len(out.Messages) > 0 {
				return false
			}
		}
		return true
	}
	return false
}

// getJSON GETs url (with a bearer token when token is set) into out and
// returns the status (0 when the request failed).
func getJSON(url, token string, out any) int {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		panic(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// durations summarizes a set of waits as "median / max".
func durations(ds []time.Duration) (median, maxd time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// ms formats a duration in milliseconds for a table.
func ms(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// randomBetween is a random duration in [lo, hi).
func randomBetween(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}
