// Package pipelinetest runs a gateway's tests through munja's real sending
// path: a SQLite store in t.TempDir(), the outbox and the dispatcher, with
// the providers built by the registry from config entries, as munja serve
// builds them. It is test support, imported only by the gateways' _test.go
// files; that is why it may import the store, the outbox and the
// dispatcher, which provider/... may not (internal/layers lists it).
package pipelinetest

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider/providers"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// Pipeline is munja's sending path over one SQLite file.
type Pipeline struct {
	Store      store.Store
	Outbox     *outbox.Outbox
	Dispatcher *dispatcher.Dispatcher

	t         *testing.T
	mu        sync.Mutex
	uncertain map[string]int // "provider/outcome" → receivers
}

// New validates cfgs as `munja config check` does, builds their providers
// through the registry in that (failover) order and wires them to a new
// store, an outbox with sender as its default sender and a dispatcher.
// opt's Store, Providers and Uncertain are set (Uncertain counts for
// p.Uncertain); the rest is the caller's.
func New(t *testing.T, sender string, cfgs []config.Provider, opt dispatcher.Options) *Pipeline {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &config.Config{}
	c.SMS.Providers = cfgs
	if errs := providers.Validate(c); len(errs) > 0 {
		t.Fatal(errs)
	}
	ps, err := providers.New(cfgs, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Store: st, t: t, uncertain: map[string]int{}}
	opt.Store, opt.Providers = st, ps
	opt.Uncertain = func(prov, outcome string, n int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.uncertain[prov+"/"+outcome] += n
	}
	p.Dispatcher = dispatcher.New(opt)
	p.Outbox = outbox.New(outbox.Options{Store: st, DefaultSender: sender})
	return p
}

// Submit stores a message of text to the numbers to, from source "test",
// and returns its id.
func (p *Pipeline) Submit(text string, to ...string) int64 {
	p.t.Helper()
	return p.SubmitRequest(outbox.Request{To: to, Text: text, Source: "test"})
}

// SubmitRequest stores req's message and returns its id.
func (p *Pipeline) SubmitRequest(req outbox.Request) int64 {
	p.t.Helper()
	m, err := p.Outbox.Submit(context.Background(), req)
	if err != nil {
		p.t.Fatal(err)
	}
	return m.ID
}

// DispatchOnce runs one dispatcher pass and returns what it handled.
func (p *Pipeline) DispatchOnce() int {
	p.t.Helper()
	n, err := p.Dispatcher.DispatchOnce(context.Background(), store.ClaimFilter{})
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

// DispatchAll runs dispatcher passes until one finds nothing to send.
func (p *Pipeline) DispatchAll() {
	p.t.Helper()
	for p.DispatchOnce() > 0 {
	}
}

// Drain runs dispatcher passes, a few milliseconds apart, until every
// delivery of the messages ids is final (sent, failed …) or timeout has
// passed, and returns those deliveries, final or not.
func (p *Pipeline) Drain(timeout time.Duration, ids ...int64) []sms.Delivery {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p.DispatchOnce()
		var ds []sms.Delivery
		done := true
		for _, id := range ids {
			for _, d := range p.Deliveries(id) {
				ds = append(ds, d)
				done = done && d.Status.Final()
			}
		}
		if done || time.Now().After(deadline) {
			return ds
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Deliveries reads message id's deliveries from the store.
func (p *Pipeline) Deliveries(id int64) []sms.Delivery {
	p.t.Helper()
	m, err := p.Store.GetMessage(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return m.Deliveries
}

// ByPhone indexes deliveries by their receiver.
func ByPhone(ds []sms.Delivery) map[sms.Phone]sms.Delivery {
	out := make(map[sms.Phone]sms.Delivery, len(ds))
	for _, d := range ds {
		out[d.Phone] = d
	}
	return out
}

// Uncertain returns what became of the receivers of uncertain sends so
// far, by "provider/outcome" (found, resent …).
func (p *Pipeline) Uncertain() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.uncertain)
}

// Mobiles returns n distinct mobile numbers, 01010000000 upwards.
func Mobiles(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("010%08d", 10000000+i)
	}
	return out
}
