package nhn

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

func TestFlex(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`0`, 0, true}, {`-1004`, -1004, true}, {`"-1004"`, -1004, true}, {`""`, 0, true}, {`null`, 0, true},
		{`1.0`, 1, true}, {`"x"`, 0, false}, {`1.5`, 0, false}, {`{}`, 0, false},
	}
	for _, tt := range ints {
		var f flexInt
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && int64(f) != tt.want) {
			t.Errorf("flexInt %s: %d, %v", tt.in, f, err)
		}
	}
	strs := []struct {
		in, want string
		ok       bool
	}{
		{`"2"`, "2", true}, {`2`, "2", true}, {`null`, "", true}, {`true`, "true", true}, {`[1]`, "", false},
	}
	for _, tt := range strs {
		var f flexString
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && string(f) != tt.want) {
			t.Errorf("flexString %s: %q, %v", tt.in, f, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2018, 8, 10, 10, 6, 30, 0, kst)
	for _, s := range []string{"2018-08-10 10:06:30.0", "2018-08-10 10:06:30", " 2018-08-10 10:06:30.000 "} {
		if got := parseTime(s); !got.Equal(want) {
			t.Errorf("%q: %v", s, got)
		}
	}
	if !parseTime("").IsZero() || !parseTime("soon").IsZero() {
		t.Error("garbage time not zero")
	}
}

// FuzzDecodeSend feeds arbitrary answers (any status) to the send
// decoder and result mapping: no panics, every failure a classified
// *provider.Error, and success only with a request id and an accepted
// recipient.
func FuzzDecodeSend(f *testing.F) {
	for _, s := range []string{
		`{"header":{"isSuccessful":true,"resultCode":0,"resultMessage":"SUCCESS"},"body":{"data":{"requestId":"20180810100630ReZQ6KZzAH0","statusCode":"2","senderGroupingKey":"k","sendResultList":[{"recipientNo":"01000000000","resultCode":0,"resultMessage":"SUCCESS","recipientSeq":1}]}}}`,
		`{"header":{"isSuccessful":false,"resultCode":-1004,"resultMessage":"Invalid secretKey."},"body":null}`,
		`{"header":{"isSuccessful":true},"body":null}`,
		`<html>점검중</html>`,
	} {
		f.Add(200, []byte(s))
	}
	f.Add(401, []byte(`{"header":{"isSuccessful":false,"resultCode":"-1004","resultMessage":"Invalid secretKey."}}`))
	f.Add(503, []byte(`<h1>Service Unavailable</h1>`))
	c := &Client{name: "nhn", secret: "s3cr3t", log: slog.New(slog.DiscardHandler)}
	receivers := []sms.Phone{"01000000000", "01000000001"}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = http.StatusOK
		}
		var r sendResponse
		err := c.decode(status, body, &r)
		var pe *provider.Error
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" || pe.Code == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if status != http.StatusOK || r.Header.IsSuccessful == nil || !*r.Header.IsSuccessful {
			t.Fatalf("success from status %d, header %+v", status, r.Header)
		}
		res, err := c.sendResult(r, sms.KindSMS, receivers)
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if res.MessageID == "" || res.Accepted <= 0 || res.Accepted > len(receivers) {
			t.Errorf("result %+v from %s", res, body)
		}
	})
}
