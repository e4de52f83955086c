package aligo

import (
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider"
)

func TestFlexInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`1`, 1, true}, {`"1"`, 1, true}, {`-101`, -101, true}, {`"-101"`, -101, true},
		{`""`, 0, true}, {`null`, 0, true}, {`" 7 "`, 7, true}, {`1.0`, 1, true}, {`"5936"`, 5936, true},
		{`"abc"`, 0, false}, {`1.5`, 0, false}, {`true`, 0, false}, {`{}`, 0, false},
	}
	for _, tt := range tests {
		var f FlexInt
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && int64(f) != tt.want) {
			t.Errorf("%s: %d, %v", tt.in, f, err)
		}
	}
}

func TestFlexString(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"146645343"`, "146645343", true}, {`146645343`, "146645343", true}, {`null`, "", true},
		{`""`, "", true}, {`[1]`, "", false}, {`true`, "", false},
	}
	for _, tt := range tests {
		var f FlexString
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && string(f) != tt.want) {
			t.Errorf("%s: %q, %v", tt.in, f, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2020, 10, 13, 19, 17, 11, 0, kst)
	if got := parseTime("2020-10-13 19:17:11"); !got.Equal(want) {
		t.Errorf("got %v", got)
	}
	if !parseTime("").IsZero() || !parseTime("soon").IsZero() {
		t.Error("garbage time not zero")
	}
}

// FuzzDecodeSend feeds arbitrary gateway answers to the /send/ decoder and
// result mapping: no panics, every failure is a classified *provider.Error,
// and success only with result_code 1 and a sane count.
func FuzzDecodeSend(f *testing.F) {
	for _, s := range []string{
		`{"result_code":"1","message":"success","msg_id":"146645343","success_cnt":1,"error_cnt":0,"msg_type":"SMS"}`,
		`{"result_code":-101,"message":"인증오류입니다.-IP"}`,
		`{"result_code":"","message":""}`,
		`<html>점검중</html>`,
	} {
		f.Add([]byte(s))
	}
	c := &Client{name: "aligo", key: "k3y", log: discard()}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r sendResponse
		err := c.decode(body, &r, &r.envelope)
		var pe *provider.Error
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" || pe.Code == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if r.ResultCode != 1 {
			t.Fatalf("success with result_code %d", r.ResultCode)
		}
		res, err := c.sendResult(r, "SMS", 3)
		if err != nil {
			if !errors.As(err, &pe) || !pe.Permanent {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if res.Accepted <= 0 {
			t.Errorf("accepted %d from %s", res.Accepted, body)
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
