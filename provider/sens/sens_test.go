package sens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/provider/sens/senstest"
	"github.com/munja-sms/munja/sms"
)

// newClient builds a client for cfg with a debug log captured in the
// returned buffer.
func newClient(t *testing.T, cfg config.Provider) (*Client, *bytes.Buffer) {
	t.Helper()
	return clienttest.Client(t, NewClient, cfg)
}

// phones returns n receivers, 01000000000 upwards.
var phones = clienttest.Phones

// sent decodes the JSON body of the i-th send the fake received.
func sent(t *testing.T, gw *senstest.Server, i int) map[string]any {
	t.Helper()
	sends := gw.Sends()
	if len(sends) <= i {
		t.Fatalf("%d sends, want more than %d", len(sends), i)
	}
	var m map[string]any
	if err := json.Unmarshal(sends[i].Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSignature checks the string to sign against a value computed
// outside Go (Python's hmac and base64 over the same inputs).
func TestSignature(t *testing.T) {
	got := signature("MunjaSecret", "POST", "/sms/v2/services/ncp:sms:kr:263092132141:munja/messages", "1700000000000", "MunjaAccessKey")
	if want := "NPYBZ9u3Z9STEDiXmmkjWkw2eByzzSYNW6KgW9OOYm8="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if timestamp(time.UnixMilli(1700000000123)) != "1700000000123" {
		t.Error("timestamp is not epoch milliseconds")
	}
}

func TestSendThroughFake(t *testing.T) {
	gw := senstest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Kind: sms.KindSMS, Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.MessageID, "VORSSA-") || res.Accepted != 3 || res.Kind != sms.KindSMS || len(res.Failed) != 0 {
		t.Errorf("result = %+v", res)
	}
	d := gw.Delivered()
	if len(d) != 3 || d[2].To != "01000000002" || d[0].RequestID != res.MessageID || d[0].Type != "SMS" || d[0].ContentType != "COMM" {
		t.Errorf("delivered = %+v", d)
	}
	r := gw.Sends()[0]
	if r.URI != "/sms/v2/services/"+gw.ServiceID+"/messages" || !r.AuthOK || r.AccessKey != gw.AccessKey ||
		r.ContentType != "application/json; charset=utf-8" || len(r.Timestamp) != 13 {
		t.Errorf("request = %+v", r)
	}
	body := sent(t, gw, 0)
	if body["from"] != gw.Sender || body["type"] != "SMS" || body["countryCode"] != "82" || body["subject"] != nil || body["reserveTime"] != nil {
		t.Errorf("body = %v", body)
	}
	if strings.Contains(logs.String(), gw.SecretKey) {
		t.Error("the secret key appeared in the log")
	}
}

// TestKindByBytes: the type follows the CP949 byte count, 90 bytes being
// the last SMS, for ASCII and for Hangul (2 bytes each).
func TestKindByBytes(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for i, tt := range clienttest.KindByBytes {
		t.Run(tt.Name, func(t *testing.T) {
			res, err := c.Send(context.Background(), provider.Batch{Text: tt.Text, Kind: sms.KindSMS, Receivers: phones(1)})
			if err != nil {
				t.Fatal(err)
			}
			if d := gw.Delivered()[i]; res.Kind != tt.Kind || d.Type != string(tt.Kind) || sent(t, gw, i)["type"] != string(tt.Kind) {
				t.Errorf("kind %s, delivered %+v; want %s", res.Kind, d, tt.Kind)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	tests := []struct {
		name     string
		batch    provider.Batch
		subject  string // "" = absent
		wantKind sms.Kind
	}{
		{"cut to 40 bytes", provider.Batch{Text: "x", Title: strings.Repeat("가", 22), Kind: sms.KindLMS}, strings.Repeat("가", 20), sms.KindLMS},
		{"kept", provider.Batch{Text: "x", Title: "[경고] web01", Kind: sms.KindLMS}, "[경고] web01", sms.KindLMS},
		{"LMS without one", provider.Batch{Text: "x", Kind: sms.KindLMS}, "", sms.KindLMS},
		{"none on SMS", provider.Batch{Text: "x", Title: "제목", Kind: sms.KindSMS}, "", sms.KindSMS},
		{"MMS goes as LMS", provider.Batch{Text: "x", Title: "t", Kind: sms.KindMMS}, "t", sms.KindLMS},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.batch.Receivers = phones(1)
			res, err := c.Send(context.Background(), tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := sent(t, gw, i)["subject"].(string)
			if got != tt.subject || res.Kind != tt.wantKind {
				t.Errorf("subject %q kind %s, want %q %s", got, res.Kind, tt.subject, tt.wantKind)
			}
		})
	}
}

func TestBatchLimits(t *testing.T) {
	gw := senstest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 100 {
		t.Fatalf("MaxBatch %d", c.MaxBatch())
	}
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(101)})
	if !provider.IsPermanent(err) || !strings.Contains(err.Error(), "101") || !strings.Contains(err.Error(), "100") {
		t.Errorf("101 receivers: %v", err)
	}
	if len(gw.Requests()) != 0 {
		t.Error("an oversized batch reached the gateway")
	}
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(100)})
	if err != nil || res.Accepted != 100 || len(gw.Sends()) != 1 {
		t.Errorf("100 receivers: %+v %v", res, err)
	}
	for name, b := range map[string]provider.Batch{
		"no receivers": {Text: "x"},
		"empty text":   {Receivers: phones(1)},
		"too long":     {Text: strings.Repeat("가", 1001), Receivers: phones(1)},
		"bad kind":     {Text: "x", Kind: "FAX", Receivers: phones(1)},
		"bad sender":   {Text: "x", Sender: "12", Receivers: phones(1)},
		"test":         {Text: "x", Test: true, Receivers: phones(1)},
	} {
		if _, err := c.Send(context.Background(), b); !provider.IsPermanent(err) {
			t.Errorf("%s: err %v, want permanent", name, err)
		}
	}
	if len(gw.Sends()) != 1 {
		t.Errorf("%d sends, want only the 100", len(gw.Sends()))
	}
}

// TestAuthentication: the right keys work; a wrong secret key or access
// key fails at once, permanently, naming the keys to check, never
// showing the secret; a clock more than 5 minutes off says so.
func TestAuthentication(t *testing.T) {
	gw := senstest.New(t)
	tests := []struct {
		name, accessKey, secret string
		skew                    time.Duration
		want, account           string
	}{
		{"wrong secret_key", gw.AccessKey, "not-the-secret", 0, "check secret_key", "인증 실패"},
		{"wrong access_key", "OTHERACCESSKEY000000", gw.SecretKey, 0, "access_key", "인증 실패"},
		{"clock 6 minutes fast", gw.AccessKey, gw.SecretKey, 6 * time.Minute, "fix the clock", "시계 오차 5분 초과"},
		{"clock 6 minutes slow", gw.AccessKey, gw.SecretKey, -6 * time.Minute, "fix the clock", "시계 오차 5분 초과"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gw.ProviderConfig()
			cfg.Options = config.Opts("service_id", gw.ServiceID, "access_key", tt.accessKey, "secret_key", tt.secret)
			c, _ := newClient(t, cfg)
			c.now = func() time.Time { return time.Now().Add(tt.skew) }
			start := time.Now()
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
			var pe *provider.Error
			if !errors.As(err, &pe) || !pe.Permanent || pe.Uncertain || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "sens: [HTTP 401/200]") || pe.Korean == "" || pe.Account != tt.account {
				t.Fatalf("err %v (account %q), want permanent naming %q", err, pe.Account, tt.want)
			}
			if strings.Contains(err.Error(), gw.SecretKey) || strings.Contains(err.Error(), tt.secret) {
				t.Errorf("a secret appeared in %v", err)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			if _, err := c.Reports(context.Background(), "VORSSA-x"); !provider.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("reports: %v", err)
			}
		})
	}
	// Four minutes off is within the gateway's five.
	c, _ := newClient(t, gw.ProviderConfig())
	c.now = func() time.Time { return time.Now().Add(-4 * time.Minute) }
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err != nil {
		t.Errorf("4 minutes off: %v", err)
	}
	if n := len(gw.Delivered()); n != 1 {
		t.Errorf("delivered %d, want only the authenticated send", n)
	}
}

func TestWrongServiceID(t *testing.T) {
	gw := senstest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Options["service_id"] = config.Opts("v", "ncp:sms:kr:1:other")["v"]
	c, _ := newClient(t, cfg)
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
	if reason, account := provider.AccountFailure(err); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "check service_id") || !account || reason == "" {
		t.Errorf("err %v", err)
	}
}

func TestTestModeConfig(t *testing.T) {
	gw := senstest.New(t)
	cfg := gw.ProviderConfig()
	cfg.TestMode = true
	if _, err := NewClient(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "test_mode") {
		t.Errorf("test_mode accepted: %v", err)
	}
}

func TestFailureModes(t *testing.T) {
	tests := []struct {
		name      string
		f         senstest.Failure
		code      string
		permanent bool
		uncertain bool
		english   string
		account   string // the whole account refused
	}{
		{"503 endpoint error", senstest.Failure{Mode: senstest.HTTPStatus}, "HTTP 503/500", false, false, "will retry", ""},
		{"500", senstest.Failure{Mode: senstest.HTTPStatus, Status: 500}, "HTTP 500/900", false, false, "will retry", ""},
		{"504 endpoint timeout", senstest.Failure{Mode: senstest.HTTPStatus, Status: 504}, "HTTP 504/510", false, true, "will retry", ""},
		{"429 rate limited", senstest.Failure{Mode: senstest.RateLimited}, "HTTP 429/420", false, false, "will retry", ""},
		{"maintenance page", senstest.Failure{Mode: senstest.Garbage}, "bad response", false, false, "decode", ""},
		{"permission denied", senstest.Failure{Mode: senstest.PermissionDenied}, "HTTP 401/210", true, false, "check access_key", "권한 없음"},
		{"unregistered sender", senstest.Failure{Mode: senstest.UnregisteredSender}, "HTTP 400", true, false, "sender number is not registered", ""},
		{"stall past the timeout", senstest.Failure{Mode: senstest.Timeout, Delay: time.Minute}, "timeout", false, true, "did not answer in time", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := senstest.New(t)
			cfg := gw.ProviderConfig()
			cfg.Timeout = config.Duration(300 * time.Millisecond)
			c, _ := newClient(t, cfg)
			gw.SetFailure(tt.f)
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %v (%T)", err, err)
			}
			if pe.Code != tt.code || pe.Permanent != tt.permanent || pe.Uncertain != tt.uncertain || !strings.Contains(pe.English, tt.english) ||
				pe.Korean == "" || pe.Account != tt.account {
				t.Errorf("error %+v", pe)
			}
			gw.SetFailure(senstest.Failure{})
			if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)}); err != nil {
				t.Errorf("after clearing: %v", err)
			}
		})
	}
}

func TestNoBalance(t *testing.T) {
	var p provider.Provider = &Client{}
	if _, ok := p.(provider.Balancer); ok {
		t.Error("SENS offers no balance API, yet the client claims provider.Balancer")
	}
}

func TestValidate(t *testing.T) {
	secretFile := clienttest.File(t, "sens.secret", "s\n")
	set := clienttest.SetOptions
	tests := []struct {
		name  string
		edit  func(*config.Provider)
		paths []string
	}{
		{"ok", func(*config.Provider) {}, nil},
		{"secret_key_file", func(c *config.Provider) { delete(c.Options, "secret_key"); set("secret_key_file", secretFile)(c) }, nil},
		{"missing all", func(c *config.Provider) { c.Options = config.Options{} }, []string{"p.service_id", "p.access_key", "p.secret_key"}},
		{"secret_key and its file", set("secret_key_file", secretFile), []string{"p.secret_key_file"}},
		{"service_id with a slash", set("service_id", "ncp:sms/x"), []string{"p.service_id"}},
		{"bad sender", func(c *config.Provider) { c.Sender = "+1 555 0100" }, []string{"p.sender"}},
		{"test_mode", func(c *config.Provider) { c.TestMode = true }, []string{"p.test_mode"}},
		{"http base_url ok", func(c *config.Provider) { c.BaseURL = "http://127.0.0.1:9" }, nil},
		{"a typo", set("serviceId", "x"), []string{"p.serviceId"}},
		{"nhn's key", set("app_key", "x"), []string{"p.app_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Provider{Type: "sens", Sender: "0212345678",
				Options: config.Opts("service_id", "ncp:sms:kr:1:munja", "access_key", "AK", "secret_key", "s")}
			tt.edit(&cfg)
			clienttest.WantPaths(t, Validate(cfg, "p"), tt.paths, strings.Contains)
		})
	}
}

func TestSecretKeyFile(t *testing.T) {
	gw := senstest.New(t)
	cfg := gw.ProviderConfig()
	path := clienttest.File(t, "secret", gw.SecretKey+"\n")
	delete(cfg.Options, "secret_key")
	cfg.Options["secret_key_file"] = config.Opts("f", path)["f"]
	c, _ := newClient(t, cfg)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err != nil {
		t.Errorf("secret key from secret_key_file: %v", err)
	}
}
