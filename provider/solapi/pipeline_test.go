package solapi_test

import (
	"context"
	"fmt"
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
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/provider/solapi/solapitest"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// Tests through munja's real pipeline: a SQLite store, the outbox and the
// dispatcher, with providers built by the registry from config entries,
// as munja serve builds them.

type pipeline struct {
	t         *testing.T
	st        store.Store
	ob        *outbox.Outbox
	d         *dispatcher.Dispatcher
	mu        sync.Mutex
	uncertain map[string]int // "provider/outcome" → receivers
}

func newPipeline(t *testing.T, cfgs []config.Provider, opt dispatcher.Options) *pipeline {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ps, err := providers.New(cfgs, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{t: t, st: st, uncertain: map[string]int{}}
	opt.Store, opt.Providers = st, ps
	if opt.CallTimeout == 0 {
		opt.CallTimeout = 2 * time.Second
	}
	opt.Uncertain = func(prov, outcome string, n int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.uncertain[prov+"/"+outcome] += n
	}
	p.d = dispatcher.New(opt)
	p.ob = outbox.New(outbox.Options{Store: st, DefaultSender: solapitest.DefaultSender})
	return p
}

func (p *pipeline) submit(text string, to ...string) *sms.Message {
	p.t.Helper()
	m, err := p.ob.Submit(context.Background(), outbox.Request{To: to, Text: text, Source: "test"})
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

func (p *pipeline) dispatchAll() {
	p.t.Helper()
	for {
		n, err := p.d.DispatchOnce(context.Background(), store.ClaimFilter{})
		if err != nil {
			p.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (p *pipeline) message(id int64) *sms.Message {
	p.t.Helper()
	m, err := p.st.GetMessage(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

// TestFailoverToSecondProvider: Solapi first and failing with 503, Aligo
// second: every message is sent through Aligo, none is lost or doubled.
func TestFailoverToSecondProvider(t *testing.T) {
	gw := solapitest.New(t)
	gw.SetFailure(solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 503})
	second := aligotest.New(t)
	p := newPipeline(t, []config.Provider{gw.ProviderConfig(), second.ProviderConfig()}, dispatcher.Options{})
	m1 := p.submit("[경고] httpd 프로세스가 동작하지 않습니다.", "01011112222", "01033334444")
	m2 := p.submit("[경고] 80 포트가 열려있지 않습니다.", "01011112222")
	p.dispatchAll()
	for _, id := range []int64{m1.ID, m2.ID} {
		for _, d := range p.message(id).Deliveries {
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
	m3 := p2.submit("[복구] httpd 프로세스가 다시 동작합니다.", "01055556666")
	p2.dispatchAll()
	d := p2.message(m3.ID).Deliveries[0]
	if d.Status != sms.StatusSent || d.Provider != "solapi" {
		t.Fatalf("after recovery: %+v", d)
	}
	if _, err := p2.d.ReportsOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := p2.message(m3.ID).Deliveries[0]; d.Status != sms.StatusDelivered {
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
	m := p.submit("x", "01011112222")
	p.dispatchAll()
	if d := p.message(m.ID).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
		t.Errorf("delivery %+v", d)
	}
	// Alone, it fails at once with the reason naming the key.
	p = newPipeline(t, []config.Provider{cfg}, dispatcher.Options{})
	m = p.submit("x", "01011112222")
	p.dispatchAll()
	d := p.message(m.ID).Deliveries[0]
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
	m := p.submit("[경고] 디스크 사용량 95%", "01011112222", "01033334444", "01055556666")
	p.dispatchAll()
	msgs := gw.Messages()
	if len(msgs) != 3 || len(gw.Sends()) != 1 {
		t.Fatalf("solapi registered %d messages in %d sends, want 3 in 1", len(msgs), len(gw.Sends()))
	}
	for _, d := range p.message(m.ID).Deliveries {
		if d.Status != sms.StatusSent || d.Provider != "solapi" || d.ProviderMsgID != msgs[0].GroupID {
			t.Errorf("delivery %+v, want sent by solapi in %s", d, msgs[0].GroupID)
		}
	}
	if len(second.Delivered()) != 0 {
		t.Error("sent again through the second provider")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.uncertain["solapi/found"] != 3 || len(p.uncertain) != 1 {
		t.Errorf("uncertain outcomes %v", p.uncertain)
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
	to := make([]string, 10001)
	for i := range to {
		to[i] = fmt.Sprintf("010%08d", 10000000+i)
	}
	m := p.submit("[공지] 정기 점검 안내", to...)
	p.dispatchAll()
	sends := gw.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d calls, want 2", len(sends))
	}
	if n := len(gw.Messages()); n != 10001 {
		t.Errorf("registered %d", n)
	}
	groups := map[string]int{}
	for _, d := range p.message(m.ID).Deliveries {
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
