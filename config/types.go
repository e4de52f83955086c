// Package config loads munja.yaml (DESIGN.md §4): ${VAR} expansion, X_file
// secrets, unknown keys refused, and Validate reporting every problem with
// its key path.
package config

// Config is the whole munja.yaml. Zero values are filled by Default/Load.
type Config struct {
	Server    Server   `yaml:"server"`
	Database  string   `yaml:"database"`
	Retention Duration `yaml:"retention"`
	Host      string   `yaml:"host"`
	Timezone  string   `yaml:"timezone"`
	Log       Log      `yaml:"log"`
	SMS       SMS      `yaml:"sms"`
	Checks    []Check  `yaml:"checks"`
	Alerting  Alerting `yaml:"alerting"`
	Agent     Agent    `yaml:"agent"`
	Oncall    Oncall   `yaml:"oncall"`

	src *source // where each key was in the file, for messages and order; nil when built in code
}

type Server struct {
	Listen          string   `yaml:"listen"`
	PublicURL       string   `yaml:"public_url"`
	TLSCert         string   `yaml:"tls_cert"`
	TLSKey          string   `yaml:"tls_key"`
	RedirectHTTP    string   `yaml:"redirect_http"`
	TrustedNetworks []string `yaml:"trusted_networks"`
	TrustedProxies  []string `yaml:"trusted_proxies"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"` // in-flight gateway calls get this long on SIGTERM (default 10s)
	// HeartbeatURL is called (GET) every HeartbeatInterval while munja is
	// healthy, so that a monitor outside (Healthchecks.io, an Uptime Kuma
	// push monitor, another munja's /api/v1/heartbeat/NAME) notices when
	// munja or its host is dead. A Secret: push URLs carry their token.
	HeartbeatURL      Secret   `yaml:"heartbeat_url"`
	HeartbeatInterval Duration `yaml:"heartbeat_interval"` // default 1m
}

type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

type SMS struct {
	Sender    string     `yaml:"sender"`
	Providers []Provider `yaml:"providers"`
	Limits    Limits     `yaml:"limits"`
	Retry     Retry      `yaml:"retry"`
	// LowBalance alerts alerting.recipients once when a provider's balance
	// buys fewer SMS than this (0 = off).
	LowBalance int `yaml:"low_balance"`
	// DownAfter: a provider that has failed every call this long is paged
	// to alerting.recipients through the other providers (default 5m; 0 =
	// off).
	DownAfter Duration `yaml:"down_after"`
}

// Provider is one gateway account: the keys every gateway has, and Options,
// the keys of its type, which the gateway's own package declares, decodes
// and validates (Provider.Decode: unknown keys refused, KEY_file secrets).
type Provider struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"` // a type in provider/providers' registry
	Sender   string   `yaml:"sender"`
	BaseURL  string   `yaml:"base_url"`
	TestMode bool     `yaml:"test_mode"`
	Timeout  Duration `yaml:"timeout"` // per gateway call (default 10s)

	// Options are the type's own keys (aligo: user_id, key; webhook: url,
	// headers, secret; …), as written.
	Options Options `yaml:",inline"`

	lines    map[string]int               // line of each option in the file, for errors
	readFile func(string) ([]byte, error) // for KEY_file options; nil = os.ReadFile
}

type Limits struct {
	PerDay              int `yaml:"per_day"`                // 0 = unlimited
	PerRecipientPerHour int `yaml:"per_recipient_per_hour"` // 0 = unlimited
}

// Retry governs retryable gateway failures.
type Retry struct {
	Initial     Duration `yaml:"initial"`       // first backoff (default 2s)
	Max         Duration `yaml:"max"`           // cap (default 5m)
	GiveUpAfter Duration `yaml:"give_up_after"` // a delivery fails after trying this long (default 24h)
}

// Check is one configured check. Only the keys of its type may be set.
type Check struct {
	Name       string   `yaml:"name"`
	Type       string   `yaml:"type"` // process | listen | tcp | http | log | disk | memory | load | command | heartbeat
	Interval   Duration `yaml:"interval"`
	Timeout    Duration `yaml:"timeout"`
	Message    string   `yaml:"message"`  // failure text template; default per type (DESIGN §5)
	Resolved   string   `yaml:"resolved"` // recovery text template
	Severity   Severity `yaml:"severity"` // info | warning | critical (default warning)
	Failures   int      `yaml:"failures"` // override alerting.failures
	Successes  int      `yaml:"successes"`
	Recipients []string `yaml:"recipients"` // override alerting.recipients
	// DependsOn names checks of the same host (or "host:NAME", an agent's
	// host) whose failure holds this check's alerts, never its recoveries.
	// Not part of the check's identity: changing it keeps the check's
	// state and open incident (the alert engine leaves it out of its hash).
	DependsOn []string `yaml:"depends_on" json:",omitempty"`

	// process
	Process  string `yaml:"process"` // exact name, like pgrep -x
	Cmdline  string `yaml:"cmdline"` // regex on the command line
	Pidfile  string `yaml:"pidfile"`
	MinCount int    `yaml:"min_count"` // default 1
	MaxCount int    `yaml:"max_count"` // 0 = no maximum

	// listen / tcp
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol"` // tcp (default) | udp
	Address  string `yaml:"address"`  // tcp: host:port

	// http
	URL          string   `yaml:"url"`
	Status       []int    `yaml:"status"` // default 200-399
	BodyContains string   `yaml:"body_contains"`
	BodyRegex    string   `yaml:"body_regex"`
	MaxLatency   Duration `yaml:"max_latency"`
	CertDays     int      `yaml:"cert_days"` // fail when the TLS certificate expires within N days
	Insecure     bool     `yaml:"insecure"`

	// log
	Path     string   `yaml:"path"`
	Journal  bool     `yaml:"journal"`
	Unit     string   `yaml:"unit"`
	Pattern  string   `yaml:"pattern"`
	Regex    bool     `yaml:"regex"`
	Window   Duration `yaml:"window"`
	Count    int      `yaml:"count"`    // N matches within window (default 1)
	Encoding string   `yaml:"encoding"` // utf-8 (default) | cp949

	// disk / memory / load
	Mount      string  `yaml:"mount"`
	MaxUsedPct float64 `yaml:"max_used_percent"`
	MinFree    string  `yaml:"min_free"` // e.g. "5GB"
	MaxLoad    float64 `yaml:"max_load"` // load average (1 min) per core… see check docs
	LoadPeriod string  `yaml:"load_period"`

	// command
	Command     []string `yaml:"command"`
	Shell       string   `yaml:"shell"` // run through /bin/sh -c when set
	OutputRegex string   `yaml:"output_regex"`
	ExitCode    int      `yaml:"exit_code"`

	// heartbeat
	Grace Duration `yaml:"grace"` // fail when no ping arrived for this long
}

type Alerting struct {
	Interval   Duration       `yaml:"interval"`
	Failures   int            `yaml:"failures"`
	Successes  int            `yaml:"successes"`
	GroupWait  Duration       `yaml:"group_wait"`
	Repeat     Duration       `yaml:"repeat"`
	Resolved   *bool          `yaml:"resolved"`
	Recipients []string       `yaml:"recipients"`
	Flapping   Flapping       `yaml:"flapping"`
	Groups     []Group        `yaml:"groups"`
	Silences   []Silence      `yaml:"silences"`
	Escalation []Escalation   `yaml:"escalation"`
	Templates  AlertTemplates `yaml:"templates"`
	// HistoryRetention is how long check history (a sample per check and
	// minute, every change of status) is kept; 0 keeps it for ever.
	HistoryRetention Duration `yaml:"history_retention"`
}

type Flapping struct {
	Window  Duration `yaml:"window"`  // default 10m
	Changes int      `yaml:"changes"` // state changes within window that count as flapping (default 4; 0 = off)
}

// Group is a named recipient list, referred to as "group:NAME".
type Group struct {
	Name       string   `yaml:"name"`
	Members    []string `yaml:"members"`
	QuietHours string   `yaml:"quiet_hours"` // e.g. "22:00-07:00": alerts below critical wait until the end
	// QuietDays limits the quiet hours to some days (the day a window
	// starts), in oncall's words: "workdays" (weekdays except holidays),
	// "offdays", "mon-fri", "sat,sun,holidays" …; "" is every day.
	QuietDays string `yaml:"quiet_days"`
}

type Silence struct {
	Check   string `yaml:"check"` // empty = all
	Host    string `yaml:"host"`
	Until   string `yaml:"until"` // RFC3339 or "2006-01-02 15:04" in timezone
	Comment string `yaml:"comment"`
}

type Escalation struct {
	After Duration `yaml:"after"` // not acknowledged within this → notify To
	To    []string `yaml:"to"`
}

type AlertTemplates struct {
	Firing   string `yaml:"firing"` // wraps grouped alerts; default joins the texts
	Resolved string `yaml:"resolved"`
}

type Agent struct {
	Server    string `yaml:"server"`
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
}

// Oncall is the on-call section: who is paged when a recipient says
// oncall:NAME (package oncall computes it; Config.OncallSchedules builds
// the schedules).
type Oncall struct {
	// DaysOff are company days off, "YYYY-MM-DD" optionally followed by a
	// name ("2027-01-04 시무식"): they count as holidays in every schedule's
	// workdays/offdays/holidays restrictions, beside the built-in table of
	// Korean public holidays.
	DaysOff   []string         `yaml:"days_off"`
	Schedules []OncallSchedule `yaml:"schedules"`
}

// OncallSchedule is one schedule: layers of members taking turns; a later
// layer beats an earlier one where it applies.
type OncallSchedule struct {
	Name string `yaml:"name"` // referred to as oncall:NAME and in /api/v1/oncall/NAME
	// HandoffNotice: SMS the incoming person at each handoff (default true;
	// see Notice).
	HandoffNotice *bool `yaml:"handoff_notice"`
	// HandoffSummary: SMS the outgoing person a summary of open incidents.
	HandoffSummary bool          `yaml:"handoff_summary"`
	Layers         []OncallLayer `yaml:"layers"`
}

// Notice reports handoff_notice, true unless set to false.
func (s OncallSchedule) Notice() bool { return s.HandoffNotice == nil || *s.HandoffNotice }

// OncallLayer is one rotation of a schedule.
type OncallLayer struct {
	Name string `yaml:"name"` // default "순번 N"
	// Members as written: contact names, phone numbers, group:NAME; the
	// caller resolves them to phone numbers at send time.
	Members  []string `yaml:"members"`
	Rotation string   `yaml:"rotation"` // daily | weekly | every
	Every    Duration `yaml:"every"`    // with rotation: every; whole days, e.g. 3d, 14d
	// Handoff is the time of day turns change hands, "09:00"; for turns of
	// whole weeks also a weekday, "mon 09:00".
	Handoff string `yaml:"handoff"`
	// Start (YYYY-MM-DD): members[0] takes over at the first handoff on or
	// after this date; the turns run on in both directions from there.
	Start string     `yaml:"start"`
	When  OncallWhen `yaml:"when"`
}

// OncallWhen restricts where a layer applies; empty = always.
type OncallWhen struct {
	// Days: workdays | offdays | weekdays | weekends | holidays | mon … sun
	// | mon-fri, comma-separated (any matches). Holidays are the built-in
	// Korean table plus oncall.days_off.
	Days string `yaml:"days"`
	// Hours: "HH:MM-HH:MM"; "18:00-09:00" runs past midnight and belongs to
	// the day it starts.
	Hours string `yaml:"hours"`
}
