// Package outbox is the front door of the SMS pipeline: it validates a send
// request, resolves groups, enforces sms.limits and stores the message with
// one queued delivery per recipient. Stored means accepted — nothing is
// acknowledged to a caller before CreateMessage has committed.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Request is a send request from any source (API, CLI, console, alerts).
type Request struct {
	To     []string  // phone numbers in any common form; "group:NAME" entries are groups
	Groups []string  // group names (address book or alerting.groups)
	Text   string    // sms.DecideKind checks it: CP949 only, no control characters
	Title  string    // LMS only
	Type   string    // auto (default) | sms | lms
	Test   bool      // gateway test mode
	At     time.Time // send at; zero = now; at most LatestAt(now)
	Sender string    // registered sender; empty = sms.sender
	Source string    // api, cli, console, alert, compat
	Actor  string    // user or token name, for history and the audit log
	// Template is the munja message template the text was written from
	// (console, API; "" = none, at most MaxTemplateName characters): a
	// provider that sends only through approved templates (Kakao
	// Alimtalk) chooses by it.
	Template string
	// DropLimited leaves out recipients over sms.limits.per_recipient_per_hour
	// instead of refusing the message (alerts: one exhausted phone must not
	// hold everyone's page). They are listed in the message's Dropped.
	DropLimited bool
	// Once names a request that may be sent again (a webhook retried after
	// its answer was lost): while a message stored under the same key was
	// created at most OnceWindow before now, Submit stores nothing and
	// returns a *DuplicateError naming it. Empty: every request is stored.
	Once       string
	OnceWindow time.Duration
}

// DuplicateError is Submit's answer to a request whose message is already
// stored (Request.Once).
type DuplicateError = store.DuplicateError

// MaxTemplateName is the longest Request.Template.
const MaxTemplateName = 100

// LimitError is a refusal by sms.limits (decided by the store, in the
// transaction that would have stored the message).
type LimitError = store.LimitError

// Limits are sms.limits.
type Limits struct {
	PerDay              int
	PerRecipientPerHour int
}

// Options configure an Outbox.
type Options struct {
	Store         store.Store
	Limits        Limits
	DefaultSender string
	// ConfigGroups are alerting.groups: name → member phone strings.
	ConfigGroups map[string][]string
	Location     *time.Location // for the daily budget's midnight
	Now          func() time.Time
	// Wake is called after a message was stored (the dispatcher's Wake).
	Wake func()
	// OnCall resolves an "oncall:REF" recipient (REF is a schedule name,
	// optionally with ":next" or ":all") to the phones it names at the
	// given time. Nil: such recipients are refused.
	OnCall func(ctx context.Context, ref string, at time.Time) ([]sms.Phone, error)
	// Accepted, when set, is told about every stored message (metrics).
	Accepted func(m *sms.Message)
}

// LatestAt is the furthest ahead a message may be scheduled: one year after
// now. Aligo documents only a lower bound for reservations (rdate/rtime at
// least 10 minutes ahead, aligo-api.md §2.4), and munja keeps scheduled
// messages in its own outbox rather than at the gateway, so the bound is
// munja's: a year covers every real schedule (the console offers the same),
// refuses typos such as 2062 for 2026, and keeps every stored time inside
// the years 0–9999 that JSON and RFC 3339 can carry in any time zone.
func LatestAt(now time.Time) time.Time { return now.AddDate(1, 0, 0) }

// Outbox accepts messages into the store.
type Outbox struct {
	opt Options
}

func New(opt Options) *Outbox {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	return &Outbox{opt: opt}
}

// Submit validates req and stores it. The returned message has its ID and
// one queued delivery per distinct recipient. Errors are *sms.FieldError,
// *sms.CharError, *sms.PhoneError (bad input), *LimitError (refused),
// *DuplicateError (already stored, see Request.Once) or a store failure
// (nothing was accepted).
func (o *Outbox) Submit(ctx context.Context, req Request) (*sms.Message, error) {
	phones, err := o.recipients(ctx, req)
	if err != nil {
		return nil, err
	}
	m := &sms.Message{
		Text:      sms.NormalizeNewlines(req.Text),
		Title:     sms.NormalizeNewlines(req.Title),
		Sender:    req.Sender,
		Test:      req.Test,
		At:        req.At,
		Source:    req.Source,
		CreatedBy: req.Actor,
		Template:  strings.TrimSpace(req.Template),
	}
	if n := utf8.RuneCountInString(m.Template); n > MaxTemplateName || strings.ContainsFunc(m.Template, sms.Invisible) {
		return nil, &sms.FieldError{Field: "template", Msg: fmt.Sprintf("must be a template name of at most %d characters without control characters", MaxTemplateName)}
	}
	kind, err := sms.DecideKind(m.Text, m.Title, req.Type)
	if err != nil {
		return nil, err
	}
	m.Kind = kind
	if kind == sms.KindSMS {
		m.Title = ""
	}
	now := o.opt.Now()
	if !m.At.IsZero() {
		if m.At.Before(now.Add(-time.Minute)) {
			return nil, &sms.FieldError{Field: "at", Msg: "is in the past"}
		}
		if m.At.After(LatestAt(now)) {
			return nil, &sms.FieldError{Field: "at", Msg: "is more than a year ahead"}
		}
		if !m.At.After(now) {
			m.At = time.Time{}
		}
	}
	if m.Sender == "" {
		m.Sender = o.opt.DefaultSender
	}
	if m.Sender != "" {
		p, err := sms.ParsePhone(m.Sender)
		if err != nil {
			return nil, &sms.FieldError{Field: "sender", Msg: err.Error()}
		}
		m.Sender = string(p)
	}
	m.CreatedAt = now
	for _, p := range phones {
		m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: p})
	}
	opt := store.Create{Limits: o.limits(now, req.DropLimited), Audit: o.audit}
	if req.Once != "" {
		opt.Once = store.Once{Key: req.Once, Since: now.Add(-req.OnceWindow)}
	}
	if err := o.opt.Store.CreateWith(ctx, m, opt); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, le
		}
		var de *DuplicateError
		if errors.As(err, &de) {
			return nil, de
		}
		return nil, fmt.Errorf("store message: %w", err)
	}
	if o.opt.Wake != nil {
		o.opt.Wake()
	}
	if o.opt.Accepted != nil {
		o.opt.Accepted(m)
	}
	return m, nil
}

// audit is the message.create entry of m as stored, written in the
// message's own transaction (store.Create.Audit) for every door alike (API,
// compat, webhooks, CLI, console, alerts, agents): who (Request.Actor), the
// message ID and what kind of message to how many — never the text.
func (o *Outbox) audit(m *sms.Message) store.AuditEntry {
	detail := fmt.Sprintf("%s, %d %s", m.Kind, len(m.Deliveries), plural(len(m.Deliveries), "recipient", "recipients"))
	if len(m.Dropped) > 0 {
		detail += fmt.Sprintf(", %d over the hourly limit", len(m.Dropped))
	}
	if m.Test {
		detail += ", test"
	}
	if !m.At.IsZero() {
		detail += ", at " + m.At.In(o.opt.Location).Format("2006-01-02 15:04")
	}
	if m.Template != "" {
		detail += ", Kakao Alimtalk by template " + m.Template
	}
	actor := m.CreatedBy
	if actor == "" {
		actor = m.Source
	}
	return store.AuditEntry{At: m.CreatedAt, Actor: actor, Action: ActionMessageCreate,
		Target: "message " + strconv.FormatInt(m.ID, 10), Detail: detail}
}

// ActionMessageCreate is the audit action of every stored message.
const ActionMessageCreate = "message.create"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// limits are sms.limits for a send at now: the day starts at local
// midnight, the hour an hour before now.
func (o *Outbox) limits(now time.Time, dropLimited bool) store.Limits {
	local := now.In(o.opt.Location)
	return store.Limits{
		PerDay:              o.opt.Limits.PerDay,
		DayStart:            time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, o.opt.Location),
		PerRecipientPerHour: o.opt.Limits.PerRecipientPerHour,
		HourStart:           now.Add(-time.Hour),
		DropLimited:         dropLimited,
	}
}

// recipients parses and deduplicates every number and group member.
func (o *Outbox) recipients(ctx context.Context, req Request) ([]sms.Phone, error) {
	var out []sms.Phone
	groups := append([]string(nil), req.Groups...)
	for i, raw := range req.To {
		raw = strings.TrimSpace(raw)
		if name, ok := strings.CutPrefix(raw, "group:"); ok {
			groups = append(groups, name)
			continue
		}
		if ref, ok := strings.CutPrefix(raw, "oncall:"); ok {
			phones, err := o.onCall(ctx, ref)
			var se storeError
			if errors.As(err, &se) {
				return nil, se.err
			}
			if err != nil {
				return nil, &sms.FieldError{Field: fmt.Sprintf("to[%d]", i), Msg: err.Error()}
			}
			out = append(out, phones...)
			continue
		}
		p, err := sms.ParsePhone(raw)
		if err != nil {
			return nil, &sms.FieldError{Field: fmt.Sprintf("to[%d]", i), Msg: err.Error()}
		}
		out = append(out, p)
	}
	for i, g := range groups {
		members, err := o.groupPhones(ctx, strings.TrimSpace(g))
		var se storeError
		if errors.As(err, &se) {
			return nil, se.err // the store failed: not the caller's input
		}
		if err != nil {
			return nil, &sms.FieldError{Field: fmt.Sprintf("groups[%d]", i), Msg: err.Error()}
		}
		out = append(out, members...)
	}
	out = sms.DedupPhones(out)
	if len(out) == 0 {
		return nil, &sms.FieldError{Field: "to", Msg: "at least one recipient is required"}
	}
	return out, nil
}

// onCall resolves an oncall: recipient at the time of the send.
func (o *Outbox) onCall(ctx context.Context, ref string) ([]sms.Phone, error) {
	if o.opt.OnCall == nil {
		return nil, fmt.Errorf("oncall:%s: no on-call schedules are configured", ref)
	}
	phones, err := o.opt.OnCall(ctx, strings.TrimSpace(ref), o.opt.Now())
	var nf *OnCallError
	if err != nil && !errors.As(err, &nf) {
		return nil, storeError{fmt.Errorf("oncall:%s: %w", ref, err)}
	}
	return phones, err
}

// OnCallError is Options.OnCall's answer for a reference that names no
// schedule (bad input, as opposed to a failing store).
type OnCallError struct{ Msg string }

func (e *OnCallError) Error() string { return e.Msg }

// storeError marks a failure of the store (as opposed to bad input).
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }

func (o *Outbox) groupPhones(ctx context.Context, name string) ([]sms.Phone, error) {
	if name == "" {
		return nil, errors.New("empty group name")
	}
	var out []sms.Phone
	found := false
	if members, ok := o.opt.ConfigGroups[name]; ok {
		found = true
		for _, raw := range members {
			p, err := sms.ParsePhone(raw)
			if err != nil {
				return nil, fmt.Errorf("group %q member %q: %w", name, raw, err)
			}
			out = append(out, p)
		}
	}
	phones, err := o.opt.Store.GroupPhones(ctx, name)
	switch {
	case err == nil:
		found = true
		out = append(out, phones...)
	case !errors.Is(err, store.ErrNotFound):
		return nil, storeError{fmt.Errorf("group %q: %w", name, err)}
	}
	if !found {
		return nil, fmt.Errorf("no group named %q", name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("group %q has no members", name)
	}
	return out, nil
}
