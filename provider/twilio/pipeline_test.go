package twilio_test

// Twilio through munja's real pipeline: outbox → SQLite store → dispatcher
// → provider, against the fakes.

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/twilio"
	"github.com/munja-sms/munja/provider/twilio/twiliotest"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

type pipeline struct {
	t      *testing.T
	st     store.Store
	ob     *outbox.Outbox
	d      *dispatcher.Dispatcher
	tw     *twiliotest.Server
	al     *aligotest.Server // nil unless withAligo
	mu     sync.Mutex
	counts map[string]int // uncertain outcomes
}

// newPipeline builds the pipeline with twilio first and, withAligo, a
// fake Aligo second. tweak adjusts the twilio config and the options.
func newPipeline(t *testing.T, withAligo bool, tweak func(*config.Provider, *dispatcher.Options)) *pipeline {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &pipeline{t: t, st: st, tw: twiliotest.New(t), counts: map[string]int{}}
	cfg := p.tw.ProviderConfig()
	opt := dispatcher.Options{
		Store: st, CallTimeout: 2 * time.Second, RetryInitial: time.Millisecond, RetryMax: time.Millisecond,
		Uncertain: func(_, outcome string, n int) { p.mu.Lock(); p.counts[outcome] += n; p.mu.Unlock() },
	}
	if tweak != nil {
		tweak(&cfg, &opt)
	}
	tw, err := twilio.New(cfg, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt.Providers = []provider.Provider{tw}
	sender := "0212345678"
	if withAligo {
		p.al = aligotest.New(t)
		al, err := aligo.New(p.al.ProviderConfig(), &http.Client{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		opt.Providers = append(opt.Providers, al)
		sender = p.al.Sender
	}
	p.d = dispatcher.New(opt)
	p.ob = outbox.New(outbox.Options{Store: st, DefaultSender: sender})
	return p
}

func (p *pipeline) submit(text string, to ...string) int64 {
	p.t.Helper()
	m, err := p.ob.Submit(context.Background(), outbox.Request{To: to, Text: text, Source: "test"})
	if err != nil {
		p.t.Fatal(err)
	}
	return m.ID
}

// drain dispatches until every delivery of id is final or sent, or 30 s.
func (p *pipeline) drain(id int64) []sms.Delivery {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.d.DispatchOnce(context.Background(), store.ClaimFilter{}); err != nil {
			p.t.Fatal(err)
		}
		ds := p.deliveries(id)
		done := true
		for _, d := range ds {
			done = done && (d.Status.Final() || d.Status == sms.StatusSent)
		}
		if done || time.Now().After(deadline) {
			return ds
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *pipeline) deliveries(id int64) []sms.Delivery {
	p.t.Helper()
	m, err := p.st.GetMessage(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return m.Deliveries
}

// TestPipelineFailoverOn5xx: Twilio first answers 503; the message goes
// out through the second provider (Aligo), once.
func TestPipelineFailoverOn5xx(t *testing.T) {
	p := newPipeline(t, true, nil)
	p.tw.SetFailure(twiliotest.Failure{Mode: twiliotest.HTTPStatus, Status: 503})
	id := p.submit("[경고] httpd 프로세스가 동작하지 않습니다.", "010-1111-2222", "010-3333-4444")
	ds := p.drain(id)
	for _, d := range ds {
		if d.Status != sms.StatusSent || d.Provider != "aligo" {
			t.Errorf("delivery %+v, want sent by aligo", d)
		}
	}
	if got := len(p.al.Delivered()); got != 2 {
		t.Errorf("aligo delivered %d, want 2", got)
	}
	if p.tw.Sends() != 2 || len(p.tw.Messages()) != 0 {
		t.Errorf("twilio: %d sends, %d messages; want 2 refused calls (one per recipient)", p.tw.Sends(), len(p.tw.Messages()))
	}
}

// TestPipelineOneReceiverPerCall: three recipients make three calls, each
// delivery with its own Message SID; delivery reports then come from
// fetching each Message.
func TestPipelineOneReceiverPerCall(t *testing.T) {
	p := newPipeline(t, false, nil)
	id := p.submit(strings.Repeat("가", 71), "01011110001", "01011110002", "01011110003")
	ds := p.drain(id)
	msgs := p.tw.Messages()
	if p.tw.Sends() != 3 || len(msgs) != 3 {
		t.Fatalf("%d sends, %d messages; want 3 each", p.tw.Sends(), len(msgs))
	}
	seen := map[string]bool{}
	for _, d := range ds {
		sid, segs := twilio.SplitMessageID(d.ProviderMsgID)
		if d.Status != sms.StatusSent || d.Provider != "twilio" || seen[sid] || segs != 2 {
			t.Errorf("delivery %+v", d)
		}
		seen[sid] = true
	}
	p.tw.SetStatus(msgs[0].SID, "delivered", 0, "")
	p.tw.SetStatus(msgs[1].SID, "undelivered", 30003, "Unreachable destination handset")
	st, err := p.d.ReportsOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (dispatcher.ReportStats{Requests: 3, Delivered: 1, Failed: 1, Pending: 1}) {
		t.Errorf("report stats %+v", st)
	}
	got := map[sms.Phone]sms.Delivery{}
	for _, d := range p.deliveries(id) {
		got[d.Phone] = d
	}
	if got["01011110001"].Status != sms.StatusDelivered || got["01011110002"].Status != sms.StatusFailed ||
		!strings.Contains(got["01011110002"].LastError, "30003") || got["01011110003"].Status != sms.StatusSent {
		t.Errorf("after reports: %+v", got)
	}
}

// TestPipelineRecipientRefused: a landline (Twilio 21614) fails that
// recipient with Twilio's reason; the other recipient is sent.
func TestPipelineRecipientRefused(t *testing.T) {
	p := newPipeline(t, false, nil)
	id := p.submit("x", "02-123-4567", "010-1234-5678")
	got := map[sms.Phone]sms.Delivery{}
	for _, d := range p.drain(id) {
		got[d.Phone] = d
	}
	if d := got["021234567"]; d.Status != sms.StatusFailed || !strings.Contains(d.LastError, "21614") {
		t.Errorf("landline %+v", d)
	}
	if d := got["01012345678"]; d.Status != sms.StatusSent {
		t.Errorf("mobile %+v", d)
	}
}

// TestPipelineWrongToken: a wrong auth_token fails the message at once,
// naming the key.
func TestPipelineWrongToken(t *testing.T) {
	p := newPipeline(t, false, func(c *config.Provider, _ *dispatcher.Options) {
		c.Options = config.Opts("account_sid", twiliotest.DefaultAccountSID, "auth_token", "wrong")
	})
	start := time.Now()
	ds := p.drain(p.submit("x", "01012345678"))
	if ds[0].Status != sms.StatusFailed || !strings.Contains(ds[0].LastError, "check auth_token") {
		t.Errorf("delivery %+v", ds[0])
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// TestPipelineUncertainIsFound: Twilio creates the Message but answers
// after the call timeout. munja asks Twilio's list of Messages before
// sending again, finds it, and records it as sent once: no duplicate.
func TestPipelineUncertainIsFound(t *testing.T) {
	p := newPipeline(t, false, func(_ *config.Provider, o *dispatcher.Options) {
		o.CallTimeout = 300 * time.Millisecond
		o.LookupWait = 10 * time.Millisecond
	})
	p.tw.FailNext(1, twiliotest.Failure{Mode: twiliotest.LateAnswer, Delay: 2 * time.Second})
	ds := p.drain(p.submit("uncertain", "01012345678"))
	if ds[0].Status != sms.StatusSent {
		t.Fatalf("delivery %+v", ds[0])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.tw.Messages()); n != 1 || p.counts["resent"] != 0 || p.counts["found"] != 1 {
		t.Errorf("%d messages, outcomes %v: want the send made once and counted found", n, p.counts)
	}
	if sid, _ := twilio.SplitMessageID(ds[0].ProviderMsgID); sid != p.tw.Messages()[0].SID {
		t.Errorf("recorded %q, want the first message", ds[0].ProviderMsgID)
	}
}
