// Package roster is the live side of on-call: the configured schedules
// (package oncall), the overrides people add in the console or the API
// (kept in the store, audited), and the address book that turns a member
// as written in the config — a contact's name, a phone number, group:NAME
// — into phone numbers. The outbox asks it to resolve "oncall:NAME"
// recipients at send time (Resolve), the console and the API show who is
// on call and add overrides, and the handoff notices ask it who comes and
// goes.
package roster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Store is what the roster keeps and reads: overrides as state entries,
// the address book, and the audit log.
type Store interface {
	store.AlertState
	store.Contacts
	store.Audit
}

// Options configure a Roster.
type Options struct {
	Schedules []*oncall.Schedule // validated
	Store     Store
	// ConfigGroups are alerting.groups: name → member phone strings.
	ConfigGroups map[string][]string
	Log          *slog.Logger
}

// Roster answers who is on call. It is safe for concurrent use.
type Roster struct {
	opt    Options
	byName map[string]*oncall.Schedule
}

// New returns a roster over the schedules.
func New(opt Options) *Roster {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &Roster{opt: opt, byName: map[string]*oncall.Schedule{}}
	for _, s := range opt.Schedules {
		r.byName[s.Name] = s
	}
	return r
}

// Names lists the schedules in config order.
func (r *Roster) Names() []string {
	out := make([]string, len(r.opt.Schedules))
	for i, s := range r.opt.Schedules {
		out[i] = s.Name
	}
	return out
}

// ErrNoSchedule is returned for a name that is no configured schedule.
var ErrNoSchedule = errors.New("no such on-call schedule")

// StoredOverride is an override as kept: who covers when, who made it.
type StoredOverride struct {
	ID        string    `json:"id"`
	Schedule  string    `json:"schedule"`
	Member    string    `json:"member"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// overridePrefix is where a schedule's overrides are kept (store.AlertState).
func overridePrefix(schedule string) string { return "oncall/override/" + schedule + "/" }

// Overrides returns a schedule's overrides, oldest first (the order in
// which a later one wins where they overlap).
func (r *Roster) Overrides(ctx context.Context, name string) ([]StoredOverride, error) {
	if _, ok := r.byName[name]; !ok {
		return nil, ErrNoSchedule
	}
	m, err := r.opt.Store.ListState(ctx, overridePrefix(name))
	if err != nil {
		return nil, fmt.Errorf("oncall %s: overrides: %w", name, err)
	}
	out := make([]StoredOverride, 0, len(m))
	for k, v := range m {
		var o StoredOverride
		if err := json.Unmarshal(v, &o); err != nil {
			r.opt.Log.Warn("oncall: unreadable override skipped", "key", k, "err", err)
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b StoredOverride) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Schedule returns the named schedule with its stored overrides applied.
func (r *Roster) Schedule(ctx context.Context, name string) (*oncall.Schedule, error) {
	base, ok := r.byName[name]
	if !ok {
		return nil, ErrNoSchedule
	}
	ovs, err := r.Overrides(ctx, name)
	if err != nil {
		return nil, err
	}
	s := *base
	s.Overrides = append(slices.Clip(base.Overrides), make([]oncall.Override, 0, len(ovs))...)
	for _, o := range ovs {
		s.Overrides = append(s.Overrides, oncall.Override{ID: o.ID, Member: o.Member, From: o.From, To: o.To})
	}
	return &s, nil
}

// OverrideError is a refused override (bad input), naming the field.
type OverrideError struct{ Field, Msg string }

func (e *OverrideError) Error() string { return e.Field + ": " + e.Msg }

// MaxOverride is the longest one override may cover.
const MaxOverride = 92 * 24 * time.Hour

// AddOverride stores an override made by actor (audited as
// oncall.override) and returns it with its ID. The member must resolve to
// at least one phone now.
func (r *Roster) AddOverride(ctx context.Context, name string, o StoredOverride, actor string, now time.Time) (StoredOverride, error) {
	if _, ok := r.byName[name]; !ok {
		return o, ErrNoSchedule
	}
	o.Member = strings.TrimSpace(o.Member)
	o.Note = strings.TrimSpace(o.Note)
	switch {
	case o.Member == "":
		return o, &OverrideError{"member", "required"}
	case o.From.IsZero():
		return o, &OverrideError{"from", "required"}
	case o.To.IsZero():
		return o, &OverrideError{"to", "required"}
	case !o.To.After(o.From):
		return o, &OverrideError{"to", "must be after from"}
	case o.To.Sub(o.From) > MaxOverride:
		return o, &OverrideError{"to", "an override covers at most 92 days"}
	case !o.To.After(now):
		return o, &OverrideError{"to", "is in the past"}
	case len([]rune(o.Note)) > 200:
		return o, &OverrideError{"note", "at most 200 characters"}
	}
	if err := oncall.ValidMember(o.Member); err != nil {
		return o, &OverrideError{"member", err.Error()}
	}
	phones, err := r.phones(ctx, o.Member)
	if err != nil {
		return o, err
	}
	if len(phones) == 0 {
		return o, &OverrideError{"member", fmt.Sprintf("%q is no phone number, contact or group with members", o.Member)}
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	o.ID, o.Schedule, o.CreatedBy, o.CreatedAt = hex.EncodeToString(id[:]), name, actor, now
	b, err := json.Marshal(o)
	if err != nil {
		return o, err
	}
	if err := r.opt.Store.PutState(ctx, overridePrefix(name)+o.ID, b); err != nil {
		return o, fmt.Errorf("oncall %s: store override: %w", name, err)
	}
	r.audit(ctx, store.AuditEntry{At: now, Actor: actor, Action: "oncall.override", Target: "oncall:" + name,
		Detail: fmt.Sprintf("%s from %s to %s id %s", o.Member, o.From.Format(time.RFC3339), o.To.Format(time.RFC3339), o.ID)})
	return o, nil
}

// DeleteOverride removes an override (audited as oncall.override_delete).
func (r *Roster) DeleteOverride(ctx context.Context, name, id, actor string, now time.Time) error {
	ovs, err := r.Overrides(ctx, name)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ovs, func(o StoredOverride) bool { return o.ID == id })
	if i < 0 {
		return store.ErrNotFound
	}
	if err := r.opt.Store.DeleteState(ctx, overridePrefix(name)+id); err != nil {
		return fmt.Errorf("oncall %s: delete override: %w", name, err)
	}
	r.audit(ctx, store.AuditEntry{At: now, Actor: actor, Action: "oncall.override_delete", Target: "oncall:" + name,
		Detail: fmt.Sprintf("%s from %s to %s id %s", ovs[i].Member, ovs[i].From.Format(time.RFC3339), ovs[i].To.Format(time.RFC3339), id)})
	return nil
}

func (r *Roster) audit(ctx context.Context, e store.AuditEntry) {
	if err := r.opt.Store.AddAudit(ctx, e); err != nil {
		r.opt.Log.Error("audit log write failed", "action", e.Action, "target", e.Target, "err", err)
	}
}

// Status is who is on call on one schedule at a time, and what comes next.
type Status struct {
	Schedule string
	OnCall   bool         // false: no layer applies and no override covers
	Shift    oncall.Shift // the current shift (when OnCall)
	Name     string       // the member as a person: the contact's name, or the member as written
	Phones   []sms.Phone
	Next     oncall.Handoff // the next change; zero At when none is ahead
	NextName string
}

// Now returns who is on call on the schedule at t.
func (r *Roster) Now(ctx context.Context, name string, t time.Time) (Status, error) {
	s, err := r.Schedule(ctx, name)
	if err != nil {
		return Status{}, err
	}
	st := Status{Schedule: name}
	if sh, ok := s.At(t); ok {
		st.OnCall, st.Shift = true, sh
		if st.Phones, err = r.phones(ctx, sh.Member); err != nil {
			return st, err
		}
		st.Name = r.DisplayName(ctx, sh.Member)
	}
	if h, ok := s.NextHandoff(t); ok {
		st.Next = h
		if h.Incoming.Member != "" {
			st.NextName = r.DisplayName(ctx, h.Incoming.Member)
		}
	}
	return st, nil
}

// All returns Now for every schedule, in config order.
func (r *Roster) All(ctx context.Context, t time.Time) ([]Status, error) {
	out := make([]Status, 0, len(r.opt.Schedules))
	for _, s := range r.opt.Schedules {
		st, err := r.Now(ctx, s.Name, t)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Shifts returns the schedule's shifts over [from, to), overrides applied.
func (r *Roster) Shifts(ctx context.Context, name string, from, to time.Time) ([]oncall.Shift, error) {
	s, err := r.Schedule(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.Shifts(from, to), nil
}

// ICalendar renders the schedule's shifts over [from, to) as an
// iCalendar feed.
func (r *Roster) ICalendar(ctx context.Context, name string, from, to, now time.Time) ([]byte, error) {
	s, err := r.Schedule(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.ICalendar(from, to, now), nil
}

// Resolve is outbox.Options.OnCall: "NAME" is whoever is on call at t,
// "NAME:next" the next person in the rotation after them (an escalation
// step), "NAME:all" every member. When nobody is on call (a gap between
// restricted layers) the whole schedule is paged rather than nobody.
func (r *Roster) Resolve(ctx context.Context, ref string, t time.Time) ([]sms.Phone, error) {
	name, mode, _ := strings.Cut(ref, ":")
	if _, ok := r.byName[name]; !ok {
		return nil, &outbox.OnCallError{Msg: fmt.Sprintf("oncall:%s: no on-call schedule named %q (configured: %s)", ref, name, strings.Join(r.Names(), ", "))}
	}
	s, err := r.Schedule(ctx, name)
	if err != nil {
		return nil, err
	}
	var members []string
	switch mode {
	case "":
		if sh, ok := s.At(t); ok {
			members = []string{sh.Member}
		}
	case "next":
		if m, ok := s.NextInRotation(t); ok {
			members = []string{m}
		}
	case "all":
		members = s.Members()
	default:
		return nil, &outbox.OnCallError{Msg: fmt.Sprintf("oncall:%s: %q is not next or all", ref, mode)}
	}
	if len(members) == 0 {
		r.opt.Log.Warn("oncall: nobody on call, paging the whole schedule", "schedule", name, "ref", ref, "at", t)
		members = s.Members()
	}
	var out []sms.Phone
	for _, m := range members {
		ps, err := r.phones(ctx, m)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			r.opt.Log.Warn("oncall: member has no phone", "schedule", name, "member", m)
		}
		out = append(out, ps...)
	}
	if len(out) == 0 {
		return nil, &outbox.OnCallError{Msg: fmt.Sprintf("oncall:%s: no member of the schedule has a phone number", ref)}
	}
	return sms.DedupPhones(out), nil
}

// phones turns a member as written into phone numbers: a phone number, a
// contact's exact name in the address book, or group:NAME (alerting.groups
// and the address book's group). An unknown name has none.
func (r *Roster) phones(ctx context.Context, member string) ([]sms.Phone, error) {
	if g, ok := strings.CutPrefix(member, "group:"); ok {
		var out []sms.Phone
		for _, raw := range r.opt.ConfigGroups[g] {
			if p, err := sms.ParsePhone(raw); err == nil {
				out = append(out, p)
			}
		}
		ps, err := r.opt.Store.GroupPhones(ctx, g)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("oncall: group %s: %w", g, err)
		}
		return sms.DedupPhones(append(out, ps...)), nil
	}
	if p, err := sms.ParsePhone(member); err == nil {
		return []sms.Phone{p}, nil
	}
	c, err := r.contact(ctx, member)
	if err != nil || c == nil {
		return nil, err
	}
	return []sms.Phone{c.Phone}, nil
}

// contact finds the address book entry with exactly this name.
func (r *Roster) contact(ctx context.Context, name string) (*store.Contact, error) {
	cs, err := r.opt.Store.ListContacts(ctx, name, 50, 0)
	if err != nil {
		return nil, fmt.Errorf("oncall: contact %s: %w", name, err)
	}
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], nil
		}
	}
	return nil, nil
}

// DisplayName is a member as people know it: a phone number of a contact
// shows as "name (phone)", anything else as written.
func (r *Roster) DisplayName(ctx context.Context, member string) string {
	p, err := sms.ParsePhone(member)
	if err != nil {
		return member
	}
	cs, err := r.opt.Store.ListContacts(ctx, string(p), 5, 0) // phones are stored as digits
	if err == nil {
		for _, c := range cs {
			if c.Phone == p {
				return c.Name + " (" + p.Display() + ")"
			}
		}
	}
	return p.Display()
}
