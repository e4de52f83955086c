package store

import (
	"context"
	"time"
)

// Check statuses of a CheckChange.
const (
	CheckOK          = "ok"
	CheckFailing     = "failing"
	CheckCannotCheck = "cannot_check"
)

// CheckSample sums the results of one check on one host within one minute
// (the minute starting at At, UTC): a check running every second leaves one
// sample a minute, one running every five minutes one sample per run.
type CheckSample struct {
	Check string
	Host  string // "" = the host munja runs on
	At    time.Time
	// Results in the minute by outcome.
	OK, Failing, Unknown int
	// Latency of the results that measured one (http, tcp, command):
	// their number, sum and maximum.
	LatencyN   int
	LatencySum time.Duration
	LatencyMax time.Duration
}

// Total is how many results the sample sums.
func (s CheckSample) Total() int { return s.OK + s.Failing + s.Unknown }

// Add adds o's counts and latencies to s.
func (s *CheckSample) Add(o CheckSample) {
	s.OK += o.OK
	s.Failing += o.Failing
	s.Unknown += o.Unknown
	s.LatencyN += o.LatencyN
	s.LatencySum += o.LatencySum
	s.LatencyMax = max(s.LatencyMax, o.LatencyMax)
}

// CheckChange is a change of a check's outcome: the first result of a new
// status, with its detail.
type CheckChange struct {
	Check  string
	Host   string
	At     time.Time
	Status string // CheckOK, CheckFailing or CheckCannotCheck
	Detail string
	// DetailKo is Detail in Korean (check.Result.DetailKo; "" for none).
	DetailKo string
}

// CheckHistory keeps what checks found, compactly: a sample per check and
// minute plus every change of status. Storage grows with time and the
// number of checks, not with how often they run.
type CheckHistory interface {
	// AddCheckHistory stores samples and changes in one transaction. A
	// sample for a minute already stored adds its counts to that minute
	// (so a writer may flush a minute in parts).
	AddCheckHistory(ctx context.Context, samples []CheckSample, changes []CheckChange) error
	// CheckSamples returns the samples of check on host with from <= At <
	// to, oldest first.
	CheckSamples(ctx context.Context, check, host string, from, to time.Time) ([]CheckSample, error)
	// CheckSeries sums the samples of check on host with from <= At < to
	// into steps of step (a whole number of minutes) counted from from:
	// one sample per step holding any, At its start, oldest first. A chart
	// of 30 days reads some 1,440 sums, not 43,200 minutes.
	CheckSeries(ctx context.Context, check, host string, from, to time.Time, step time.Duration) ([]CheckSample, error)
	// CheckChanges returns the changes of check on host with from <= At <
	// to, oldest first, preceded by the last change before from (the
	// status at from) when there is one.
	CheckChanges(ctx context.Context, check, host string, from, to time.Time) ([]CheckChange, error)
	// CheckTotals returns, for every check and host with samples in [from,
	// to), one sample summing them (At = from): uptimes of all checks in
	// one query.
	CheckTotals(ctx context.Context, from, to time.Time) ([]CheckSample, error)
	// LastCheckChanges returns the newest change of every check and host.
	LastCheckChanges(ctx context.Context) ([]CheckChange, error)
	// PruneCheckHistory deletes samples and changes older than before
	// (keeping each check's last change, its current status) and returns
	// how many rows it deleted.
	PruneCheckHistory(ctx context.Context, before time.Time) (int, error)
}
