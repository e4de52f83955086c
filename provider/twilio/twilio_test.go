package twilio

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/provider/twilio/twiliotest"
	"github.com/munja-sms/munja/sms"
)

// newClient builds a client for cfg with a debug log captured in the
// returned buffer.
func newClient(t *testing.T, cfg config.Provider) (*Client, *bytes.Buffer) {
	t.Helper()
	return clienttest.Client(t, NewClient, cfg)
}

func batch(text string, to ...sms.Phone) provider.Batch {
	if len(to) == 0 {
		to = []sms.Phone{"01012345678"}
	}
	return provider.Batch{Text: text, Kind: sms.KindSMS, Receivers: to}
}

func TestSendThroughFake(t *testing.T) {
	gw := twiliotest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	text := "[경고] httpd 프로세스가 동작하지 않습니다."
	b := batch(text)
	b.Sender = "0212345678" // a Korean registered sender: not Twilio's
	res, err := c.Send(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	msgs := gw.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	m := msgs[0]
	if res.MessageID != m.SID+";segments=1" || res.Accepted != 1 || res.Rejected != 0 || len(res.Failed) != 0 || res.Kind != "" {
		t.Errorf("result %+v", res)
	}
	if m.To != "+821012345678" || m.From != gw.Sender || m.Body != text || m.Status != "queued" {
		t.Errorf("message %+v", m)
	}
	r := gw.Requests()[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+gw.AccountSID+"/Messages.json" || !r.Auth || r.User != gw.AccountSID {
		t.Errorf("request %+v", r)
	}
	if len(r.Form) != 3 {
		t.Errorf("form %v: want To, From and Body only", r.Form)
	}
	if strings.Contains(logs.String(), gw.AuthToken) {
		t.Error("the auth token appeared in the log")
	}
}

// TestBasicAuthHeader: the Authorization header is exactly
// "Basic base64(account_sid:auth_token)".
func TestBasicAuthHeader(t *testing.T) {
	var got string
	srv := twiliotest.New(t)
	hc := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("Authorization")
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := NewClient(srv.ProviderConfig(), hc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), batch("hi")); err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(srv.AccountSID+":"+srv.AuthToken))
	if got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWrongAuthToken(t *testing.T) {
	gw := twiliotest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Options = config.Opts("account_sid", gw.AccountSID, "auth_token", "0000000000000000000000000000dead")
	c, _ := newClient(t, cfg)
	start := time.Now()
	_, err := c.Send(context.Background(), batch("x"))
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Permanent || pe.Uncertain || pe.Code != "20003" || pe.Account != "인증 실패" {
		t.Fatalf("err %#v, want a permanent 20003", err)
	}
	if !strings.Contains(err.Error(), "check auth_token") || !strings.HasPrefix(err.Error(), "twilio: ") || !strings.Contains(pe.Korean, "auth_token") {
		t.Errorf("error %q (%s) does not name the gateway and auth_token", err, pe.Korean)
	}
	if strings.Contains(err.Error(), "dead") {
		t.Error("the error shows the token")
	}
	if time.Since(start) > 2*time.Second {
		t.Error("an auth failure took seconds")
	}
	if len(gw.Messages()) != 0 {
		t.Error("sent with a wrong token")
	}
	// The right token that Twilio refuses anyway (a rotated token).
	gw.SetFailure(twiliotest.Failure{Mode: twiliotest.BadAuth})
	c2, _ := newClient(t, gw.ProviderConfig())
	if _, err := c2.Send(context.Background(), batch("x")); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "auth_token") {
		t.Errorf("rotated token: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tokenFile := clienttest.File(t, "twilio.token", twiliotest.DefaultAuthToken+"\n")
	sid := twiliotest.DefaultAccountSID
	ok := func(opts ...any) config.Provider {
		return config.Provider{Name: "tw", Type: "twilio", Sender: "+15017122661", Options: config.Opts(opts...)}
	}
	with := func(f func(*config.Provider)) config.Provider {
		c := ok("account_sid", sid, "auth_token", "t")
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  config.Provider
		want []string // substrings, one per expected error; none = valid
	}{
		{"valid", ok("account_sid", sid, "auth_token", "t"), nil},
		{"token from file", ok("account_sid", sid, "auth_token_file", tokenFile), nil},
		{"sender with separators", with(func(c *config.Provider) { c.Sender = "+1 (501) 712-2661" }), nil},
		{"nothing", config.Provider{Type: "twilio"}, []string{
			"p.account_sid: required", "p.auth_token: required", "p.sender: required for twilio"}},
		{"bad sid", ok("account_sid", "SK0123", "auth_token", "t"), []string{"p.account_sid: must be an Account SID"}},
		{"korean sender", with(func(c *config.Provider) { c.Sender = "010-1234-5678" }),
			[]string{`p.sender: must be a number in E.164 (+ country code and number, e.g. +15017122661), got "010-1234-5678" (did you mean "+821012345678"?)`}},
		{"test mode", with(func(c *config.Provider) { c.TestMode = true }), []string{"p.test_mode: Twilio has no test mode"}},
		{"unknown key", ok("account_sid", sid, "auth_token", "t", "api_key", "x"), []string{`p.api_key: unknown key "api_key" for type twilio`}},
		{"missing token file", ok("account_sid", sid, "auth_token_file", filepath.Join(t.TempDir(), "none")), []string{"p.auth_token_file: cannot read"}},
		{"bad base_url", with(func(c *config.Provider) { c.BaseURL = "api.twilio.com" }), []string{"p.base_url: must be an http(s) URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.cfg, "p")
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %v, want %d", errs, len(tt.want))
			}
			all := fmt.Sprint(errs)
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors %q lack %q", all, w)
				}
			}
			if strings.Contains(all, twiliotest.DefaultAuthToken) {
				t.Error("an error shows the token")
			}
		})
	}
	// The token read from the file is the one sent.
	gw := twiliotest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Options = config.Opts("account_sid", gw.AccountSID, "auth_token_file", tokenFile)
	c, _ := newClient(t, cfg)
	if _, err := c.Send(context.Background(), batch("from file")); err != nil {
		t.Errorf("auth_token_file: %v", err)
	}
}

func TestE164(t *testing.T) {
	for in, want := range map[sms.Phone]string{
		"01012345678":   "+821012345678",
		"010-1234-5678": "+821012345678",
		"0212345678":    "+82212345678",
		"15881234":      "+8215881234",
		"+821012345678": "+821012345678",
	} {
		if got := E164(in); got != want {
			t.Errorf("E164(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTextAsIs: Twilio gets the text unchanged, with no type and no title,
// whatever its CP949 size (89, 90, 91 bytes of ASCII and Hangul, which the
// Korean gateways send as SMS, SMS, LMS), and the segment count is
// recorded in the message id.
func TestTextAsIs(t *testing.T) {
	gw := twiliotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	tests := []struct {
		name, text string
		kind       sms.Kind
		segments   int
	}{
		{"89 bytes ASCII", strings.Repeat("a", 89), sms.KindSMS, 1},
		{"90 bytes ASCII", strings.Repeat("a", 90), sms.KindSMS, 1},
		{"91 bytes ASCII", strings.Repeat("a", 91), sms.KindLMS, 1},
		{"89 bytes Hangul", strings.Repeat("가", 44) + "a", sms.KindSMS, 1},
		{"90 bytes Hangul", strings.Repeat("가", 45), sms.KindSMS, 1},
		{"91 bytes Hangul", strings.Repeat("가", 45) + "a", sms.KindLMS, 1},
		{"70 Hangul", strings.Repeat("가", 70), sms.KindLMS, 1},
		{"71 Hangul", strings.Repeat("가", 71), sms.KindLMS, 2},
		{"135 Hangul", strings.Repeat("가", 135), sms.KindLMS, 3},
		{"161 ASCII", strings.Repeat("a", 161), sms.KindLMS, 2},
		{"1000 Hangul", strings.Repeat("가", 1000), sms.KindLMS, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw.Reset()
			b := batch(tt.text)
			b.Kind, b.Title = tt.kind, "제목"
			res, err := c.Send(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			f := gw.Requests()[0].Form
			if f.Get("Body") != tt.text || len(f) != 3 {
				t.Errorf("form %v", f)
			}
			if _, segs := SplitMessageID(res.MessageID); segs != tt.segments {
				t.Errorf("message id %q, want %d segments", res.MessageID, tt.segments)
			}
		})
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	gw := twiliotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 1 {
		t.Errorf("MaxBatch %d", c.MaxBatch())
	}
	test := batch("x")
	test.Test = true
	for name, b := range map[string]provider.Batch{
		"two receivers": batch("x", "01011112222", "01033334444"),
		"no receivers":  {Text: "x"},
		"empty text":    batch(""),
		"test send":     test,
		"1601 chars":    batch(strings.Repeat("a", 1601)),
	} {
		_, err := c.Send(context.Background(), b)
		if !provider.IsPermanent(err) {
			t.Errorf("%s: %v, want permanent", name, err)
		}
	}
	if n := len(gw.Requests()); n != 0 {
		t.Errorf("%d requests reached Twilio", n)
	}
	if _, err := c.Send(context.Background(), batch(strings.Repeat("가", 1600))); err != nil {
		t.Errorf("1600 Hangul: %v", err)
	}
}

// TestErrorClassification: every way the fake fails, as the dispatcher
// sees it.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name      string
		f         twiliotest.Failure
		permanent bool
		uncertain bool
		code      string
		want      string
		account   bool // refuses every send of the account
	}{
		{"503 page", twiliotest.Failure{Mode: twiliotest.HTTPStatus}, false, false, "HTTP 503", "server error", false},
		{"500 json", twiliotest.Failure{Mode: twiliotest.HTTPStatus, Status: 500}, false, false, "20500", "server error", false},
		{"proxy 504", twiliotest.Failure{Mode: twiliotest.HTTPStatus, Status: 504}, false, true, "HTTP 504", "server error", false},
		{"rate limit", twiliotest.Failure{Mode: twiliotest.RateLimit}, false, false, "20429", "rate limit", false},
		{"garbage", twiliotest.Failure{Mode: twiliotest.Garbage}, false, false, "bad response", "cannot decode", false},
		{"region", twiliotest.Failure{Mode: twiliotest.APIError, Code: 21408, Message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +821012345678."},
			true, false, "21408", "geo permissions", true},
		{"other 400", twiliotest.Failure{Mode: twiliotest.APIError, Code: 21999, Message: "Something new"}, true, false, "21999", "Something new", false},
		{"other 403", twiliotest.Failure{Mode: twiliotest.APIError, Status: 403, Code: 20008, Message: "Resource not accessible with Test Account Credentials"}, true, false, "20008", "Test Account", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := twiliotest.New(t)
			gw.SetFailure(tt.f)
			c, _ := newClient(t, gw.ProviderConfig())
			_, err := c.Send(context.Background(), batch("x"))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %v", err)
			}
			if pe.Permanent != tt.permanent || pe.Uncertain != tt.uncertain || pe.Code != tt.code || !strings.Contains(err.Error(), tt.want) ||
				(pe.Account != "") != tt.account {
				t.Errorf("%v: permanent %v uncertain %v code %q account %q", err, pe.Permanent, pe.Uncertain, pe.Code, pe.Account)
			}
			if pe.Korean == "" || pe.English == "" {
				t.Errorf("no operator text: %#v", pe)
			}
		})
	}
}

// TestSenderRefused: a From that is not the account's number is permanent
// and names the sender key.
func TestSenderRefused(t *testing.T) {
	gw := twiliotest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Sender = "+15005550009"
	c, _ := newClient(t, cfg)
	_, err := c.Send(context.Background(), batch("x"))
	if _, account := provider.AccountFailure(err); !account || !provider.IsPermanent(err) || !strings.Contains(err.Error(), "check sender") || !strings.Contains(err.Error(), "21606") {
		t.Errorf("err %v", err)
	}
}

// TestRecipientRefused: an invalid or non-mobile number fails that
// recipient only, with Twilio's reason; no error for the call.
func TestRecipientRefused(t *testing.T) {
	gw := twiliotest.New(t)
	gw.Reject("+821099998888", 21211)
	gw.Reject("+821077776666", 21610)
	c, _ := newClient(t, gw.ProviderConfig())
	for phone, want := range map[sms.Phone]string{
		"01099998888": "[21211] Twilio: not a valid phone number",
		"0212345678":  "[21614] Twilio: not a mobile number",
		"01077776666": "[21610] Twilio: the receiver unsubscribed",
	} {
		res, err := c.Send(context.Background(), batch("x", phone))
		if err != nil {
			t.Errorf("%s: %v", phone, err)
			continue
		}
		if res.Accepted != 0 || !strings.Contains(res.Failed[phone], want) || len(res.Failed) != 1 {
			t.Errorf("%s: result %+v, want failed with %q", phone, res, want)
		}
	}
	if len(gw.Messages()) != 0 {
		t.Error("a refused recipient got a message")
	}
}

// TestUncertainSend: Twilio creates the Message but answers after the
// client gave up. The error is Uncertain, and Lookup finds the Message in
// Twilio's list, so the dispatcher does not send again (see
// TestPipelineUncertainIsFound).
func TestUncertainSend(t *testing.T) {
	gw := twiliotest.New(t)
	gw.SetFailure(twiliotest.Failure{Mode: twiliotest.LateAnswer, Delay: 2 * time.Second})
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(200 * time.Millisecond)
	c, _ := newClient(t, cfg)
	_, err := c.Send(context.Background(), batch("x"))
	if !provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Fatalf("err %v, want uncertain", err)
	}
	if len(gw.Messages()) != 1 {
		t.Errorf("the fake did not create the message")
	}
	var p provider.Provider = c
	found, err := c.Lookup(context.Background(), batch("x"), time.Now().Add(-time.Minute))
	if err != nil || len(found) != 1 {
		t.Errorf("Lookup after the late answer: %v %v", found, err)
	}
	for _, id := range found {
		if sid, _ := SplitMessageID(id); sid != gw.Messages()[0].SID {
			t.Errorf("Lookup found %s, want %s", id, gw.Messages()[0].SID)
		}
	}
	// Another text, or a send before since, is not it.
	if found, _ := c.Lookup(context.Background(), batch("other"), time.Now().Add(-time.Minute)); len(found) != 0 {
		t.Errorf("another text found: %v", found)
	}
	if found, _ := c.Lookup(context.Background(), batch("x"), time.Now().Add(time.Hour)); len(found) != 0 {
		t.Errorf("an older send found: %v", found)
	}
	if _, ok := p.(provider.Balancer); ok {
		t.Error("twilio claims a balance (§9.4 has none)")
	}

	// A connection that cannot be made never reached Twilio: not uncertain.
	cfg.BaseURL = "http://127.0.0.1:1"
	c2, _ := newClient(t, cfg)
	if _, err := c2.Send(context.Background(), batch("x")); err == nil || provider.IsUncertain(err) || provider.IsPermanent(err) {
		t.Errorf("refused connection: %v", err)
	}
}

func TestReports(t *testing.T) {
	gw := twiliotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	ids := map[string]string{}
	for _, p := range []sms.Phone{"01011110000", "01022220000", "01033330000"} {
		res, err := c.Send(context.Background(), batch("report", p))
		if err != nil {
			t.Fatal(err)
		}
		ids[string(p)] = res.MessageID
	}
	sid := func(p string) string { s, _ := SplitMessageID(ids[p]); return s }
	gw.SetStatus(sid("01011110000"), "delivered", 0, "")
	gw.SetStatus(sid("01022220000"), "undelivered", 30003, "Unreachable destination handset")
	tests := []struct {
		phone             string
		delivered, failed bool
		state             string
	}{
		{"01011110000", true, false, "delivered"},
		{"01022220000", false, true, "undelivered 30003 Unreachable destination handset"},
		{"01033330000", false, false, "queued"},
	}
	for _, tt := range tests {
		reps, err := c.Reports(context.Background(), ids[tt.phone])
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != 1 {
			t.Fatalf("reports %+v", reps)
		}
		r := reps[0]
		if r.Phone != sms.Phone(tt.phone) || r.Delivered != tt.delivered || r.Failed != tt.failed || r.State != tt.state || r.At.IsZero() {
			t.Errorf("%s: report %+v", tt.phone, r)
		}
	}
	// A bare SID works too; an unknown one is an error, a malformed one is
	// refused before any call.
	if reps, err := c.Reports(context.Background(), sid("01011110000")); err != nil || !reps[0].Delivered {
		t.Errorf("bare sid: %+v %v", reps, err)
	}
	gw.Reset()
	if _, err := c.Reports(context.Background(), "SM"+strings.Repeat("0", 32)); err == nil || !strings.Contains(err.Error(), "20404") {
		t.Errorf("unknown sid: %v", err)
	}
	if _, err := c.Reports(context.Background(), "../../Balance"); !provider.IsPermanent(err) || len(gw.Requests()) != 1 {
		t.Errorf("malformed id: %v, %d requests", err, len(gw.Requests()))
	}
	gw.SetFailure(twiliotest.Failure{Mode: twiliotest.BadAuth})
	if _, err := c.Reports(context.Background(), ids["01011110000"]); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "auth_token") {
		t.Errorf("reports with a refused token: %v", err)
	}
}

func TestMessageID(t *testing.T) {
	sid := "SM" + strings.Repeat("a", 32)
	for id, want := range map[string]struct {
		sid  string
		segs int
	}{
		MessageID(sid, 3): {sid, 3},
		MessageID(sid, 0): {sid, 0},
		sid:               {sid, 0},
		sid + ";x=1":      {sid, 0},
	} {
		if s, n := SplitMessageID(id); s != want.sid || n != want.segs {
			t.Errorf("SplitMessageID(%q) = %q, %d", id, s, n)
		}
	}
	if got := MessageID(sid, 2); got != sid+";segments=2" {
		t.Errorf("MessageID %q", got)
	}
}

// TestStalledGatewayIsUncertain: a gateway that got the request and says
// nothing is uncertain (it might have created the Message) and retryable.
func TestStalledGatewayIsUncertain(t *testing.T) {
	gw := twiliotest.New(t)
	gw.SetFailure(twiliotest.Failure{Mode: twiliotest.Timeout, Delay: 5 * time.Second})
	c, _ := newClient(t, gw.ProviderConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, batch("x"))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != "timeout" || pe.Permanent || !pe.Uncertain {
		t.Errorf("stalled gateway: %v", err)
	}
	if len(gw.Messages()) != 0 {
		t.Error("the stalled fake created a message")
	}
}
