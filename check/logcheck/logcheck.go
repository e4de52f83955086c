// Package logcheck is the check type log: it follows a log file (or the
// systemd journal) from its end and fails while a pattern has matched at
// least count times within the last window. It is a check.Watcher, so a
// matching line is reported within milliseconds, not on the next interval.
package logcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/logwatch"
)

// DefaultWindow is the window of a log check that sets none (window: 0):
// the original cron script's `journalctl --since "5 minutes ago"`.
const DefaultWindow = 5 * time.Minute

// problemGrace is how long the log may be unreadable (missing, no journal)
// before Run reports the check as broken; a rotation leaves the file
// missing for a moment.
const problemGrace = time.Minute

// maxHits bounds the remembered match times; beyond it {{.Count}} is a
// lower bound.
const maxHits = 10_000

// maxLine is how much of the last matching line Detail and {{.Line}} carry.
const maxLine = 200

// fields are the template fields of type log: {{.Pattern}} as configured,
// {{.Path}} the file (or "journal", "journal:UNIT"), {{.Count}} matches
// within the window, {{.Line}} the last matching line (UTF-8, at most 200
// bytes).
var fields = map[string]any{"Pattern": "", "Path": "", "Count": 0, "Line": ""}

type logCheck struct {
	t       *check.Texts
	m       *logwatch.Matcher
	log     *slog.Logger
	pattern string
	path    string // file, or "" for the journal
	unit    string
	where   string // {{.Path}}
	window  time.Duration
	count   int

	journalOpts []logwatch.JournalOption // tests: a fake journalctl
	followOpts  logwatch.FollowOptions

	mu           sync.Mutex
	hits         []time.Time // match times within the window, oldest first
	lastLine     string
	watching     int
	firing       bool      // the state last reported (by Run or Watch)
	problem      error     // why the log cannot be read, nil when it can
	problemSince time.Time // when problem began
}

// Validate checks the keys of a type log check at path (e.g. "checks[2]").
func Validate(cfg config.Check, path string) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, key, fmt.Sprintf(format, args...)))
	}
	switch {
	case cfg.Path == "" && !cfg.Journal:
		add("path", "one of path or journal: true is required for type log")
	case cfg.Path != "" && cfg.Journal:
		add("journal", "set either path or journal: true, not both")
	case cfg.Path != "" && !filepath.IsAbs(cfg.Path):
		add("path", "must be an absolute path, got %q", cfg.Path)
	}
	if cfg.Unit != "" && !cfg.Journal {
		add("unit", "only applies with journal: true")
	}
	encOK := true
	switch cfg.Encoding {
	case "", "utf-8", "cp949":
	default:
		encOK = false
		add("encoding", "must be utf-8 or cp949, not %q", cfg.Encoding)
	}
	if cfg.Pattern == "" {
		add("pattern", "required for type log")
	} else if encOK {
		if _, err := newMatcher(cfg); err != nil {
			add("pattern", "%v", err)
		}
	}
	if cfg.Window < 0 {
		add("window", "must not be negative (0 = %s)", formatDuration(DefaultWindow))
	}
	if cfg.Count < 0 {
		add("count", "must not be negative (0 = 1)")
	}
	return append(errs, check.ValidateTemplates(cfg, path, fields)...)
}

func newMatcher(cfg config.Check) (*logwatch.Matcher, error) {
	return logwatch.NewMatcherOpts(cfg.Pattern, logwatch.Options{Regex: cfg.Regex, Encoding: cfg.Encoding})
}

// New builds a type log check. It follows path (or the journal, of unit
// when set) from its end while Watch runs, and fails while pattern (a
// literal, or a Go regular expression with regex: true; CP949 logs with
// encoding: cp949) matched at least count (default 1) lines within the
// last window (default DefaultWindow, 5m); it is OK again once the window
// passes without that many. A log that cannot be read (missing file, no
// journal) for a minute makes Run report the check as broken.
func New(cfg config.Check, d check.Deps) (check.Checker, error) {
	if errs := Validate(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := check.NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	m, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	c := &logCheck{
		t: t, m: m, log: d.Log, pattern: cfg.Pattern, path: cfg.Path, unit: cfg.Unit,
		window: cfg.Window.D(), count: max(cfg.Count, 1),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.window == 0 {
		c.window = DefaultWindow
	}
	switch {
	case c.path != "":
		c.where = c.path
	case c.unit != "":
		c.where = "journal:" + c.unit
	default:
		c.where = "journal"
	}
	return c, nil
}

func (c *logCheck) Name() string { return c.t.Name() }

// Watch follows the log until ctx ends, emitting a failing Result as soon
// as a matching line makes the check fail.
func (c *logCheck) Watch(ctx context.Context, emit func(check.Result)) error {
	c.mu.Lock()
	c.watching++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.watching--
		c.mu.Unlock()
	}()
	onLine := func(line []byte, _ time.Time) {
		if !c.m.Match(line) {
			return
		}
		start := time.Now()
		if c.observe(line) {
			emit(c.result(start))
		}
	}
	if c.path == "" {
		opts := append([]logwatch.JournalOption{logwatch.WithStarted(func() { c.setProblem(nil) })}, c.journalOpts...)
		err := logwatch.FollowJournal(ctx, c.unit, onLine, opts...)
		if err != nil {
			c.setProblem(err)
		}
		return err
	}
	opts := c.followOpts
	opts.Problem = c.setProblem
	return logwatch.Follow(ctx, c.path, opts, onLine)
}

// observe records a matching line; it reports whether the check just
// started failing.
func (c *logCheck) observe(line []byte) bool {
	now := c.t.Now()
	text := truncate(c.m.Text(line), maxLine)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits = append(c.hits, now)
	if len(c.hits) > maxHits {
		c.hits = append(c.hits[:0], c.hits[len(c.hits)-maxHits:]...)
	}
	c.lastLine = text
	if c.firing || c.inWindowLocked(now) < c.count {
		return false
	}
	c.firing = true
	return true
}

func (c *logCheck) setProblem(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil && c.problem != nil:
		c.log.Info("log readable again", "check", c.Name(), "path", c.where)
	case err != nil && c.problem == nil:
		c.problemSince = c.t.Now()
		c.log.Warn("cannot read log", "check", c.Name(), "path", c.where, "err", err)
	}
	c.problem = err
}

// inWindowLocked drops match times that left the window and counts the
// rest.
func (c *logCheck) inWindowLocked(now time.Time) int {
	cut := now.Add(-c.window)
	i := 0
	for i < len(c.hits) && !c.hits[i].After(cut) {
		i++
	}
	c.hits = c.hits[i:]
	return len(c.hits)
}

// Run reports the current state of the window.
func (c *logCheck) Run(ctx context.Context) check.Result {
	return c.result(time.Now())
}

func (c *logCheck) result(start time.Time) check.Result {
	now := c.t.Now()
	c.mu.Lock()
	n := c.inWindowLocked(now)
	line, watching, problem, since := c.lastLine, c.watching > 0, c.problem, c.problemSince
	failing := n >= c.count
	c.mu.Unlock()

	f := map[string]any{"Pattern": c.pattern, "Path": c.where, "Count": n, "Line": line}
	if !failing && problem != nil && now.Sub(since) >= problemGrace {
		o := c.t.Broken(fmt.Errorf("%w (since %s)", problem, since.Format(time.RFC3339)), f)
		c.setFiring(false) // a match still fires at once
		return c.t.Result(start, o)
	}
	o := check.Outcome{
		OK:       !failing,
		Fields:   f,
		Firing:   fmt.Sprintf("[경고] 시스템 로그에서 '%s' 탐지됨.", c.pattern),
		Resolved: fmt.Sprintf("[복구] 시스템 로그에서 '%s' 더 이상 탐지되지 않습니다.", c.pattern),
		Detail:   c.detail(n, line, watching, problem),
	}
	c.setFiring(failing)
	return c.t.Result(start, o)
}

func (c *logCheck) setFiring(v bool) {
	c.mu.Lock()
	c.firing = v
	c.mu.Unlock()
}

func (c *logCheck) detail(n int, line string, watching bool, problem error) string {
	var b strings.Builder
	count := fmt.Sprint(n)
	if n >= maxHits {
		count = fmt.Sprintf("at least %d", n)
	}
	fmt.Fprintf(&b, "%s matches of %q in %s within %s (fails at %d)", count, c.pattern, c.where, formatDuration(c.window), c.count)
	if n > 0 {
		fmt.Fprintf(&b, "; last: %s", line)
	}
	if problem != nil {
		fmt.Fprintf(&b, "; %v", problem)
	}
	if !watching {
		b.WriteString("; not following the log (lines are seen while munja serve or agent runs)")
	}
	return b.String()
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// formatDuration writes d like config durations: 5m, 90s, 1h30m.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
