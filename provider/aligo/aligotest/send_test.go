package aligotest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSendWireFormat(t *testing.T) {
	s := New(t)
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222,01033334444", "msg", "서버 점검 알림"))
	if a.status != http.StatusOK || a.ctype != "text/html; charset=UTF-8" {
		t.Fatalf("status %d, content type %q", a.status, a.ctype)
	}
	// Observed typing: string result_code and msg_id, numeric counts.
	if got := a.str(t, "result_code"); got != "1" {
		t.Errorf("result_code = %q", got)
	}
	id := a.str(t, "msg_id")
	if id == "" || strings.Trim(id, "0123456789") != "" {
		t.Errorf("msg_id = %q, want digits", id)
	}
	if a.num(t, "success_cnt") != 2 || a.num(t, "error_cnt") != 0 {
		t.Errorf("counts in %s", a.body)
	}
	if a.str(t, "msg_type") != "SMS" || a.message(t) != "success" {
		t.Errorf("msg_type/message in %s", a.body)
	}
	d := s.Delivered()
	if len(d) != 2 || d[0].Receiver != "01011112222" || d[1].Msg != "서버 점검 알림" || d[0].MsgID != id || d[0].Test {
		t.Errorf("delivered = %+v", d)
	}
	if b := s.Balance(); b != 1_000_000-2 {
		t.Errorf("balance = %d, want two SMS charged", b)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/send/" || len(reqs[0].Receivers) != 2 || reqs[0].Form.Get("msg") != "서버 점검 알림" || reqs[0].At.IsZero() {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestKoreanEscapedLikePHP(t *testing.T) {
	s := New(t)
	a := post(t, s, "/remain/", auth(s, "key", "wrong"))
	if !strings.Contains(a.body, `\uc778\uc99d\uc624\ub958`) || strings.ContainsRune(a.body, '인') {
		t.Errorf("body not \\u-escaped: %s", a.body)
	}
	if a.message(t) != "인증오류입니다." {
		t.Errorf("message = %q", a.message(t))
	}
}

func TestAuth(t *testing.T) {
	s := New(t, WithCredentials("me", "k3y"))
	tests := []struct {
		name   string
		form   map[string]string
		code   int64
		substr string
	}{
		{"user_id", map[string]string{"key": "k3y", "user_id": "me"}, 1, "success"},
		{"userid alias", map[string]string{"key": "k3y", "userid": "me"}, 1, "success"},
		{"wrong key", map[string]string{"key": "nope", "user_id": "me"}, -101, "인증오류"},
		{"wrong user", map[string]string{"key": "k3y", "user_id": "you"}, -101, "인증오류"},
		{"no key", map[string]string{"user_id": "me"}, -101, "API 키"},
		{"no user", map[string]string{"key": "k3y"}, -101, "인증오류"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := map[string][]string{}
			for k, v := range tt.form {
				f[k] = []string{v}
			}
			a := post(t, s, "/remain/", f)
			if a.num(t, "result_code") != tt.code || !strings.Contains(a.message(t), tt.substr) {
				t.Errorf("got %s", a.body)
			}
			if tt.code < 0 && a.num(t, "SMS_CNT") != 0 {
				t.Errorf("remain error must carry zero counters: %s", a.body)
			}
		})
	}
}

func TestMethodAndPath(t *testing.T) {
	s := New(t)
	resp, err := http.Get(s.URL() + "/send/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status %d", resp.StatusCode)
	}
	if a := post(t, s, "/remain", auth(s)); a.status != http.StatusNotFound {
		t.Errorf("no trailing slash: status %d", a.status)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("recorded %d requests, want 2", n)
	}
}

func TestSendValidation(t *testing.T) {
	now := time.Date(2026, 3, 29, 10, 0, 0, 0, kst)
	base := func(kv ...string) []string {
		return append([]string{"receiver", "01011112222", "msg", "hello"}, kv...)
	}
	tests := []struct {
		name   string
		kv     []string
		code   int64
		substr string
	}{
		{"unregistered sender", base("sender", "0299998888"), -101, "발신번호"},
		{"missing sender", []string{"receiver", "01011112222", "msg", "x"}, -101, "발신번호"},
		{"no receiver", []string{"sender", DefaultSender, "msg", "x"}, codeParam, "수신자"},
		{"1001 receivers", []string{"sender", DefaultSender, "msg", "x", "receiver", receiversN(1001)}, codeTooMany, "1,000"},
		{"empty msg", []string{"sender", DefaultSender, "receiver", "01011112222"}, codeMsgLen, "메시지"},
		{"2002-byte msg", base("sender", DefaultSender, "msg", strings.Repeat("가", 1001), "msg_type", "LMS"), codeMsgLen, "2,000"},
		{"45-byte title", base("sender", DefaultSender, "msg_type", "LMS", "title", strings.Repeat("가", 22)+"a"), codeTitleLen, "44"},
		{"SMS over 90 bytes", base("sender", DefaultSender, "msg_type", "SMS", "msg", strings.Repeat("a", 91)), codeMsgLen, "90"},
		{"bad msg_type", base("sender", DefaultSender, "msg_type", "XMS"), codeParam, "msg_type"},
		{"reservation in 9 minutes", base("sender", DefaultSender, "rdate", "20260329", "rtime", "1009"), codeReserve, "10분"},
		{"reservation malformed", base("sender", DefaultSender, "rdate", "2026-03-29", "rtime", "1200"), codeReserve, "형식"},
		{"reservation without time", base("sender", DefaultSender, "rdate", "20260329"), codeReserve, "형식"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, WithClock(func() time.Time { return now }))
			a := post(t, s, "/send/", auth(s, tt.kv...))
			if a.num(t, "result_code") != tt.code || !strings.Contains(a.message(t), tt.substr) {
				t.Errorf("got %s, want %d containing %q", a.body, tt.code, tt.substr)
			}
			if len(s.Delivered()) != 0 {
				t.Error("a rejected request delivered something")
			}
		})
	}
}

func TestSendLimitsAccepted(t *testing.T) {
	s := New(t)
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(1000),
		"msg", strings.Repeat("가", 1000), "title", strings.Repeat("가", 22), "msg_type", "LMS"))
	if a.code(t) != 1 || a.num(t, "success_cnt") != 1000 {
		t.Fatalf("1000 receivers, 2000 bytes, 44-byte title: %s", a.body)
	}
	if b := s.Balance(); b != 1_000_000-3000 {
		t.Errorf("balance %d, want 1000 LMS charged at 3", b)
	}
}

func TestSendKind(t *testing.T) {
	tests := []struct {
		name, msg, msgType string
		image              bool
		want               string
	}{
		{"90 ascii bytes", strings.Repeat("a", 90), "", false, "SMS"},
		{"91 ascii bytes", strings.Repeat("a", 91), "", false, "LMS"},
		{"45 hangul", strings.Repeat("햏", 45), "", false, "SMS"},
		{"46 hangul", strings.Repeat("햏", 46), "", false, "LMS"},
		{"emoji counts as one substituted byte", strings.Repeat("a", 89) + "😀", "", false, "SMS"},
		{"image", "photo", "", true, "MMS"},
		{"MMS without image", "x", "MMS", false, "LMS"},
		{"explicit LMS", "short", "LMS", false, "LMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			f := auth(s, "sender", s.Sender, "receiver", "01011112222", "msg", tt.msg)
			if tt.msgType != "" {
				f.Set("msg_type", tt.msgType)
			}
			var a answer
			if tt.image {
				a = postMultipart(t, s, "/send/", f, map[string]string{"image1": "\xff\xd8jpeg"})
			} else {
				a = post(t, s, "/send/", f)
			}
			if a.code(t) != 1 || a.str(t, "msg_type") != tt.want {
				t.Errorf("got %s, want msg_type %s", a.body, tt.want)
			}
		})
	}
}

func TestMultipartAccepted(t *testing.T) {
	s := New(t)
	a := postMultipart(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222", "msg", "멀티파트", "testmode_yn", "Y"), nil)
	if a.code(t) != 1 {
		t.Fatalf("multipart send: %s", a.body)
	}
	r := s.Requests()[0]
	if !r.Multipart || r.Form.Get("msg") != "멀티파트" || r.Form.Get("key") != s.Key {
		t.Errorf("request = %+v", r)
	}
	if a := postMultipart(t, s, "/remain/", auth(s), nil); a.num(t, "result_code") != 1 {
		t.Errorf("multipart remain: %s", a.body)
	}
}

func TestDestinationName(t *testing.T) {
	s := New(t)
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011111111,01022222222",
		"destination", "01011111111|홍길동,01022222222|아무개", "msg", "%고객명%님 안녕하세요"))
	if a.code(t) != 1 {
		t.Fatal(a.body)
	}
	d := s.Delivered()
	if d[0].Msg != "홍길동님 안녕하세요" || d[1].Msg != "아무개님 안녕하세요" {
		t.Errorf("delivered = %+v", d)
	}
}

func TestTestModeNotCharged(t *testing.T) {
	s := New(t, WithBalance(10))
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(50), "msg", "t", "testmode_yn", "Y"))
	if a.code(t) != 1 || a.num(t, "success_cnt") != 50 {
		t.Fatalf("test mode: %s", a.body)
	}
	if s.Balance() != 10 {
		t.Errorf("balance %d, test mode must not charge", s.Balance())
	}
	if d := s.Delivered(); len(d) != 50 || !d[0].Test {
		t.Errorf("delivered %d, test flag %v", len(d), d[0].Test)
	}
	if rows := post(t, s, "/list/", auth(s)).list(t); len(rows) != 0 {
		t.Errorf("test sends listed: %v", rows)
	}
}

func TestInsufficientBalance(t *testing.T) {
	s := New(t, WithBalance(2))
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(3), "msg", "x"))
	if a.num(t, "result_code") != codeBalance || !strings.Contains(a.message(t), "잔액") {
		t.Errorf("got %s", a.body)
	}
	s.SetBalance(3)
	if a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", receiversN(3), "msg", "x")); a.code(t) != 1 {
		t.Errorf("after top-up: %s", a.body)
	}
}

func TestMalformedReceiverCountedAsError(t *testing.T) {
	s := New(t)
	a := post(t, s, "/send/", auth(s, "sender", s.Sender, "receiver", "01011112222,abc,,010-1234", "msg", "x"))
	if a.num(t, "success_cnt") != 1 || a.num(t, "error_cnt") != 2 {
		t.Errorf("got %s", a.body)
	}
}

func TestSendMass(t *testing.T) {
	s := New(t)
	f := auth(s, "sender", s.Sender, "msg_type", "LMS", "cnt", "2", "title", "공통 제목",
		"rec_1", "01011111111", "msg_1", "첫번째", "rec_2", "01022222222", "msg_2", "두번째", "sbj_2", "개별 제목",
		"rec_3", "01033333333", "msg_3", "ignored beyond cnt")
	a := post(t, s, "/send_mass/", f)
	if a.str(t, "result_code") != "1" || a.num(t, "success_cnt") != 2 || a.str(t, "msg_type") != "LMS" {
		t.Fatalf("send_mass: %s", a.body)
	}
	d := s.Delivered()
	if len(d) != 2 || d[0].Msg != "첫번째" || d[0].Title != "공통 제목" || d[1].Title != "개별 제목" || d[0].MsgID != d[1].MsgID {
		t.Errorf("delivered = %+v", d)
	}
	if r := s.Requests()[0]; len(r.Receivers) != 2 {
		t.Errorf("recorded receivers %v", r.Receivers)
	}

	tests := []struct {
		name string
		kv   []string
		code int64
	}{
		{"no msg_type", []string{"cnt", "1", "rec_1", "01011111111", "msg_1", "x"}, codeParam},
		{"cnt 0", []string{"msg_type", "SMS", "cnt", "0"}, codeParam},
		{"cnt 501", []string{"msg_type", "SMS", "cnt", "501", "rec_1", "01011111111", "msg_1", "x"}, codeTooMany},
		{"missing rec_2", []string{"msg_type", "SMS", "cnt", "2", "rec_1", "01011111111", "msg_1", "x", "msg_2", "y"}, codeParam},
		{"empty msg_1", []string{"msg_type", "SMS", "cnt", "1", "rec_1", "01011111111"}, codeMsgLen},
		{"SMS too long", []string{"msg_type", "SMS", "cnt", "1", "rec_1", "01011111111", "msg_1", strings.Repeat("가", 46)}, codeMsgLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, s, "/send_mass/", auth(s, append([]string{"sender", s.Sender}, tt.kv...)...))
			if a.num(t, "result_code") != tt.code {
				t.Errorf("got %s, want %d", a.body, tt.code)
			}
		})
	}
}
