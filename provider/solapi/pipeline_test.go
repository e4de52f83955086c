package solapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/internal/pipelinetest"
	"github.com/munja-sms/munja/provider/solapi/solapitest"
	"github.com/munja-sms/munja/sms"
)

// Tests through munja's real pipeline: a SQLite store, the outbox and the
// dispatcher, with providers built by the registry from config entries,
// as munja serve builds them.

// newPipeline builds the pipeline over cfgs, with a 2 s call timeout
// unless opt sets one.
func newPipeline(t *testing.T, cfgs []config.Provider, opt dispatcher.Options) *pipelinetest.Pipeline {
	t.Helper()
	if opt.CallTimeout == 0 {
		opt.CallTimeout = 2 * time.Second
	}
	return pipelinetest.New(t, solapitest.DefaultSender, cfgs, opt)
}

// TestFailoverToSecondProvider: Solapi first and failing with 503, Aligo
// second: every message is sent through Aligo, none is lost or doubled.
func TestFailoverToSecondProvider(t *testing.T) {
	gw := solapitest.New(t)
	gw.SetFailure(solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 503})
	second := aligotest.New(t)
	p := newPipeline(t, []config.Provider{gw.ProviderConfig(), second.ProviderConfig()}, dispatcher.Options{})
	m1 := p.Submit("[경고] httpd 프로세스가 동작하지 않습니다.", "01011112222", "01033334444")
	m2 := p.Submit("[경고] 80 포트가 열려있지 않습니다.", "01011112222")
	p.DispatchAll()
	for _, id := range []int64{m1, m2} {
		for _, d := range p.Deliveries(id) {
			if d.Status != sms.StatusSent || d.Provider != "aligo" || d.ProviderMsgID == "" {
				t.Errorf("message %d: delivery %+v, want sent by aligo", id, d)
			}
		}
	}
	if len(gw.Sends()) == 0 || len(gw.Messages()) != 0 {
		t.Errorf("solapi: %d sends, %d messages", len(gw.Sends()), len(gw.Messages()))
	}
	if got := len(second.Delivered()); got != 3 {
		t.Errorf("aligo delivered %d, want 3", got)
	}
	// Solapi back: the next message goes through it again (after its
	// marked-down time), and its delivery result arrives.
	gw.SetFailure(solapitest.Failure{})
	gw.SetResult("01055556666", "4000")
	p2 := newPipeline(t, []config.Provider{gw.ProviderConfig(), second.ProviderConfig()}, dispatcher.Options{})
	m3 := p2.Submit("[복구] httpd 프로세스가 다시 동작합니다.", "01055556666")
	p2.DispatchAll()
	d := p2.Deliveries(m3)[0]
	if d.Status != sms.StatusSent || d.Provider != "solapi" {
		t.Fatalf("after recovery: %+v", d)
	}
	if _, err := p2.Dispatcher.ReportsOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := p2.Deliveries(m3)[0]; d.Status != sms.StatusDelivered {
		t.Errorf("after the delivery report: %+v", d)
	}
}

// TestPermanentFailover: a wrong secret is refused by Solapi, and the
// batch goes to the next provider.
func TestPermanentFailover(t *testing.T) {
	gw := solapitest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Options["api_secret"] = config.Opts("v", "wrong-secret-0123456789abcdefghi")["v"]
	second := aligotest.New(t)
	p := newPipeline(t, []config.Provider{cfg, second.ProviderConfig()}, dispatcher.Options{})
	m := p.Submit("x", "01011112222")
	p.DispatchAll()
	if d := p.Deliveries(m)[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
		t.Errorf("delivery %+v", d)
	}
	// Alone, it fails at once with the reason naming the key.
	p = newPipeline(t, []config.Provider{cfg}, dispatcher.Options{})
	m = p.Submit("x", "01011112222")
	p.DispatchAll()
	d := p.Deliveries(m)[0]
	if d.Status != sms.StatusFailed || !strings.Contains(d.LastError, "check api_secret") {
		t.Errorf("alone: %+v", d)
	}
}

// TestUncertainSendIsNotResent: Solapi registers the batch but answers
// after the call timeout; the dispatcher asks (Lookup), finds every
// receiver, records them sent with Solapi's group id, and sends nothing
// again.
func TestUncertainSendIsNotResent(t *testing.T) {
	gw := solapitest.New(t)
	gw.FailNext(1, solapitest.Failure{Mode: solapitest.LateAnswer, Delay: 3 * time.Second})
	second := aligotest.New(t)
	p := newPipeline(t, []config.Provider{gw.ProviderConfig(), second.ProviderConfig()},
		dispatcher.Options{CallTimeout: 300 * time.Millisecond, LookupWait: 50 * time.Millisecond})
	m := p.Submit("[경고] 디스크 사용량 95%", "01011112222", "01033334444", "01055556666")
	p.DispatchAll()
	msgs := gw.Messages()
	if len(msgs) != 3 || len(gw.Sends()) != 1 {
		t.Fatalf("solapi registered %d messages in %d sends, want 3 in 1", len(msgs), len(gw.Sends()))
	}
	for _, d := range p.Deliveries(m) {
		if d.Status != sms.StatusSent || d.Provider != "solapi" || d.ProviderMsgID != msgs[0].GroupID {
			t.Errorf("delivery %+v, want sent by solapi in %s", d, msgs[0].GroupID)
		}
	}
	if len(second.Delivered()) != 0 {
		t.Error("sent again through the second provider")
	}
	if uncertain := p.Uncertain(); uncertain["solapi/found"] != 3 || len(uncertain) != 1 {
		t.Errorf("uncertain outcomes %v", uncertain)
	}
}

// TestBatchSplitAtLimit: a message to 10,001 receivers is two Solapi
// calls, 10,000 and 1.
func TestBatchSplitAtLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("10,001 deliveries through SQLite: about 10 s under -race")
	}
	gw := solapitest.New(t)
	p := newPipeline(t, []config.Provider{gw.ProviderConfig()}, dispatcher.Options{ClaimLimit: 20000, CallTimeout: 30 * time.Second})
	m := p.Submit("[공지] 정기 점검 안내", pipelinetest.Mobiles(10001)...)
	p.DispatchAll()
	sends := gw.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d calls, want 2", len(sends))
	}
	if n := len(gw.Messages()); n != 10001 {
		t.Errorf("registered %d", n)
	}
	groups := map[string]int{}
	for _, d := range p.Deliveries(m) {
		if d.Status != sms.StatusSent {
			t.Fatalf("delivery %+v", d)
		}
		groups[d.ProviderMsgID]++
	}
	if len(groups) != 2 {
		t.Errorf("groups %v", groups)
	}
	for _, n := range groups {
		if n != 10000 && n != 1 {
			t.Errorf("group sizes %v, want 10000 and 1", groups)
		}
	}
}
