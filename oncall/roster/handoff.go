package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/outbox"
)

// OpenIncident is an incident still open at a handoff, for the outgoing
// person's summary.
type OpenIncident struct {
	Check, Host string
	Started     time.Time
}

// NoticeOptions configure RunNotices.
type NoticeOptions struct {
	Outbox *outbox.Outbox
	// Notice and Summary say, per schedule name, whether the incoming
	// person is told (handoff_notice) and the outgoing one gets a summary
	// of open incidents (handoff_summary).
	Notice, Summary map[string]bool
	// Open lists the open incidents (nil: none are known).
	Open     func() []OpenIncident
	Location *time.Location // for the times in the messages
	Now      func() time.Time
	// Tick is how often handoffs are looked for (default 20s); CatchUp is
	// how late a handoff is still announced (missed while munja was down,
	// or made by an override starting in the past; default 1h).
	Tick, CatchUp time.Duration
}

// RunNotices sends the handoff messages until ctx ends: at each handoff
// the incoming person gets "[당직] 이번 주 당직입니다: 12/08 09:00 ~ 12/15
// 09:00 (ops)" once per turn (a layer restricted to some hours hands over
// every day, but the person is told once, at the turn's first shift), and
// with handoff_summary the outgoing one, once their turn is over, the open
// incidents. Each message is stored under a key naming the turn
// (outbox.Request.Once), so a restart or a second replica does not send it
// twice.
func (r *Roster) RunNotices(ctx context.Context, opt NoticeOptions) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tick <= 0 {
		opt.Tick = 20 * time.Second
	}
	if opt.CatchUp <= 0 {
		opt.CatchUp = time.Hour
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	t := time.NewTicker(opt.Tick)
	defer t.Stop()
	for {
		// The whole last CatchUp every time: a handoff missed while munja
		// was down, or one an override just put in the past, is still
		// announced; the keys keep each message to one.
		now := opt.Now()
		r.NoticesDue(ctx, opt, now.Add(-opt.CatchUp), now)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NoticesDue sends the messages of the handoffs in (since, now] and
// reports whether all were stored (false: try the range again).
func (r *Roster) NoticesDue(ctx context.Context, opt NoticeOptions, since, now time.Time) bool {
	ok := true
	for _, base := range r.opt.Schedules {
		if !opt.Notice[base.Name] && !opt.Summary[base.Name] {
			continue
		}
		s, err := r.Schedule(ctx, base.Name)
		if err != nil {
			r.opt.Log.Error("oncall: handoffs not checked", "schedule", base.Name, "err", err)
			ok = false
			continue
		}
		for h, more := s.NextHandoff(since); more && !h.At.After(now); h, more = s.NextHandoff(h.At) {
			if opt.Notice[s.Name] && h.Incoming.Member != "" {
				ok = r.tell(ctx, opt, s, h) && ok
			}
			if opt.Summary[s.Name] && h.Outgoing.Member != "" && h.Outgoing.Member != h.Incoming.Member && turnOver(s, h) {
				ok = r.summarize(ctx, opt, s, h) && ok
			}
		}
	}
	return ok
}

// turnOver reports whether the outgoing person's turn ended at h: they
// are not on call again in the rest of it (a layer of working hours hands
// over every evening, but the turn is over only after its last day).
func turnOver(s *oncall.Schedule, h oncall.Handoff) bool {
	out := h.Outgoing
	if out.Override || !out.TurnEnd.After(h.At) {
		return true
	}
	for _, sh := range s.Shifts(h.At, out.TurnEnd) {
		if sh.Member == out.Member && sh.LayerIndex == out.LayerIndex && sh.TurnStart.Equal(out.TurnStart) && sh.Start.After(h.At.Add(-time.Second)) {
			return false
		}
	}
	return true
}

// tell sends the incoming person's notice, once per turn or override.
func (r *Roster) tell(ctx context.Context, opt NoticeOptions, s *oncall.Schedule, h oncall.Handoff) bool {
	in := h.Incoming
	var text, key string
	var window time.Duration
	label := s.Name
	if len(s.Layers) > 1 && !in.Override {
		label += " · " + in.Layer
	}
	if in.Override {
		key = "oncall-notice:" + s.Name + ":override:" + in.OverrideID
		text = fmt.Sprintf("[당직] 대체 당직입니다: %s ~ %s (%s)", r.short(opt, in.Start), r.short(opt, in.End), label)
		window = in.End.Sub(in.Start) + 24*time.Hour
	} else {
		key = fmt.Sprintf("oncall-notice:%s:%d:%d:%s", s.Name, in.LayerIndex, in.TurnStart.Unix(), in.Member)
		what := "당직입니다"
		switch s.Layers[in.LayerIndex].Rotation.Days {
		case 7:
			what = "이번 주 당직입니다"
		case 1:
			what = "오늘 당직입니다"
		}
		text = fmt.Sprintf("[당직] %s: %s ~ %s (%s)", what, r.short(opt, in.TurnStart), r.short(opt, in.TurnEnd), label)
		window = in.TurnEnd.Sub(in.TurnStart) + 24*time.Hour
	}
	return r.send(ctx, opt, s.Name, in.Member, text, key, window)
}

// summarize sends the outgoing person the open incidents.
func (r *Roster) summarize(ctx context.Context, opt NoticeOptions, s *oncall.Schedule, h oncall.Handoff) bool {
	out := h.Outgoing
	var open []OpenIncident
	if opt.Open != nil {
		open = opt.Open()
	}
	text := fmt.Sprintf("[당직] %s 당직이 끝났습니다. 미해결 장애 없음.", s.Name)
	if len(open) > 0 {
		var parts []string
		for i, inc := range open {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("외 %d건", len(open)-5))
				break
			}
			name := inc.Check
			if inc.Host != "" {
				name += "@" + inc.Host
			}
			parts = append(parts, fmt.Sprintf("%s(%s~)", name, r.short(opt, inc.Started)))
		}
		text = fmt.Sprintf("[당직] %s 당직이 끝났습니다. 미해결 장애 %d건: %s", s.Name, len(open), strings.Join(parts, ", "))
	}
	key := fmt.Sprintf("oncall-summary:%s:%d:%d:%s:%s", s.Name, out.LayerIndex, out.TurnStart.Unix(), out.OverrideID, out.Member)
	return r.send(ctx, opt, s.Name, out.Member, text, key, 8*24*time.Hour)
}

func (r *Roster) short(opt NoticeOptions, t time.Time) string {
	return t.In(opt.Location).Format("01/02 15:04")
}

// send stores one handoff message to a member, once under key.
func (r *Roster) send(ctx context.Context, opt NoticeOptions, schedule, member, text, key string, window time.Duration) bool {
	phones, err := r.phones(ctx, member)
	if err != nil {
		r.opt.Log.Error("oncall: handoff message not sent", "schedule", schedule, "member", member, "err", err)
		return false
	}
	if len(phones) == 0 {
		r.opt.Log.Warn("oncall: handoff message not sent: the member has no phone number", "schedule", schedule, "member", member)
		return true
	}
	to := make([]string, len(phones))
	for i, p := range phones {
		to[i] = string(p)
	}
	_, err = opt.Outbox.Submit(ctx, outbox.Request{To: to, Text: text, Type: "auto", Source: "alert",
		Actor: "oncall:" + schedule, Once: key, OnceWindow: window, DropLimited: true})
	var dup *outbox.DuplicateError
	switch {
	case err == nil:
		r.opt.Log.Info("oncall: handoff message sent", "schedule", schedule, "member", member, "text", text)
	case errors.As(err, &dup):
	default:
		r.opt.Log.Error("oncall: handoff message not stored", "schedule", schedule, "member", member, "err", err)
		return false
	}
	return true
}
