package aligo

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/internal/clienttest"
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

func TestSendThroughFake(t *testing.T) {
	gw := aligotest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Kind: sms.KindSMS, Receivers: phones(3)})
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID == "" || res.Accepted != 3 || res.Rejected != 0 || res.Kind != sms.KindSMS || res.Reserved {
		t.Errorf("result = %+v", res)
	}
	d := gw.Delivered()
	if len(d) != 3 || d[2].Receiver != "01000000002" || d[0].MsgID != res.MessageID || d[0].Test {
		t.Errorf("delivered = %+v", d)
	}
	f := gw.Requests()[0].Form
	if f.Get("msg_type") != "SMS" || f.Has("title") || f.Has("testmode_yn") || f.Get("sender") != gw.Sender || f.Has("rdate") {
		t.Errorf("form = %v", f)
	}
	if strings.Contains(logs.String(), gw.Key) {
		t.Error("the key appeared in the log")
	}
}

func TestSendForm(t *testing.T) {
	long := strings.Repeat("가", 46) // 92 bytes
	tests := []struct {
		name     string
		cfg      func(*config.Provider)
		batch    provider.Batch
		want     map[string]string // "" = must be absent
		wantKind sms.Kind
	}{
		{"kind defaults to SMS", nil, provider.Batch{Text: "hi"}, map[string]string{"msg_type": "SMS"}, sms.KindSMS},
		{"long SMS upgraded to LMS", nil, provider.Batch{Text: long, Kind: sms.KindSMS}, map[string]string{"msg_type": "LMS"}, sms.KindLMS},
		{"title only for LMS", nil, provider.Batch{Text: "x", Title: "제목", Kind: sms.KindLMS}, map[string]string{"msg_type": "LMS", "title": "제목"}, sms.KindLMS},
		{"title dropped for SMS", nil, provider.Batch{Text: "x", Title: "제목", Kind: sms.KindSMS}, map[string]string{"title": ""}, sms.KindSMS},
		{"title cut to 44 bytes", nil, provider.Batch{Text: "x", Title: strings.Repeat("가", 30), Kind: sms.KindLMS},
			map[string]string{"title": strings.Repeat("가", 22)}, sms.KindLMS},
		{"batch test mode", nil, provider.Batch{Text: "x", Test: true}, map[string]string{"testmode_yn": "Y"}, sms.KindSMS},
		{"config test mode", func(c *config.Provider) { c.TestMode = true }, provider.Batch{Text: "x"}, map[string]string{"testmode_yn": "Y"}, sms.KindSMS},
		{"batch sender wins", nil, provider.Batch{Text: "x", Sender: "01099998888"}, map[string]string{"sender": "01099998888"}, sms.KindSMS},
		{"hyphens stripped", func(c *config.Provider) { c.Sender = "02-1234-5678" }, provider.Batch{Text: "x"}, map[string]string{"sender": "0212345678"}, sms.KindSMS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := aligotest.New(t, aligotest.WithSenders(aligotest.DefaultSender, "01099998888"))
			cfg := gw.ProviderConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, _ := newClient(t, cfg)
			tt.batch.Receivers = phones(1)
			res, err := c.Send(context.Background(), tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tt.wantKind {
				t.Errorf("kind %s, want %s", res.Kind, tt.wantKind)
			}
			f := gw.Requests()[0].Form
			for k, v := range tt.want {
				if v == "" && f.Has(k) {
					t.Errorf("%s = %q, want absent", k, f.Get(k))
				} else if v != "" && f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
		})
	}
}

func TestBatchLimits(t *testing.T) {
	gw := aligotest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 1000 {
		t.Fatalf("MaxBatch %d", c.MaxBatch())
	}
	_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1001)})
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Permanent || !strings.Contains(err.Error(), "1001") || !strings.Contains(err.Error(), "1000") {
		t.Errorf("1001 receivers: %v", err)
	}
	if len(gw.Requests()) != 0 {
		t.Error("an oversized batch reached the gateway")
	}
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1000)})
	if err != nil || res.Accepted != 1000 {
		t.Errorf("1000 receivers: %+v %v", res, err)
	}
	for name, b := range map[string]provider.Batch{
		"no receivers": {Text: "x"},
		"empty text":   {Receivers: phones(1)},
		"too long":     {Text: strings.Repeat("가", 1001), Receivers: phones(1)},
		"bad kind":     {Text: "x", Kind: "FAX", Receivers: phones(1)},
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
}

func TestValidate(t *testing.T) {
	keyFile := clienttest.File(t, "aligo.key", "k\n")
	set := clienttest.SetOptions
	tests := []struct {
		name  string
		edit  func(*config.Provider)
		paths []string
	}{
		{"ok", func(*config.Provider) {}, nil},
		{"key_file instead of key", func(c *config.Provider) { delete(c.Options, "key"); set("key_file", keyFile)(c) }, nil},
		{"missing user_id and key", func(c *config.Provider) { delete(c.Options, "key"); delete(c.Options, "user_id") }, []string{"p.user_id", "p.key"}},
		{"key and key_file", set("key_file", keyFile), []string{"p.key_file"}},
		{"unreadable key_file", func(c *config.Provider) { delete(c.Options, "key"); set("key_file", keyFile+".missing")(c) }, []string{"p.key_file"}},
		{"ftp base_url", func(c *config.Provider) { c.BaseURL = "ftp://apis.aligo.in" }, []string{"p.base_url"}},
		{"hostless base_url", func(c *config.Provider) { c.BaseURL = "https://" }, []string{"p.base_url"}},
		{"http base_url ok", func(c *config.Provider) { c.BaseURL = "http://127.0.0.1:8080" }, nil},
		{"bad sender", func(c *config.Provider) { c.Sender = "+82 2 1234" }, []string{"p.sender"}},
		{"webhook keys", set("url", "https://x", "secret", "s"), []string{"p.secret", "p.url"}},
		{"a typo", set("userid", "me"), []string{"p.userid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Provider{Type: "aligo", Options: config.Opts("user_id", "me", "key", "k")}
			tt.edit(&cfg)
			clienttest.WantPaths(t, Validate(cfg, "p"), tt.paths, strings.HasPrefix)
		})
	}
	if _, err := New(config.Provider{Type: "aligo"}, nil, nil); err == nil {
		t.Error("New accepted a config without credentials")
	}
}

func TestKeyFile(t *testing.T) {
	gw := aligotest.New(t)
	cfg := gw.ProviderConfig()
	path := clienttest.File(t, "key", gw.Key+"\n")
	delete(cfg.Options, "key")
	cfg.Options["key_file"] = config.Opts("f", path)["f"]
	c, _ := newClient(t, cfg)
	if _, err := c.Remain(context.Background()); err != nil {
		t.Errorf("key from key_file: %v", err)
	}
	cfg.Options["key_file"] = config.Opts("f", path+".missing")["f"]
	if _, err := NewClient(cfg, nil, nil); err == nil {
		t.Error("missing key_file accepted")
	}
}
