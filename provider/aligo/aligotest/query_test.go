package aligotest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func TestRemain(t *testing.T) {
	s := New(t, WithBalance(700))
	a := post(t, s, "/remain/", auth(s))
	if a.num(t, "result_code") != 1 || a.num(t, "SMS_CNT") != 700 || a.num(t, "LMS_CNT") != 233 || a.num(t, "MMS_CNT") != 100 {
		t.Fatalf("remain: %s", a.body)
	}
	post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(10), "msg", "x"))
	if a := post(t, s, "/remain/", auth(s, "userid", s.UserID)); a.num(t, "SMS_CNT") != 690 {
		t.Errorf("after 10 SMS: %s", a.body)
	}
}

func TestList(t *testing.T) {
	s := New(t)
	for i := range 35 {
		post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222,010123", "msg", "msg "+strconv.Itoa(i)))
	}
	a := post(t, s, "/list/", auth(s))
	rows := a.list(t)
	if a.num(t, "result_code") != 1 || len(rows) != 30 || a.str(t, "next_yn") != "Y" {
		t.Fatalf("page 1: %d rows, %s", len(rows), a.fields["next_yn"])
	}
	var first struct {
		MID       string `json:"mid"`
		Type      string `json:"type"`
		SMSCount  string `json:"sms_count"`
		FailCount int    `json:"fail_count"`
		Msg       string `json:"msg"`
		RegDate   string `json:"reg_date"`
		Reserve   string `json:"reserve"`
	}
	raw, _ := json.Marshal(rows[0])
	if err := json.Unmarshal(raw, &first); err != nil {
		t.Fatalf("row typing (string mid/sms_count, numeric fail_count): %v in %s", err, raw)
	}
	if first.Msg != "msg 34" || first.SMSCount != "2" || first.FailCount != 1 || first.Type != "SMS" || first.Reserve != "" {
		t.Errorf("newest row = %+v", first)
	}
	if _, err := time.Parse("2006-01-02 15:04:05", first.RegDate); err != nil {
		t.Errorf("reg_date %q", first.RegDate)
	}
	a = post(t, s, "/list/", auth(s, "page", "2"))
	if len(a.list(t)) != 5 || a.str(t, "next_yn") != "N" {
		t.Errorf("page 2: %s", a.body)
	}
	// page_size is clamped to 30–500.
	if n := len(post(t, s, "/list/", auth(s, "page_size", "10")).list(t)); n != 30 {
		t.Errorf("page_size 10 gave %d rows, want 30", n)
	}
	if n := len(post(t, s, "/list/", auth(s, "page_size", "1000")).list(t)); n != 35 {
		t.Errorf("page_size 1000 gave %d rows, want all 35", n)
	}
}

func TestSMSList(t *testing.T) {
	s := New(t)
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01052262107,010904975702", "msg", "API TEST"))
	mid := a.str(t, "msg_id")
	a = post(t, s, "/sms_list/", auth(s, "mid", mid, "page", "0"))
	rows := a.list(t)
	if a.num(t, "result_code") != 1 || len(rows) != 2 || a.str(t, "next_yn") != "N" {
		t.Fatalf("sms_list: %s", a.body)
	}
	state := func(i int) string { var s string; _ = json.Unmarshal(rows[i]["sms_state"], &s); return s }
	if state(0) != "발송완료" || state(1) != "발/착신 번호 에러" {
		t.Errorf("states %q %q", state(0), state(1))
	}
	var mdid string
	if err := json.Unmarshal(rows[0]["mdid"], &mdid); err != nil || mdid == "" {
		t.Errorf("mdid must be a string: %s", rows[0]["mdid"])
	}

	if a := post(t, s, "/sms_list/", auth(s, "mid", "999")); a.num(t, "result_code") != 1 || len(a.list(t)) != 0 {
		t.Errorf("unknown mid: %s", a.body)
	}
	if a := post(t, s, "/sms_list/", auth(s)); a.num(t, "result_code") != codeParam {
		t.Errorf("missing mid: %s", a.body)
	}

	big := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(40), "msg", "x")).str(t, "msg_id")
	p1 := post(t, s, "/sms_list/", auth(s, "mid", big))
	p2 := post(t, s, "/sms_list/", auth(s, "mid", big, "page", "2"))
	if len(p1.list(t)) != 30 || p1.str(t, "next_yn") != "Y" || len(p2.list(t)) != 10 || p2.str(t, "next_yn") != "N" {
		t.Errorf("paging: %d/%s then %d/%s", len(p1.list(t)), p1.fields["next_yn"], len(p2.list(t)), p2.fields["next_yn"])
	}
}

func TestReservationAndCancel(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 29, 10, 0, 0, 0, kst)}
	s := New(t, WithClock(clk.Now), WithBalance(100))
	reserve := func(rtime string) string {
		t.Helper()
		a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222", "msg", "예약", "rdate", "20260329", "rtime", rtime))
		if a.code(t) != 1 || a.message(t) != "reserved" {
			t.Fatalf("reservation at %s: %s", rtime, a.body)
		}
		return a.str(t, "msg_id")
	}
	immediate := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222", "msg", "now")).str(t, "msg_id")
	early := reserve("1010") // exactly 10 minutes ahead is accepted
	late := reserve("1100")
	if s.Balance() != 97 {
		t.Fatalf("balance %d", s.Balance())
	}
	if d := s.Delivered()[1]; !d.Reserve.Equal(time.Date(2026, 3, 29, 10, 10, 0, 0, kst)) {
		t.Errorf("reserve time %v", d.Reserve)
	}

	rows := post(t, s, "/sms_list/", auth(s, "mid", late)).list(t)
	if string(rows[0]["sms_state"]) != `"\uc608\uc57d\ub300\uae30\uc911"` || string(rows[0]["send_date"]) != `""` {
		t.Errorf("waiting reservation row: %s %s", rows[0]["sms_state"], rows[0]["send_date"])
	}

	clk.Add(6 * time.Minute) // 10:06: early is 4 minutes away
	tests := []struct {
		name string
		mid  string
		code int64
	}{
		{"missing mid", "", -801},
		{"unknown mid", "1", -802},
		{"immediate send", immediate, -803},
		{"less than 5 minutes before", early, -804},
		{"ok", late, 1},
		{"already cancelled", late, -803},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, s, "/cancel/", auth(s, "mid", tt.mid))
			if a.num(t, "result_code") != tt.code {
				t.Errorf("got %s, want %d", a.body, tt.code)
			}
			if tt.code == 1 && a.str(t, "cancel_date") != "2026-03-29 10:06:00" {
				t.Errorf("cancel_date in %s", a.body)
			}
		})
	}
	if s.Balance() != 98 {
		t.Errorf("balance %d after refund, want 98", s.Balance())
	}
	if d := s.Delivered(); !d[2].Canceled || d[1].Canceled {
		t.Errorf("canceled flags %+v", d)
	}
	clk.Add(10 * time.Minute) // 10:16: early has gone out
	if a := post(t, s, "/cancel/", auth(s, "mid", early)); a.num(t, "result_code") != -805 {
		t.Errorf("already sent: %s", a.body)
	}
	list := post(t, s, "/list/", auth(s)).list(t)
	states := map[string]string{}
	for _, r := range list {
		var mid, st string
		_ = json.Unmarshal(r["mid"], &mid)
		_ = json.Unmarshal(r["reserve_state"], &st)
		states[mid] = st
	}
	if states[immediate] != "" || states[early] != "발송완료" || states[late] != "예약취소" {
		t.Errorf("reserve states %v", states)
	}
}
