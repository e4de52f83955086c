package nhn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/nhn/nhntest"
	"github.com/munja-sms/munja/sms"
)

func TestReports(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ctx := context.Background()
	res, err := c.Send(ctx, provider.Batch{Text: "[경고] 80 포트가 열려있지 않습니다.", Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	gw.SetReport("01000000001", "0", "3006") // refused by the handset
	gw.SetReport("01000000002", "2", "")     // still processing
	reps, err := c.Reports(ctx, res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[sms.Phone]provider.RecipientReport{}
	for _, r := range reps {
		got[r.Phone] = r
	}
	if r := got["01000000000"]; len(reps) != 3 || !r.Delivered || r.Failed || r.State != "성공" || r.At.IsZero() {
		t.Errorf("delivered: %+v (of %d)", r, len(reps))
	}
	if r := got["01000000001"]; r.Delivered || !r.Failed || !strings.Contains(r.State, "3006") || !strings.Contains(r.State, "착신 거절") {
		t.Errorf("refused: %+v", r)
	}
	if r := got["01000000002"]; r.Delivered || r.Failed || r.State != "처리 중" {
		t.Errorf("pending: %+v", r)
	}
	// An LMS request is found in the mms list.
	res, err = c.Send(ctx, provider.Batch{Text: strings.Repeat("가", 50), Receivers: phones(1)})
	if err != nil || res.Kind != sms.KindLMS {
		t.Fatal(res, err)
	}
	gw.SetReport("01000000000", "3", "1000")
	if reps, err := c.Reports(ctx, res.MessageID); err != nil || len(reps) != 1 || !reps[0].Delivered {
		t.Errorf("LMS reports %+v %v", reps, err)
	}
	if reps, err := c.Reports(ctx, "20990101000000Unknown0001"); err != nil || len(reps) != 0 {
		t.Errorf("unknown request: %+v %v", reps, err)
	}
	if _, err := c.Reports(ctx, ""); !provider.IsPermanent(err) {
		t.Errorf("empty id: %v", err)
	}
}

func TestReportMapping(t *testing.T) {
	tests := []struct {
		row               listRow
		delivered, failed bool
		state             string
	}{
		{listRow{MsgStatus: "3", MsgStatusName: "성공", ResultCode: "1000", ResultCodeName: "성공"}, true, false, "성공"},
		{listRow{MsgStatus: "3", ResultCode: "3003", ResultCodeName: "결번"}, false, true, "[3003] 결번"},
		{listRow{MsgStatus: "0", MsgStatusName: "실패"}, false, true, "실패"},
		{listRow{MsgStatus: "5", MsgStatusName: "중복실패"}, false, true, "중복실패"},
		{listRow{MsgStatus: "1", MsgStatusName: "요청"}, false, false, "요청"},
		{listRow{MsgStatus: "2"}, false, false, "msgStatus 2"},
		{listRow{MsgStatus: "3", MsgStatusName: "성공", ResultCode: "0"}, false, false, "성공"},
	}
	for _, tt := range tests {
		r := report(tt.row)
		if r.Delivered != tt.delivered || r.Failed != tt.failed || r.State != tt.state {
			t.Errorf("%+v → %+v", tt.row, r)
		}
	}
}

// TestLookupLateAnswer: NHN accepts a send but answers after munja's
// timeout; the call is Uncertain, and Lookup finds every recipient with
// the request id, so nothing needs sending again.
func TestLookupLateAnswer(t *testing.T) {
	gw := nhntest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	c, _ := newClient(t, cfg)
	ctx := context.Background()
	b := provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Receivers: phones(3)}
	since := time.Now()
	gw.FailNext(1, nhntest.Failure{Mode: nhntest.LateAnswer, Delay: 2 * time.Second})
	_, err := c.Send(ctx, b)
	if !provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Fatalf("err %v, want uncertain", err)
	}
	got, err := c.Lookup(ctx, b, since)
	if err != nil {
		t.Fatal(err)
	}
	d := gw.Delivered()
	if len(got) != 3 || len(d) != 3 || got["01000000002"] != d[0].RequestID {
		t.Errorf("lookup %v, delivered %+v", got, d)
	}
	q := gw.Requests()[len(gw.Requests())-1].Query
	if q.Get("senderGroupingKey") != d[0].GroupingKey || q.Get("startRequestDate") == "" || q.Get("endRequestDate") == "" {
		t.Errorf("lookup query %v", q)
	}

	// Another text, other recipients, or a window after the send: nothing.
	for name, tc := range map[string]struct {
		b     provider.Batch
		since time.Time
	}{
		"other text":       {provider.Batch{Text: "[복구] httpd", Receivers: phones(3)}, since},
		"other recipients": {provider.Batch{Text: b.Text, Receivers: []sms.Phone{"01099998888"}}, since},
		"later window":     {b, time.Now().Add(3 * time.Minute)},
		"as LMS":           {provider.Batch{Text: b.Text, Kind: sms.KindLMS, Receivers: phones(3)}, since},
	} {
		if got, err := c.Lookup(ctx, tc.b, tc.since); err != nil || len(got) != 0 {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
}

// TestLookupNotAccepted: a stall before NHN took the request leaves
// nothing to find, so the batch is sent again.
func TestLookupNotAccepted(t *testing.T) {
	gw := nhntest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	b := provider.Batch{Text: "재전송", Receivers: phones(2)}
	since := time.Now()
	gw.FailNext(1, nhntest.Failure{Mode: nhntest.Timeout, Delay: time.Minute})
	if _, err := c.Send(context.Background(), b); !provider.IsUncertain(err) {
		t.Fatalf("err %v, want uncertain", err)
	}
	got, err := c.Lookup(context.Background(), b, since)
	if err != nil || len(got) != 0 {
		t.Errorf("lookup %v %v", got, err)
	}
	// A lookup that fails is an error, not "nothing found".
	gw.SetFailure(nhntest.Failure{Mode: nhntest.HTTPStatus})
	if _, err := c.Lookup(context.Background(), b, since); err == nil {
		t.Error("lookup through an outage returned no error")
	}
}

func TestGroupingKey(t *testing.T) {
	m := message{kind: sms.KindSMS, sendNo: "0212345678", text: "x"}
	k := groupingKey(m)
	if len(k) > 100 || !strings.HasPrefix(k, "munja-") || k != groupingKey(message{kind: sms.KindSMS, sendNo: "0212345678", text: "x\r\n"}) {
		t.Errorf("key %q", k)
	}
	for _, other := range []message{
		{kind: sms.KindLMS, sendNo: "0212345678", text: "x"},
		{kind: sms.KindSMS, sendNo: "0212345679", text: "x"},
		{kind: sms.KindSMS, sendNo: "0212345678", text: "y"},
		{kind: sms.KindSMS, sendNo: "0212345678", text: "x", title: "t"},
	} {
		if groupingKey(other) == k {
			t.Errorf("%+v has the same key", other)
		}
	}
}
