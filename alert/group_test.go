package alert

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
)

func TestGroupWaitJoinsTheOriginalTexts(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(30 * time.Second)
	h := newHarness(t, cfg)

	h.fail("httpd")
	h.step(10 * time.Second)
	h.fail("web-port")
	h.step(15 * time.Second)
	h.fail("oom")
	h.step(4 * time.Second) // 29s after the first
	h.expect()
	h.step(time.Second)
	want := txtHttpd + "\n" + txtPort + "\n" + txtOOM
	got := h.expect(want)
	n := got[0]
	if n.Title != "[munja] 경고 3건" || n.Reason != ReasonFirst || len(n.Incidents) != 3 ||
		strings.Join(n.Checks, ",") != "httpd,web-port,oom" || strings.Join(n.Recipients, ",") != phoneA {
		t.Errorf("notification = %+v", n)
	}
	if sms.Len(want) <= sms.MaxSMSBytes {
		t.Fatalf("test premise: %d bytes is not an LMS", sms.Len(want))
	}
	// Still failing every minute: nothing more (repeat is 0).
	for range 10 {
		h.fail("httpd", "web-port", "oom")
		h.step(time.Minute)
	}
	h.expect()

	// Recoveries within the window share one message too.
	h.pass("oom")
	h.step(20 * time.Second)
	h.pass("httpd")
	h.step(10 * time.Second)
	got = h.expect(resHttpd + "\n" + resOOM) // in firing order
	if got[0].Reason != ReasonResolved || got[0].Title != "[munja] 복구 2건" {
		t.Errorf("recovery = %+v", got[0])
	}
}

func TestGroupWaitSingleAlertIsSMS(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(30 * time.Second)
	h := newHarness(t, cfg)
	h.url = publicBase
	h.restart(cfg)
	h.fail("httpd")
	h.step(30 * time.Second)
	got := h.expect(txtHttpd) // byte-identical: no host, no link, no title
	if got[0].Title != "" {
		t.Errorf("SMS got a title %q", got[0].Title)
	}
}

func TestBlipShorterThanGroupWaitSendsNothing(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(time.Minute)
	h := newHarness(t, cfg)
	h.fail("httpd")
	h.step(20 * time.Second)
	h.pass("httpd")
	h.step(time.Minute)
	h.step(time.Hour)
	h.expect()
	if incs := h.e.Incidents(false); len(incs) != 1 || incs[0].Open() || incs[0].NotificationCount != 0 {
		t.Errorf("incidents = %+v", incs)
	}
}

func TestDifferentRecipientsGetSeparateMessages(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.Recipients = []string{phoneA, phoneB}
	cfg.Checks[1].Recipients = []string{phoneA}
	cfg.Alerting.GroupWait = config.Duration(10 * time.Second)
	h := newHarness(t, cfg)
	h.fail("httpd", "web-port")
	h.step(10 * time.Second)
	got := h.expect(txtHttpd+"\n"+txtPort, txtHttpd)
	if strings.Join(got[0].Recipients, ",") != phoneA || strings.Join(got[1].Recipients, ",") != phoneB {
		t.Errorf("recipients %v / %v", got[0].Recipients, got[1].Recipients)
	}
}

func TestMultiHostPrefix(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(10 * time.Second)
	h := newHarness(t, cfg)
	remote := func(host string, ok bool) check.Result {
		r := h.result("httpd", ok)
		r.Host = host
		return r
	}
	// A result naming this host is this host: no prefix.
	h.e.Observe(remote(localHost, false))
	h.step(10 * time.Second)
	h.expect(txtHttpd)

	// A remote host alone is named.
	h.e.Observe(remote("db1", false))
	h.step(10 * time.Second)
	h.expect("[db1] " + txtHttpd)

	// Mixed hosts: every line is named.
	h.e.Observe(remote("db2", false))
	h.fail("web-port")
	h.step(10 * time.Second)
	h.expect("[db2] " + txtHttpd + "\n[web0] " + txtPort) // config order

	if st := h.e.Checks(); len(st) != 5 {
		t.Errorf("checks = %d, want httpd×3 hosts, oom, web-port", len(st))
	}
	h.e.Observe(remote("db1", true))
	h.step(10 * time.Second)
	h.expect("[db1] " + resHttpd)
}

func TestAckLinks(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(10 * time.Second)
	cfg.Alerting.Repeat = config.Duration(time.Hour)
	h := newHarness(t, cfg)
	h.url = publicBase + "/"
	h.restart(cfg)
	ctx := context.Background()

	h.fail("httpd", "web-port", "oom")
	h.step(10 * time.Second)
	got := h.n.take()
	if len(got) != 1 {
		t.Fatalf("got %d messages", len(got))
	}
	body, link, ok := strings.Cut(got[0].Text, "\n확인: "+publicBase+"/ack/")
	if !ok || body != txtHttpd+"\n"+txtPort+"\n"+txtOOM || len(link) != 22 {
		t.Fatalf("LMS without a proper ack link: %q", got[0].Text)
	}
	if sms.Len(got[0].Text) > sms.MaxLMSBytes || got[0].Title == "" {
		t.Errorf("bad LMS: %+v", got[0])
	}
	if keys := h.st.keys(prefixToken); len(keys) != 1 || strings.Contains(keys[0], link) {
		t.Errorf("token not stored hashed: %v", keys)
	}
	if _, err := h.e.AckByToken(ctx, "not-a-token", "x"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("bad token: %v", err)
	}
	id, err := h.e.AckByToken(ctx, link, "phone:"+phoneA)
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range h.e.Incidents(true) {
		if inc.AckedBy != "phone:"+phoneA {
			t.Errorf("incident %s not acked by the link: %+v", inc.ID, inc)
		}
	}
	if inc, _ := h.e.Incident(id); inc.Check != "httpd" {
		t.Errorf("AckByToken returned %s (%s)", id, inc.Check)
	}
	if _, err := h.e.AckByToken(ctx, link, "again"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("second use: %v", err)
	}
	h.step(2 * time.Hour)
	h.expect() // acked: no reminders

	// A token dies with its incident.
	h.e.Observe(check.Result{Check: "short", Firing: "[경고] 짧은 경고", At: h.clock.Now()})
	h.step(10 * time.Second)
	h.e.Observe(check.Result{Check: "custom", Firing: strings.Repeat("[경고] 긴 경고 ", 8), At: h.clock.Now()})
	h.step(10 * time.Second)
	got = h.n.take()
	if len(got) != 2 || strings.Contains(got[0].Text, "확인:") || !strings.Contains(got[1].Text, "확인:") {
		t.Fatalf("short message must stay an SMS without a link, long one gets it: %q", got)
	}
	_, tok, _ := strings.Cut(got[1].Text, "/ack/")
	h.e.Observe(check.Result{Check: "custom", OK: true, At: h.clock.Now()})
	h.step(10 * time.Second)
	if _, err := h.e.AckByToken(ctx, tok, "late"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of a resolved incident: %v", err)
	}
	if keys := h.st.keys(prefixToken); len(keys) != 0 {
		t.Errorf("tokens left: %v", keys)
	}
}

func TestLongAndOddTexts(t *testing.T) {
	cfg := baseConfig()
	cfg.Alerting.GroupWait = config.Duration(10 * time.Second)
	h := newHarness(t, cfg)
	h.e.Observe(check.Result{Check: "log", Firing: "[경고] 로그에서 '💥 boom' 탐지됨.", At: h.clock.Now()})
	h.step(10 * time.Second)
	h.expect("[경고] 로그에서 '? boom' 탐지됨.")

	for i := range 80 {
		h.e.Observe(check.Result{Check: "disk" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Firing: "[경고] 디스크 사용량이 임계치를 넘었습니다: /data", At: h.clock.Now()})
	}
	h.step(10 * time.Second)
	got := h.n.take()
	if len(got) != 1 {
		t.Fatalf("got %d messages", len(got))
	}
	if n := sms.Len(got[0].Text); n > sms.MaxLMSBytes || !strings.HasSuffix(got[0].Text, "건)") {
		t.Errorf("%d bytes, ends %q", n, got[0].Text[len(got[0].Text)-20:])
	}
	if got[0].Title != "[munja] 경고 80건" || len(got[0].Incidents) != 80 {
		t.Errorf("title %q, %d incidents", got[0].Title, len(got[0].Incidents))
	}
}
