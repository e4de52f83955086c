package sens

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

func TestFlexString(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"202"`, "202", true}, {`202`, "202", true}, {`null`, "", true}, {`false`, "false", true}, {`[1]`, "", false}, {`{}`, "", false},
	}
	for _, tt := range tests {
		var f flexString
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && string(f) != tt.want) {
			t.Errorf("%s: %q, %v", tt.in, f, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2023, 3, 7, 22, 26, 13, 358e6, kst)
	if got := parseTime("2023-03-07T22:26:13.358"); !got.Equal(want) {
		t.Errorf("requestTime: %v", got)
	}
	if got := parseTime("2023-03-07 22:26:13"); !got.Equal(want.Truncate(time.Second)) {
		t.Errorf("completeTime: %v", got)
	}
	if !parseTime("").IsZero() || !parseTime("soon").IsZero() {
		t.Error("garbage time not zero")
	}
}

func TestErrorBodyText(t *testing.T) {
	tests := map[string]string{
		`{"error":{"errorCode":"200","message":"Authentication Failed","details":"Invalid authentication information."}}`: "Authentication Failed; Invalid authentication information.",
		`{"error":{"errorCode":210,"message":"Permission Denied"}}`:                                                       "Permission Denied",
		`{"status":400,"errorMessage":"Validation failed. 2 error(s)","errors":["a","b"]}`:                                "Validation failed. 2 error(s); a; b",
		`{"status":400,"errorMessage":"x","errors":[{"field":"to"}]}`:                                                     `x; {"field":"to"}`,
	}
	for in, want := range tests {
		var eb errorBody
		if err := json.Unmarshal([]byte(in), &eb); err != nil {
			t.Fatal(err)
		}
		if got := eb.text(); got != want {
			t.Errorf("%s: %q", in, got)
		}
	}
}

// FuzzDecodeSend feeds arbitrary answers (any status, any body) to the
// send decoder and result mapping: no panics, every failure a classified
// *provider.Error, and success only from a 2xx with a requestId.
func FuzzDecodeSend(f *testing.F) {
	f.Add(202, []byte(`{"requestId":"VORSSA-1","requestTime":"2023-03-07T22:26:13.358","statusCode":"202","statusName":"success"}`))
	f.Add(401, []byte(`{"error":{"errorCode":"200","message":"Authentication Failed","details":"Invalid authentication information."}}`))
	f.Add(400, []byte(`{"status":400,"errorMessage":"Validation failed. 1 error(s)","errors":["The receiver(to) must be numeric and cannot exceed 25 characters."]}`))
	f.Add(200, []byte(`<html>점검 중</html>`))
	f.Add(503, []byte(`{"error":{"errorCode":500,"message":"Endpoint Error"}}`))
	c := &Client{name: "sens", secret: "s3cr3t", log: slog.New(slog.DiscardHandler), now: time.Now}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = http.StatusAccepted
		}
		var r sendResponse
		err := c.decode(status, "", body, &r)
		var pe *provider.Error
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" || pe.Code == "" || pe.Korean == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("success from status %d", status)
		}
		res, err := c.sendResult(r, sms.KindSMS, 3)
		if err != nil {
			if !errors.As(err, &pe) || pe.English == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if res.MessageID == "" || res.Accepted != 3 {
			t.Errorf("result %+v from %s", res, body)
		}
	})
}
