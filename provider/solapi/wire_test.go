package solapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

func fuzzClient() *Client {
	return &Client{name: "solapi", brand: solapiBrand, apiKey: "NCSMUNJATESTKEY1", apiSecret: "s3cr3t-value", log: slog.New(slog.DiscardHandler)}
}

var fuzzReceivers = []sms.Phone{"01011112222", "01033334444", "01055556666"}

// FuzzDecodeSend feeds arbitrary answers to the send-many/detail decoder:
// no panics; every failure is a classified *provider.Error (an unreadable
// answer uncertain, since Solapi had the request); a success has a group
// id and never more accepted or failed receivers than were sent.
func FuzzDecodeSend(f *testing.F) {
	for _, s := range []string{
		`{"failedMessageList":[],"groupInfo":{"count":{"total":3,"registeredSuccess":3,"registeredFailed":0},"groupId":"G4V20210714155825UTMBWD3F7YRY3N1","status":"SENDING"}}`,
		`{"failedMessageList":[{"to":"01033334444","statusCode":"1011","statusMessage":"Format Error"}],"groupInfo":{"count":{"total":3,"registeredSuccess":2},"groupId":"G1"}}`,
		`{"failedMessageList":[{"to":"01011112222","statusCode":"1062","statusMessage":"발신번호 미등록"}],"groupInfo":{"_id":"G2","count":{"registeredSuccess":0}}}`,
		`{"count":{"total":1,"registeredSuccess":1},"groupId":"G4V20210714155825FB7HVKTCCVBPHBL","status":"SENDING"}`,
		`{"groupInfo":{"groupId":"G3","count":{"total":"3","registeredSuccess":"3"}},"failedMessageList":null}`,
		`{"groupInfo":{"count":{"total":1}}}`,
		`<html>점검중</html>`,
		`{"groupInfo":{"groupId":`,
		"\ufeff{\"groupInfo\":{\"groupId\":\"G5\"}}",
	} {
		f.Add([]byte(s))
	}
	c := fuzzClient()
	m := message{sender: "0212345678", kind: sms.KindSMS, text: "x"}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := c.sendResult(body, m, fuzzReceivers)
		var pe *provider.Error
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" || pe.Code == "" {
				t.Fatalf("unclassified error %v", err)
			}
			if pe.Code == "bad response" && !pe.Uncertain {
				t.Fatalf("an unreadable send answer is not uncertain: %v", err)
			}
			return
		}
		if res.MessageID == "" || res.Accepted < 0 || res.Accepted+len(res.Failed) > len(fuzzReceivers) || res.Kind != sms.KindSMS {
			t.Fatalf("result %+v from %s", res, body)
		}
		for p := range res.Failed {
			if !slices.Contains(fuzzReceivers, p) {
				t.Fatalf("failed receiver %q was not sent", p)
			}
		}
	})
}

// FuzzDecodeList feeds arbitrary list answers to the report decoder: no
// panics, and a report is never both delivered and failed.
func FuzzDecodeList(f *testing.F) {
	for _, s := range []string{
		`{"startKey":null,"limit":20,"messageList":{"M1":{"messageId":"M1","groupId":"G1","to":"01011112222","statusCode":"4000","dateReceived":"2020-09-09T05:23:20.686Z","customFields":{"munjaBatch":"ab"}}},"nextKey":null}`,
		`{"messageList":[{"messageId":"M2","to":["01011112222","01033334444"],"statusCode":3043,"replacement":1}],"nextKey":"M3"}`,
		`{"messageList":{"M1":{"statusCode":null,"status":"FAILED","to":null,"customFields":{"n":1}}}}`,
		`{"messageList":null}`,
		`{"messageList":"x"}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r listResponse
		if json.Unmarshal(body, &r) != nil {
			return
		}
		for _, m := range r.MessageList {
			rep := report(m)
			if rep.Delivered && rep.Failed {
				t.Fatalf("delivered and failed: %+v from %s", rep, body)
			}
		}
		_, _ = parsePrices(body)
		var b balanceResponse
		_ = json.Unmarshal(body, &b)
	})
}

// FuzzStatusError feeds arbitrary refusals to the classifier: every one is
// classified with an English explanation; 5xx, 408 and 429 are retryable,
// other 4xx permanent unless the signature was only repeated; nothing but
// a send's 504 is uncertain; the secret never shows.
func FuzzStatusError(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{403, `{"errorCode":"SignatureDoesNotMatch","errorMessage":"생성한 Signature가 일치하지 않습니다."}`},
		{403, `{"errorCode":"InvalidAPIKey","errorMessage":"유효한 API Key가 아닙니다."}`},
		{403, `{"errorCode":"RequestTimeTooSkewed","errorMessage":"x"}`},
		{403, `{"errorCode":"DuplicatedSignature","errorMessage":"x"}`},
		{401, `{"errorCode":"Unauthorized","errorMessage":"x"}`},
		{400, `{"errorCode":"ValidationError","errorMessage":"\"apiKey\" length must be 16 characters long"}`},
		{400, `{"errorCode":"NotEnoughBalance","errorMessage":"잔액이 부족합니다"}`},
		{429, `{"errorCode":"TooManyRequests","errorMessage":"x"}`},
		{503, `<html>nginx</html>`},
		{504, ``},
		{404, `{"errorCode":404}`},
	} {
		f.Add(s.status, []byte(s.body), true)
	}
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, status int, body []byte, send bool) {
		if status < 300 || status > 599 {
			return
		}
		e := c.statusError(status, body, send)
		if e.English == "" || e.Korean == "" || e.Code == "" || e.Provider != "solapi" {
			t.Fatalf("unclassified %+v", e)
		}
		retry := status >= 500 || status == 408 || status == 429
		switch {
		case e.Code == "DuplicatedSignature":
			if e.Permanent {
				t.Fatalf("a repeated signature is permanent: %+v", e)
			}
		case retry && e.Permanent && e.Account == "" && !strings.Contains(strings.ToLower(string(body)), "balance") &&
			!strings.Contains(string(body), "잔액") && status != 401:
			t.Fatalf("HTTP %d permanent without a reason: %+v", status, e)
		case status >= 400 && status < 500 && !retry && !e.Permanent:
			t.Fatalf("HTTP %d retryable: %+v", status, e)
		}
		if e.Uncertain && (!send || status != 504) {
			t.Fatalf("uncertain %d (send %v)", status, send)
		}
		if strings.Contains(e.Error(), "s3cr3t-value") {
			t.Fatal("the secret shows")
		}
	})
}

// TestSendResultShapes: the answer's documented shape and the tolerated
// ones, and how registration refusals become results or errors.
func TestSendResultShapes(t *testing.T) {
	c := fuzzClient()
	m := message{sender: "0212345678", kind: sms.KindLMS, text: "x"}
	type want struct {
		id                 string
		accepted, rejected int
		failed             map[sms.Phone]string
		code               string // error code, "" = no error
		permanent          bool
		uncertain          bool
	}
	tests := []struct {
		name string
		body string
		want want
	}{
		{"documented", `{"failedMessageList":[],"groupInfo":{"groupId":"G1","count":{"total":3,"registeredSuccess":3}}}`,
			want{id: "G1", accepted: 3}},
		{"older send-many: the group at the top", `{"groupId":"G2","count":{"total":3,"registeredSuccess":3},"status":"SENDING"}`,
			want{id: "G2", accepted: 3}},
		{"only _id", `{"groupInfo":{"_id":"G3"}}`, want{id: "G3", accepted: 3}},
		{"refused receivers named", `{"failedMessageList":[{"to":"010-3333-4444","statusCode":1060,"statusMessage":"차단된 수신번호"}],"groupInfo":{"groupId":"G4","count":{"registeredSuccess":2,"registeredFailed":1}}}`,
			want{id: "G4", accepted: 2, failed: map[sms.Phone]string{"01033334444": "1060 차단된 수신번호"}}},
		{"refused without a list", `{"failedMessageList":[],"groupInfo":{"groupId":"G5","count":{"total":3,"registeredSuccess":2,"registeredFailed":1}}}`,
			want{id: "G5", accepted: 2, rejected: 1}},
		{"an unknown receiver refused", `{"failedMessageList":[{"to":"01099990000","statusCode":"1026"}],"groupInfo":{"groupId":"G6"}}`,
			want{id: "G6", accepted: 2, rejected: 1}},
		{"none registered, none named", `{"groupInfo":{"groupId":"G7","count":{"total":3,"registeredSuccess":0,"registeredFailed":3}}}`,
			want{code: "registeredFailed", permanent: true}},
		{"every one refused: sender", `{"failedMessageList":[{"to":"01011112222","statusCode":"1062"},{"to":"01033334444","statusCode":"1062"},{"to":"01055556666","statusCode":"1062"}],"groupInfo":{"groupId":"G8","count":{"registeredSuccess":0}}}`,
			want{code: "1062", permanent: true}},
		{"every one refused: Solapi's server error", `{"failedMessageList":[{"to":"01011112222","statusCode":"1024"},{"to":"01033334444","statusCode":"1024"},{"to":"01055556666","statusCode":"1024"}],"groupInfo":{"groupId":"G9"}}`,
			want{code: "1024"}},
		{"every one refused: receivers", `{"failedMessageList":[{"to":"01011112222","statusCode":"1061"},{"to":"01033334444","statusCode":"1060"},{"to":"01055556666","statusCode":"1011"}],"groupInfo":{"groupId":"G10"}}`,
			want{id: "G10", failed: map[sms.Phone]string{"01011112222": "1061 080 무료수신거부", "01033334444": "1060 차단된 수신번호", "01055556666": "1011 Format Error"}}},
		{"no group id", `{"groupInfo":{"count":{"total":3}}}`, want{code: "bad response", uncertain: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.sendResult([]byte(tt.body), m, fuzzReceivers)
			var pe *provider.Error
			if tt.want.code != "" {
				if !errors.As(err, &pe) || pe.Code != tt.want.code || pe.Permanent != tt.want.permanent || pe.Uncertain != tt.want.uncertain {
					t.Fatalf("err %v (%+v), want code %s", err, pe, tt.want.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.MessageID != tt.want.id || res.Accepted != tt.want.accepted || res.Rejected != tt.want.rejected ||
				len(res.Failed) != len(tt.want.failed) || res.Kind != sms.KindLMS {
				t.Fatalf("result %+v, want %+v", res, tt.want)
			}
			for p, r := range tt.want.failed {
				if res.Failed[p] != r {
					t.Errorf("failed[%s] = %q, want %q", p, res.Failed[p], r)
				}
			}
		})
	}
}
