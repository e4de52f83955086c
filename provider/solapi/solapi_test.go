package solapi

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
	"github.com/munja-sms/munja/provider/solapi/solapitest"
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

// sentMessages decodes the messages of the i-th send-many request.
func sentMessages(t *testing.T, gw *solapitest.Server, i int) []map[string]any {
	t.Helper()
	sends := gw.Sends()
	if len(sends) <= i {
		t.Fatalf("%d send requests, want more than %d", len(sends), i)
	}
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(sends[i].Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Messages
}

func TestSendThroughFake(t *testing.T) {
	gw := solapitest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Kind: sms.KindSMS, Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	msgs := gw.Messages()
	if len(msgs) != 3 || res.Accepted != 3 || res.Rejected != 0 || res.Failed != nil || res.Kind != sms.KindSMS {
		t.Fatalf("result %+v, %d messages", res, len(msgs))
	}
	if !strings.HasPrefix(res.MessageID, "G4V") || msgs[0].GroupID != res.MessageID || msgs[2].To != "01000000002" {
		t.Errorf("result %+v, messages %+v", res, msgs)
	}
	m := sentMessages(t, gw, 0)[0]
	fields, _ := m["customFields"].(map[string]any)
	if m["type"] != "SMS" || m["autoTypeDetect"] != false || m["from"] != gw.Sender || m["to"] != "01000000000" ||
		m["subject"] != nil || fields[batchField] == "" || len(fields) != 1 {
		t.Errorf("message on the wire: %v", m)
	}
	req := gw.Sends()[0]
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "HMAC-SHA256 apiKey="+gw.APIKey+", date=") || strings.Contains(auth, gw.APISecret) {
		t.Errorf("Authorization %q", auth)
	}
	if strings.Contains(logs.String(), gw.APISecret) {
		t.Error("the secret appeared in the log")
	}
}

// TestAuthorization: the header is Solapi's documented one, the signature
// hex(HMAC-SHA256(secret, date+salt)) — checked against a value computed
// independently (Python's hmac) — and every call has a fresh salt.
func TestAuthorization(t *testing.T) {
	at := time.Date(2019, 7, 1, 9, 41, 48, 0, time.FixedZone("KST", 9*3600))
	got := authorization("NCSMUNJATESTKEY1", "munjatestsecret0123456789abcdefg", at, "jqsba2jxjnrjor")
	want := "HMAC-SHA256 apiKey=NCSMUNJATESTKEY1, date=2019-07-01T00:41:48Z, salt=jqsba2jxjnrjor, " +
		"signature=5efbf0b445237b43246d3ca3f43d7dd5644b90b511310967cbc286e6a2565c3d"
	if got != want {
		t.Errorf("header\n%s\nwant\n%s", got, want)
	}
	seen := map[string]bool{}
	for range 1000 {
		s := newSalt()
		if len(s) < 12 || len(s) > 64 || strings.Trim(s, saltAlphabet) != "" || seen[s] {
			t.Fatalf("salt %q", s)
		}
		seen[s] = true
	}
	// Many calls within one second: no DuplicatedSignature from the fake.
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for range 30 {
		if _, err := c.Remain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuthFailures: credentials, clock and key shape refused by Solapi are
// permanent errors naming what to check, and the gateway's account
// refusal (so `munja send` fails at once and the gateway counts as down).
func TestAuthFailures(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*config.Provider)
		opts    []solapitest.Option
		want    string
		account string
	}{
		{"wrong secret", func(c *config.Provider) {
			c.Options["api_secret"] = config.Opts("v", "wrong-secret-0123456789abcdefghi")["v"]
		},
			nil, "signature does not match — check api_secret", "인증 실패"},
		{"wrong key", func(c *config.Provider) { c.Options["api_key"] = config.Opts("v", "NCSOTHERKEY00001")["v"] },
			nil, "API key not valid — check api_key", "인증 실패"},
		{"malformed key", func(c *config.Provider) { c.Options["api_key"] = config.Opts("v", "short")["v"] },
			nil, "API key is malformed — check api_key", "인증 실패"},
		{"clock 20 minutes off", nil, []solapitest.Option{solapitest.WithClock(func() time.Time { return time.Now().Add(20 * time.Minute) })},
			"clock is more than 15 minutes off", "서버 시계 오차"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := solapitest.New(t, tt.opts...)
			cfg := gw.ProviderConfig()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			c, _ := newClient(t, cfg)
			start := time.Now()
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
			var pe *provider.Error
			if !errors.As(err, &pe) || !pe.Permanent || pe.Uncertain || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "solapi: ") || pe.Account != tt.account {
				t.Fatalf("send: %v (%+v), want permanent %q", err, pe, tt.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if _, err := c.Remain(context.Background()); !provider.IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("remain: %v", err)
			}
			if len(gw.Messages()) != 0 {
				t.Error("a message was registered")
			}
		})
	}
}

// TestKindByBytes: the type is always sent, decided by CP949 bytes: 90
// bytes of Hangul or ASCII is an SMS, 91 an LMS; the fake refuses an SMS
// over 90 bytes, so a wrong count would fail here.
func TestKindByBytes(t *testing.T) {
	hangul := func(n int) string { return strings.Repeat("가", n/2) + strings.Repeat("a", n%2) }
	tests := []struct {
		name string
		text string
		kind sms.Kind
		want string
	}{
		{"89 bytes Hangul", hangul(89), sms.KindSMS, "SMS"},
		{"90 bytes Hangul", hangul(90), sms.KindSMS, "SMS"},
		{"91 bytes Hangul", hangul(91), sms.KindSMS, "LMS"},
		{"92 bytes Hangul", hangul(92), "", "LMS"},
		{"89 bytes ASCII", strings.Repeat("x", 89), sms.KindSMS, "SMS"},
		{"90 bytes ASCII", strings.Repeat("x", 90), "", "SMS"},
		{"91 bytes ASCII", strings.Repeat("x", 91), sms.KindSMS, "LMS"},
		{"short LMS stays LMS", "짧은 장문", sms.KindLMS, "LMS"},
		{"MMS without image goes as LMS", "사진 없음", sms.KindMMS, "LMS"},
	}
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Send(context.Background(), provider.Batch{Text: tt.text, Kind: tt.kind, Receivers: phones(1)})
			if err != nil {
				t.Fatal(err)
			}
			if m := sentMessages(t, gw, i)[0]; m["type"] != tt.want || string(res.Kind) != tt.want {
				t.Errorf("type %v, result kind %s, want %s", m["type"], res.Kind, tt.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name  string
		batch provider.Batch
		want  any
	}{
		{"LMS title", provider.Batch{Text: "x", Title: "제목", Kind: sms.KindLMS}, "제목"},
		{"no title on SMS", provider.Batch{Text: "x", Title: "제목", Kind: sms.KindSMS}, nil},
		{"blank title dropped", provider.Batch{Text: "x", Title: "  ", Kind: sms.KindLMS}, nil},
		{"44-byte title cut to Solapi's 40", provider.Batch{Text: "x", Title: strings.Repeat("가", 22), Kind: sms.KindLMS}, strings.Repeat("가", 20)},
		{"41 ASCII bytes cut to 40", provider.Batch{Text: "x", Title: strings.Repeat("T", 41), Kind: sms.KindLMS}, strings.Repeat("T", 40)},
		{"40 bytes kept", provider.Batch{Text: "x", Title: strings.Repeat("가", 19) + "ab", Kind: sms.KindLMS}, strings.Repeat("가", 19) + "ab"},
	}
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.batch.Receivers = phones(1)
			if _, err := c.Send(context.Background(), tt.batch); err != nil {
				t.Fatal(err)
			}
			if got := sentMessages(t, gw, i)[0]["subject"]; got != tt.want {
				t.Errorf("subject %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSender(t *testing.T) {
	gw := solapitest.New(t, solapitest.WithSenders(solapitest.DefaultSender, "01099998888"))
	cfg := gw.ProviderConfig()
	cfg.Sender = "02-1234-5678"
	c, _ := newClient(t, cfg)
	for _, tt := range []struct{ batchSender, want string }{{"", "0212345678"}, {"010-9999-8888", "01099998888"}} {
		if _, err := c.Send(context.Background(), provider.Batch{Sender: tt.batchSender, Text: "x", Receivers: phones(1)}); err != nil {
			t.Fatal(err)
		}
		if got := gw.Messages(); got[len(got)-1].From != tt.want {
			t.Errorf("sender %q, want %q", got[len(got)-1].From, tt.want)
		}
	}
	for name, sender := range map[string]string{"not a number": "munja", "too short": "0212"} {
		_, err := c.Send(context.Background(), provider.Batch{Sender: sender, Text: "x", Receivers: phones(1)})
		if !provider.IsPermanent(err) || !strings.Contains(err.Error(), "sender") {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg.Sender = ""
	c, _ = newClient(t, cfg)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "sms.sender") {
		t.Errorf("no sender: %v", err)
	}
}

// TestUnregisteredSender: Solapi refuses every message (1062): the batch
// fails permanently, so it goes to the next provider; it is the message's
// refusal, not the account's.
func TestUnregisteredSender(t *testing.T) {
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	_, err := c.Send(context.Background(), provider.Batch{Sender: "01055556666", Text: "x", Receivers: phones(2)})
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Permanent || pe.Code != "1062" || pe.Account != "" || !strings.Contains(pe.Korean, "발신번호") ||
		!strings.Contains(err.Error(), "not registered") {
		t.Errorf("unregistered sender: %v %+v", err, pe)
	}
}

func TestBatchLimits(t *testing.T) {
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 10000 {
		t.Fatalf("MaxBatch %d", c.MaxBatch())
	}
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(10001)})
	if !provider.IsPermanent(err) || !strings.Contains(err.Error(), "10001") || !strings.Contains(err.Error(), "10000") {
		t.Errorf("10001 receivers: %v", err)
	}
	if len(gw.Requests()) != 0 {
		t.Error("an oversized batch reached the gateway")
	}
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(10000)})
	if err != nil || res.Accepted != 10000 || len(gw.Messages()) != 10000 {
		t.Errorf("10000 receivers: %d accepted, %v", res.Accepted, err)
	}
	for name, b := range map[string]provider.Batch{
		"no receivers": {Text: "x"},
		"empty text":   {Text: " ", Receivers: phones(1)},
		"too long":     {Text: strings.Repeat("가", 1001), Receivers: phones(1)},
		"bad kind":     {Text: "x", Kind: "FAX", Receivers: phones(1)},
	} {
		if _, err := c.Send(context.Background(), b); !provider.IsPermanent(err) {
			t.Errorf("%s: err %v, want permanent", name, err)
		}
	}
}

// TestPartialRefusal: receivers Solapi refuses at registration are named
// with its reason; the others are sent.
func TestPartialRefusal(t *testing.T) {
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	bad := sms.Phone("0101234567890") // 13 digits: refused (1011)
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222", bad, "01033334444"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || len(res.Failed) != 1 || !strings.HasPrefix(res.Failed[bad], "1011 ") || res.Rejected != 0 {
		t.Errorf("result %+v", res)
	}
	// Every receiver refused for its own reason: per-receiver failures,
	// not a batch error (another gateway would not help).
	res, err = c.Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{bad}})
	if err != nil || res.Accepted != 0 || len(res.Failed) != 1 {
		t.Errorf("all refused: %+v %v", res, err)
	}
}

// TestFailureClassification: retryable, uncertain and permanent failures
// of a send, through the fake's failure modes.
func TestFailureClassification(t *testing.T) {
	tests := []struct {
		name       string
		failure    solapitest.Failure
		edit       func(*config.Provider)
		permanent  bool
		uncertain  bool
		account    bool
		wantSubstr string
	}{
		{"503 from a proxy", solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 503}, nil, false, false, false, "HTTP 503"},
		{"500", solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 500}, nil, false, false, false, "HTTP 500"},
		{"504: may have it", solapitest.Failure{Mode: solapitest.HTTPStatus, Status: 504}, nil, false, true, false, "HTTP 504"},
		{"429", solapitest.Failure{Mode: solapitest.RateLimit}, nil, false, false, false, "rate limit"},
		{"maintenance page", solapitest.Failure{Mode: solapitest.Garbage}, nil, false, true, false, "cannot decode"},
		{"truncated JSON", solapitest.Failure{Mode: solapitest.BadJSON}, nil, false, true, false, "cannot decode"},
		{"slow answer past the timeout", solapitest.Failure{Mode: solapitest.Timeout, Delay: 5 * time.Second}, nil, false, true, false, "did not answer in time"},
		{"wrong base_url", solapitest.Failure{}, func(c *config.Provider) { c.BaseURL += "/v9" }, true, false, true, "check base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := solapitest.New(t)
			cfg := gw.ProviderConfig()
			cfg.Timeout = config.Duration(300 * time.Millisecond)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			c, _ := newClient(t, cfg)
			gw.SetFailure(tt.failure)
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Permanent != tt.permanent || pe.Uncertain != tt.uncertain || (pe.Account != "") != tt.account ||
				!strings.Contains(err.Error(), tt.wantSubstr) || pe.English == "" {
				t.Errorf("err %v (%+v)", err, pe)
			}
		})
	}
	// No balance: the account's refusal, permanent.
	gw := solapitest.New(t, solapitest.WithBalance(0, 0))
	c, _ := newClient(t, gw.ProviderConfig())
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Permanent || pe.Code != "1030" || pe.Account != "잔액 부족" {
		t.Errorf("no balance: %v %+v", err, pe)
	}
	// Nothing listening: retryable and certain (the request never went out).
	cfg := gw.ProviderConfig()
	cfg.BaseURL = "http://127.0.0.1:1"
	c, _ = newClient(t, cfg)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err == nil || provider.IsPermanent(err) || provider.IsUncertain(err) {
		t.Errorf("unreachable: %v", err)
	}
}

// TestSecretNotEchoed: a body echoing the request is redacted.
func TestSecretNotEchoed(t *testing.T) {
	c, _ := newClient(t, solapitest.New(t).ProviderConfig())
	e := c.statusError(502, []byte("bad gateway for apiSecret="+c.apiSecret.Reveal()), true)
	if strings.Contains(e.Error(), c.apiSecret.Reveal()) || !strings.Contains(e.Error(), "<secret>") {
		t.Errorf("%v", e)
	}
}

func TestTestMode(t *testing.T) {
	gw := solapitest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "테스트", Test: true, Receivers: phones(2)})
	if err != nil || !strings.HasPrefix(res.MessageID, testPrefix) || res.Accepted != 2 {
		t.Fatalf("test send: %+v %v", res, err)
	}
	if len(gw.Sends()) != 0 || len(gw.Messages()) != 0 || len(gw.Requests()) != 1 || gw.Requests()[0].Path != balancePath {
		t.Errorf("test mode called %+v", gw.Requests())
	}
	if reps, err := c.Reports(context.Background(), res.MessageID); err != nil || reps != nil {
		t.Errorf("reports of a test send: %v %v", reps, err)
	}
	if got, err := c.Lookup(context.Background(), provider.Batch{Text: "테스트", Test: true, Receivers: phones(2)}, time.Now()); err != nil || len(got) != 0 {
		t.Errorf("lookup of a test send: %v %v", got, err)
	}
	// test_mode in the config, with a wrong secret: the check fails.
	cfg := gw.ProviderConfig()
	cfg.TestMode = true
	cfg.Options["api_secret"] = config.Opts("v", "wrong-secret-0123456789abcdefghi")["v"]
	c, _ = newClient(t, cfg)
	if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); !provider.IsPermanent(err) || !strings.Contains(err.Error(), "api_secret") {
		t.Errorf("test mode with a wrong secret: %v", err)
	}
}

func TestValidate(t *testing.T) {
	keyFile, secretFile := clienttest.File(t, "key", "from-file\n"), clienttest.File(t, "secret", "from-file\n")
	set := clienttest.SetOptions
	tests := []struct {
		name  string
		edit  func(*config.Provider)
		paths []string
	}{
		{"ok", func(*config.Provider) {}, nil},
		{"files instead of values", func(c *config.Provider) {
			delete(c.Options, "api_key")
			delete(c.Options, "api_secret")
			set("api_key_file", keyFile, "api_secret_file", secretFile)(c)
		}, nil},
		{"missing both", func(c *config.Provider) { delete(c.Options, "api_key"); delete(c.Options, "api_secret") }, []string{"p.api_key", "p.api_secret"}},
		{"secret and secret file", set("api_secret_file", secretFile), []string{"p.api_secret_file"}},
		{"unreadable secret file", func(c *config.Provider) {
			delete(c.Options, "api_secret")
			set("api_secret_file", secretFile+".missing")(c)
		}, []string{"p.api_secret_file"}},
		{"a typo", set("apikey", "k"), []string{"p.apikey"}},
		{"aligo keys", set("user_id", "me"), []string{"p.user_id"}},
		{"bad sender", func(c *config.Provider) { c.Sender = "12345" }, []string{"p.sender"}},
		{"representative sender ok", func(c *config.Provider) { c.Sender = "1588-1234" }, nil},
		{"ftp base_url", func(c *config.Provider) { c.BaseURL = "ftp://api.solapi.com" }, []string{"p.base_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Provider{Type: "solapi", Options: config.Opts("api_key", "NCSMUNJATESTKEY1", "api_secret", "s")}
			tt.edit(&cfg)
			clienttest.WantPaths(t, Validate(cfg, "p"), tt.paths, strings.HasPrefix)
		})
	}
	errs := ValidateCoolSMS(config.Provider{Type: "coolsms"}, "p")
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "CoolSMS console") {
		t.Errorf("coolsms: %v", errs)
	}
	if _, err := New(config.Provider{Type: "solapi"}, nil, nil); err == nil || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("New without credentials: %v", err)
	}
}

// TestSecretFiles: api_key_file and api_secret_file reach the signature.
func TestSecretFiles(t *testing.T) {
	gw := solapitest.New(t)
	cfg := gw.ProviderConfig()
	for key, v := range map[string]string{"api_key": gw.APIKey, "api_secret": gw.APISecret} {
		delete(cfg.Options, key)
		cfg.Options[key+"_file"] = config.Opts("f", clienttest.File(t, key, v+"\n"))["f"]
	}
	c, _ := newClient(t, cfg)
	if _, err := c.Remain(context.Background()); err != nil {
		t.Errorf("credentials from files: %v", err)
	}
}

// TestCoolSMS: the coolsms type is the same client under CoolSMS's name
// and host.
func TestCoolSMS(t *testing.T) {
	cfg := config.Provider{Type: "coolsms", Options: config.Opts("api_key", "NCSMUNJATESTKEY1", "api_secret", "s")}
	p, err := NewCoolSMS(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*Client)
	if c.Name() != "coolsms" || c.base != "https://api.coolsms.co.kr" {
		t.Errorf("coolsms client %q at %s", c.Name(), c.base)
	}
	p, _ = New(config.Provider{Type: "solapi", Options: cfg.Options}, nil, nil)
	if c := p.(*Client); c.Name() != "solapi" || c.base != "https://api.solapi.com" {
		t.Errorf("solapi client %q at %s", c.Name(), c.base)
	}
	gw := solapitest.New(t)
	fc := gw.ProviderConfig()
	fc.Name, fc.Type = "", "coolsms"
	fc.Options["api_secret"] = config.Opts("v", "wrong-secret-0123456789abcdefghi")["v"]
	p, _ = NewCoolSMS(fc, nil, nil)
	_, err = p.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
	var pe *provider.Error
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "coolsms: ") || !strings.Contains(pe.Korean, "CoolSMS") {
		t.Errorf("coolsms error: %v", err)
	}
}
