package sens_test

// Tests through munja's real pipeline: a SQLite store, the outbox and the
// dispatcher, with SENS (its fake) as the first provider.

import (
	"context"
	"encoding/json"
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
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/provider/sens/senstest"
	"github.com/munja-sms/munja/sms"
)

type pipeline struct {
	*pipelinetest.Pipeline
	sens  *senstest.Server
	aligo *aligotest.Server
}

// newPipeline wires sens (first) and aligo (second), or sens alone; cfg
// edits sens's entry.
func newPipeline(t *testing.T, alone bool, cfg func(*config.Provider), opt dispatcher.Options) *pipeline {
	t.Helper()
	p := &pipeline{sens: senstest.New(t), aligo: aligotest.New(t)}
	p.aligo.RegisterSender(p.sens.Sender)
	sc := p.sens.ProviderConfig()
	if cfg != nil {
		cfg(&sc)
	}
	cfgs := []config.Provider{sc, p.aligo.ProviderConfig()}
	if alone {
		cfgs = cfgs[:1]
	}
	p.Pipeline = pipelinetest.New(t, p.sens.Sender, cfgs, opt)
	return p
}

// TestFailoverToSecondProvider: SENS answers 5xx, so the messages go out
// through the next provider (Aligo) in the same pass.
func TestFailoverToSecondProvider(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	p.sens.SetFailure(senstest.Failure{Mode: senstest.HTTPStatus, Status: 503})
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
	if len(p.sens.Delivered()) != 0 || len(p.sens.Sends()) == 0 {
		t.Errorf("sens: %d sends, %d delivered", len(p.sens.Sends()), len(p.sens.Delivered()))
	}
}

// TestHundredRecipientSplit: 250 recipients go to SENS as 100 + 100 +
// 50, each request with its explicit type.
func TestHundredRecipientSplit(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	id := p.Submit("[공지] 정기 점검 안내", pipelinetest.Mobiles(250)...)
	p.DispatchAll()
	sizes := map[int]int{}
	for i, r := range p.sens.Sends() {
		var body struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Type != "SMS" {
			t.Fatalf("send %d: type %q, %v", i, body.Type, err)
		}
		sizes[len(r.To)]++
	}
	if sizes[100] != 2 || sizes[50] != 1 || len(sizes) != 2 {
		t.Fatalf("request sizes %v", sizes)
	}
	ids := map[string]bool{}
	for _, d := range p.Deliveries(id) {
		if d.Status != sms.StatusSent || d.Provider != "sens" {
			t.Fatalf("delivery %+v", d)
		}
		ids[d.ProviderMsgID] = true
	}
	if len(ids) != 3 || len(p.sens.Delivered()) != 250 {
		t.Errorf("%d request ids, %d delivered", len(ids), len(p.sens.Delivered()))
	}
}

// TestLateAnswerIsNotSentTwice: SENS, the only provider (with a second,
// the dispatcher would mark it down after the first timeout and use the
// other), accepts sends but answers after the call timeout; munja asks it
// (the search by request time, and each message's content) and records
// what it has, so each message goes out once.
func TestLateAnswerIsNotSentTwice(t *testing.T) {
	p := newPipeline(t, true, nil, dispatcher.Options{CallTimeout: time.Second, LookupWait: 100 * time.Millisecond,
		RetryInitial: 10 * time.Millisecond, RetryMax: 10 * time.Millisecond})
	p.sens.SetFailure(senstest.Failure{Mode: senstest.LateAnswer, Delay: 3 * time.Second})
	var ids []int64
	for i := range 5 {
		ids = append(ids, p.Submit(fmt.Sprintf("[경고] web%02d 응답 없음", i), "01011112222", "01033334444"))
	}
	p.Drain(60*time.Second, ids...)
	if n, d := len(p.sens.Sends()), len(p.sens.Delivered()); n != 5 || d != 10 {
		t.Errorf("%d sends, %d delivered; want 5 and 10 (nothing sent twice)", n, d)
	}
	for _, id := range ids {
		for _, d := range p.Deliveries(id) {
			if d.Status != sms.StatusSent || d.Provider != "sens" || d.ProviderMsgID == "" || d.Attempts != 1 {
				t.Errorf("delivery %+v: want sent once by sens with its request id", d)
			}
		}
	}
	if outcomes := p.Uncertain(); outcomes["sens/found"] != 10 || outcomes["sens/resent"] != 0 || len(p.aligo.Delivered()) != 0 {
		t.Errorf("uncertain outcomes %v, aligo delivered %d", outcomes, len(p.aligo.Delivered()))
	}
}

// TestDeliveryReports: the dispatcher's report pass records SENS's
// per-recipient results.
func TestDeliveryReports(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	id := p.Submit("[복구] httpd 프로세스가 다시 동작합니다.", "01011112222", "01033334444", "01055556666")
	p.DispatchOnce()
	p.sens.SetReport("01033334444", "COMPLETED", "3018", "착신 거부")
	p.sens.SetReport("01055556666", "PROCESSING", "", "")
	st, err := p.Dispatcher.ReportsOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 1 || st.Delivered != 1 || st.Failed != 1 || st.Pending != 1 {
		t.Errorf("stats %+v", st)
	}
	got := pipelinetest.ByPhone(p.Deliveries(id))
	if got["01011112222"].Status != sms.StatusDelivered || got["01033334444"].Status != sms.StatusFailed ||
		!strings.Contains(got["01033334444"].LastError, "착신 거부") || got["01055556666"].Status != sms.StatusSent {
		t.Errorf("deliveries %+v", got)
	}
}

// TestWrongSecretFailsOver: a wrong secret key is permanent for SENS; the
// batch goes to the next provider at once instead of being retried.
func TestWrongSecretFailsOver(t *testing.T) {
	p := newPipeline(t, false, func(c *config.Provider) {
		c.Options = config.Opts("service_id", senstest.DefaultServiceID, "access_key", senstest.DefaultAccessKey, "secret_key", "wrong")
	}, dispatcher.Options{})
	id := p.Submit("x", "01011112222")
	p.DispatchOnce()
	if d := p.Deliveries(id)[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
		t.Errorf("delivery %+v", d)
	}
}

// TestConfigFile: a sens entry in munja.yaml, as `munja config check` and
// `munja config show` see it: secret_key_file read, a mistyped key named
// with its line and the known keys, the secret masked, the identifiers
// shown.
func TestConfigFile(t *testing.T) {
	secret := clienttest.File(t, "sens.secret", "from-the-file\n")
	src := `
sms:
  sender: "02-1234-5678"
  providers:
    - name: sens
      type: sens
      service_id: "ncp:sms:kr:263092132141:munja"
      access_key: AKIDEXAMPLE000000000
      secret_key_file: ` + secret + `
    - name: typo
      type: sens
      serviceid: "ncp:sms:kr:1:x"
      access_key: AK
      secret_key: s
`
	c := clienttest.ParseConfig(t, src)
	err := c.Validate(providers.Validate)
	if err == nil || !strings.Contains(err.Error(), "line 12: sms.providers[1].serviceid: unknown key") ||
		!strings.Contains(err.Error(), "sms.providers[1].service_id: required") || strings.Contains(err.Error(), "from-the-file") {
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
	if strings.Contains(string(red), "from-the-file") || !strings.Contains(string(red), "access_key: AKIDEXAMPLE000000000") ||
		!strings.Contains(string(red), "ncp:sms:kr:263092132141:munja") {
		t.Errorf("effective config:\n%s", red)
	}
	ps, err := providers.New(c.SMS.Providers, &http.Client{}, nil)
	if err != nil || len(ps) != 1 || ps[0].Name() != "sens" || ps[0].MaxBatch() != 100 {
		t.Fatalf("providers %v %v", ps, err)
	}
	if _, ok := ps[0].(provider.Looker); !ok {
		t.Error("the registry-built sens is no Looker")
	}
}
