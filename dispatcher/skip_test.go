package dispatcher_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// picky takes only alerts and messages written from template "yes" (as
// Kakao Alimtalk takes only what it has an approved template for) and
// declines the rest with provider.Error.Skip.
type picky struct {
	mu      sync.Mutex
	batches []provider.Batch
	calls   int
}

func (p *picky) Name() string  { return "picky" }
func (p *picky) MaxBatch() int { return 2 }
func (p *picky) Send(_ context.Context, b provider.Batch) (provider.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if b.Source != "alert" && b.Template != "yes" {
		return provider.Result{}, &provider.Error{Provider: "picky", English: "no approved template for it", Permanent: true, Skip: true}
	}
	p.batches = append(p.batches, b)
	return provider.Result{MessageID: "p1", Accepted: len(b.Receivers)}, nil
}

func (p *picky) taken() []provider.Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.Batch(nil), p.batches...)
}

// TestDeclinedGoesToNextProvider: a message the first provider declines
// goes to the next, in the same pass, without counting against the first
// one's health; one it takes carries what it is (source, actor,
// template).
func TestDeclinedGoesToNextProvider(t *testing.T) {
	var observed []string
	var mu sync.Mutex
	f := newFixture(t, 1, dispatcher.Options{})
	pk := &picky{}
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: append([]provider.Provider{pk}, providersOf(t, f)...),
		Now: func() time.Time { return f.now }, Observe: func(p string, _ int, _ error, _ time.Duration) {
			mu.Lock()
			observed = append(observed, p)
			mu.Unlock()
		}})
	plain := f.submit("콘솔에서 보낸 문자", phones(3)...)
	alert, err := f.ob.Submit(context.Background(), outbox.Request{To: phones(1), Text: "[경고] 디스크", Source: "alert", Actor: "alert:first"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := f.ob.Submit(context.Background(), outbox.Request{To: phones(1), Text: "점검", Source: "console", Actor: "kim", Template: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	f.dispatch()
	for _, d := range f.message(plain.ID).Deliveries {
		if d.Status != sms.StatusSent || d.Provider != "aligo1" || d.LastError != "" {
			t.Errorf("declined message: %+v", d)
		}
	}
	for _, id := range []int64{alert.ID, tmpl.ID} {
		if d := f.message(id).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "picky" {
			t.Errorf("message %d: %+v", id, d)
		}
	}
	got := pk.taken()
	if len(got) != 2 {
		t.Fatalf("picky took %+v", got)
	}
	for _, b := range got {
		switch b.Text {
		case "[경고] 디스크":
			if b.Source != "alert" || b.Actor != "alert:first" || b.Template != "" {
				t.Errorf("alert batch %+v", b)
			}
		case "점검":
			if b.Source != "console" || b.Actor != "kim" || b.Template != "yes" {
				t.Errorf("template batch %+v", b)
			}
		}
	}
	st := f.d.Providers()[0]
	if !st.Up || st.Failures != 0 || !st.FailingSince.IsZero() || st.LastError != nil {
		t.Errorf("picky's health after declining: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	n := 0 // its sends are observed as calls, its declines are not
	for _, p := range observed {
		if p == "picky" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("picky observed %d times, want its 2 sends (observed %v)", n, observed)
	}
}

// TestDeclinedByEveryProvider: a message no provider takes fails at once
// with every reason; one declined while a provider that may take it is
// marked down waits for it.
func TestDeclinedByEveryProvider(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := dispatcher.New(dispatcher.Options{Store: st, Providers: []provider.Provider{&picky{}}})
	ob := outbox.New(outbox.Options{Store: st, DefaultSender: "0212345678"})
	m, err := ob.Submit(context.Background(), outbox.Request{To: phones(3), Text: "안내", Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DispatchOnce(context.Background(), store.ClaimFilter{}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetMessage(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, del := range got.Deliveries {
		if del.Status != sms.StatusFailed || del.LastError != "no provider takes this message: picky: no approved template for it" {
			t.Errorf("delivery %+v", del)
		}
	}

	// aligo1 marked down (3 failures), picky after it declines: the
	// message waits for aligo1 instead of failing.
	f := newFixture(t, 1, dispatcher.Options{})
	f.d = dispatcher.New(dispatcher.Options{Store: f.st, Providers: append(providersOf(t, f), &picky{}), Now: func() time.Time { return f.now }})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	for range 3 {
		f.submit("x", phones(1)...)
		f.dispatch()
	}
	if st := f.d.Providers()[0]; st.Up {
		t.Fatalf("aligo1 not marked down: %+v", st)
	}
	m2 := f.submit("기다리는 문자", phones(1)...)
	f.dispatch()
	del := f.message(m2.ID).Deliveries[0]
	if del.Status != sms.StatusQueued || del.LastError != "aligo1: marked down after failing calls; picky: no approved template for it" {
		t.Errorf("declined while the provider for it is down: %+v", del)
	}
}
