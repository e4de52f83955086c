package nhn

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
	"github.com/munja-sms/munja/provider/nhn/nhntest"
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
func sent(t *testing.T, gw *nhntest.Server, i int) map[string]any {
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

func TestSendThroughFake(t *testing.T) {
	gw := nhntest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Kind: sms.KindSMS, Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.MessageID) != 25 || res.Accepted != 3 || res.Rejected != 0 || len(res.Failed) != 0 || res.Kind != sms.KindSMS || res.Reserved {
		t.Errorf("result = %+v", res)
	}
	d := gw.Delivered()
	if len(d) != 3 || d[2].Recipient != "01000000002" || d[0].RequestID != res.MessageID || d[0].MessageType != "SMS" || d[0].Truncated {
		t.Errorf("delivered = %+v", d)
	}
	r := gw.Sends()[0]
	if r.Path != "/sms/v3.0/appKeys/"+gw.AppKey+"/sender/sms" || !r.SecretOK || r.ContentType != "application/json;charset=UTF-8" {
		t.Errorf("request = %s %s secret %v %q", r.Method, r.Path, r.SecretOK, r.ContentType)
	}
	body := sent(t, gw, 0)
	if body["sendNo"] != gw.Sender || body["title"] != nil || body["userId"] != "munja" ||
		!strings.HasPrefix(body["senderGroupingKey"].(string), "munja-") || body["requestDate"] != nil {
		t.Errorf("body = %v", body)
	}
	if strings.Contains(logs.String(), gw.SecretKey) {
		t.Error("the secret key appeared in the log")
	}
}

// TestKindByBytes: the type follows the CP949 byte count, 90 bytes being
// the last SMS, for ASCII and for Hangul (2 bytes each).
func TestKindByBytes(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for i, tt := range clienttest.KindByBytes {
		t.Run(tt.Name, func(t *testing.T) {
			res, err := c.Send(context.Background(), provider.Batch{Text: tt.Text, Kind: sms.KindSMS, Receivers: phones(1)})
			if err != nil {
				t.Fatal(err)
			}
			r := gw.Sends()[i]
			endpoint := r.Path[strings.LastIndex(r.Path, "/")+1:]
			d := gw.Delivered()[i]
			if res.Kind != tt.Kind || d.MessageType != string(tt.Kind) || d.Truncated ||
				(tt.Kind == sms.KindSMS) != (endpoint == "sms") {
				t.Errorf("kind %s, path %s, delivered %+v; want %s", res.Kind, r.Path, d, tt.Kind)
			}
			if tt.Kind == sms.KindLMS && d.Title == "" {
				t.Error("LMS without a title")
			}
		})
	}
}

func TestTitle(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	tests := []struct {
		name     string
		batch    provider.Batch
		title    string // want; "" = absent
		wantKind sms.Kind
	}{
		{"title cut to 40 bytes", provider.Batch{Text: "x", Title: strings.Repeat("가", 22), Kind: sms.KindLMS}, strings.Repeat("가", 20), sms.KindLMS},
		{"title kept", provider.Batch{Text: "x", Title: "[경고] web01", Kind: sms.KindLMS}, "[경고] web01", sms.KindLMS},
		{"first line stands in", provider.Batch{Text: "첫 줄\n둘째 줄", Kind: sms.KindLMS}, "첫 줄", sms.KindLMS},
		{"no title on SMS", provider.Batch{Text: "x", Title: "제목", Kind: sms.KindSMS}, "", sms.KindSMS},
		{"MMS goes as LMS", provider.Batch{Text: "x", Title: "t", Kind: sms.KindMMS}, "t", sms.KindLMS},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.batch.Receivers = phones(1)
			res, err := c.Send(context.Background(), tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			body := sent(t, gw, i)
			got, _ := body["title"].(string)
			if got != tt.title || res.Kind != tt.wantKind || gw.Delivered()[i].Truncated {
				t.Errorf("title %q kind %s, want %q %s", got, res.Kind, tt.title, tt.wantKind)
			}
		})
	}
}

func TestBatchLimits(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 1000 {
		t.Fatalf("MaxBatch %d", c.MaxBatch())
	}
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1001)})
	if !provider.IsPermanent(err) || !strings.Contains(err.Error(), "1001") || !strings.Contains(err.Error(), "1000") {
		t.Errorf("1001 receivers: %v", err)
	}
	if len(gw.Requests()) != 0 {
		t.Error("an oversized batch reached the gateway")
	}
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1000)})
	if err != nil || res.Accepted != 1000 || len(gw.Sends()) != 1 {
		t.Errorf("1000 receivers: %+v %v", res, err)
	}
	for name, b := range map[string]provider.Batch{
		"no receivers": {Text: "x"},
		"empty text":   {Receivers: phones(1)},
		"too long":     {Text: strings.Repeat("가", 1001), Receivers: phones(1)},
		"bad kind":     {Text: "x", Kind: "FAX", Receivers: phones(1)},
		"bad sender":   {Text: "x", Sender: "12", Receivers: phones(1)},
	} {
		if _, err := c.Send(context.Background(), b); !provider.IsPermanent(err) {
			t.Errorf("%s: err %v, want permanent", name, err)
		}
	}
	noSender := gw.ProviderConfig()
	noSender.Sender = ""
	c2, _ := newClient(t, noSender)
	if _, err := c2.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "sender") {
		t.Errorf("no sender: %v", err)
	}
	if len(gw.Sends()) != 1 {
		t.Errorf("%d sends, want only the 1000", len(gw.Sends()))
	}
}

// TestAuthentication: the right keys work; a wrong secret key or app key
// fails at once, permanently, naming the key to check, and never shows it.
func TestAuthentication(t *testing.T) {
	gw := nhntest.New(t)
	tests := []struct {
		name, appKey, secret string
		want                 string
	}{
		{"wrong secret_key", gw.AppKey, "not-the-secret", "check secret_key"},
		{"empty-looking secret_key", gw.AppKey, " ", "check secret_key"},
		{"wrong app_key", "WrongAppKey", gw.SecretKey, "check app_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gw.ProviderConfig()
			cfg.Options = config.Opts("app_key", tt.appKey, "secret_key", tt.secret)
			c, _ := newClient(t, cfg)
			start := time.Now()
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
			var pe *provider.Error
			if !errors.As(err, &pe) || !pe.Permanent || pe.Uncertain || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "nhn: ") || pe.Korean == "" || pe.Account != "인증 실패" {
				t.Fatalf("err %v (account %q), want permanent naming %q", err, pe.Account, tt.want)
			}
			if strings.Contains(err.Error(), gw.SecretKey) || (tt.secret != " " && strings.Contains(err.Error(), tt.secret)) {
				t.Errorf("a secret appeared in %v", err)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			if _, err := c.Reports(context.Background(), "20180810100630ReZQ6KZzAH0"); !provider.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("reports: %v", err)
			}
		})
	}
	if len(gw.Delivered()) != 0 {
		t.Error("a refused request delivered something")
	}
}

// TestTestMode: NHN has no test mode, so a test batch is refused before
// anything is sent (it would be delivered and charged), and so is
// test_mode in the config.
func TestTestMode(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Test: true, Receivers: phones(1)})
	if !provider.IsPermanent(err) || !strings.Contains(err.Error(), "no test mode") || len(gw.Requests()) != 0 {
		t.Errorf("test batch: %v, %d requests", err, len(gw.Requests()))
	}
	cfg := gw.ProviderConfig()
	cfg.TestMode = true
	if _, err := NewClient(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "test_mode") {
		t.Errorf("test_mode accepted: %v", err)
	}
}

func TestRecipientResults(t *testing.T) {
	gw := nhntest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	gw.FailNext(1, nhntest.Failure{Mode: nhntest.PartialError, ErrorCount: 1})
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || len(res.Failed) != 1 || !strings.Contains(res.Failed["01000000002"], "-6001") || len(gw.Delivered()) != 2 {
		t.Errorf("result %+v", res)
	}
	// A number NHN cannot deliver to fails alone (the fake refuses a
	// landline as recipient).
	res, err = c.Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222", "0212345678"}})
	if err != nil || res.Accepted != 1 || !strings.Contains(res.Failed["0212345678"], "-2019") {
		t.Errorf("invalid recipient: %+v %v", res, err)
	}
	// Every recipient refused: the batch fails permanently.
	gw.FailNext(1, nhntest.Failure{Mode: nhntest.PartialError, ErrorCount: 5})
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)}); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "-6001") {
		t.Errorf("all refused: %v", err)
	}
}

func TestFailureModes(t *testing.T) {
	tests := []struct {
		name      string
		f         nhntest.Failure
		code      string
		permanent bool
		uncertain bool
		english   string
		account   string // the whole account refused
	}{
		{"503", nhntest.Failure{Mode: nhntest.HTTPStatus}, "HTTP 503", false, false, "will retry", ""},
		{"500", nhntest.Failure{Mode: nhntest.HTTPStatus, Status: 500}, "HTTP 500", false, false, "will retry", ""},
		{"429", nhntest.Failure{Mode: nhntest.HTTPStatus, Status: 429}, "HTTP 429", false, false, "will retry", ""},
		{"504 from a proxy", nhntest.Failure{Mode: nhntest.HTTPStatus, Status: 504}, "HTTP 504", false, true, "will retry", ""},
		{"404 page", nhntest.Failure{Mode: nhntest.HTTPStatus, Status: 404}, "HTTP 404", true, false, "check base_url", "HTTP 404 응답 (base_url 확인)"},
		{"maintenance page", nhntest.Failure{Mode: nhntest.Garbage}, "bad response", false, false, "decode", ""},
		{"system error", nhntest.Failure{Mode: nhntest.SystemError}, "-9999", false, false, "system error", ""},
		{"IP not allowed", nhntest.Failure{Mode: nhntest.IPNotAllowed}, "-1004", true, false, "IP address", "발송 IP 미등록"},
		{"unregistered sender", nhntest.Failure{Mode: nhntest.UnregisteredSender}, "-2312", true, false, "sender number is not registered", ""},
		{"stall past the timeout", nhntest.Failure{Mode: nhntest.Timeout, Delay: time.Minute}, "timeout", false, true, "did not answer in time", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := nhntest.New(t)
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
			gw.SetFailure(nhntest.Failure{})
			if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)}); err != nil {
				t.Errorf("after clearing: %v", err)
			}
		})
	}
}

func TestNoBalance(t *testing.T) {
	var p provider.Provider = &Client{}
	if _, ok := p.(provider.Balancer); ok {
		t.Error("NHN Cloud offers no balance API, yet the client claims provider.Balancer")
	}
}

func TestValidate(t *testing.T) {
	secretFile := clienttest.File(t, "nhn.secret", "s\n")
	set := clienttest.SetOptions
	tests := []struct {
		name  string
		edit  func(*config.Provider)
		paths []string
	}{
		{"ok", func(*config.Provider) {}, nil},
		{"secret_key_file", func(c *config.Provider) { delete(c.Options, "secret_key"); set("secret_key_file", secretFile)(c) }, nil},
		{"missing both", func(c *config.Provider) { delete(c.Options, "secret_key"); delete(c.Options, "app_key") }, []string{"p.app_key", "p.secret_key"}},
		{"secret_key and its file", set("secret_key_file", secretFile), []string{"p.secret_key_file"}},
		{"unreadable file", func(c *config.Provider) { delete(c.Options, "secret_key"); set("secret_key_file", secretFile+".x")(c) }, []string{"p.secret_key_file"}},
		{"app key with a slash", set("app_key", "a/b"), []string{"p.app_key"}},
		{"bad sender", func(c *config.Provider) { c.Sender = "12345" }, []string{"p.sender"}},
		{"hyphenated sender", func(c *config.Provider) { c.Sender = "02-1234-5678" }, nil},
		{"test_mode", func(c *config.Provider) { c.TestMode = true }, []string{"p.test_mode"}},
		{"ftp base_url", func(c *config.Provider) { c.BaseURL = "ftp://x" }, []string{"p.base_url"}},
		{"a typo", set("appkey", "x"), []string{"p.appkey"}},
		{"aligo keys", set("user_id", "me"), []string{"p.user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Provider{Type: "nhn", Sender: "0212345678", Options: config.Opts("app_key", "AbCd1234", "secret_key", "s")}
			tt.edit(&cfg)
			clienttest.WantPaths(t, Validate(cfg, "p"), tt.paths, strings.Contains)
		})
	}
}

func TestSecretKeyFile(t *testing.T) {
	gw := nhntest.New(t)
	cfg := gw.ProviderConfig()
	path := clienttest.File(t, "secret", gw.SecretKey+"\n")
	delete(cfg.Options, "secret_key")
	cfg.Options["secret_key_file"] = config.Opts("f", path)["f"]
	c, _ := newClient(t, cfg)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err != nil {
		t.Errorf("secret key from secret_key_file: %v", err)
	}
}
