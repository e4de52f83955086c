package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// fixture is a real SQLite store, an outbox and a dispatcher over fake
// Aligo gateways, with a clock the test moves.
type fixture struct {
	t     *testing.T
	st    store.Store
	ob    *outbox.Outbox
	d     *dispatcher.Dispatcher
	now   time.Time
	fakes []*aligotest.Server
}

func newFixture(t *testing.T, gateways int, opt dispatcher.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, now: time.Now()}
	for i := range gateways {
		fake := aligotest.New(t)
		cfg := fake.ProviderConfig()
		cfg.Name = fmt.Sprintf("aligo%d", i+1)
		p, err := aligo.New(cfg, &http.Client{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		f.fakes = append(f.fakes, fake)
		opt.Providers = append(opt.Providers, p)
	}
	opt.Store = st
	opt.Now = func() time.Time { return f.now }
	if opt.CallTimeout == 0 {
		opt.CallTimeout = 2 * time.Second
	}
	f.d = dispatcher.New(opt)
	f.ob = outbox.New(outbox.Options{Store: st, DefaultSender: f.fakes[0].Sender, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) submit(text string, to ...string) *sms.Message {
	f.t.Helper()
	m, err := f.ob.Submit(context.Background(), outbox.Request{To: to, Text: text, Source: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) dispatch() int {
	f.t.Helper()
	n, err := f.d.DispatchOnce(context.Background(), store.ClaimFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) message(id int64) *sms.Message {
	f.t.Helper()
	m, err := f.st.GetMessage(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func phones(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("010%08d", 10000000+i)
	}
	return out
}

func TestThousandReceiverSplit(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	m := f.submit("[공지] 정기 점검 안내", phones(2500)...)
	total := 0
	for n := f.dispatch(); n > 0; n = f.dispatch() {
		total += n
	}
	if total != 2500 {
		t.Fatalf("dispatched %d, want 2500", total)
	}
	reqs := f.fakes[0].Requests()
	if len(reqs) != 3 {
		t.Fatalf("gateway calls = %d, want 3 (1000+1000+500)", len(reqs))
	}
	sizes := map[int]int{}
	for _, r := range reqs {
		if r.Path != "/send/" {
			t.Fatalf("path %s", r.Path)
		}
		sizes[len(r.Receivers)]++
		if r.Form.Get("msg_type") != "SMS" {
			t.Fatalf("msg_type %q, want SMS sent explicitly", r.Form.Get("msg_type"))
		}
	}
	if sizes[1000] != 2 || sizes[500] != 1 {
		t.Fatalf("batch sizes %v", sizes)
	}
	got := f.message(m.ID)
	ids := map[string]bool{}
	for _, d := range got.Deliveries {
		if d.Status != sms.StatusSent || d.ProviderMsgID == "" || d.Provider != "aligo1" || d.Attempts != 1 {
			t.Fatalf("delivery %+v", d)
		}
		ids[d.ProviderMsgID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("provider message ids %d, want 3", len(ids))
	}
	if len(f.fakes[0].Delivered()) != 2500 {
		t.Fatalf("gateway accepted %d", len(f.fakes[0].Delivered()))
	}
}

func TestOutageThenRecovery(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{RetryInitial: time.Second, RetryMax: time.Minute})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	m := f.submit("[경고] httpd 프로세스가 동작하지 않습니다.", "01011112222", "01033334444")
	for attempt := 1; attempt <= 4; attempt++ {
		if n := f.dispatch(); n != 2 {
			t.Fatalf("attempt %d dispatched %d", attempt, n)
		}
		base := time.Second << (attempt - 1) // RetryInitial doubling, ±20% jitter
		var longest time.Duration
		for _, d := range f.message(m.ID).Deliveries {
			if d.Status != sms.StatusQueued || !strings.Contains(d.LastError, "503") || d.Attempts != attempt {
				t.Fatalf("attempt %d: %+v", attempt, d)
			}
			wait := d.NextAttemptAt.Sub(f.now)
			if wait < base*8/10-time.Millisecond || wait > base*12/10+time.Millisecond {
				t.Fatalf("attempt %d: backoff %s, want %s ±20%%", attempt, wait, base)
			}
			longest = max(longest, wait)
		}
		if n := f.dispatch(); n != 0 {
			t.Fatalf("claimed %d before the backoff ended", n)
		}
		f.now = f.now.Add(longest + time.Millisecond)
	}
	f.fakes[0].SetFailure(aligotest.Failure{})
	f.dispatch()
	for _, d := range f.message(m.ID).Deliveries {
		if d.Status != sms.StatusSent || d.Attempts != 5 || d.LastError != "" {
			t.Fatalf("after recovery: %+v", d)
		}
	}
	if got := len(f.fakes[0].Delivered()); got != 2 {
		t.Fatalf("delivered %d, want 2", got)
	}
}

func TestFailoverToSecondProvider(t *testing.T) {
	f := newFixture(t, 2, dispatcher.Options{})
	f.fakes[1].RegisterSender(f.fakes[0].Sender)
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.Timeout, Delay: 10 * time.Second})
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), CallTimeout: 300 * time.Millisecond, Now: func() time.Time { return f.now }})
	m := f.submit("failover", "01011112222")
	f.dispatch()
	d := f.message(m.ID).Deliveries[0]
	if d.Status != sms.StatusSent || d.Provider != "aligo2" {
		t.Fatalf("delivery %+v, want sent by aligo2", d)
	}
	if len(f.fakes[1].Delivered()) != 1 || len(f.fakes[0].Delivered()) != 0 {
		t.Fatal("wrong gateway delivered")
	}
}

func providersOf(t *testing.T, f *fixture) []provider.Provider {
	var ps []provider.Provider
	for i, fake := range f.fakes {
		cfg := fake.ProviderConfig()
		cfg.Name = fmt.Sprintf("aligo%d", i+1)
		p, err := aligo.New(cfg, &http.Client{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestPermanentFailures(t *testing.T) {
	cases := []struct {
		name string
		mode aligotest.Mode
		want string
	}{
		{"ip not registered", aligotest.IPNotAllowed, "IP"},
		{"bad key", aligotest.BadKey, "-101"},
		{"unregistered sender", aligotest.UnregisteredSender, "발신번호"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 1, dispatcher.Options{})
			f.fakes[0].SetFailure(aligotest.Failure{Mode: c.mode})
			m := f.submit("x", "01011112222")
			f.dispatch()
			d := f.message(m.ID).Deliveries[0]
			if d.Status != sms.StatusFailed || !strings.Contains(d.LastError, c.want) {
				t.Fatalf("delivery %+v, want failed mentioning %q", d, c.want)
			}
			if n := f.dispatch(); n != 0 {
				t.Fatal("a permanent failure was claimed again")
			}
		})
	}
}

func TestPartialErrorCount(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.PartialError, ErrorCount: 1})
	m := f.submit("partial", "01011112222", "01033334444", "01055556666")
	f.dispatch()
	for _, d := range f.message(m.ID).Deliveries {
		if d.Status != sms.StatusSent || !strings.Contains(d.LastError, "error_cnt 1") {
			t.Fatalf("delivery %+v", d)
		}
	}
}

func TestGiveUpAfter(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{GiveUpAfter: time.Hour})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 502})
	m := f.submit("x", "01011112222")
	f.dispatch()
	f.now = f.now.Add(2 * time.Hour)
	f.dispatch()
	d := f.message(m.ID).Deliveries[0]
	if d.Status != sms.StatusFailed || !strings.Contains(d.LastError, "gave up after 1h") {
		t.Fatalf("delivery %+v", d)
	}
}

func TestRunDeliversAndStopsOnCancel(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{Poll: 20 * time.Millisecond})
	f.now = time.Time{}
	d := dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), Poll: 20 * time.Millisecond})
	ob := outbox.New(outbox.Options{Store: f.st, DefaultSender: f.fakes[0].Sender, Wake: d.Wake})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	m, err := ob.Submit(ctx, outbox.Request{To: []string{"010-2222-3333"}, Text: "run"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.message(m.ID).Deliveries[0].Status != sms.StatusSent {
		if time.Now().After(deadline) {
			t.Fatal("Run did not deliver within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestHandBackWhatCannotStartWithinLease(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	f.fakes[0].SetLatency(400 * time.Millisecond)
	// Lease 900ms: jobs not started within 300ms go back to the queue.
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), Concurrency: 1,
		Lease: 900 * time.Millisecond, Now: func() time.Time { return f.now }})
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.submit(fmt.Sprintf("m%d", i), "01011112222").ID)
	}
	if n := f.dispatch(); n != 5 {
		t.Fatalf("claimed %d", n)
	}
	sent, queued := 0, 0
	for _, id := range ids {
		switch d := f.message(id).Deliveries[0]; d.Status {
		case sms.StatusSent:
			sent++
		case sms.StatusQueued:
			queued++
			if d.NextAttemptAt.After(f.now) {
				t.Fatalf("handed-back delivery not due now: %+v", d)
			}
		default:
			t.Fatalf("status %s", d.Status)
		}
	}
	if sent == 0 || queued == 0 || sent+queued != 5 {
		t.Fatalf("sent %d queued %d: want some of each", sent, queued)
	}
	for f.dispatch() > 0 {
	}
	if got := len(f.fakes[0].Delivered()); got != 5 {
		t.Fatalf("delivered %d, want 5 (no loss, no duplicate)", got)
	}
}

// flakyStore fails CompleteDeliveries a number of times.
type flakyStore struct {
	store.Store
	fails int
}

func (f *flakyStore) CompleteDeliveries(ctx context.Context, ups []store.DeliveryUpdate) error {
	if f.fails > 0 {
		f.fails--
		return fmt.Errorf("database is locked")
	}
	return f.Store.CompleteDeliveries(ctx, ups)
}

func TestStoreErrorAfterSendDoesNotResend(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	fs := &flakyStore{Store: f.st, fails: 2}
	f.d = dispatcher.New(dispatcher.Options{Store: fs, Providers: providersOf(t, f), Now: func() time.Time { return f.now }})
	m := f.submit("once", "01011112222")
	f.dispatch()
	if d := f.message(m.ID).Deliveries[0]; d.Status != sms.StatusSent {
		t.Fatalf("delivery %+v: the outcome was not recorded after the store recovered", d)
	}
	f.now = f.now.Add(time.Hour) // past any lease
	for f.dispatch() > 0 {
	}
	if n := len(f.fakes[0].Delivered()); n != 1 {
		t.Fatalf("gateway got the message %d times, want 1", n)
	}
}

func TestScheduledMessageGivesUpFromItsDueTime(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{GiveUpAfter: time.Hour})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	m, err := f.ob.Submit(context.Background(), outbox.Request{To: []string{"01011112222"}, Text: "later", At: f.now.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(3*time.Hour + time.Second)
	f.dispatch()
	if d := f.message(m.ID).Deliveries[0]; d.Status != sms.StatusQueued {
		t.Fatalf("scheduled message gave up on its first try: %+v", d)
	}
}

// stalledProvider holds its gateway call until released, then reports
// success: a dispatcher stuck past its lease.
type stalledProvider struct {
	entered, release chan struct{}
}

func (p *stalledProvider) Name() string  { return "stalled" }
func (p *stalledProvider) MaxBatch() int { return 1000 }
func (p *stalledProvider) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	close(p.entered)
	<-p.release
	return provider.Result{MessageID: "late", Accepted: len(b.Receivers)}, nil
}

// TestLostClaimCannotOverwrite: dispatcher A stalls in a gateway call past
// its lease, dispatcher B claims the delivery again and records its own
// outcome. A's late outcome is dropped (fenced by the claim's attempt)
// instead of overwriting B's, and A's round does not fail.
func TestLostClaimCannotOverwrite(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	stalled := &stalledProvider{entered: make(chan struct{}), release: make(chan struct{})}
	lease := time.Minute
	a := dispatcher.New(dispatcher.Options{Store: f.st, Providers: []provider.Provider{stalled}, Lease: lease,
		CallTimeout: time.Hour, Now: func() time.Time { return f.now }, Log: slog.New(slog.DiscardHandler)})
	startA := f.now
	m := f.submit("fenced", "01011112222")
	aDone := make(chan error, 1)
	go func() {
		_, err := a.DispatchOnce(context.Background(), store.ClaimFilter{})
		aDone <- err
	}()
	<-stalled.entered
	// B, on the shared store, claims after A's lease has run out.
	b := dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), Lease: lease,
		Now: func() time.Time { return startA.Add(2 * lease) }})
	if n, err := b.DispatchOnce(context.Background(), store.ClaimFilter{}); n != 1 || err != nil {
		t.Fatalf("B: claimed %d, err %v", n, err)
	}
	close(stalled.release)
	if err := <-aDone; err != nil {
		t.Fatalf("A's round failed on its lost claim: %v", err)
	}
	d := f.message(m.ID).Deliveries[0]
	if d.Status != sms.StatusSent || d.Provider != "aligo1" || d.ProviderMsgID == "late" || d.Attempts != 2 {
		t.Fatalf("delivery %+v: want B's outcome (sent by aligo1, attempt 2), not A's late one", d)
	}
	if n := len(f.fakes[0].Delivered()); n != 1 {
		t.Fatalf("B's gateway got %d messages, want 1", n)
	}
}

// brokenStore fails every write the dispatcher makes (claims and
// outcomes) while broken is set, the way a full disk or a read-only
// database file does, and counts the claims it was asked for.
type brokenStore struct {
	store.Store
	broken atomic.Bool
	claims atomic.Int64
}

var errReadOnly = errors.New("attempt to write a readonly database")

func (b *brokenStore) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f store.ClaimFilter) ([]store.Claim, error) {
	b.claims.Add(1)
	if b.broken.Load() {
		return nil, errReadOnly
	}
	return b.Store.ClaimDeliveries(ctx, now, limit, lease, f)
}

func (b *brokenStore) CompleteDeliveries(ctx context.Context, ups []store.DeliveryUpdate) error {
	if b.broken.Load() {
		return errReadOnly
	}
	return b.Store.CompleteDeliveries(ctx, ups)
}

// logBuffer collects a text handler's lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

// TestStoreNotWritableBacksOff: while the store refuses writes, Run backs
// off instead of spinning (it used to claim every 10ms and log each
// failure: ~90 claims and ~90 ERROR lines a second), says so once when the
// store goes bad and once when it recovers, reports it in StoreHealth, and
// sends the queued message soon after the store recovers.
func TestStoreNotWritableBacksOff(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	bs := &brokenStore{Store: f.st}
	bs.broken.Store(true)
	var logs logBuffer
	d := dispatcher.New(dispatcher.Options{Store: bs, Providers: providersOf(t, f),
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	m := f.submit("queued while the store is read-only", "01011112222")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(time.Second)
	// Backoff 100ms, 200ms, 400ms (±20%): claims at about 0, 0.1, 0.3, 0.7s.
	calls, lines := bs.claims.Load(), logs.lines()
	t.Logf("broken store, first second: %d claims, %d log lines", calls, len(lines))
	if calls < 2 || calls > 6 {
		t.Errorf("%d claims in the first second of a broken store, want 2..6 (backing off from 100ms)", calls)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], "store not writable") ||
		!strings.Contains(lines[0], errReadOnly.Error()) {
		t.Errorf("want one ERROR line naming the error, got:\n%s", strings.Join(lines, "\n"))
	}
	if h := d.StoreHealth(); h.Writable || !errors.Is(h.Err, errReadOnly) || h.Since.IsZero() {
		t.Errorf("StoreHealth while broken = %+v", h)
	}

	bs.broken.Store(false)
	fixed := time.Now()
	// The next claim comes within the backoff reached so far (at most the
	// 5s cap plus 20% jitter).
	deadline := fixed.Add(7 * time.Second)
	for f.message(m.ID).Deliveries[0].Status != sms.StatusSent || !d.StoreHealth().Writable {
		if time.Now().After(deadline) {
			t.Fatalf("not sent or not healthy 7s after the store recovered: %+v, %+v", f.message(m.ID).Deliveries[0], d.StoreHealth())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("sent %s after the store recovered", time.Since(fixed).Round(time.Millisecond))
	if h := d.StoreHealth(); h.Err != nil || h.Since.Before(fixed) {
		t.Errorf("StoreHealth after recovery = %+v", h)
	}
	lines = logs.lines()
	if len(lines) != 2 || !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "store writable again") ||
		!strings.Contains(lines[1], "down=") {
		t.Errorf("want the ERROR line and one INFO line on recovery, got:\n%s", strings.Join(lines, "\n"))
	}
	if n := len(f.fakes[0].Delivered()); n != 1 {
		t.Errorf("delivered %d, want 1", n)
	}
}

// TestLateAnswerIsNotSentTwice: the gateway accepts every send but answers
// after munja's call timeout. munja asks it (/list/, /sms_list/) before
// sending again and records what it has: each message goes out once (the
// fault campaign saw 17 of 20 go out 2–3 times).
func TestLateAnswerIsNotSentTwice(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	var mu sync.Mutex
	outcomes := map[string]int{}
	// Calls get 1 s (a loaded CI machine makes a healthy lookup slow);
	// the gateway answers sends after 3 s.
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), CallTimeout: time.Second,
		LookupWait: 100 * time.Millisecond, RetryInitial: 10 * time.Millisecond, RetryMax: 10 * time.Millisecond, Now: time.Now,
		Uncertain: func(_, outcome string, n int) { mu.Lock(); outcomes[outcome] += n; mu.Unlock() }})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.LateAnswer, Delay: 3 * time.Second})
	var ids []int64
	for i := range 20 {
		ids = append(ids, f.submit("[경고] httpd 프로세스가 동작하지 않습니다.", fmt.Sprintf("0105555%04d", i)).ID)
	}
	// Dispatch as munja serve would (retries due again after 10 ms) until
	// every delivery is final.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		f.dispatch()
		done := true
		for _, id := range ids {
			done = done && f.message(id).Deliveries[0].Status.Final()
		}
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sends := 0
	for _, r := range f.fakes[0].Requests() {
		if r.Path == "/send/" {
			sends++
		}
	}
	if sends != 20 || len(f.fakes[0].Delivered()) != 20 {
		t.Errorf("%d /send/ calls, %d delivered, want 20 each (no message sent twice)", sends, len(f.fakes[0].Delivered()))
	}
	for _, id := range ids {
		d := f.message(id).Deliveries[0]
		if d.Status != sms.StatusSent || d.ProviderMsgID == "" || d.Attempts != 1 {
			t.Errorf("delivery %+v: want sent once with the gateway's message id", d)
		}
	}
	if outcomes["found"] != 20 || outcomes["resent"] != 0 {
		t.Errorf("uncertain outcomes %v, want 20 found", outcomes)
	}
}

// TestUncertainNotAcceptedIsSentAgain: the gateway got the request but did
// not take it (it stalled and dropped it); asked, it has nothing, so the
// message is sent again and delivered once.
func TestUncertainNotAcceptedIsSentAgain(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	var mu sync.Mutex
	outcomes := map[string]int{}
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), CallTimeout: time.Second,
		LookupWait: 50 * time.Millisecond, RetryInitial: time.Millisecond, RetryMax: time.Millisecond, Now: time.Now,
		Uncertain: func(_, outcome string, n int) { mu.Lock(); outcomes[outcome] += n; mu.Unlock() }})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.Timeout, Delay: 5 * time.Second, Count: 1})
	m := f.submit("재전송", "01011112222")
	deadline := time.Now().Add(30 * time.Second)
	for f.message(m.ID).Deliveries[0].Status != sms.StatusSent && time.Now().Before(deadline) {
		f.dispatch()
		time.Sleep(5 * time.Millisecond)
	}
	if d := f.message(m.ID).Deliveries[0]; d.Status != sms.StatusSent || len(f.fakes[0].Delivered()) != 1 {
		t.Fatalf("delivery %+v, %d delivered: want sent once after the gateway said it had nothing", d, len(f.fakes[0].Delivered()))
	}
	if outcomes["not_found"] != 1 {
		t.Errorf("uncertain outcomes %v, want 1 not_found", outcomes)
	}
}

// TestHangingGatewayIsSkipped: the first provider hangs (its /send/ and
// /list/ never answer). After the first call times out it is marked down
// and the next batches go straight to the second provider instead of each
// paying a call timeout (the fault campaign measured a median of 24 s per
// message); a trial call later brings it back once it answers.
func TestHangingGatewayIsSkipped(t *testing.T) {
	f := newFixture(t, 2, dispatcher.Options{})
	f.fakes[1].RegisterSender(f.fakes[0].Sender)
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: providersOf(t, f), CallTimeout: time.Second,
		LookupWait: 10 * time.Millisecond, Now: now})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.Timeout, Delay: time.Minute})
	start := time.Now()
	for i := range 10 {
		f.ob = outbox.New(outbox.Options{Store: f.st, DefaultSender: f.fakes[0].Sender, Now: now})
		m := f.submit(fmt.Sprintf("장애 %d", i), "01011112222")
		f.dispatch()
		if d := f.message(m.ID).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "aligo2" {
			t.Fatalf("message %d: %+v, want sent by aligo2", i, d)
		}
	}
	sendsTo := func(fake *aligotest.Server) int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Path == "/send/" {
				n++
			}
		}
		return n
	}
	if n := sendsTo(f.fakes[0]); n != 1 {
		t.Errorf("the hanging gateway got %d sends, want 1 (then marked down)", n)
	}
	// One call and one lookup time out (2 s); every call to it would take
	// 10 × 2 s.
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("10 messages took %s with a hanging first gateway", took)
	}
	if ps := f.d.Providers(); ps[0].Up || !ps[1].Up || ps[0].Failures != 1 {
		t.Errorf("provider states %+v", ps)
	}

	// It answers again: once its down period is over, a trial call brings
	// it back.
	f.fakes[0].SetFailure(aligotest.Failure{})
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	m := f.submit("복구 후", "01011112222")
	f.dispatch()
	if d := f.message(m.ID).Deliveries[0]; d.Provider != "aligo1" || !f.d.Providers()[0].Up {
		t.Errorf("after the trial: %+v, states %+v", d, f.d.Providers())
	}
}
