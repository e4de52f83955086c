package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/sms"
)

// receiver is a test endpoint that records what it got and answers with a
// fixed status and body.
type receiver struct {
	mu      sync.Mutex
	status  int
	answer  string
	delay   time.Duration
	bodies  [][]byte
	headers []http.Header
	srv     *httptest.Server
}

func newReceiver(t *testing.T, status int, answer string) *receiver {
	r := &receiver{status: status, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.headers = append(r.headers, req.Header.Clone())
		delay := r.delay
		r.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return
			}
		}
		w.WriteHeader(r.status)
		_, _ = w.Write([]byte(r.answer))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) last() ([]byte, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1], r.headers[len(r.headers)-1]
}

func build(t *testing.T, cfg config.Provider) provider.Provider {
	t.Helper()
	p, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var batch = provider.Batch{Sender: "0212345678", Text: "[경고] httpd 다운", Title: "", Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222", "01033334444"}}

func TestSendPayloadAndSignature(t *testing.T) {
	r := newReceiver(t, 200, `{"id":"abc-1"}`)
	p := build(t, config.Provider{
		Name: "relay", TestMode: true,
		Options: config.Opts("url", r.srv.URL+"/hook", "secret", "hmac-secret", "headers", map[string]string{"Authorization": "Bearer tok123"}),
	})
	res, err := p.Send(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID != "abc-1" || res.Accepted != 2 || res.Kind != sms.KindSMS || res.Reserved || p.Name() != "relay" || p.MaxBatch() != 1000 {
		t.Errorf("result %+v", res)
	}
	body, h := r.last()
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sender": "0212345678", "text": "[경고] httpd 다운", "title": "", "type": "SMS",
		"receivers": []any{"01011112222", "01033334444"}, "test": true,
	}
	for k, v := range want {
		if gb, _ := json.Marshal(got[k]); string(gb) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, gb, mustJSON(v))
		}
	}
	if len(got) != len(want) {
		t.Errorf("payload has keys %v", got)
	}
	if h.Get("Authorization") != "Bearer tok123" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if sig := h.Get(SignatureHeader); !Verify("hmac-secret", body, sig) || !strings.HasPrefix(sig, "sha256=") || Verify("other", body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestSignKnownVector(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign("Jefe", []byte("what do ya want for nothing?"))
	if got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("Sign = %s", got)
	}
}

func TestNoSignatureWithoutSecret(t *testing.T) {
	r := newReceiver(t, 204, "")
	p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL), Sender: "0299998888"})
	b := batch
	b.Sender = ""
	res, err := p.Send(context.Background(), b)
	if err != nil || res.MessageID != "" {
		t.Fatalf("%+v %v", res, err)
	}
	body, h := r.last()
	if h.Get(SignatureHeader) != "" {
		t.Error("signature sent without a secret")
	}
	var pl Payload
	if err := json.Unmarshal(body, &pl); err != nil || pl.Sender != "0299998888" || pl.Test {
		t.Errorf("payload %+v %v (%s)", pl, err, body)
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		status    int
		answer    string
		wantErr   bool
		permanent bool
		id        string
	}{
		{200, `{"id":"x1"}`, false, false, "x1"},
		{201, `{"id":12345}`, false, false, "12345"},
		{202, `accepted`, false, false, ""},
		{200, `{"id":null}`, false, false, ""},
		{400, `{"error":"bad number"}`, true, true, ""},
		{401, ``, true, true, ""},
		{403, ``, true, true, ""},
		{404, ``, true, true, ""},
		{422, ``, true, true, ""},
		{408, ``, true, false, ""},
		{429, ``, true, false, ""},
		{500, ``, true, false, ""},
		{503, `<h1>down</h1>`, true, false, ""},
		{302, ``, true, true, ""},
	}
	for _, tt := range tests {
		r := newReceiver(t, tt.status, tt.answer)
		p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL)})
		res, err := p.Send(context.Background(), batch)
		if (err != nil) != tt.wantErr || provider.IsPermanent(err) != tt.permanent || res.MessageID != tt.id {
			t.Errorf("HTTP %d %q: %+v %v", tt.status, tt.answer, res, err)
		}
		var pe *provider.Error
		if tt.wantErr && (!errors.As(err, &pe) || pe.Code != "HTTP "+strconv.Itoa(tt.status) || pe.Korean == "") {
			t.Errorf("HTTP %d: error %+v", tt.status, pe)
		}
		// 401/403 (credentials) and 404/405 (the url) refuse every
		// message: they count against the gateway's health.
		_, account := provider.AccountFailure(err)
		if want := tt.status == 401 || tt.status == 403 || tt.status == 404; account != want {
			t.Errorf("HTTP %d: account failure %v, want %v", tt.status, account, want)
		}
	}
}

func TestSecretsNotEchoed(t *testing.T) {
	r := newReceiver(t, 401, "bad token: Bearer tok123 / sig key hmac-secret")
	p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL, "secret", "hmac-secret", "headers", map[string]string{"Authorization": "Bearer tok123"})})
	_, err := p.Send(context.Background(), batch)
	if err == nil || strings.Contains(err.Error(), "tok123") || strings.Contains(err.Error(), "hmac-secret") {
		t.Errorf("err %v", err)
	}
}

func TestTransportErrors(t *testing.T) {
	r := newReceiver(t, 200, "")
	r.delay = time.Minute
	p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL), Timeout: config.Duration(200 * time.Millisecond)})
	_, err := p.Send(context.Background(), batch)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != "timeout" || pe.Permanent {
		t.Errorf("timeout: %v", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	p = build(t, config.Provider{Options: config.Opts("url", srv.URL)})
	if _, err := p.Send(context.Background(), batch); !errors.As(err, &pe) || pe.Code != "network" || pe.Permanent {
		t.Errorf("network: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Send(ctx, batch); !errors.As(err, &pe) || pe.Code != "canceled" || pe.Permanent {
		t.Errorf("canceled: %v", err)
	}
}

func TestBatchLimits(t *testing.T) {
	r := newReceiver(t, 200, "")
	p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL)})
	for _, n := range []int{0, 1001} {
		if _, err := p.Send(context.Background(), provider.Batch{Text: "x", Receivers: make([]sms.Phone, n)}); !provider.IsPermanent(err) {
			t.Errorf("%d receivers: %v", n, err)
		}
	}
	if len(r.bodies) != 0 {
		t.Error("a refused batch was posted")
	}
}

func TestSecretFile(t *testing.T) {
	r := newReceiver(t, 200, "")
	path := clienttest.File(t, "secret", "from-file\n")
	p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL, "secret_file", path)})
	if _, err := p.Send(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	body, h := r.last()
	if !Verify("from-file", body, h.Get(SignatureHeader)) {
		t.Error("secret_file not used for the signature")
	}
	if _, err := New(config.Provider{Options: config.Opts("url", r.srv.URL, "secret_file", path+".missing")}, nil, nil); err == nil {
		t.Error("missing secret_file accepted")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   config.Provider
		paths []string
	}{
		{"ok", config.Provider{Options: config.Opts("url", "https://relay.example/sms")}, nil},
		{"missing url", config.Provider{}, []string{"p.url"}},
		{"relative url", config.Provider{Options: config.Opts("url", "/sms")}, []string{"p.url"}},
		{"ftp url", config.Provider{Options: config.Opts("url", "ftp://x/y")}, []string{"p.url"}},
		{"secret twice", config.Provider{Options: config.Opts("url", "http://x", "secret", "a", "secret_file", "/b")}, []string{"p.secret_file"}},
		{"bad header", config.Provider{Options: config.Opts("url", "http://x", "headers", map[string]string{"X Bad": "v"})}, []string{"p.headers"}},
		{"aligo keys", config.Provider{Options: config.Opts("url", "http://x", "user_id", "me", "key", "k"), BaseURL: "http://y"}, []string{"p.key", "p.user_id", "p.base_url"}},
	}
	for _, tt := range tests {
		errs := Validate(tt.cfg, "p")
		if len(errs) != len(tt.paths) {
			t.Errorf("%s: %v, want %v", tt.name, errs, tt.paths)
			continue
		}
		for i, p := range tt.paths {
			if !strings.HasPrefix(errs[i].Error(), p+": ") {
				t.Errorf("%s: %v, want %s", tt.name, errs[i], p)
			}
		}
	}
}

// TestEchoedSecretCutAtTheSnippetEdge: a relay that echoes a header secret
// across the 200-byte edge of the error snippet leaks no part of it (the
// secret is removed before the text is cut).
func TestEchoedSecretCutAtTheSnippetEdge(t *testing.T) {
	secret := "Bearer tok-0123456789abcdef"
	for cut := 1; cut < len(secret); cut += 5 {
		answer := strings.Repeat("x", 200-cut) + secret + " rest"
		r := newReceiver(t, 400, answer)
		p := build(t, config.Provider{Options: config.Opts("url", r.srv.URL, "headers", map[string]string{"Authorization": secret})})
		_, err := p.Send(context.Background(), batch)
		if err == nil {
			t.Fatal("a 400 was accepted")
		}
		if strings.Contains(err.Error(), secret[:min(len(secret), 10)]) || strings.Contains(err.Error(), "tok-0123") {
			t.Errorf("cut at %d: the error shows part of the secret: %v", cut, err)
		}
	}
}
