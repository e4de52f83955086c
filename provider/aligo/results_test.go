package aligo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
)

func TestRemain(t *testing.T) {
	gw := aligotest.New(t, aligotest.WithBalance(5936))
	c, _ := newClient(t, gw.ProviderConfig())
	b, err := c.Remain(context.Background())
	if err != nil || b != (provider.Balance{SMS: 5936, LMS: 1978, MMS: 848}) {
		t.Fatalf("remain %+v %v", b, err)
	}
	if f := gw.Requests()[0]; f.Path != "/remain/" || f.Form.Get("user_id") != gw.UserID {
		t.Errorf("request %+v", f)
	}
	gw.SetFailure(aligotest.Failure{Mode: aligotest.IPNotAllowed})
	if _, err := c.Remain(context.Background()); !provider.IsPermanent(err) {
		t.Errorf("IP error: %v", err)
	}
	// Observed /remain/ shape with numbers, and string counters.
	for body, want := range map[string]int64{
		`{"result_code":1,"message":"success","SMS_CNT":5936,"LMS_CNT":1925,"MMS_CNT":831}`: 5936,
		`{"result_code":"1","message":"success","SMS_CNT":"12","LMS_CNT":"4","MMS_CNT":""}`: 12,
	} {
		b, err := canned(t, 200, "text/html", body).Remain(context.Background())
		if err != nil || b.SMS != want {
			t.Errorf("%s: %+v %v", body, b, err)
		}
	}
}

func TestReportsOneRequest(t *testing.T) {
	gw := aligotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	recv := phones(700)
	var mid string
	for i := 0; i < len(recv); i += 500 {
		// Two sends; the reports of the second cover only its receivers.
		res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: recv[i:min(i+500, len(recv))]})
		if err != nil {
			t.Fatal(err)
		}
		mid = res.MessageID
	}
	gw.Reset()
	all, err := c.Reports(context.Background(), mid)
	if err != nil || len(all) != 200 {
		t.Fatalf("%d reports, %v", len(all), err)
	}
	if r := all[0]; !r.Delivered || r.Failed || r.State != "발송완료" || r.Phone != "01000000500" || r.At.IsZero() {
		t.Errorf("report %+v", r)
	}

}

func TestReportsTwoPages(t *testing.T) {
	gw := aligotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	recv := phones(1000)
	recv[999] = "010904975702"
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: recv})
	if err != nil {
		t.Fatal(err)
	}
	gw.Reset()
	reps, err := c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 1000 {
		t.Fatalf("%d reports, %v", len(reps), err)
	}
	reqs := gw.Requests()
	if len(reqs) != 2 || reqs[0].Form.Get("page") != "1" || reqs[1].Form.Get("page") != "2" || reqs[0].Form.Get("mid") != res.MessageID {
		t.Errorf("paging requests %+v", reqs)
	}
	if last := reps[999]; !last.Failed || last.Delivered || last.State != "발/착신 번호 에러" {
		t.Errorf("malformed receiver report %+v", last)
	}
	if _, err := c.Reports(context.Background(), ""); !provider.IsPermanent(err) {
		t.Errorf("empty mid: %v", err)
	}
}

func TestReportStates(t *testing.T) {
	for state, want := range map[string][2]bool{
		"발송완료":       {true, false},
		"전송성공":       {true, false},
		"발/착신 번호 에러": {false, true},
		"전송실패":       {false, true},
		"예약취소":       {false, true},
		"전송중":        {false, false},
		"예약대기중":      {false, false},
		"":           {false, false},
	} {
		r := report(smsListRow{Receiver: " 01012345678 ", SMSState: state, SendDate: ""})
		if r.Delivered != want[0] || r.Failed != want[1] || r.Phone != "01012345678" {
			t.Errorf("%q: %+v", state, r)
		}
	}
}

func TestReportsStopsOnEndlessPaging(t *testing.T) {
	c := canned(t, 200, "", `{"result_code":1,"message":"success","list":[{"mdid":"1","receiver":"01012345678","sms_state":"발송완료","send_date":"2020-10-13 19:17:11"}],"next_yn":"Y"}`)
	reps, err := c.Reports(context.Background(), "1")
	if err != nil || len(reps) != maxReportPages {
		t.Errorf("%d reports, %v", len(reps), err)
	}
	if want := time.Date(2020, 10, 13, 19, 17, 11, 0, kst); !reps[0].At.Equal(want) {
		t.Errorf("At %v, want %v", reps[0].At, want)
	}
}

func TestList(t *testing.T) {
	gw := aligotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for i := range 31 {
		if _, err := c.Send(context.Background(), provider.Batch{Text: strings.Repeat("x", i+1), Receivers: phones(2)}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.List(context.Background(), 1, 30)
	if err != nil || len(p.Items) != 30 || !p.Next {
		t.Fatalf("page 1: %d items next=%v %v", len(p.Items), p.Next, err)
	}
	it := p.Items[0]
	if it.Text != strings.Repeat("x", 31) || it.Count != 2 || it.Type != "SMS" || it.Sender != gw.Sender || it.MessageID == "" ||
		it.Registered.IsZero() || !it.Reserve.IsZero() || it.FailCount != 0 {
		t.Errorf("newest item %+v", it)
	}
	p, err = c.List(context.Background(), 2, 30)
	if err != nil || len(p.Items) != 1 || p.Next {
		t.Errorf("page 2: %+v %v", p, err)
	}
	// The observed /list/ answer: string mid/sms_count, numeric fail_count.
	obs := `{"result_code":1,"message":"success","list":[{"mid":"146719121","type":"SMS","sender":"0317391121","sms_count":"2","reserve_state":"","msg":"API TEST","fail_count":0,"reg_date":"2020-10-13 19:17:11","reserve":""}],"next_yn":"Y"}`
	p, err = canned(t, 200, "text/html", obs).List(context.Background(), 0, 0)
	if err != nil || len(p.Items) != 1 || p.Items[0].MessageID != "146719121" || p.Items[0].Count != 2 || !p.Next ||
		!p.Items[0].Registered.Equal(time.Date(2020, 10, 13, 19, 17, 11, 0, kst)) {
		t.Errorf("observed list: %+v %v", p, err)
	}
}

// TestLookup: after an uncertain send, Lookup finds the receivers Aligo
// accepted from requests with the same text since the call, with their
// message id, and nothing else.
func TestLookup(t *testing.T) {
	gw := aligotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ctx := context.Background()
	since := time.Now()
	send := func(text string, to ...sms.Phone) string {
		t.Helper()
		r, err := c.Send(ctx, provider.Batch{Text: text, Kind: sms.KindSMS, Receivers: to})
		if err != nil {
			t.Fatal(err)
		}
		return r.MessageID
	}
	a := send("[경고] httpd 프로세스가 동작하지 않습니다.", "01011112222", "01033334444")
	send("다른 문자", "01055556666")
	got, err := c.Lookup(ctx, provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.",
		Receivers: []sms.Phone{"01011112222", "01033334444", "01077778888"}}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["01011112222"] != a || got["01033334444"] != a {
		t.Errorf("lookup %v, want both receivers of %s and not 010-7777-8888", got, a)
	}
	// Requests older than the call (beyond the clock allowance) do not count.
	got, err = c.Lookup(ctx, provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.",
		Receivers: []sms.Phone{"01011112222"}}, time.Now().Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Errorf("lookup of a later call: %v %v", got, err)
	}
	gw.SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	if _, err := c.Lookup(ctx, provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222"}}, since); err == nil {
		t.Error("lookup during an outage answered")
	}
}

// TestUncertainOnlyAfterTheRequestWentOut: a late answer (request written,
// no answer in time) is uncertain; a gateway that cannot be reached is a
// plain retryable failure.
func TestUncertainOnlyAfterTheRequestWentOut(t *testing.T) {
	gw := aligotest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	gw.SetFailure(aligotest.Failure{Mode: aligotest.LateAnswer, Delay: 2 * time.Second})
	_, err := c.Send(context.Background(), provider.Batch{Text: "늦은 응답", Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222"}})
	if !provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Errorf("late answer: %v, want uncertain", err)
	}
	gw.SetFailure(aligotest.Failure{})
	cfg.BaseURL = "http://127.0.0.1:1" // nothing listens
	c, _ = newClient(t, cfg)
	_, err = c.Send(context.Background(), provider.Batch{Text: "연결 불가", Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222"}})
	if err == nil || provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Errorf("unreachable: %v, want retryable and certain", err)
	}
}
