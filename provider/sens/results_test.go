package sens

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/sens/senstest"
	"github.com/munja-sms/munja/sms"
)

func TestReports(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ctx := context.Background()
	res, err := c.Send(ctx, provider.Batch{Text: "[경고] 80 포트가 열려있지 않습니다.", Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	gw.SetReport("01000000001", "COMPLETED", "3018", "착신 거부")
	gw.SetReport("01000000002", "PROCESSING", "", "")
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
	if r := got["01000000001"]; r.Delivered || !r.Failed || r.State != "[3018] 착신 거부" {
		t.Errorf("refused: %+v", r)
	}
	if r := got["01000000002"]; r.Delivered || r.Failed || r.State != "PROCESSING" {
		t.Errorf("pending: %+v", r)
	}
	// One list call and one result call per message.
	var lists, results int
	for _, r := range gw.Requests() {
		switch {
		case r.Method == "GET" && r.Query.Get("requestId") == res.MessageID:
			lists++
		case r.Method == "GET" && strings.Contains(r.Path, "/messages/"):
			results++
		}
	}
	if lists != 1 || results != 3 {
		t.Errorf("%d list and %d result calls", lists, results)
	}
	if reps, err := c.Reports(ctx, "VORSSA-unknown"); err != nil || len(reps) != 0 {
		t.Errorf("unknown request: %+v %v", reps, err)
	}
	if _, err := c.Reports(ctx, ""); !provider.IsPermanent(err) {
		t.Errorf("empty id: %v", err)
	}
}

func TestReportMapping(t *testing.T) {
	tests := []struct {
		row               row
		delivered, failed bool
		state             string
	}{
		{row{Status: "COMPLETED", StatusCode: "0", StatusName: "success", StatusMessage: "성공"}, true, false, "성공"},
		{row{Status: "COMPLETED", StatusCode: "3003", StatusName: "fail", StatusMessage: "결번"}, false, true, "[3003] 결번"},
		{row{Status: "COMPLETED", StatusName: "fail"}, false, true, "fail"},
		{row{CompleteTime: "2026-03-02 10:00:00", StatusCode: "0"}, true, false, "unknown"},
		{row{Status: "READY"}, false, false, "READY"},
		{row{Status: "PROCESSING", StatusName: "success"}, false, false, "PROCESSING"},
		{row{}, false, false, "unknown"},
	}
	for _, tt := range tests {
		r := report(tt.row)
		if r.Delivered != tt.delivered || r.Failed != tt.failed || r.State != tt.state {
			t.Errorf("%+v → %+v", tt.row, r)
		}
	}
}

// TestLookupLateAnswer: SENS accepts a send but answers after munja's
// timeout; the call is Uncertain, and Lookup finds every recipient by
// searching the requests since the send and reading their content.
func TestLookupLateAnswer(t *testing.T) {
	gw := senstest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	c, _ := newClient(t, cfg)
	ctx := context.Background()
	// Another message to the same people just before: not this one.
	if _, err := c.Send(ctx, provider.Batch{Text: "[경고] 다른 메시지", Receivers: phones(3)}); err != nil {
		t.Fatal(err)
	}
	b := provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Receivers: phones(3)}
	since := time.Now()
	gw.FailNext(1, senstest.Failure{Mode: senstest.LateAnswer, Delay: 2 * time.Second})
	_, err := c.Send(ctx, b)
	if !provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Fatalf("err %v, want uncertain", err)
	}
	got, err := c.Lookup(ctx, b, since)
	if err != nil {
		t.Fatal(err)
	}
	d := gw.Delivered()
	if len(got) != 3 || len(d) != 6 || got["01000000002"] != d[3].RequestID {
		t.Errorf("lookup %v, delivered %+v", got, d)
	}
	var search *senstest.Request
	for _, r := range gw.Requests() {
		if r.Query.Has("requestStartTime") {
			search = &r
			break
		}
	}
	if search == nil || !search.AuthOK || search.Query.Get("type") != "SMS" || search.Query.Get("requestEndTime") == "" {
		t.Errorf("search request %+v", search)
	}

	for name, tc := range map[string]struct {
		b     provider.Batch
		since time.Time
	}{
		"other text":       {provider.Batch{Text: "[복구] httpd", Receivers: phones(3)}, since},
		"other recipients": {provider.Batch{Text: b.Text, Receivers: []sms.Phone{"01099998888"}}, since},
		"later window":     {b, time.Now().Add(3 * time.Minute)},
		"as LMS":           {provider.Batch{Text: b.Text, Kind: sms.KindLMS, Receivers: phones(3)}, since},
		"other sender":     {provider.Batch{Text: b.Text, Sender: "0311234567", Receivers: phones(3)}, since},
	} {
		if got, err := c.Lookup(ctx, tc.b, tc.since); err != nil || len(got) != 0 {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
}

// TestLookupPages: a search of more than one page is followed by
// hasMore.
func TestLookupPages(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ctx := context.Background()
	since := time.Now()
	b := provider.Batch{Text: "첫 페이지 밖", Receivers: phones(1)}
	if _, err := c.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Send(ctx, provider.Batch{Text: "나중 메시지", Receivers: phones(100)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Lookup(ctx, b, since)
	if err != nil || len(got) != 1 {
		t.Errorf("lookup %v %v", got, err)
	}
}

func TestLookupNotAccepted(t *testing.T) {
	gw := senstest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	b := provider.Batch{Text: "재전송", Receivers: phones(2)}
	since := time.Now()
	gw.FailNext(1, senstest.Failure{Mode: senstest.Timeout, Delay: time.Minute})
	if _, err := c.Send(context.Background(), b); !provider.IsUncertain(err) {
		t.Fatalf("err %v, want uncertain", err)
	}
	if got, err := c.Lookup(context.Background(), b, since); err != nil || len(got) != 0 {
		t.Errorf("lookup %v %v", got, err)
	}
	gw.SetFailure(senstest.Failure{Mode: senstest.HTTPStatus})
	if _, err := c.Lookup(context.Background(), b, since); err == nil {
		t.Error("lookup through an outage returned no error")
	}
}

// TestLookupOneResultPerRequest: the messages of a request share its
// content, so finding a 100-recipient send takes one result call, and a
// look-up stays within a call timeout.
func TestLookupOneResultPerRequest(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ctx := context.Background()
	b := provider.Batch{Text: "[공지] 100명", Receivers: phones(100)}
	since := time.Now()
	if _, err := c.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	before := len(gw.Requests())
	got, err := c.Lookup(ctx, b, since)
	if err != nil || len(got) != 100 {
		t.Fatalf("lookup %d %v", len(got), err)
	}
	results := 0
	for _, r := range gw.Requests()[before:] {
		if strings.Contains(r.Path, "/messages/") {
			results++
		}
	}
	if results != 1 {
		t.Errorf("%d result calls, want 1", results)
	}
}
