package providers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
)

func TestTypes(t *testing.T) {
	if got := Types(); !slices.Equal(got, []string{"aligo", "aligo_alimtalk", "coolsms", "dryrun", "nhn", "sens", "solapi", "twilio", "webhook"}) {
		t.Errorf("Types() = %v", got)
	}
}

func TestNewDefaultsToDryRun(t *testing.T) {
	ps, err := New(nil, nil, nil)
	if err != nil || len(ps) != 1 || ps[0].Name() != "dryrun" {
		t.Fatalf("%v %v", ps, err)
	}
	res, err := ps[0].Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222"}})
	if err != nil || res.MessageID != "dryrun-1" {
		t.Errorf("%+v %v", res, err)
	}
}

func TestNewInOrder(t *testing.T) {
	gw := aligotest.New(t)
	primary := gw.ProviderConfig()
	primary.Name = "primary"
	cfgs := []config.Provider{
		primary,
		{Name: "relay", Type: "webhook", Options: config.Opts("url", "http://127.0.0.1:1/hook")},
		{Name: "last", Type: "dryrun"},
	}
	ps, err := New(cfgs, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	if !slices.Equal(names, []string{"primary", "relay", "last"}) {
		t.Errorf("names %v", names)
	}
	if _, ok := ps[0].(provider.Balancer); !ok {
		t.Error("aligo is not a Balancer")
	}
	if _, err := ps[0].Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222"}}); err != nil {
		t.Errorf("send through the registry-built aligo: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New([]config.Provider{{Name: "a", Type: "dryrun"}, {Name: "b", Type: "nosuchgw"}}, nil, nil)
	if err == nil || err.Error() != `sms.providers[1].type: unknown provider type "nosuchgw" (known: aligo, aligo_alimtalk, coolsms, dryrun, nhn, sens, solapi, twilio, webhook)` {
		t.Errorf("unknown type: %v", err)
	}
	_, err = New([]config.Provider{{Name: "a", Type: "aligo", Options: config.Opts("key", "k3y-never-shown")}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "sms.providers[0] (a)") || !strings.Contains(err.Error(), "user_id") || strings.Contains(err.Error(), "k3y-never-shown") {
		t.Errorf("bad aligo: %v", err)
	}
}

func TestValidate(t *testing.T) {
	c := &config.Config{}
	c.SMS.Providers = []config.Provider{
		{Name: "ok", Type: "aligo", Options: config.Opts("user_id", "me", "key", "k")},
		{Name: "x", Type: "x"},
		{Name: "nokey", Type: "aligo", Options: config.Opts("user_id", "me")},
		{Name: "hook", Type: "webhook"},
		{Name: "dry", Type: "dryrun"},
		{Name: "none"},
	}
	want := []string{
		`sms.providers[1].type: unknown provider type "x" (known: aligo, aligo_alimtalk, coolsms, dryrun, nhn, sens, solapi, twilio, webhook)`,
		`sms.providers[2].key: required (API key from the Aligo console, or key_file)`,
		`sms.providers[3].url: required (the endpoint that receives the JSON)`,
		`sms.providers[5].type: required (known: aligo, aligo_alimtalk, coolsms, dryrun, nhn, sens, solapi, twilio, webhook)`,
	}
	errs := Validate(c)
	var got []string
	for _, e := range errs {
		var fe config.FieldError
		if !errors.As(e, &fe) || fe.Path == "" {
			t.Errorf("%v is not a FieldError with a path", e)
		}
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if errs := Validate(&config.Config{}); len(errs) != 0 {
		t.Errorf("no providers: %v", errs)
	}
}
