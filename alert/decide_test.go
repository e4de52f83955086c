package alert

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

func TestDecide(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 14, 0, 0, 0, seoul)
	night := time.Date(2026, 11, 25, 23, 0, 0, 0, seoul)
	morning := time.Date(2026, 11, 26, 7, 0, 0, 0, seoul)
	quiet := map[string]quietHours{"group:ops": {start: 22 * 60, end: 7 * 60}}
	base := effectiveCfg{Repeat: time.Hour, Resolved: true, Recipients: []string{phoneA, "group:ops"}, Quiet: quiet, Loc: seoul}
	withEsc := base
	withEsc.Escalation = []escStep{{After: 10 * time.Minute, To: []string{"group:lead"}}, {After: 30 * time.Minute, To: []string{phoneB}}}
	silenced := base
	silenced.Silenced, silenced.SilencedUntil = true, start.Add(2*time.Hour)
	noRepeat := base
	noRepeat.Repeat = 0
	noResolved := base
	noResolved.Resolved = false
	held := base
	held.HeldBy = []string{"web-port"}
	heldEsc := withEsc
	heldEsc.HeldBy = []string{"host:web01"}
	waiting := base
	waiting.FirstNotBefore = start.Add(12 * time.Second)

	open := func(mod ...func(*incident)) incident {
		inc := incident{Incident: Incident{ID: "i1", Check: "httpd", Severity: "warning", Started: start}}
		for _, m := range mod {
			m(&inc)
		}
		return inc
	}
	fired := func(at time.Time, to ...string) func(*incident) {
		return func(i *incident) {
			if i.Fired == nil {
				i.Fired = map[string]time.Time{}
			}
			for _, r := range to {
				i.Fired[r] = at
			}
			if i.FirstNotified.IsZero() {
				i.FirstNotified = at
			}
		}
	}
	resolvedAt := func(at time.Time) func(*incident) { return func(i *incident) { i.Resolved = at } }
	acked := func(i *incident) { i.AckedBy, i.AckedAt = "kim", start.Add(5*time.Minute) }
	critical := func(i *incident) { i.Severity = config.SeverityCritical }
	flapping := func(i *incident) { i.Flapping, i.FlapStart = true, start.Add(time.Minute) }
	sentResolved := func(to ...string) func(*incident) {
		return func(i *incident) {
			i.ResolvedTo = map[string]time.Time{}
			for _, r := range to {
				i.ResolvedTo[r] = start
			}
		}
	}
	blind := func(i *incident) {
		i.Kind, i.Check, i.Text, i.ResolvedText = KindCannotCheck, "oom", "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다.", "[복구] oom 점검이 다시 동작합니다."
	}
	escalated := func(step int, to string) func(*incident) {
		return func(i *incident) { i.Esc = append(i.Esc, escSent{Step: step, To: to, At: start}) }
	}

	type want struct {
		items []string // "reason:to"
		next  time.Time
		done  bool
	}
	tests := []struct {
		name string
		inc  incident
		cfg  effectiveCfg
		now  time.Time
		want want
	}{
		{"new incident pages everyone", open(), base, start,
			want{items: []string{"first:" + phoneA, "first:group:ops"}}},
		{"already paged, repeat not yet due", open(fired(start, phoneA, "group:ops")), base, start.Add(59 * time.Minute),
			want{next: start.Add(time.Hour)}},
		{"repeat due", open(fired(start, phoneA, "group:ops")), base, start.Add(time.Hour),
			want{items: []string{"repeat:" + phoneA, "repeat:group:ops"}}},
		{"repeat 0 means never", open(fired(start, phoneA, "group:ops")), noRepeat, start.Add(100 * time.Hour),
			want{}},
		{"acked: no repeat", open(fired(start, phoneA, "group:ops"), acked), base, start.Add(3 * time.Hour),
			want{}},
		{"recipient added later gets first", open(fired(start, phoneA)), base, start.Add(time.Minute),
			want{items: []string{"first:group:ops"}, next: start.Add(time.Hour)}},
		{"resolved goes to those paged", open(fired(start, phoneA), resolvedAt(start.Add(time.Minute))), base, start.Add(time.Minute),
			want{items: []string{"resolved:" + phoneA}}},
		{"resolved before anyone was paged: done", open(resolvedAt(start.Add(time.Minute))), base, start.Add(time.Minute),
			want{done: true}},
		{"resolved messages off: done", open(fired(start, phoneA), resolvedAt(start.Add(time.Minute))), noResolved, start.Add(time.Minute),
			want{done: true}},
		{"resolved already sent: done", open(fired(start, phoneA), resolvedAt(start.Add(time.Minute)), sentResolved(phoneA)), base, start.Add(2 * time.Minute),
			want{done: true}},
		{"silenced open incident waits for the silence end", open(), silenced, start.Add(time.Minute),
			want{next: start.Add(2 * time.Hour)}},
		{"silenced recovery is dropped", open(fired(start, phoneA), resolvedAt(start.Add(time.Minute))), silenced, start.Add(time.Minute),
			want{done: true}},
		{"silence over: notify once", open(), base, start.Add(2 * time.Hour),
			want{items: []string{"first:" + phoneA, "first:group:ops"}}},
		{"quiet group held at night", open(), base, night,
			want{items: []string{"first:" + phoneA}, next: morning}},
		{"quiet group gets it at the end", open(fired(morning.Add(-30*time.Minute), phoneA)), base, morning,
			want{items: []string{"first:group:ops"}, next: morning.Add(30 * time.Minute)}},
		{"critical bypasses quiet hours", open(critical), base, night,
			want{items: []string{"first:" + phoneA, "first:group:ops"}}},
		{"quiet: reminder held until morning", open(fired(start, phoneA, "group:ops")), base, night,
			want{items: []string{"repeat:" + phoneA}, next: morning}},
		{"quiet: recovery held until morning", open(fired(start, phoneA, "group:ops"), resolvedAt(night)), base, night,
			want{items: []string{"resolved:" + phoneA}, next: morning}},
		{"quiet: held firing resolved meanwhile sends nothing to the group", open(fired(night, phoneA), resolvedAt(night.Add(time.Hour))), base, morning,
			want{items: []string{"resolved:" + phoneA}}},
		{"escalation not yet due", open(fired(start, phoneA, "group:ops")), withEsc, start.Add(9 * time.Minute),
			want{next: start.Add(10 * time.Minute)}},
		{"escalation step 1", open(fired(start, phoneA, "group:ops")), withEsc, start.Add(10 * time.Minute),
			want{items: []string{"escalation:group:lead"}, next: start.Add(30 * time.Minute)}},
		{"escalation step 1 sent once", open(fired(start, phoneA, "group:ops"), escalated(0, "group:lead")), withEsc, start.Add(20 * time.Minute),
			want{next: start.Add(30 * time.Minute)}},
		{"escalation step 2", open(fired(start, phoneA, "group:ops"), escalated(0, "group:lead")), withEsc, start.Add(30 * time.Minute),
			want{items: []string{"escalation:" + phoneB}, next: start.Add(time.Hour)}},
		{"escalation stops on ack", open(fired(start, phoneA, "group:ops"), acked), withEsc, start.Add(30 * time.Minute),
			want{}},
		{"no escalation before anyone was paged", open(), withEsc, start.Add(time.Hour).Add(9 * time.Hour),
			want{items: []string{"first:" + phoneA}, next: time.Date(2026, 11, 26, 7, 0, 0, 0, seoul)}},
		{"escalated recipients get the recovery", open(fired(start, phoneA), escalated(0, "group:lead"), resolvedAt(start.Add(20*time.Minute))), withEsc, start.Add(20 * time.Minute),
			want{items: []string{"resolved:" + phoneA, "resolved:group:lead"}}},
		{"flapping: one flapping message", open(fired(start, phoneA, "group:ops"), flapping), base, start.Add(time.Minute),
			want{items: []string{"flapping:" + phoneA, "flapping:group:ops"}}},
		{"flapping: no reminders", open(fired(start, phoneA, "group:ops"), flapping, func(i *incident) {
			i.Flap = map[string]time.Time{phoneA: start, "group:ops": start}
		}), base, start.Add(5 * time.Hour), want{}},
		{"finished incident", open(func(i *incident) { i.Done = true }), base, start, want{}},
		// A cannot-check incident is decided like any other.
		{"cannot check pages everyone", open(blind), base, start,
			want{items: []string{"first:" + phoneA, "first:group:ops"}}},
		{"cannot check reminds", open(blind, fired(start, phoneA, "group:ops")), base, start.Add(time.Hour),
			want{items: []string{"repeat:" + phoneA, "repeat:group:ops"}}},
		{"cannot check: held in quiet hours", open(blind), base, night,
			want{items: []string{"first:" + phoneA}, next: morning}},
		{"cannot check escalates", open(blind, fired(start, phoneA, "group:ops")), withEsc, start.Add(10 * time.Minute),
			want{items: []string{"escalation:group:lead"}, next: start.Add(30 * time.Minute)}},
		{"sees again: recovery to those paged", open(blind, fired(start, phoneA), resolvedAt(start.Add(time.Minute))), base, start.Add(time.Minute),
			want{items: []string{"resolved:" + phoneA}}},
		{"sees again before anyone was paged: done", open(blind, resolvedAt(start.Add(time.Minute))), base, start.Add(time.Minute),
			want{done: true}},
		{"sees again, resolved messages off: done", open(blind, fired(start, phoneA), resolvedAt(start.Add(time.Minute))), noResolved, start.Add(time.Minute),
			want{done: true}},
		// depends_on: a check that depends on a failing one holds its alerts, never its recovery.
		{"held: no first alert", open(), held, start.Add(time.Hour),
			want{}},
		{"held: no reminder", open(fired(start, phoneA, "group:ops")), held, start.Add(3 * time.Hour),
			want{}},
		{"held: no escalation", open(fired(start, phoneA, "group:ops")), heldEsc, start.Add(time.Hour),
			want{}},
		{"held: no flapping message", open(flapping), held, start.Add(time.Minute),
			want{}},
		{"held cannot check: no alert", open(blind), held, start,
			want{}},
		{"held, recovered, never paged: nothing, done", open(resolvedAt(start.Add(time.Minute))), held, start.Add(time.Minute),
			want{done: true}},
		{"held, recovered after paging: recovery sent", open(fired(start, phoneA), resolvedAt(start.Add(time.Hour))), held, start.Add(time.Hour),
			want{items: []string{"resolved:" + phoneA}}},
		{"released: overdue reminder goes out", open(fired(start, phoneA, "group:ops")), base, start.Add(3 * time.Hour),
			want{items: []string{"repeat:" + phoneA, "repeat:group:ops"}}},
		{"first alert waits for the dependency to be looked at", open(), waiting, start.Add(5 * time.Second),
			want{next: start.Add(12 * time.Second)}},
		{"first alert after the wait", open(), waiting, start.Add(12 * time.Second),
			want{items: []string{"first:" + phoneA, "first:group:ops"}}},
		{"the wait holds no reminder", open(fired(start, phoneA, "group:ops")), waiting, start.Add(time.Hour),
			want{items: []string{"repeat:" + phoneA, "repeat:group:ops"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.inc, tt.cfg, tt.now)
			var items []string
			for _, it := range got.Items {
				items = append(items, string(it.Reason)+":"+it.To)
				if it.Due.After(tt.now) {
					t.Errorf("item %v due %v after now %v", it.Reason, it.Due, tt.now)
				}
			}
			if !slices.Equal(items, tt.want.items) {
				t.Errorf("items = %v, want %v", items, tt.want.items)
			}
			if !got.Next.Equal(tt.want.next) {
				t.Errorf("next = %v, want %v", got.Next, tt.want.next)
			}
			if got.Done != tt.want.done {
				t.Errorf("done = %v, want %v", got.Done, tt.want.done)
			}
		})
	}
}

func TestFoldRecoveries(t *testing.T) {
	incs := map[string]*incident{
		"blind":  {Incident: Incident{ID: "blind", Kind: KindCannotCheck, Check: "oom"}},
		"oom":    {Incident: Incident{ID: "oom", Check: "oom"}},
		"httpd":  {Incident: Incident{ID: "httpd", Check: "httpd"}},
		"remote": {Incident: Incident{ID: "remote", Check: "oom", Host: "web01"}},
	}
	r := func(reason Reason, id, to string) ref { return ref{ID: id, item: item{Reason: reason, To: to}} }
	show := func(refs []ref) string {
		var out []string
		for _, x := range refs {
			out = append(out, string(x.Reason)+":"+x.ID+">"+x.To)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name          string
		first, solved []ref
		wantFirst     string
		wantSolved    string
	}{
		{"sees again, then fails: one message", []ref{r(ReasonFirst, "oom", phoneA)}, []ref{r(ReasonResolved, "blind", phoneA)},
			"resolved:blind>" + phoneA + " first:oom>" + phoneA, ""},
		{"only to the same recipient", []ref{r(ReasonFirst, "oom", phoneA)}, []ref{r(ReasonResolved, "blind", phoneA), r(ReasonResolved, "blind", phoneB)},
			"resolved:blind>" + phoneA + " first:oom>" + phoneA, "resolved:blind>" + phoneB},
		{"another check's recovery stays apart", []ref{r(ReasonFirst, "oom", phoneA)}, []ref{r(ReasonResolved, "httpd", phoneA)},
			"first:oom>" + phoneA, "resolved:httpd>" + phoneA},
		{"another host's recovery stays apart", []ref{r(ReasonFirst, "oom", phoneA)}, []ref{r(ReasonResolved, "remote", phoneA)},
			"first:oom>" + phoneA, "resolved:remote>" + phoneA},
		{"no first message: nothing to fold into", nil, []ref{r(ReasonResolved, "blind", phoneA)},
			"", "resolved:blind>" + phoneA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byReason := map[Reason][]ref{}
			if tt.first != nil {
				byReason[ReasonFirst] = tt.first
			}
			byReason[ReasonResolved] = tt.solved
			foldRecoveries(byReason, incs)
			if got := show(byReason[ReasonFirst]); got != tt.wantFirst {
				t.Errorf("first = %s, want %s", got, tt.wantFirst)
			}
			if got := show(byReason[ReasonResolved]); got != tt.wantSolved {
				t.Errorf("resolved = %s, want %s", got, tt.wantSolved)
			}
		})
	}
}
