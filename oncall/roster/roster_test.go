package roster_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

var kst = time.FixedZone("KST", 9*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, kst)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture is a roster over a real SQLite store with two schedules:
// ops — weekly turns of 홍길동 (a contact), 김철수 (a contact) and a bare
// number, Monday 09:00; and dev — nights and holidays (group:night, every
// day at 09:00) under working hours (이영희 and 박민수, weekly), so a
// workday hands over twice a day.
type fixture struct {
	st  *sqlite.DB
	ob  *outbox.Outbox
	r   *roster.Roster
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, c := range []store.Contact{
		{Name: "홍길동", Phone: "01011110001"}, {Name: "김철수", Phone: "01011110002"},
		{Name: "이영희", Phone: "01022220001"}, {Name: "박민수", Phone: "01022220002"},
		{Name: "야간1", Phone: "01033330001", Groups: []string{"night"}}, {Name: "야간2", Phone: "01033330002", Groups: []string{"night"}},
	} {
		if err := st.SaveContact(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	handoff := func(s string) oncall.HandoffTime {
		h, err := oncall.ParseHandoff(s)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	workdays, err := oncall.ParseDays("workdays")
	if err != nil {
		t.Fatal(err)
	}
	hours, err := oncall.ParseHours("09:00-18:00")
	if err != nil {
		t.Fatal(err)
	}
	start := holiday.Date{Year: 2026, Month: 12, Day: 7}
	ops := &oncall.Schedule{Name: "ops", Location: kst, Layers: []oncall.Layer{{Name: "주간", Members: []string{"홍길동", "김철수", "010-9999-0003"},
		Rotation: oncall.Weekly, Handoff: handoff("mon 09:00"), Start: start}}}
	dev := &oncall.Schedule{Name: "dev", Location: kst, Layers: []oncall.Layer{
		{Name: "야간·휴일", Members: []string{"group:night"}, Rotation: oncall.Daily, Handoff: handoff("09:00"), Start: start},
		{Name: "업무 시간", Members: []string{"이영희", "박민수"}, Rotation: oncall.Weekly, Handoff: handoff("mon 09:00"), Start: start, Days: workdays, Hours: hours},
	}}
	for _, s := range []*oncall.Schedule{ops, dev} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{st: st}
	f.r = roster.New(roster.Options{Schedules: []*oncall.Schedule{ops, dev}, Store: st})
	f.ob = outbox.New(outbox.Options{Store: st, OnCall: f.r.Resolve, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) resolve(t *testing.T, ref string, when time.Time) []sms.Phone {
	t.Helper()
	ps, err := f.r.Resolve(context.Background(), ref, when)
	if err != nil {
		t.Fatalf("Resolve(%q, %v): %v", ref, when, err)
	}
	return ps
}

// TestResolve: oncall:NAME is whoever is on call at the time, :next the
// next in the rotation, :all everyone; holidays hand working hours to
// the night layer; an unknown schedule is the caller's error.
func TestResolve(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		ref, when string
		want      []sms.Phone
	}{
		{"ops", "2026-12-14 08:59", []sms.Phone{"01011110001"}},
		{"ops", "2026-12-14 09:00", []sms.Phone{"01011110002"}},
		{"ops", "2026-12-21 09:00", []sms.Phone{"01099990003"}},
		{"ops:next", "2026-12-14 09:00", []sms.Phone{"01099990003"}},
		{"ops:all", "2026-12-14 09:00", []sms.Phone{"01011110001", "01011110002", "01099990003"}},
		{"dev", "2026-12-08 10:00", []sms.Phone{"01022220001"}},                // a Tuesday, working hours
		{"dev", "2026-12-08 19:00", []sms.Phone{"01033330001", "01033330002"}}, // the night group
		{"dev", "2027-02-08 10:00", []sms.Phone{"01033330001", "01033330002"}}, // 설날 (a Monday): a holiday
		{"dev", "2027-02-09 10:00", []sms.Phone{"01033330001", "01033330002"}}, // 대체공휴일
		{"dev", "2027-02-10 10:00", []sms.Phone{"01022220002"}},                // back at work
		{"dev", "2026-09-25 10:00", []sms.Phone{"01033330001", "01033330002"}}, // 추석 2026
	} {
		if got := f.resolve(t, tc.ref, at(tc.when)); !slices.Equal(got, tc.want) {
			t.Errorf("%s at %s: %v, want %v", tc.ref, tc.when, got, tc.want)
		}
	}
	var oe *outbox.OnCallError
	if _, err := f.r.Resolve(context.Background(), "nope", at("2026-12-14 09:00")); !errors.As(err, &oe) {
		t.Errorf("unknown schedule: %v", err)
	}
	if _, err := f.r.Resolve(context.Background(), "ops:first", at("2026-12-14 09:00")); !errors.As(err, &oe) {
		t.Errorf("unknown mode: %v", err)
	}
}

// TestOverrides: an override is validated, stored, audited, beats the
// rotation while it lasts, and is gone once deleted.
func TestOverrides(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := at("2026-12-10 12:00")
	bad := []struct {
		o     roster.StoredOverride
		field string
	}{
		{roster.StoredOverride{From: at("2026-12-11 09:00"), To: at("2026-12-12 09:00")}, "member"},
		{roster.StoredOverride{Member: "김철수", To: at("2026-12-12 09:00")}, "from"},
		{roster.StoredOverride{Member: "김철수", From: at("2026-12-12 09:00"), To: at("2026-12-11 09:00")}, "to"},
		{roster.StoredOverride{Member: "김철수", From: at("2026-12-01 09:00"), To: at("2026-12-02 09:00")}, "to"},
		{roster.StoredOverride{Member: "김철수", From: at("2026-12-11 09:00"), To: at("2027-06-11 09:00")}, "to"},
		{roster.StoredOverride{Member: "아무도아님", From: at("2026-12-11 09:00"), To: at("2026-12-12 09:00")}, "member"},
	}
	for _, b := range bad {
		var oe *roster.OverrideError
		if _, err := f.r.AddOverride(ctx, "ops", b.o, "user:kim", now); !errors.As(err, &oe) || oe.Field != b.field {
			t.Errorf("AddOverride(%+v): %v, want an error on %s", b.o, err, b.field)
		}
	}
	if _, err := f.r.AddOverride(ctx, "nope", roster.StoredOverride{Member: "김철수"}, "user:kim", now); !errors.Is(err, roster.ErrNoSchedule) {
		t.Errorf("unknown schedule: %v", err)
	}
	o, err := f.r.AddOverride(ctx, "ops", roster.StoredOverride{Member: "김철수", From: at("2026-12-11 09:00"), To: at("2026-12-12 09:00"), Note: "병원"}, "user:kim", now)
	if err != nil || o.ID == "" {
		t.Fatal(o, err)
	}
	if got := f.resolve(t, "ops", at("2026-12-11 10:00")); !slices.Equal(got, []sms.Phone{"01011110002"}) {
		t.Errorf("during the override: %v", got)
	}
	if got := f.resolve(t, "ops", at("2026-12-12 09:00")); !slices.Equal(got, []sms.Phone{"01011110001"}) {
		t.Errorf("after the override: %v", got)
	}
	st, err := f.r.Now(ctx, "ops", at("2026-12-11 10:00"))
	if err != nil || !st.Shift.Override || st.Name != "김철수" || st.Next.Incoming.Member != "홍길동" {
		t.Errorf("Now during the override: %+v %v", st, err)
	}
	if got := f.r.DisplayName(ctx, "010-1111-0002"); got != "김철수 (010-1111-0002)" {
		t.Errorf("DisplayName of a contact's number: %q", got)
	}
	if got := f.r.DisplayName(ctx, "01055550000"); got != "010-5555-0000" {
		t.Errorf("DisplayName of an unknown number: %q", got)
	}
	if err := f.r.DeleteOverride(ctx, "ops", o.ID, "token:ops", now); err != nil {
		t.Fatal(err)
	}
	if err := f.r.DeleteOverride(ctx, "ops", o.ID, "token:ops", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted twice: %v", err)
	}
	if got := f.resolve(t, "ops", at("2026-12-11 10:00")); !slices.Equal(got, []sms.Phone{"01011110001"}) {
		t.Errorf("after deleting the override: %v", got)
	}
	es, err := f.st.FindAudit(ctx, store.AuditQuery{Action: "oncall"})
	if err != nil || len(es) != 2 || es[0].Action != "oncall.override_delete" || es[0].Actor != "token:ops" ||
		es[1].Action != "oncall.override" || es[1].Actor != "user:kim" || es[1].Target != "oncall:ops" || !strings.Contains(es[1].Detail, "김철수 from 2026-12-11T09:00:00+09:00") {
		t.Errorf("audit: %+v %v", es, err)
	}
}

// sent lists the stored messages' texts with their recipients, oldest first.
func (f *fixture) sent(t *testing.T) []string {
	t.Helper()
	ms, err := f.st.ListMessages(context.Background(), store.MessageFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ms) - 1; i >= 0; i-- {
		var to []string
		for _, d := range ms[i].Deliveries {
			to = append(to, string(d.Phone))
		}
		out = append(out, strings.Join(to, ",")+" "+ms[i].Text)
	}
	return out
}

// TestHandoffNotices: at a weekly handoff the incoming person is told
// their turn and the outgoing one gets the open incidents, each once
// however often the range is looked at; with working hours over nights
// a person is told once per turn, not every morning, and the summary
// comes after the turn's last day.
func TestHandoffNotices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	open := []roster.OpenIncident{{Check: "httpd", Host: "mon01", Started: at("2026-12-14 03:10")}}
	opt := roster.NoticeOptions{Outbox: f.ob, Location: kst,
		Notice: map[string]bool{"ops": true, "dev": true}, Summary: map[string]bool{"ops": true, "dev": true},
		Open: func() []roster.OpenIncident { return open }}
	look := func(since, now string) {
		t.Helper()
		f.now = at(now)
		if !f.r.NoticesDue(ctx, opt, at(since), at(now)) {
			t.Fatalf("NoticesDue(%s, %s) failed", since, now)
		}
	}
	look("2026-12-14 08:00", "2026-12-14 08:59")
	if got := f.sent(t); len(got) != 0 {
		t.Fatalf("before the handoff: %q", got)
	}
	look("2026-12-14 08:00", "2026-12-14 09:00")
	look("2026-12-14 08:00", "2026-12-14 09:00") // again, as a restart or a replica would
	want := []string{
		"01011110002 [당직] 이번 주 당직입니다: 12/14 09:00 ~ 12/21 09:00 (ops)",
		"01011110001 [당직] ops 당직이 끝났습니다. 미해결 장애 1건: httpd@mon01(12/14 03:10~)",
		"01022220002 [당직] 이번 주 당직입니다: 12/14 09:00 ~ 12/21 09:00 (dev · 업무 시간)",
		"01033330001,01033330002 [당직] dev 당직이 끝났습니다. 미해결 장애 1건: httpd@mon01(12/14 03:10~)",
	}
	if got := f.sent(t); !slices.Equal(got, want) {
		t.Fatalf("at the handoff:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A week of working days: the night group is told each workday evening
	// (daily turns; over the weekend nobody changes, so nobody is told)
	// and summarized each morning, 박민수 is told only once, on Monday, and
	// gets the summary on Friday evening.
	open = nil
	look("2026-12-14 09:00", "2026-12-21 08:00")
	got := f.sent(t)[len(want):]
	var toDay, nightNotices, summaries int
	for _, m := range got {
		switch {
		case strings.HasPrefix(m, "01022220002 [당직] 이번 주"):
			toDay++
		case strings.HasPrefix(m, "01033330001,01033330002 [당직] 오늘 당직입니다"):
			nightNotices++
		case strings.Contains(m, "당직이 끝났습니다"):
			summaries++
			if !strings.HasPrefix(m, "01033330001,01033330002 ") && m != "01022220002 [당직] dev 당직이 끝났습니다. 미해결 장애 없음." {
				t.Errorf("summary %q", m)
			}
		default:
			t.Errorf("unexpected %q", m)
		}
	}
	if toDay != 0 || nightNotices != 5 || summaries != 5 {
		t.Errorf("a week later: %d notices to the day person, %d to the night group, %d summaries:\n%s", toDay, nightNotices, summaries, strings.Join(got, "\n"))
	}
	if !slices.Contains(got, "01022220002 [당직] dev 당직이 끝났습니다. 미해결 장애 없음.") {
		t.Errorf("no summary to 박민수 at the end of the week:\n%s", strings.Join(got, "\n"))
	}
}
