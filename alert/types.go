package alert

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// Reason says why a notification is sent.
type Reason string

// Reasons a notification is sent. ReasonNone means nothing is due.
const (
	ReasonNone       Reason = ""
	ReasonFirst      Reason = "first"
	ReasonRepeat     Reason = "repeat"
	ReasonResolved   Reason = "resolved"
	ReasonEscalation Reason = "escalation"
	ReasonFlapping   Reason = "flapping"
)

// Notification is one message the engine wants sent. The app stores it in
// the durable outbox; the outbox picks SMS or LMS from the text.
type Notification struct {
	Text       string
	Title      string   // set when Text is longer than an SMS (90 CP949 bytes)
	Recipients []string // phone numbers or "group:NAME", as configured
	Reason     Reason
	Checks     []string        // check names, in message order
	Hosts      []string        // the checks' hosts ("" = this host), in message order
	Incidents  []string        // incident IDs, in message order
	Severity   config.Severity // highest severity in the message
	// Started is when the earliest of the incidents began (a reminder
	// sent to oncall:NAME says so when that was on another person's shift).
	Started time.Time
}

// Notifier accepts notifications. The engine records an alert as notified
// only after Notify returned nil; on error it retries on a later tick.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Options configure an Engine.
type Options struct {
	Config    *config.Config
	State     store.AlertState
	Notifier  Notifier
	Clock     Clock        // default SystemClock()
	Log       *slog.Logger // default: discard
	PublicURL string       // base for ack links; "" = no links (default Config.Server.PublicURL)
	// RetryInterval is the wait after a failed Notify (default 10s).
	RetryInterval time.Duration
	// NotifyTimeout bounds one Notify call (default 10s).
	NotifyTimeout time.Duration
	// StopTimeout bounds the last save when Run ends (default 5s): the
	// changes first, then the result history as far as it gets (what
	// changed is written as it changes, so little is left then).
	StopTimeout time.Duration
	// ReadOnly makes a view of the state in the store for a replica that
	// does not run the engine (PostgreSQL replicas): Load writes nothing,
	// Observe is ignored, and acknowledging or silencing answers
	// ErrReadOnly, since the replica running the engine would not see it.
	ReadOnly bool
	// HostCheck is the check under which the server records whether an
	// agent's host reports (agent.LivenessCheck; default "agent"). While
	// it fails on a host, the alerts of that host's other checks are held:
	// the host-down alert is the one page. "host:NAME" in depends_on names
	// it too.
	HostCheck string
}

// Errors returned by the engine. Unknown incidents wrap store.ErrNotFound.
var (
	ErrInvalidToken   = errors.New("alert: ack link is invalid, used or expired")
	ErrIncidentClosed = errors.New("alert: incident is already resolved")
	ErrBadSilence     = errors.New("alert: invalid silence")
	ErrReadOnly       = errors.New("alert: this replica shows the alert state but does not run the alert engine; try again (another replica runs it)")
)

// HistoryPoint is one past result of a check: ok, failing, or (Unknown)
// cannot check.
type HistoryPoint struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Unknown bool      `json:"unknown,omitempty"`
}

// Check states reported by Checks.
const (
	StateUnknown = "unknown" // configured, no result yet
	StateOK      = "ok"
	StatePending = "pending" // failing, below the failures threshold
	StateFiring  = "firing"
	// StateCannotCheck: the latest result could not look (check.Result
	// Unknown). It pages like a failure, with its own incident (Incident
	// Kind KindCannotCheck), once the results that could not look reach
	// the failures threshold.
	StateCannotCheck = "cannot_check"
)

// Incident kinds. A check has two independent incidents: one for what it
// watches failing, one for being unable to look at it.
const (
	KindFailing     = ""             // what the check watches fails
	KindCannotCheck = "cannot_check" // the check cannot look
)

// CheckStatus is what the console shows for one check on one host.
type CheckStatus struct {
	Check   string
	Host    string // "" = this host
	State   string // unknown | ok | pending | firing | cannot_check
	Since   time.Time
	Last    check.Result   // zero before the first result
	History []HistoryPoint // oldest first, at most 50
	// Incident is the open incident ID, if any: while the check cannot
	// check, its cannot-check incident when that is open.
	Incident string
	Flapping bool
	Silenced bool
	// SuppressedBy lists, while the check fails or cannot check, the
	// checks it depends on that fail or cannot check now ("web-port",
	// "host:web01"): its alerts are held for theirs, its recoveries are
	// not.
	SuppressedBy []string
}

// SentNotification records one message sent for an incident.
type SentNotification struct {
	At         time.Time `json:"at"`
	Reason     Reason    `json:"reason"`
	Recipients []string  `json:"to"`
}

// Incident is one firing period of a check on a host: of what it watches
// failing, or (Kind KindCannotCheck) of being unable to look.
type Incident struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind,omitempty"` // KindFailing ("") or KindCannotCheck
	Check    string          `json:"check"`
	Host     string          `json:"host,omitempty"`
	Severity config.Severity `json:"severity"`
	Text     string          `json:"text"` // latest firing text
	Detail   string          `json:"detail,omitempty"`
	DetailKo string          `json:"detail_ko,omitempty"` // Detail in Korean
	Started  time.Time       `json:"started"`
	Resolved time.Time       `json:"resolved,omitzero"` // zero while open
	// Note explains a silent close, e.g. "check removed from config".
	Note     string    `json:"note,omitempty"`
	AckedBy  string    `json:"acked_by,omitempty"`
	AckedAt  time.Time `json:"acked_at,omitzero"`
	Flapping bool      `json:"flapping,omitempty"`
	// SuppressedBy: while open, the checks it depends on that fail or
	// cannot check now, holding its alerts (first, reminders, escalation);
	// once resolved, those that held it when it resolved, or held its
	// first alert so that nothing was ever sent for it.
	SuppressedBy []string `json:"suppressed_by,omitempty"`
	// Notifications holds the most recent messages (at most 50);
	// NotificationCount counts all of them.
	Notifications     []SentNotification `json:"sent,omitempty"`
	NotificationCount int                `json:"sent_count,omitempty"`
}

// Open reports whether the incident has not resolved.
func (i Incident) Open() bool { return i.Resolved.IsZero() }

// SilenceSpec asks for a runtime silence. Empty Check or Host match all.
type SilenceSpec struct {
	Check   string
	Host    string
	Until   time.Time
	By      string
	Comment string
}

// Silence is an active silence, from the config (ID "config-N") or added at runtime.
type Silence struct {
	ID         string    `json:"id"`
	Check      string    `json:"check,omitempty"`
	Host       string    `json:"host,omitempty"`
	Until      time.Time `json:"until"`
	By         string    `json:"by,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	FromConfig bool      `json:"-"`
}

// TemplateData is what alerting.templates.firing/resolved see.
type TemplateData struct {
	Alerts []TemplateAlert
	Count  int
	Host   string // the hosts' common name, "" when alerts come from several hosts
}

// TemplateAlert is one alert inside TemplateData.
type TemplateAlert struct {
	Check    string
	Host     string
	Text     string
	Detail   string // in English
	DetailKo string // in Korean
	Severity config.Severity
}
