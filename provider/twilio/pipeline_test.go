package twilio_test

// Twilio through munja's real pipeline: outbox → SQLite store → dispatcher
// → provider, against the fakes.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/internal/pipelinetest"
	"github.com/munja-sms/munja/provider/twilio"
	"github.com/munja-sms/munja/provider/twilio/twiliotest"
	"github.com/munja-sms/munja/sms"
)

type pipeline struct {
	*pipelinetest.Pipeline
	tw *twiliotest.Server
	al *aligotest.Server // nil unless withAligo
}

// newPipeline builds the pipeline with twilio first and, withAligo, a
// fake Aligo second. tweak adjusts the twilio config and the options.
func newPipeline(t *testing.T, withAligo bool, tweak func(*config.Provider, *dispatcher.Options)) *pipeline {
	t.Helper()
	p := &pipeline{tw: twiliotest.New(t)}
	cfg := p.tw.ProviderConfig()
	opt := dispatcher.Options{CallTimeout: 2 * time.Second, RetryInitial: time.Millisecond, RetryMax: time.Millisecond}
	if tweak != nil {
		tweak(&cfg, &opt)
	}
	cfgs := []config.Provider{cfg}
	sender := "0212345678"
	if withAligo {
		p.al = aligotest.New(t)
		cfgs = append(cfgs, p.al.ProviderConfig())
		sender = p.al.Sender
	}
	p.Pipeline = pipelinetest.New(t, sender, cfgs, opt)
	return p
}

// TestPipelineFailoverOn5xx: Twilio first answers 503; the message goes
// out through the second provider (Aligo), once.
func TestPipelineFailoverOn5xx(t *testing.T) {
	p := newPipeline(t, true, nil)
	p.tw.SetFailure(twiliotest.Failure{Mode: twiliotest.HTTPStatus, Status: 503})
	id := p.Submit("[경고] httpd 프로세스가 동작하지 않습니다.", "010-1111-2222", "010-3333-4444")
	ds := p.Drain(30*time.Second, id)
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
	id := p.Submit(strings.Repeat("가", 71), "01011110001", "01011110002", "01011110003")
	ds := p.Drain(30*time.Second, id)
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
	st, err := p.Dispatcher.ReportsOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (dispatcher.ReportStats{Requests: 3, Delivered: 1, Failed: 1, Pending: 1}) {
		t.Errorf("report stats %+v", st)
	}
	got := pipelinetest.ByPhone(p.Deliveries(id))
	if got["01011110001"].Status != sms.StatusDelivered || got["01011110002"].Status != sms.StatusFailed ||
		!strings.Contains(got["01011110002"].LastError, "30003") || got["01011110003"].Status != sms.StatusSent {
		t.Errorf("after reports: %+v", got)
	}
}

// TestPipelineRecipientRefused: a landline (Twilio 21614) fails that
// recipient with Twilio's reason; the other recipient is sent.
func TestPipelineRecipientRefused(t *testing.T) {
	p := newPipeline(t, false, nil)
	id := p.Submit("x", "02-123-4567", "010-1234-5678")
	got := pipelinetest.ByPhone(p.Drain(30*time.Second, id))
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
	ds := p.Drain(30*time.Second, p.Submit("x", "01012345678"))
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
	ds := p.Drain(30*time.Second, p.Submit("uncertain", "01012345678"))
	if ds[0].Status != sms.StatusSent {
		t.Fatalf("delivery %+v", ds[0])
	}
	counts := p.Uncertain()
	if n := len(p.tw.Messages()); n != 1 || counts["twilio/resent"] != 0 || counts["twilio/found"] != 1 {
		t.Errorf("%d messages, outcomes %v: want the send made once and counted found", n, counts)
	}
	if sid, _ := twilio.SplitMessageID(ds[0].ProviderMsgID); sid != p.tw.Messages()[0].SID {
		t.Errorf("recorded %q, want the first message", ds[0].ProviderMsgID)
	}
}
