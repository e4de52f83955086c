package twilio

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
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
		{`1`, 1, true}, {`"2"`, 2, true}, {`21211`, 21211, true}, {`null`, 0, true}, {`""`, 0, true},
		{`" 3 "`, 3, true}, {`"x"`, 0, false}, {`1.5`, 0, false}, {`true`, 0, false}, {`{}`, 0, false},
	}
	for _, tt := range tests {
		var f flexInt
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && int64(f) != tt.want) {
			t.Errorf("%s: %d, %v", tt.in, f, err)
		}
	}
}

// TestDecodeMessage reads §9.4's documented 201 answer.
func TestDecodeMessage(t *testing.T) {
	body := `{"account_sid":"AC0123456789abcdef0123456789abcdef","api_version":"2010-04-01","body":"안녕하세요",
"date_created":"Tue, 26 Jul 2016 12:50:07 +0000","date_sent":null,"date_updated":"Tue, 26 Jul 2016 12:50:07 +0000",
"direction":"outbound-api","error_code":null,"error_message":null,"from":"+15017122661","messaging_service_sid":null,
"num_media":"0","num_segments":"2","price":null,"price_unit":"USD","sid":"SM0123456789abcdef0123456789abcdef",
"status":"queued","subresource_uris":{"media":"/2010-04-01/Accounts/AC…/Messages/SM…/Media.json"},
"to":"+821012345678","uri":"/2010-04-01/Accounts/AC…/Messages/SM….json"}`
	c := fuzzClient()
	m, rej, err := c.answer(201, []byte(body), true)
	if err != nil || rej != nil {
		t.Fatal(err, rej)
	}
	if m.SID != "SM0123456789abcdef0123456789abcdef" || m.NumSegments != 2 || m.Status != "queued" || m.ErrorCode != 0 || m.To != "+821012345678" {
		t.Errorf("message %+v", m)
	}
	if got := twilioTime(m.DateCreated); !got.Equal(time.Date(2016, 7, 26, 12, 50, 7, 0, time.UTC)) {
		t.Errorf("date_created %v", got)
	}
	if !twilioTime("yesterday").IsZero() {
		t.Error("garbage date not zero")
	}
}

// FuzzAnswer feeds arbitrary answers (status, body) to the decoder and
// classifier: no panics, every failure a classified *provider.Error,
// success only for a 2xx with a sid, a refused recipient only on a send.
func FuzzAnswer(f *testing.F) {
	f.Add(201, []byte(`{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued","num_segments":"1","error_code":null}`), true)
	f.Add(400, []byte(`{"code":21211,"message":"The 'To' number +8210 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`), true)
	f.Add(401, []byte(`{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`), false)
	f.Add(503, []byte(`<html><body>Service Unavailable</body></html>`), true)
	f.Add(200, []byte(`{"sid":"","status":"queued"}`), false)
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, status int, body []byte, post bool) {
		m, rej, err := c.answer(status, body, post)
		var pe *provider.Error
		switch {
		case err != nil:
			if rej != nil || !errors.As(err, &pe) || pe.Code == "" || pe.English == "" || pe.Korean == "" {
				t.Fatalf("unclassified error %#v (rej %v)", err, rej)
			}
			if pe.Uncertain && (!post || pe.Permanent) {
				t.Fatalf("uncertain %v for post=%v", err, post)
			}
		case rej != nil:
			if !post || !rej.Permanent || status >= 200 && status < 300 {
				t.Fatalf("refused recipient %v for status %d post=%v", rej, status, post)
			}
		default:
			if status < 200 || status >= 300 || strings.TrimSpace(m.SID) == "" {
				t.Fatalf("success from status %d body %q", status, body)
			}
		}
		if strings.Contains(fmtErr(err)+fmtErr(rej), "s3cr3t") {
			t.Fatal("an error shows the token")
		}
	})
}

func fmtErr[E error](e E) string {
	var zero E
	if any(e) == any(zero) {
		return ""
	}
	return e.Error()
}

func fuzzClient() *Client {
	return &Client{name: "twilio", token: "s3cr3t", log: slog.New(slog.DiscardHandler)}
}
