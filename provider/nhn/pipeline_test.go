package nhn_test

// Tests through munja's real pipeline: a SQLite store, the outbox and the
// dispatcher, with NHN (its fake) as the first provider.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/provider/internal/pipelinetest"
	"github.com/munja-sms/munja/provider/nhn/nhntest"
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/sms"
)

type pipeline struct {
	*pipelinetest.Pipeline
	nhn   *nhntest.Server
	aligo *aligotest.Server
}

// newPipeline wires nhn (first) and aligo (second), or nhn alone; cfg
// edits nhn's entry.
func newPipeline(t *testing.T, alone bool, cfg func(*config.Provider), opt dispatcher.Options) *pipeline {
	t.Helper()
	p := &pipeline{nhn: nhntest.New(t), aligo: aligotest.New(t)}
	p.aligo.RegisterSender(p.nhn.Sender)
	nc := p.nhn.ProviderConfig()
	if cfg != nil {
		cfg(&nc)
	}
	cfgs := []config.Provider{nc, p.aligo.ProviderConfig()}
	if alone {
		cfgs = cfgs[:1]
	}
	p.Pipeline = pipelinetest.New(t, p.nhn.Sender, cfgs, opt)
	return p
}

// TestFailoverToSecondProvider: NHN answers 5xx, so the messages go out
// through the next provider (Aligo) in the same pass.
func TestFailoverToSecondProvider(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	p.nhn.SetFailure(nhntest.Failure{Mode: nhntest.HTTPStatus, Status: 503})
	ids := []int64{
		p.Submit("[경고] httpd 프로세스가 동작하지 않습니다.", "01011112222", "01033334444"),
		p.Submit(strings.Repeat("장문 ", 30), "01055556666"),
	}
	p.DispatchOnce()
	for _, id := range ids {
		for _, d := range p.Deliveries(id) {
			if d.Status != sms.StatusSent || d.Provider != "aligo" || d.ProviderMsgID == "" {
				t.Errorf("delivery %+v, want sent by aligo", d)
			}
		}
	}
	if n := len(p.aligo.Delivered()); n != 3 {
		t.Errorf("aligo delivered %d, want 3", n)
	}
	if len(p.nhn.Delivered()) != 0 || len(p.nhn.Sends()) == 0 {
		t.Errorf("nhn: %d sends, %d delivered", len(p.nhn.Sends()), len(p.nhn.Delivered()))
	}
}

// TestThousandRecipientSplit: 2,500 recipients go to NHN as 1,000 +
// 1,000 + 500, each request with its explicit type.
func TestThousandRecipientSplit(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	id := p.Submit("[공지] 정기 점검 안내", pipelinetest.Mobiles(2500)...)
	p.DispatchAll()
	sizes := map[int]int{}
	for _, r := range p.nhn.Sends() {
		if !strings.HasSuffix(r.Path, "/sender/sms") {
			t.Fatalf("path %s", r.Path)
		}
		sizes[len(r.Recipients)]++
	}
	if sizes[1000] != 2 || sizes[500] != 1 || len(sizes) != 2 {
		t.Fatalf("request sizes %v", sizes)
	}
	ids := map[string]bool{}
	for _, d := range p.Deliveries(id) {
		if d.Status != sms.StatusSent || d.Provider != "nhn" {
			t.Fatalf("delivery %+v", d)
		}
		ids[d.ProviderMsgID] = true
	}
	if len(ids) != 3 || len(p.nhn.Delivered()) != 2500 {
		t.Errorf("%d request ids, %d delivered", len(ids), len(p.nhn.Delivered()))
	}
}

// TestLateAnswerIsNotSentTwice: NHN, the only provider (with a second,
// the dispatcher would mark it down after the first timeout and use the
// other), accepts sends but answers after the call timeout; munja asks it
// (the list by senderGroupingKey) and records what it has, so each
// message goes out once.
func TestLateAnswerIsNotSentTwice(t *testing.T) {
	p := newPipeline(t, true, nil, dispatcher.Options{CallTimeout: time.Second, LookupWait: 100 * time.Millisecond,
		RetryInitial: 10 * time.Millisecond, RetryMax: 10 * time.Millisecond})
	p.nhn.SetFailure(nhntest.Failure{Mode: nhntest.LateAnswer, Delay: 3 * time.Second})
	var ids []int64
	for i := range 5 {
		ids = append(ids, p.Submit(fmt.Sprintf("[경고] web%02d 응답 없음", i), "01011112222", "01033334444"))
	}
	p.Drain(60*time.Second, ids...)
	if n, d := len(p.nhn.Sends()), len(p.nhn.Delivered()); n != 5 || d != 10 {
		t.Errorf("%d sends, %d delivered; want 5 and 10 (nothing sent twice)", n, d)
	}
	for _, id := range ids {
		for _, d := range p.Deliveries(id) {
			if d.Status != sms.StatusSent || d.Provider != "nhn" || d.ProviderMsgID == "" || d.Attempts != 1 {
				t.Errorf("delivery %+v: want sent once by nhn with its request id", d)
			}
		}
	}
	if outcomes := p.Uncertain(); outcomes["nhn/found"] != 10 || outcomes["nhn/resent"] != 0 || len(p.aligo.Delivered()) != 0 {
		t.Errorf("uncertain outcomes %v, aligo delivered %d", outcomes, len(p.aligo.Delivered()))
	}
}

// TestDeliveryReports: the dispatcher's report pass records NHN's
// per-recipient results.
func TestDeliveryReports(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	id := p.Submit("[복구] httpd 프로세스가 다시 동작합니다.", "01011112222", "01033334444", "01055556666")
	p.DispatchOnce()
	p.nhn.SetReport("01033334444", "0", "3006")
	p.nhn.SetReport("01055556666", "2", "")
	st, err := p.Dispatcher.ReportsOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 1 || st.Delivered != 1 || st.Failed != 1 || st.Pending != 1 {
		t.Errorf("stats %+v", st)
	}
	got := pipelinetest.ByPhone(p.Deliveries(id))
	if got["01011112222"].Status != sms.StatusDelivered || got["01033334444"].Status != sms.StatusFailed ||
		!strings.Contains(got["01033334444"].LastError, "착신 거절") || got["01055556666"].Status != sms.StatusSent {
		t.Errorf("deliveries %+v", got)
	}
}

// TestWrongSecretFailsOver: a wrong secret key is permanent for NHN; the
// batch goes to the next provider at once instead of being retried.
func TestWrongSecretFailsOver(t *testing.T) {
	p := newPipeline(t, false, func(c *config.Provider) {
		c.Options = config.Opts("app_key", nhntest.DefaultAppKey, "secret_key", "wrong")
	}, dispatcher.Options{})
	id := p.Submit("x", "01011112222")
	p.DispatchOnce()
	if d := p.Deliveries(id)[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
		t.Errorf("delivery %+v", d)
	}
}

// TestConfigFile: an nhn entry in munja.yaml, as `munja config check` and
// `munja config show` see it: secret_key_file read, a mistyped key named
// with its line and the known keys, the secret masked, the app key shown.
func TestConfigFile(t *testing.T) {
	secret := clienttest.File(t, "nhn.secret", "from-the-file\n")
	src := `
sms:
  sender: "02-1234-5678"
  providers:
    - name: nhn
      type: nhn
      app_key: AbCd1234
      secret_key_file: ` + secret + `
    - name: typo
      type: nhn
      app_key: AbCd1234
      secretkey: x
`
	c := clienttest.ParseConfig(t, src)
	err := c.Validate(providers.Validate)
	if err == nil || !strings.Contains(err.Error(), "line 12: sms.providers[1].secretkey: unknown key") ||
		!strings.Contains(err.Error(), "sms.providers[1].secret_key: required") || strings.Contains(err.Error(), "from-the-file") {
		t.Fatalf("validate: %v", err)
	}
	c.SMS.Providers = c.SMS.Providers[:1]
	if err := c.Validate(providers.Validate); err != nil {
		t.Fatalf("the good entry: %v", err)
	}
	red, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(red), "from-the-file") || !strings.Contains(string(red), "app_key: AbCd1234") {
		t.Errorf("effective config:\n%s", red)
	}
	ps, err := providers.New(c.SMS.Providers, &http.Client{}, nil)
	if err != nil || len(ps) != 1 || ps[0].Name() != "nhn" || ps[0].MaxBatch() != 1000 {
		t.Fatalf("providers %v %v", ps, err)
	}
	if _, ok := ps[0].(provider.Looker); !ok {
		t.Error("the registry-built nhn is no Looker")
	}
}
