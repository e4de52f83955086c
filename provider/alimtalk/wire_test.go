package alimtalk

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/munja-sms/munja/provider"
)

func TestDecodeShapes(t *testing.T) {
	c := &Client{name: "kakao", key: "s3cr3t", log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		body string
		mid  string
		ok   int
		err  string
	}{
		{`{"code":0,"message":"성공적으로 전송요청 하였습니다.","info":{"type":"AT","mid":"XXXXXXXX","current":0,"unit":0,"total":0,"scnt":2,"fcnt":0}}`, "XXXXXXXX", 2, ""},
		{`{"code":"0","message":"ok","info":{"mid":123456,"scnt":"3","fcnt":"0","current":12.5}}`, "123456", 3, ""},
		{`{"code":1,"message":"","info":[]}`, "", 0, ""},
		{"\ufeff {\"code\":0,\"info\":null}", "", 0, ""},
		{`{"code":-99,"message":"포인트가 부족합니다."}`, "", 0, "kakao: [-99] insufficient Aligo balance (top up the account) (포인트가 부족합니다.)"},
		{`{"code":509,"message":"수정 가능 상태가 아닙니다.","info":""}`, "", 0, "kakao: [509] Aligo rejected the Alimtalk request (수정 가능 상태가 아닙니다.)"},
		{`{"message":"no code"}`, "", 0, "kakao: [bad response] cannot decode the Aligo Kakao API response (will retry) ({\"message\":\"no code\"})"},
		{`<html>점검중 s3cr3t</html>`, "", 0, "kakao: [bad response] cannot decode the Aligo Kakao API response (will retry) (<html>점검중 <secret></html>)"},
	} {
		var r sendResponse
		err := c.decode([]byte(tc.body), &r, &r.envelope)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: %v, want %s", tc.body, err, tc.err)
		case tc.err == "" && (string(r.Info.V.MID) != tc.mid || int(r.Info.V.SCnt) != tc.ok):
			t.Errorf("%s: %+v", tc.body, r.Info.V)
		}
	}
	// heartinfo both ways, and a PHP array for rows.
	var h heartResponse
	if err := c.decode([]byte(`{"result_code":"1","message":"success","SMS_CNT":"5","LMS_CNT":2,"MMS_CNT":1.0,"ALT_CNT":9}`), &h, &h.envelope); err != nil || h.counts.ALT != 9 || h.counts.SMS != 5 {
		t.Errorf("top: %+v %v", h, err)
	}
	var d detailResponse
	if err := c.decode([]byte(`{"code":0,"list":{"1":{"phone":"01022223333","smid":0},"0":{"phone":"01011112222","smid":"55"}},"totalPage":"1"}`), &d, &d.envelope); err != nil ||
		len(d.List) != 2 || d.List[0].Phone != "01011112222" || d.List[0].SMID != "55" || d.List[1].SMID != "0" {
		t.Errorf("rows: %+v %v", d, err)
	}
}

// FuzzDecode: whatever Aligo's Kakao API answers, the decoders return a
// classified error or a success, never panic, and never count negative.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"message":"성공적으로 전송요청 하였습니다.","info":{"type":"AT","mid":"30000001","current":999,"unit":1,"total":2,"scnt":2,"fcnt":0}}`,
		`{"code":-99,"message":"등록되지 않은 인증키 입니다."}`,
		`{"code":1,"message":"","list":{"SMS_CNT":5555,"LMS_CNT":1930,"MMS_CNT":833}}`,
		`{"result_code":1,"message":"success","SMS_CNT":5936,"LMS_CNT":1925,"MMS_CNT":831,"ALT_CNT":6000}`,
		`{"code":0,"message":"ok","list":[{"msgid":"Q1","phone":"01011112222","rslt":"U","rslt_message":"메시지가 템플릿과 일치하지않음","smid":0}],"currentPage":"1","totalPage":"1","totalCount":"1"}`,
		`{"code":0,"message":"정상적으로 생성하였습니다.","token":"abc/+=","urlencode":"abc%2F%2B%3D"}`,
		`<html>점검중</html>`,
	} {
		f.Add([]byte(s))
	}
	c := &Client{name: "kakao", key: "s3cr3t", senderKey: "sk", log: slog.New(slog.DiscardHandler)}
	check := func(t *testing.T, err error, env *envelope) bool {
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.English == "" || pe.Code == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return false
		}
		if code, ok := env.status(); !ok || (code != 0 && code != 1) {
			t.Fatalf("success with status %d %v", code, ok)
		}
		return true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s sendResponse
		check(t, c.decode(body, &s, &s.envelope), &s.envelope)
		var h heartResponse
		check(t, c.decode(body, &h, &h.envelope), &h.envelope)
		var d detailResponse
		if check(t, c.decode(body, &d, &d.envelope), &d.envelope) {
			for _, row := range d.List {
				r := report(row)
				if r.Delivered && r.Failed {
					t.Fatalf("delivered and failed: %+v", row)
				}
			}
		}
		var l historyResponse
		check(t, c.decode(body, &l, &l.envelope), &l.envelope)
		var tk tokenResponse
		check(t, c.decode(body, &tk, &tk.envelope), &tk.envelope)
	})
}
