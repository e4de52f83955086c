// Package check runs host checks (process, listen, tcp, http, log, journal,
// disk, memory, load, command, heartbeat) and reports Results to the alert
// engine. Check types are registered in one map (check/checks).
package check

import (
	"context"
	"log/slog"
	"time"

	"github.com/munja-sms/munja/config"
)

// Result is the outcome of one run of one check.
type Result struct {
	Check string // config name
	Host  string // host the check ran on ("" = this host)
	OK    bool   // false = failing, or cannot check (Unknown)
	// Unknown is the third outcome: the check could not look at what it
	// watches (journal or log file unreadable, /proc unreadable, command
	// not found, permission denied), so it knows neither ok nor failing.
	// OK is false then too, so nothing that reads OK counts it healthy;
	// Firing and Resolved are the cannot-check texts ("[경고] oom 점검
	// 불가: 시스템 저널을 읽을 수 없습니다.") and Detail says why.
	Unknown bool
	At      time.Time // when the run finished
	// Firing is the alert text while failing, e.g.
	// "[경고] httpd 프로세스가 동작하지 않습니다." (DESIGN §5 defaults).
	Firing string
	// Resolved is the recovery text, e.g. "[복구] httpd 프로세스가 다시 동작합니다."
	Resolved string
	// Detail is technical context for the console/logs (never sent by SMS
	// unless a template asks), e.g. "no process named httpd (0 < min 1)".
	Detail string
	// DetailKo is Detail in Korean, for operators (the Korean console),
	// e.g. "httpd 프로세스 없음 (0개, 최소 1개)". Every check fills both.
	DetailKo string `json:"detail_ko,omitempty"`
	Severity config.Severity
	Duration time.Duration
}

// Checker is one configured check.
type Checker interface {
	Name() string
	// Run performs the check once; it must return within ctx's deadline.
	Run(ctx context.Context) Result
}

// Watcher is implemented by checks that learn of failures as they happen
// (pidfd on a watched process, a followed log file). Watch blocks until ctx
// ends, calling emit with a fresh Result whenever the state may have changed;
// the runner still calls Run on the interval.
type Watcher interface {
	Watch(ctx context.Context, emit func(Result)) error
}

// AsyncWatcher is a Watcher that can watch without a goroutine of its own
// waiting while nothing happens (a log check between lines, a process
// check between exits); the Runner uses StartWatch instead of Watch. A
// waiting goroutine per watching check held 4–8 KiB of stack each: 2.6 MB
// of munja serve's memory at 1,000 checks (docs/BENCHMARKS.md section 9).
type AsyncWatcher interface {
	Watcher
	// StartWatch starts what Watch does and returns at once; done is called
	// once, with what Watch would have returned, when watching has ended.
	// emit and done may be called from any goroutine.
	StartWatch(ctx context.Context, emit func(Result), done func(error))
}

// Deps is what a check constructor may use.
type Deps struct {
	Host string // this host's name
	// State keeps what a check must not forget across restarts: heartbeat
	// pings (key "heartbeat/NAME", value RFC3339Nano time) and a log
	// check's matches within its window ("log/NAME"). Nil (munja agent):
	// kept in memory only.
	State StateStore
	Log   *slog.Logger
	Now   func() time.Time
}

// StateStore is the part of store.AlertState checks need.
type StateStore interface {
	GetState(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, value []byte) error
}

// Defaults are alerting-wide settings a check inherits.
type Defaults struct {
	Interval time.Duration
	Timeout  time.Duration
}
