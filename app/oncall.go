package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/sms"
)

// buildOnCall builds the roster of oncall.schedules (none: a.OnCall stays
// nil and oncall: recipients are refused).
func (a *App) buildOnCall(groups map[string][]string) error {
	scheds, err := a.Config.OncallSchedules()
	if err != nil {
		return err
	}
	if len(scheds) == 0 {
		return nil
	}
	a.OnCall = roster.New(roster.Options{Schedules: scheds, Store: a.Store, ConfigGroups: groups, Log: a.Log.With("part", "oncall")})
	for _, s := range scheds {
		if s.UsesHolidays() && !a.Config.OncallHolidays().Covered(time.Now().AddDate(0, 2, 0)) {
			a.Log.Warn("oncall: the table of Korean public holidays ends within two months: update munja", "schedule", s.Name)
		}
	}
	return nil
}

// onCallResolver is the outbox's resolver of oncall: recipients (nil
// without schedules).
func (a *App) onCallResolver() func(ctx context.Context, ref string, at time.Time) ([]sms.Phone, error) {
	if a.OnCall == nil {
		return nil
	}
	return a.OnCall.Resolve
}

// noticeOptions configure the handoff messages of every schedule.
func (a *App) noticeOptions() roster.NoticeOptions {
	opt := roster.NoticeOptions{Outbox: a.Outbox, Location: a.Config.Location(),
		Notice: map[string]bool{}, Summary: map[string]bool{}, Open: a.openIncidents}
	for _, s := range a.Config.Oncall.Schedules {
		opt.Notice[s.Name], opt.Summary[s.Name] = s.Notice(), s.HandoffSummary
	}
	return opt
}

// openIncidents lists the open incidents for a handoff summary.
func (a *App) openIncidents() []roster.OpenIncident {
	e := a.Shown.Engine()
	if e == nil {
		return nil
	}
	var out []roster.OpenIncident
	for _, inc := range e.Incidents(true) {
		out = append(out, roster.OpenIncident{Check: inc.Check, Host: inc.Host, Started: inc.Started})
	}
	slices.SortFunc(out, func(x, y roster.OpenIncident) int { return x.Started.Compare(y.Started) })
	return out
}

// handedOver is the line a reminder or escalation sent to oncall:NAME
// carries when its incident began on someone else's shift: the new
// 당직자 gets it and is told it was handed over. "" when it was not.
func handedOver(ctx context.Context, r *roster.Roster, msg alert.Notification, now time.Time) string {
	if r == nil || msg.Started.IsZero() || (msg.Reason != alert.ReasonRepeat && msg.Reason != alert.ReasonEscalation) {
		return ""
	}
	var lines []string
	for _, to := range msg.Recipients {
		ref, ok := strings.CutPrefix(strings.TrimSpace(to), "oncall:")
		if !ok || strings.Contains(ref, ":") {
			continue
		}
		then, err1 := r.Now(ctx, ref, msg.Started)
		cur, err2 := r.Now(ctx, ref, now)
		if err1 != nil || err2 != nil || !then.OnCall || !cur.OnCall || then.Shift.Member == cur.Shift.Member {
			continue
		}
		lines = append(lines, fmt.Sprintf("[인계] %s 당직 중 시작된 장애입니다 (지금 당직: %s).", then.Name, cur.Name))
	}
	return strings.Join(lines, "\n")
}
