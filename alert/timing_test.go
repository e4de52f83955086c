package alert

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

const flapHttpd = "[경고] httpd 상태가 자주 바뀝니다 (플래핑)"

func flappingConfig() *config.Config {
	cfg := baseConfig()
	cfg.Alerting.Flapping = config.Flapping{Window: config.Duration(10 * time.Minute), Changes: 4}
	return cfg
}

func TestFlapping(t *testing.T) {
	for _, endFiring := range []bool{true, false} {
		name := map[bool]string{true: "ends firing", false: "ends ok"}[endFiring]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, flappingConfig())
			h.fail("httpd")
			h.step(time.Minute)
			h.pass("httpd")
			h.step(time.Minute)
			h.fail("httpd")
			h.step(time.Minute)
			h.expect(txtHttpd, resHttpd, txtHttpd)
			h.pass("httpd") // 4th change within 10m: flapping
			h.step(time.Minute)
			got := h.expect(flapHttpd)
			if got[0].Reason != ReasonFlapping {
				t.Errorf("reason %s", got[0].Reason)
			}
			for i := range 6 {
				if i%2 == 0 {
					h.fail("httpd")
				} else {
					h.pass("httpd")
				}
				h.step(time.Minute)
			}
			if !endFiring {
				h.fail("httpd")
				h.step(time.Minute)
				h.expect()
			}
			if endFiring {
				h.fail("httpd")
			} else {
				h.pass("httpd")
			}
			st := h.e.Checks()[0]
			if !st.Flapping || st.Incident == "" {
				t.Errorf("check status while flapping: %+v", st)
			}
			h.step(9 * time.Minute)
			h.expect()
			h.step(time.Minute) // stable for a whole window
			if endFiring {
				h.expect(txtHttpd)
				h.step(time.Hour)
				h.expect()
				h.pass("httpd")
				h.step(time.Minute)
				h.expect(resHttpd)
			} else {
				h.expect(resHttpd)
				h.step(time.Hour)
				h.expect()
			}
			if incs := h.e.Incidents(true); len(incs) != 0 {
				t.Errorf("open incidents: %+v", incs)
			}
		})
	}
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	t.Run("by check, with expiry", func(t *testing.T) {
		h := newHarness(t, baseConfig())
		id, err := h.e.Silence(ctx, SilenceSpec{Check: "httpd", Until: t0.Add(time.Hour), By: "kim", Comment: "점검"})
		if err != nil {
			t.Fatal(err)
		}
		if s := h.e.Silences(); len(s) != 1 || s[0].ID != id || s[0].By != "kim" {
			t.Fatalf("silences = %+v", s)
		}
		h.fail("httpd", "web-port")
		h.flush()
		h.expect(txtPort)
		for range 59 {
			h.fail("httpd")
			h.step(time.Minute)
		}
		h.expect()
		if st := h.e.Checks()[0]; st.State != StateFiring || !st.Silenced {
			t.Errorf("silenced check still tracks state: %+v", st)
		}
		h.step(time.Minute)
		h.expect(txtHttpd) // once, when the silence ended
		h.step(time.Hour)
		h.expect()
		if s := h.e.Silences(); len(s) != 0 {
			t.Errorf("expired silence still listed: %+v", s)
		}
		if keys := h.st.keys(prefixSilence); len(keys) != 0 {
			t.Errorf("expired silence still stored: %v", keys)
		}
	})
	t.Run("by host", func(t *testing.T) {
		h := newHarness(t, baseConfig())
		if _, err := h.e.Silence(ctx, SilenceSpec{Host: "db1", Until: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r := h.result("httpd", false)
		r.Host = "db1"
		h.e.Observe(r)
		h.fail("httpd")
		h.flush()
		h.expect(txtHttpd)
	})
	t.Run("all, from config", func(t *testing.T) {
		cfg := baseConfig()
		cfg.Alerting.Silences = []config.Silence{{Until: "2026-11-25 15:00", Comment: "작업"}}
		h := newHarness(t, cfg)
		h.fail("httpd", "oom")
		h.step(30 * time.Minute)
		h.expect()
		if err := h.e.Unsilence(ctx, "config-0"); !errors.Is(err, ErrBadSilence) {
			t.Errorf("unsilence of a config silence: %v", err)
		}
		h.step(30 * time.Minute)
		h.expect(txtHttpd + "\n" + txtOOM)
	})
	t.Run("recovery during a silence sends nothing", func(t *testing.T) {
		h := newHarness(t, baseConfig())
		h.fail("httpd")
		h.flush()
		h.expect(txtHttpd)
		if _, err := h.e.Silence(ctx, SilenceSpec{Check: "httpd", Until: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		h.pass("httpd")
		h.step(time.Minute)
		h.step(2 * time.Hour)
		h.expect()
	})
	t.Run("unsilence notifies at once and survives restart", func(t *testing.T) {
		h := newHarness(t, baseConfig())
		id, err := h.e.Silence(ctx, SilenceSpec{Until: t0.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		h.fail("oom")
		h.flush()
		h.restart(h.cfg)
		h.step(time.Minute)
		h.expect()
		if err := h.e.Unsilence(ctx, id); err != nil {
			t.Fatal(err)
		}
		h.flush()
		h.expect(txtOOM)
		if err := h.e.Unsilence(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second unsilence: %v", err)
		}
		if _, err := h.e.Silence(ctx, SilenceSpec{Until: t0}); !errors.Is(err, ErrBadSilence) {
			t.Errorf("silence in the past: %v", err)
		}
	})
}

func quietConfig() *config.Config {
	cfg := baseConfig()
	cfg.Alerting.Recipients = []string{phoneA, "group:ops"}
	cfg.Alerting.Groups = []config.Group{{Name: "ops", Members: []string{phoneB}, QuietHours: "22:00-07:00"}}
	cfg.Checks[2].Severity = config.SeverityCritical // oom
	return cfg
}

func TestQuietHours(t *testing.T) {
	h := newHarness(t, quietConfig())
	h.clock.Set(time.Date(2026, 11, 25, 23, 0, 0, 0, h.e.cc.loc))
	to := func(n Notification) string { return strings.Join(n.Recipients, ",") }

	h.fail("httpd")
	h.flush()
	if got := h.expect(txtHttpd); to(got[0]) != phoneA {
		t.Errorf("warning at night went to %s", to(got[0]))
	}
	h.fail("oom")
	h.flush()
	if got := h.expect(txtOOM); to(got[0]) != phoneA+",group:ops" || got[0].Severity != config.SeverityCritical {
		t.Errorf("critical at night: %+v", got[0])
	}
	h.step(30 * time.Minute)
	h.fail("web-port")
	h.flush()
	h.expect(txtPort)
	h.step(90 * time.Minute) // 01:00
	h.pass("web-port")
	h.flush()
	if got := h.expect(resPort); to(got[0]) != phoneA {
		t.Errorf("recovery of a held alert went to %s", to(got[0]))
	}
	h.step(5*time.Hour + 59*time.Minute) // 06:59
	h.expect()
	h.step(time.Minute) // 07:00: the held httpd alert, once; not web-port
	if got := h.expect(txtHttpd); to(got[0]) != "group:ops" {
		t.Errorf("held alert went to %s", to(got[0]))
	}
	h.step(time.Hour)
	h.expect()
	h.pass("httpd")
	h.flush()
	if got := h.expect(resHttpd); to(got[0]) != phoneA+",group:ops" {
		t.Errorf("recovery went to %s", to(got[0]))
	}
}

func TestQuietHoursUntil(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, seoul) }
	tests := []struct {
		spec string
		now  time.Time
		in   bool
		end  time.Time
	}{
		{"22:00-07:00", at(25, 21, 59), false, time.Time{}},
		{"22:00-07:00", at(25, 22, 0), true, at(26, 7, 0)},
		{"22:00-07:00", at(25, 23, 30), true, at(26, 7, 0)},
		{"22:00-07:00", at(26, 0, 0), true, at(26, 7, 0)},
		{"22:00-07:00", at(26, 6, 59), true, at(26, 7, 0)},
		{"22:00-07:00", at(26, 7, 0), false, time.Time{}},
		{"12:00-13:30", at(25, 12, 45), true, at(25, 13, 30)},
		{"12:00-13:30", at(25, 13, 30), false, time.Time{}},
		{"12:00-13:30", at(25, 11, 0), false, time.Time{}},
		{" 23:00 - 00:30 ", at(25, 23, 59), true, at(26, 0, 30)},
	}
	for _, tt := range tests {
		q, err := parseQuietHours(tt.spec)
		if err != nil {
			t.Fatalf("%q: %v", tt.spec, err)
		}
		// The same instant in UTC must give the same answer.
		end, in := q.until(tt.now.UTC(), seoul)
		if in != tt.in || !end.Equal(tt.end) {
			t.Errorf("%q at %s: in=%v end=%v, want %v %v", tt.spec, tt.now.Format("01-02 15:04"), in, end, tt.in, tt.end)
		}
	}
	for _, bad := range []string{"", "22:00", "22:00-22:00", "25:00-07:00", "ab-cd"} {
		if _, err := parseQuietHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestQuietDays: quiet hours limited to workdays hold on a Friday night
// until Saturday morning, not on a Saturday night, not on 추석 (a
// Thursday in 2026), and not after a Sunday evening; company days off
// count as holidays.
func TestQuietDays(t *testing.T) {
	cfg := baseConfig()
	cfg.Timezone = "Asia/Seoul"
	cfg.Oncall.DaysOff = []string{"2026-12-31 종무식"}
	cfg.Alerting.Groups = []config.Group{{Name: "ops", Members: []string{"01011112222"}, QuietHours: "18:00-09:00", QuietDays: "workdays"}}
	cc, err := compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	q := cc.quiet["group:ops"]
	seoul := cfg.Location()
	at := func(mo time.Month, d, h int) time.Time { return time.Date(2026, mo, d, h, 0, 0, 0, seoul) }
	for _, tt := range []struct {
		now time.Time
		in  bool
		end time.Time
	}{
		{at(12, 11, 20), true, at(12, 12, 9)}, // Friday night
		{at(12, 12, 3), true, at(12, 12, 9)},  // …into Saturday
		{at(12, 12, 20), false, time.Time{}},  // Saturday night
		{at(12, 14, 3), false, time.Time{}},   // Sunday's window, Monday 03:00
		{at(12, 14, 19), true, at(12, 15, 9)}, // Monday night
		{at(9, 24, 20), false, time.Time{}},   // 추석
		{at(9, 23, 20), true, at(9, 24, 9)},   // the evening before
		{at(12, 31, 20), false, time.Time{}},  // a company day off
	} {
		end, in := q.until(tt.now, seoul)
		if in != tt.in || !end.Equal(tt.end) {
			t.Errorf("at %s: in=%v end=%v, want %v %v", tt.now.Format("01-02 15:04"), in, end, tt.in, tt.end)
		}
	}
	cfg.Alerting.Groups[0].QuietDays = "someday"
	if _, err := compile(cfg); err == nil || !strings.Contains(err.Error(), "alerting.groups[0].quiet_days") {
		t.Errorf("bad quiet_days: %v", err)
	}
}

func TestEscalation(t *testing.T) {
	for _, ack := range []bool{false, true} {
		t.Run(map[bool]string{false: "unacknowledged", true: "acked after step 1"}[ack], func(t *testing.T) {
			cfg := baseConfig()
			cfg.Alerting.Escalation = []config.Escalation{
				{After: config.Duration(10 * time.Minute), To: []string{"group:lead"}},
				{After: config.Duration(30 * time.Minute), To: []string{phoneB}},
			}
			h := newHarness(t, cfg)
			h.fail("httpd")
			h.flush()
			h.expect(txtHttpd)
			h.step(9 * time.Minute)
			h.expect()
			h.step(time.Minute)
			got := h.expect(txtHttpd)
			if got[0].Reason != ReasonEscalation || strings.Join(got[0].Recipients, ",") != "group:lead" {
				t.Errorf("step 1: %+v", got[0])
			}
			if ack {
				if err := h.e.Ack(context.Background(), got[0].Incidents[0], "kim"); err != nil {
					t.Fatal(err)
				}
			}
			h.step(20 * time.Minute)
			if ack {
				h.expect()
			} else {
				got = h.expect(txtHttpd)
				if got[0].Reason != ReasonEscalation || strings.Join(got[0].Recipients, ",") != phoneB {
					t.Errorf("step 2: %+v", got[0])
				}
			}
			h.step(5 * time.Hour)
			h.expect()
			h.pass("httpd")
			h.flush()
			want := phoneA + ",group:lead"
			if !ack {
				want += "," + phoneB
			}
			if got := h.expect(resHttpd); strings.Join(got[0].Recipients, ",") != want {
				t.Errorf("recovery to %v, want %s", got[0].Recipients, want)
			}
		})
	}
}

func TestUnconfiguredCheckUsesDefaults(t *testing.T) {
	h := newHarness(t, baseConfig())
	h.e.Observe(check.Result{Check: "heartbeat-backup", Host: "nas", Firing: "[경고] 백업 신호가 없습니다.", Severity: "critical", At: h.clock.Now()})
	h.flush()
	got := h.expect("[nas] [경고] 백업 신호가 없습니다.")
	if got[0].Severity != config.SeverityCritical {
		t.Errorf("severity %q", got[0].Severity)
	}
	// It survives a restart although the config does not list it.
	h.restart(h.cfg)
	openIncident(t, h.e, "heartbeat-backup")
}
