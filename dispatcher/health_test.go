package dispatcher_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/sms"
)

// sendsTo counts the /send/ calls a fake gateway got.
func sendsTo(fake *aligotest.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Path == "/send/" {
			n++
		}
	}
	return n
}

// TestBadKeyCountsAsFailing: a gateway that refuses the account (a bad
// key, an unregistered IP) fails every call as surely as one that is
// down: it is marked down after three calls (it used to count as "up",
// an answer, so every batch paid a call to it and no gateway-down alert
// could ever see it), its last error is kept for the alert, and batches
// go straight to the next provider. A refusal of one request (an
// unregistered sender) is still an answer.
func TestBadKeyCountsAsFailing(t *testing.T) {
	for _, mode := range []aligotest.Mode{aligotest.BadKey, aligotest.IPNotAllowed} {
		f := newFixture(t, 2, dispatcher.Options{})
		f.fakes[1].RegisterSender(f.fakes[0].Sender)
		f.fakes[0].SetFailure(aligotest.Failure{Mode: mode})
		for i := range 5 {
			m := f.submit("x", "01011112222")
			f.dispatch()
			if d := f.message(m.ID).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "aligo2" {
				t.Fatalf("mode %d message %d: %+v, want sent by aligo2", mode, i, d)
			}
		}
		if n := sendsTo(f.fakes[0]); n != 3 {
			t.Errorf("mode %d: the refusing gateway got %d sends, want 3 (then marked down)", mode, n)
		}
		ps := f.d.Providers()
		if ps[0].Up || ps[0].Failures != 3 || ps[0].FailingSince.IsZero() || ps[0].LastFailure.IsZero() {
			t.Errorf("mode %d: state %+v, want down after 3 failures", mode, ps[0])
		}
		if r, ok := provider.AccountFailure(ps[0].LastError); !ok || r == "" {
			t.Errorf("mode %d: last error %v, want an account failure", mode, ps[0].LastError)
		}
	}

	f := newFixture(t, 1, dispatcher.Options{})
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.UnregisteredSender})
	for range 4 {
		f.submit("x", "01011112222")
		f.dispatch()
	}
	if ps := f.d.Providers(); !ps[0].Up || ps[0].Failures != 0 {
		t.Errorf("an unregistered sender counted against the gateway: %+v", ps[0])
	}
}

// TestAvoidedProvider: the alert that a provider is down never goes
// through that provider, even while it looks healthy (its down period
// over, or a restart forgot it), and the rule is read from the stored
// message. With no other provider, it fails with the reason.
func TestAvoidedProvider(t *testing.T) {
	f := newFixture(t, 2, dispatcher.Options{})
	f.fakes[1].RegisterSender(f.fakes[0].Sender)
	alert, err := f.ob.Submit(context.Background(), outbox.Request{To: []string{"01011112222"},
		Text: "[경고] 문자 게이트웨이 aligo1 장애: 5분째 응답 없음", Source: "alert", Actor: dispatcher.AvoidActor("aligo1")})
	if err != nil {
		t.Fatal(err)
	}
	other := f.submit("보통 문자", "01033334444")
	f.dispatch()
	if d := f.message(alert.ID).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "aligo2" {
		t.Errorf("alert %+v, want sent by aligo2", d)
	}
	if d := f.message(other.ID).Deliveries[0]; d.Status != sms.StatusSent || d.Provider != "aligo1" {
		t.Errorf("other message %+v, want sent by aligo1", d)
	}
	if got := f.message(alert.ID); dispatcher.Avoided(*got) != "aligo1" {
		t.Errorf("stored alert avoids %q (created by %q)", dispatcher.Avoided(*got), got.CreatedBy)
	}
	// Only an alert's actor routes: a token named like it does not.
	if dispatcher.Avoided(sms.Message{Source: "api", CreatedBy: "gateway-down:aligo1"}) != "" {
		t.Error("an API message avoided a provider")
	}

	// The second provider fails too: the alert is retried, never through
	// the first.
	f.fakes[1].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	again, _ := f.ob.Submit(context.Background(), outbox.Request{To: []string{"01011112222"},
		Text: "[경고] 다시", Source: "alert", Actor: dispatcher.AvoidActor("aligo1")})
	f.dispatch()
	if d := f.message(again.ID).Deliveries[0]; d.Status != sms.StatusQueued || !strings.Contains(d.LastError, "503") {
		t.Errorf("alert while the other provider fails: %+v, want queued for a retry", d)
	}
	if n := sendsTo(f.fakes[0]); n != 1 {
		t.Errorf("aligo1 got %d sends, want only the ordinary message's", n)
	}

	// Only the provider it is about is left (the config changed): failed,
	// with the reason.
	solo := newFixture(t, 1, dispatcher.Options{})
	m, _ := solo.ob.Submit(context.Background(), outbox.Request{To: []string{"01011112222"},
		Text: "[경고] 문자 게이트웨이 aligo1 장애", Source: "alert", Actor: dispatcher.AvoidActor("aligo1")})
	solo.dispatch()
	if d := solo.message(m.ID).Deliveries[0]; d.Status != sms.StatusFailed || !strings.Contains(d.LastError, "no provider other than aligo1") {
		t.Errorf("alert with no other provider: %+v", d)
	}
	if n := sendsTo(solo.fakes[0]); n != 0 {
		t.Errorf("the avoided provider got %d sends", n)
	}
}

// TestProbe: a probe (Aligo /remain/) of a failing gateway counts like a
// call — a failure adds to the run and marks it down as calls do, an
// answer brings it back — without taking or delaying a trial. A provider
// that cannot be asked is not probed.
func TestProbe(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{})
	ctx := context.Background()
	f.fakes[0].SetFailure(aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
	for i := 1; i <= 3; i++ {
		f.now = f.now.Add(time.Second)
		if !f.d.Probe(ctx, "aligo1") {
			t.Fatal("aligo not probed")
		}
		if st := f.d.Providers()[0]; st.Failures != i || st.Up != (i < 3) || !st.LastFailure.Equal(f.now) {
			t.Fatalf("after %d failed probes: %+v", i, st)
		}
	}
	down := f.d.Providers()[0]
	f.now = f.now.Add(time.Second)
	f.d.Probe(ctx, "aligo1")
	if st := f.d.Providers()[0]; st.Failures != 4 || !st.DownUntil.Equal(down.DownUntil) {
		t.Errorf("a failed probe of a down provider moved its trial: %v → %v", down.DownUntil, st.DownUntil)
	}
	f.fakes[0].SetFailure(aligotest.Failure{})
	f.d.Probe(ctx, "aligo1")
	if st := f.d.Providers()[0]; !st.Up || st.Failures != 0 || !st.LastSuccess.Equal(f.now) || st.LastError != nil {
		t.Errorf("after an answered probe: %+v", st)
	}
	if sendsTo(f.fakes[0]) != 0 {
		t.Error("a probe sent a message")
	}
	if f.d.Probe(ctx, "nope") {
		t.Error("probed a provider that is not configured")
	}
}

// TestRunning: Running is true while Run's loop comes round, false once
// it returned.
func TestRunning(t *testing.T) {
	f := newFixture(t, 1, dispatcher.Options{Poll: 20 * time.Millisecond})
	if f.d.Running() {
		t.Fatal("running before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !f.d.Running() {
		if time.Now().After(deadline) {
			t.Fatal("not running after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if f.d.Running() {
		t.Error("running after Run returned")
	}
}
