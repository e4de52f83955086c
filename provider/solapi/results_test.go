package solapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/provider/solapi/solapitest"
	"github.com/munja-sms/munja/sms"
)

// canned is a client whose gateway answers every call with status and body.
func canned(t *testing.T, status int, body string) *Client {
	t.Helper()
	url := clienttest.Canned(t, status, "application/json; charset=utf-8", body)
	c, _ := newClient(t, config.Provider{Type: "solapi", BaseURL: url, Sender: "0212345678",
		Options: config.Opts("api_key", "NCSMUNJATESTKEY1", "api_secret", "s3cr3t-value")})
	return c
}

func TestRemain(t *testing.T) {
	gw := solapitest.New(t, solapitest.WithBalance(10000, 100.5))
	c, logs := newClient(t, gw.ProviderConfig())
	b, err := c.Remain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b != (provider.Balance{SMS: 505, LMS: 202, MMS: 50}) { // 10,100.5 KRW at 20/50/200
		t.Errorf("balance %+v", b)
	}
	gw.SetPrices(18, 45, 110)
	if b, _ = c.Remain(context.Background()); b != (provider.Balance{SMS: 561, LMS: 224, MMS: 91}) {
		t.Errorf("with the account's prices: %+v", b)
	}
	// Prices unreadable: Solapi's list prices, with a warning.
	gw.SetPrices(0, 0, 0)
	if b, err = c.Remain(context.Background()); err != nil || b.SMS != 505 || !strings.Contains(logs.String(), "list prices") {
		t.Errorf("without prices: %+v %v", b, err)
	}
	// A sent message is charged.
	gw.SetPrices(20, 50, 200)
	gw.SetBalance(100, 0)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)}); err != nil {
		t.Fatal(err)
	}
	if b, _ = c.Remain(context.Background()); b.SMS != 3 {
		t.Errorf("after 2 SMS from 100 KRW: %+v", b)
	}
	gw.SetFailure(solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 502})
	if _, err := c.Remain(context.Background()); err == nil || provider.IsPermanent(err) || provider.IsUncertain(err) {
		t.Errorf("remain during an outage: %v", err)
	}
}

func TestParsePrices(t *testing.T) {
	for name, body := range map[string]string{
		"documented":     `{"sms":20,"lms":50,"mms":200,"ata":19,"cta":13,"countryName":"Korea, South","countryId":"82"}`,
		"country list":   `[{"countryId":"370","sms":94,"lms":500,"mms":1000},{"countryId":"82","sms":20,"lms":50,"mms":200}]`,
		"by country":     `{"82":{"sms":20,"lms":50,"mms":200},"1":{"sms":30,"lms":90,"mms":300}}`,
		"numeric string": `{"sms":"20","lms":"50","mms":"200"}`,
	} {
		p, err := parsePrices([]byte(body))
		if err != nil || p.SMS != 20 || p.LMS != 50 || p.MMS != 200 {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
	for _, body := range []string{`{}`, `[]`, `{"sms":0}`, `<html>`, `{"82":{"sms":20}}`} {
		if _, err := parsePrices([]byte(body)); err == nil {
			t.Errorf("%s parsed", body)
		}
	}
}

// TestReports: per-receiver results of a group by status code: 4000
// delivered, 3xxx failed with Solapi's words, 2000/3000 pending; all pages.
func TestReports(t *testing.T) {
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	gw.SetResult("01000000001", "3043")
	gw.SetResult("01000000002", "3000")
	res, err := c.Send(context.Background(), provider.Batch{Text: "결과 확인", Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 3 {
		t.Fatalf("%d reports, %v", len(reps), err)
	}
	by := map[sms.Phone]provider.RecipientReport{}
	for _, r := range reps {
		by[r.Phone] = r
	}
	if r := by["01000000000"]; !r.Delivered || r.Failed || r.State != "4000 수신 완료" || r.At.IsZero() {
		t.Errorf("delivered: %+v", r)
	}
	if r := by["01000000001"]; r.Delivered || !r.Failed || r.State != "3043 단말기 Power off" {
		t.Errorf("handset off: %+v", r)
	}
	if r := by["01000000002"]; r.Delivered || r.Failed || !strings.HasPrefix(r.State, "3000") {
		t.Errorf("at the carrier: %+v", r)
	}
	gw.Deliver("01000000002", "4000")
	reps, _ = c.Reports(context.Background(), res.MessageID)
	for _, r := range reps {
		if r.Phone == "01000000002" && !r.Delivered {
			t.Errorf("after the report: %+v", r)
		}
	}
	// 1,200 receivers: three pages of 500.
	res, err = c.Send(context.Background(), provider.Batch{Text: "많이", Receivers: phones(1200)})
	if err != nil {
		t.Fatal(err)
	}
	gw.Reset()
	reps, err = c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 1200 || len(gw.Requests()) != 3 {
		t.Errorf("%d reports in %d calls, %v", len(reps), len(gw.Requests()), err)
	}
	if q := gw.Requests()[1].Query; q.Get("groupId") != res.MessageID || q.Get("limit") != "500" || q.Get("startKey") == "" {
		t.Errorf("second page query %v", q)
	}
	if _, err := c.Reports(context.Background(), ""); !provider.IsPermanent(err) {
		t.Errorf("empty id: %v", err)
	}
}

// TestListLimitFallback: a gateway that refuses a page of 500 is read in
// its default pages.
func TestListLimitFallback(t *testing.T) {
	gw := solapitest.New(t, solapitest.WithMaxListLimit(100))
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(45)})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 45 || !strings.Contains(logs.String(), "page size") {
		t.Errorf("%d reports, %v", len(reps), err)
	}
	if c.listLimit.Load() != 0 {
		t.Error("the refused page size is asked again")
	}
}

func TestReportDecoding(t *testing.T) {
	// Solapi's documented list sample (a test message, booleans, nulls),
	// and the tolerated variants: a list instead of an object, a numeric
	// status code, "to" as a list.
	sample := `{"startKey":null,"limit":20,"messageList":{"M4V20180307110044DTYYJBBYLPQZIB1":{"_id":"M4V20180307110044DTYYJBBYLPQZIB1",
	"kakaoOptions":{"senderKey":null,"buttons":[]},"type":null,"country":"82","subject":null,"imageId":null,"dateProcessed":null,
	"dateReported":null,"dateReceived":null,"statusCode":"TEST1000","networkCode":null,"log":[],"replacement":false,"autoTypeDetect":true,
	"routedQueue":null,"messageId":"M4V20180307110044DTYYJBBYLPQZIB1","groupId":"G4V20180307105937H3PTASXMNJG2JIO","accountId":"12925149",
	"text":"text","from":"01000000000","to":"01000000000","customFields":{},"dateCreated":"2020-09-09T05:23:20.686Z",
	"dateUpdated":"2020-09-09T05:23:20.686Z","reason":null,"networkName":"ETC"}}}`
	reps, err := canned(t, 200, sample).Reports(context.Background(), "G4V20180307105937H3PTASXMNJG2JIO")
	if err != nil || len(reps) != 1 || reps[0].Delivered || reps[0].Failed || reps[0].Phone != "01000000000" || reps[0].State != "TEST1000" {
		t.Errorf("sample: %+v %v", reps, err)
	}
	variant := `{"messageList":[{"messageId":"M1","to":["01011112222"],"statusCode":4000,"replacement":1,"autoTypeDetect":0,
	"dateReceived":"2026-11-25T05:03:00.000Z","customFields":{"munjaBatch":"x","n":1}},
	{"messageId":"M2","to":"010-3333-4444","statusCode":"3059","reason":"변작 의심"}],"nextKey":null}`
	reps, err = canned(t, 200, variant).Reports(context.Background(), "G1")
	if err != nil || len(reps) != 2 {
		t.Fatalf("variant: %+v %v", reps, err)
	}
	if !reps[0].Delivered || reps[0].Phone != "01011112222" || !reps[0].At.Equal(time.Date(2026, 11, 25, 5, 3, 0, 0, time.UTC)) {
		t.Errorf("variant 0: %+v", reps[0])
	}
	if !reps[1].Failed || reps[1].Phone != "01033334444" || reps[1].State != "3059 변작된 발신번호 (변작 의심)" {
		t.Errorf("variant 1: %+v", reps[1])
	}
	// A gateway that keeps saying there is more stops.
	endless := `{"messageList":{"M1":{"messageId":"M1","to":"01011112222","statusCode":"4000"}},"nextKey":"M2"}`
	reps, err = canned(t, 200, endless).Reports(context.Background(), "G1")
	if err != nil || len(reps) != 2 {
		// the second page repeats nextKey M2 = its startKey: stop
		t.Errorf("endless: %d %v", len(reps), err)
	}
}

// TestLookup: after an uncertain send, Lookup finds exactly the messages
// of that send (by the id in customFields) with their group id — not an
// identical send made before it, nor another text or receiver.
func TestLookup(t *testing.T) {
	gw := solapitest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	ctx := context.Background()
	text := "[경고] httpd 프로세스가 동작하지 않습니다."
	b := provider.Batch{Text: text, Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222", "01033334444"}}
	earlier, err := c.Send(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, provider.Batch{Text: "다른 문자", Receivers: []sms.Phone{"01055556666"}}); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	gw.SetFailure(solapitest.Failure{Mode: solapitest.LateAnswer, Delay: 2 * time.Second, Count: 1})
	_, err = c.Send(ctx, b)
	if !provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Fatalf("late answer: %v, want uncertain", err)
	}
	msgs := gw.Messages()
	late := msgs[len(msgs)-1].GroupID
	if late == earlier.MessageID || len(msgs) != 5 {
		t.Fatalf("messages %+v", msgs)
	}
	ask := provider.Batch{Text: text, Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222", "01033334444"}}
	got, err := c.Lookup(ctx, ask, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["01011112222"] != late || got["01033334444"] != late {
		t.Errorf("lookup %v, want both receivers in %s (not %s)", got, late, earlier.MessageID)
	}
	q := gw.Requests()[len(gw.Requests())-1].Query
	if q.Get("from") != gw.Sender || q.Get("dateType") != "CREATED" || q.Get("startDate") == "" {
		t.Errorf("lookup query %v", q)
	}
	// A receiver that was sent nothing is not found (this batch was never
	// sent: its text matches, not an id).
	got, _ = c.Lookup(ctx, provider.Batch{Text: text, Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222", "01077778888"}}, since)
	if _, ok := got["01077778888"]; ok || len(got) != 1 {
		t.Errorf("another batch: %v", got)
	}
	// A new client (no id remembered) matches the text.
	c2, _ := newClient(t, cfg)
	got, err = c2.Lookup(ctx, ask, since)
	if err != nil || len(got) != 2 {
		t.Errorf("by text: %v %v", got, err)
	}
	got, _ = c2.Lookup(ctx, provider.Batch{Text: "없는 문자", Receivers: ask.Receivers}, since)
	if len(got) != 0 {
		t.Errorf("unknown text: %v", got)
	}
	// Sends before since (beyond the clock allowance) do not count.
	got, _ = c2.Lookup(ctx, ask, time.Now().Add(time.Hour))
	if len(got) != 0 {
		t.Errorf("lookup of a later call: %v", got)
	}
	gw.SetFailure(solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 503})
	if _, err := c.Lookup(ctx, ask, since); err == nil {
		t.Error("lookup during an outage answered")
	}
}

// TestUncertainOnlyAfterTheRequestWentOut: a balance or list call that
// times out is never uncertain; only a send can be.
func TestUncertainOnlyForSends(t *testing.T) {
	gw := solapitest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	gw.SetFailure(solapitest.Failure{Mode: solapitest.Timeout, Delay: 2 * time.Second})
	if _, err := c.Remain(context.Background()); err == nil || provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Errorf("remain: %v", err)
	}
	if _, err := c.Reports(context.Background(), "G1"); err == nil || provider.IsUncertain(err) {
		t.Errorf("reports: %v", err)
	}
	// Test mode checks with a balance call: its timeout is not uncertain.
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Test: true, Receivers: phones(1)}); err == nil || provider.IsUncertain(err) {
		t.Errorf("test send: %v", err)
	}
}
