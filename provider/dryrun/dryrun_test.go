package dryrun

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

func TestSend(t *testing.T) {
	var buf bytes.Buffer
	p, err := New(config.Provider{}, nil, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "dryrun" || p.MaxBatch() != 1000 {
		t.Errorf("name %q max %d", p.Name(), p.MaxBatch())
	}
	b := provider.Batch{Text: "hello", Kind: sms.KindSMS, Receivers: []sms.Phone{"01011112222", "01033334444"}}
	for i, want := range []string{"dryrun-1", "dryrun-2"} {
		res, err := p.Send(context.Background(), b)
		if err != nil || res.MessageID != want || res.Accepted != 2 || res.Kind != sms.KindSMS || res.Reserved {
			t.Errorf("send %d: %+v %v", i, res, err)
		}
	}
	if !strings.Contains(buf.String(), "msg_id=dryrun-2") || strings.Contains(buf.String(), "hello") {
		t.Errorf("log %q: want the id, not the text", buf.String())
	}
}

func TestSendRefuses(t *testing.T) {
	p, _ := New(config.Provider{Name: "dry"}, nil, nil)
	if p.Name() != "dry" {
		t.Errorf("name %q", p.Name())
	}
	if _, err := p.Send(context.Background(), provider.Batch{Text: "x"}); !provider.IsPermanent(err) {
		t.Errorf("no receivers: %v", err)
	}
	if _, err := p.Send(context.Background(), provider.Batch{Text: "x", Receivers: make([]sms.Phone, 1001)}); !provider.IsPermanent(err) {
		t.Errorf("1001 receivers: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Send(ctx, provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222"}}); err == nil || provider.IsPermanent(err) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestConcurrentIDsUnique(t *testing.T) {
	p, _ := New(config.Provider{}, nil, nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				res, err := p.Send(context.Background(), provider.Batch{Text: "x", Receivers: []sms.Phone{"01011112222"}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[res.MessageID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 800 {
		t.Errorf("%d distinct ids, want 800", len(seen))
	}
}

func TestValidate(t *testing.T) {
	if errs := Validate(config.Provider{Type: "dryrun", Name: "x", Sender: "0212345678"}, "p"); len(errs) != 0 {
		t.Errorf("clean config: %v", errs)
	}
	errs := Validate(config.Provider{Type: "dryrun", Options: config.Opts("user_id", "me", "url", "http://x")}, "sms.providers[1]")
	if len(errs) != 2 || !strings.HasPrefix(errs[0].Error(), `sms.providers[1].url: unknown key "url" for type dryrun`) ||
		!strings.HasPrefix(errs[1].Error(), "sms.providers[1].user_id:") {
		t.Errorf("errors %v", errs)
	}
}
