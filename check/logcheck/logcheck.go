// Package logcheck is the check type log: it follows a log file (or the
// systemd journal) from its end and fails while a pattern has matched at
// least count times within the last window. It is a check.Watcher, so a
// matching line is reported within milliseconds, not on the next interval.
package logcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
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

	// grace is how long a log that was read may be unreadable before the
	// check cannot check: one check interval, so that a file missing for
	// a moment during a rotation is not reported. A log unreadable since
	// the start is reported at once.
	grace time.Duration

	journalOpts []logwatch.JournalOption // tests: a fake journalctl
	followOpts  logwatch.FollowOptions

	// The window kept across restarts (state.go): nil state keeps it in
	// memory only (munja agent has no store).
	state  check.StateStore
	key    string // StateKey(name)
	config string // fingerprint of the config
	loadMu sync.Mutex
	loaded bool               // guarded by loadMu
	resume *logwatch.Position // where the saved state says the file was read up to
	saveMu sync.Mutex         // one write at a time
	saves  sync.WaitGroup     // the running saver (requestSave)

	mu           sync.Mutex
	hits         []time.Time // match times within the window, oldest first
	lastLine     string
	version      uint64            // counts changes of hits and lastLine
	savedVersion uint64            // the version last written
	pos          logwatch.Position // after the last line read from the file
	savedPos     logwatch.Position // the position last written
	savedAt      time.Time         // when the state was last written
	followed     bool              // Watch has followed the file: a late restore must not move it back
	watching     int
	// While Watch runs, saveCtx is its context for the saver that
	// requestSave starts; saving says a saver runs, saveAgain that a save
	// was asked for while it wrote.
	saveCtx      context.Context
	saving       bool
	saveAgain    bool
	firing       bool      // the state last reported (by Run or Watch)
	problem      error     // why the log cannot be read, nil when it can
	problemSince time.Time // when problem began
	seen         bool      // the log was readable at some time since the start
	// journalKnown: Watch has found out whether the journal can be read
	// (journalctl started, or failed); until then Run asks journalctl.
	journalKnown bool
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

// Probe says whether the log of a valid type log check can be read on this
// host now (for munja config check): nil, or an error naming the key, e.g.
// "journal: cannot read the system journal here (journalctl: not found)".
// It runs journalctl once for a journal check.
func Probe(ctx context.Context, cfg config.Check) error {
	return probe(ctx, cfg, nil)
}

func probe(ctx context.Context, cfg config.Check, opts []logwatch.JournalOption) error {
	if cfg.Path == "" {
		err := logwatch.ProbeJournal(ctx, opts...)
		if err == nil {
			return nil
		}
		cause := strings.TrimPrefix(err.Error(), logwatch.ErrNoJournal.Error()+": ")
		if errors.Is(err, exec.ErrNotFound) {
			cause = "journalctl: not found"
		}
		return fmt.Errorf("journal: cannot read the system journal here (%s)", cause)
	}
	f, err := os.Open(cfg.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("path: %s does not exist here", cfg.Path)
	case err != nil:
		return fmt.Errorf("path: cannot open %s here: %w", cfg.Path, err)
	}
	f.Close()
	return nil
}

func newMatcher(cfg config.Check) (*logwatch.Matcher, error) {
	return logwatch.NewMatcherOpts(cfg.Pattern, logwatch.Options{Regex: cfg.Regex, Encoding: cfg.Encoding})
}

// New builds a type log check. It follows path (or the journal, of unit
// when set) from its end while Watch runs, and fails while pattern (a
// literal, or a Go regular expression with regex: true; CP949 logs with
// encoding: cp949) matched at least count (default 1) lines within the
// last window (default DefaultWindow, 5m); it is OK again once the window
// passes without that many. A log that cannot be read (a missing or
// unreadable file, no journal) makes the check unknown (cannot check): at
// once when it has not been readable since the start, else when it is
// still unreadable one interval later (a rotation leaves a file missing
// for a moment). A match within the window still fails the check.
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
		window: cfg.Window.D(), count: max(cfg.Count, 1), grace: cfg.Interval.D(),
		state: d.State, key: StateKey(cfg.Name), config: fingerprint(cfg),
	}
	if c.grace <= 0 {
		c.grace = check.DefaultInterval
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
// as a matching line makes the check fail. A file is read on from where
// the saved state says an earlier Watch stopped (lines written while munja
// was stopped are read then); the journal from its end.
func (c *logCheck) Watch(ctx context.Context, emit func(check.Result)) error {
	errc := make(chan error, 1)
	c.StartWatch(ctx, emit, func(err error) { errc <- err })
	return <-errc
}

// StartWatch is Watch without waiting (check.AsyncWatcher): it returns at
// once and calls done with what Watch would return. A file is followed by
// logwatch.StartFollow, without a goroutine of its own between the lines
// it reads; the journal by journalctl, read by a goroutine.
func (c *logCheck) StartWatch(ctx context.Context, emit func(check.Result), done func(error)) {
	go func() { // restore reads the store
		end := c.beginWatch(ctx)
		if c.path == "" {
			err := c.followJournal(ctx, emit)
			end()
			done(err)
			return
		}
		c.followFile(ctx, emit, func(err error) {
			end()
			done(err)
		})
	}()
}

// beginWatch readies the check for a Watch; the func it returns ends it,
// writing what is left to save.
func (c *logCheck) beginWatch(ctx context.Context) (end func()) {
	c.restore(ctx)
	sctx, stopSaver := context.WithCancel(ctx)
	c.mu.Lock()
	c.watching++
	c.saveCtx = sctx
	c.mu.Unlock()
	return func() {
		stopSaver()
		c.mu.Lock()
		c.saveCtx = nil
		c.mu.Unlock()
		c.saves.Wait()
		c.saveFinal(ctx)
		c.mu.Lock()
		c.watching--
		c.mu.Unlock()
	}
}

// matched records a matching line, and emits the failing Result when it
// makes the check fail.
func (c *logCheck) matched(ctx context.Context, line []byte, emit func(check.Result)) {
	start := time.Now()
	fires := c.observe(line)
	if !fires {
		c.requestSave()
		return
	}
	// Saved before the alert goes out: after a restart the check
	// must still be failing.
	if err := c.save(ctx); err != nil {
		c.log.Warn("log check window not saved before alerting", "check", c.Name(), "err", err)
		c.requestSave()
	}
	emit(c.result(start))
}

func (c *logCheck) followJournal(ctx context.Context, emit func(check.Result)) error {
	onLine := func(line []byte, _ time.Time) {
		if c.m.Match(line) {
			c.matched(ctx, line, emit)
		}
	}
	opts := append([]logwatch.JournalOption{logwatch.WithStarted(func() { c.look(nil, true) })}, c.journalOpts...)
	err := logwatch.FollowJournal(ctx, c.unit, onLine, opts...)
	if err != nil {
		c.look(err, true)
	}
	return err
}

// followFile starts following the file; done is called when it ends.
func (c *logCheck) followFile(ctx context.Context, emit func(check.Result), done func(error)) {
	// cur is the position after the last line read from the file now at
	// path (a rotated-away file being read to its end leaves it alone).
	// It is published to c.pos, which is saved, with every match (so that
	// a match is never read twice), every publishEvery lines and when
	// following ends; lines read again after a crash do not match.
	var cur logwatch.Position
	lines := 0
	publish := func() {
		c.mu.Lock()
		c.pos = cur
		c.mu.Unlock()
	}
	onLine := func(line []byte, _ time.Time, pos logwatch.Position) {
		if pos.Ino == cur.Ino && pos.Dev == cur.Dev {
			cur = pos
		}
		if c.m.Match(line) {
			publish()
			c.matched(ctx, line, emit)
			return
		}
		if lines++; lines%publishEvery == 0 {
			publish()
		}
	}
	opts := c.followOpts
	opts.Problem = func(err error) { c.look(err, false) }
	opts.Opened = func(pos logwatch.Position) {
		cur = pos
		publish()
	}
	c.mu.Lock()
	c.followed = true
	opts.Resume, c.resume = c.resume, nil // a later Watch goes on from c.pos
	if opts.Resume == nil && c.pos.Ino != 0 {
		pos := c.pos
		opts.Resume = &pos
	}
	c.mu.Unlock()
	logwatch.StartFollow(ctx, c.path, opts, onLine, func(err error) {
		if cur.Ino != 0 {
			publish()
		}
		done(err)
	})
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
	c.version++
	if c.firing || c.inWindowLocked(now) < c.count {
		return false
	}
	c.firing = true
	return true
}

// look records what a look at the log found: err nil when it can be read.
// journal marks a finding of Watch about the journal.
func (c *logCheck) look(err error, journal bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if journal {
		c.journalKnown = true
	}
	switch {
	case err == nil && c.problem != nil:
		c.log.Info("log readable again", "check", c.Name(), "path", c.where)
	case err != nil && c.problem == nil:
		c.problemSince = c.t.Now()
		c.log.Warn("cannot read log", "check", c.Name(), "path", c.where, "err", err)
	}
	c.problem = err
	if err == nil {
		c.seen = true
	}
}

// probe looks whether the log can be read now: the file opened, or the
// journal asked for through journalctl. A file is looked at on every run
// (an open and a close); journalctl only while nothing follows the
// journal (munja check --once) or the watch has not found out yet.
func (c *logCheck) probe(ctx context.Context) {
	if c.path == "" {
		c.mu.Lock()
		known := c.watching > 0 && c.journalKnown
		c.mu.Unlock()
		if !known {
			c.look(logwatch.ProbeJournal(ctx, c.journalOpts...), false)
		}
		return
	}
	f, err := os.Open(c.path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.IsDir() {
			err = fmt.Errorf("%s is a directory", c.path)
		}
		f.Close()
	}
	if err != nil {
		err = fmt.Errorf("log file: %w", err) // err names the path
	}
	c.look(err, false)
}

// reason is why a log that cannot be read cannot be checked, in the words
// of the message.
func (c *logCheck) reason(problem error) string {
	switch {
	case c.path == "":
		return check.ReasonJournal
	case errors.Is(problem, fs.ErrNotExist):
		return check.ReasonLogMissing(c.path)
	}
	return check.ReasonLogUnreadable(c.path)
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

// Run looks whether the log can be read and reports the current state of
// the window.
func (c *logCheck) Run(ctx context.Context) check.Result {
	start := time.Now()
	c.restore(ctx)
	c.savePosition()
	c.probe(ctx)
	return c.result(start)
}

func (c *logCheck) result(start time.Time) check.Result {
	now := c.t.Now()
	c.mu.Lock()
	n := c.inWindowLocked(now)
	line, watching, problem, since, seen := c.lastLine, c.watching > 0, c.problem, c.problemSince, c.seen
	failing := n >= c.count
	c.mu.Unlock()

	f := map[string]any{"Pattern": c.pattern, "Path": c.where, "Count": n, "Line": line}
	// The grace is one interval, less a tenth for the jitter of the runs.
	blind := problem != nil && (!seen || now.Sub(since) >= c.grace-c.grace/10)
	if !failing && blind {
		o := c.t.CannotCheck(c.reason(problem), fmt.Errorf("%w (since %s)", problem, since.Format(time.RFC3339)), f)
		c.setFiring(false) // a match still fires at once
		return c.t.Result(start, o)
	}
	o := check.Outcome{
		OK:       !failing,
		Fields:   f,
		Firing:   fmt.Sprintf("[경고] 시스템 로그에서 '%s' 탐지됨.", c.pattern),
		Resolved: fmt.Sprintf("[복구] 시스템 로그에서 '%s' 더 이상 탐지되지 않습니다.", c.pattern),
		Detail:   c.detail(n, line, watching, problem),
		DetailKo: c.detailKo(n, line, watching, problem),
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

// detailKo is detail in Korean: "'Out of memory' 1회 탐지 (5분 내, 1회부터
// 경고)".
func (c *logCheck) detailKo(n int, line string, watching bool, problem error) string {
	var b strings.Builder
	switch {
	case n >= maxHits:
		fmt.Fprintf(&b, "'%s' %d회 이상 탐지", c.pattern, n)
	case n > 0:
		fmt.Fprintf(&b, "'%s' %d회 탐지", c.pattern, n)
	default:
		fmt.Fprintf(&b, "'%s' 탐지 없음", c.pattern)
	}
	fmt.Fprintf(&b, " (%s 내, %d회부터 경고)", check.DurationKo(c.window), c.count)
	if n > 0 {
		fmt.Fprintf(&b, "; 마지막 줄: %s", line)
	}
	if problem != nil {
		fmt.Fprintf(&b, "; 로그를 읽지 못함 (%v)", problem)
	}
	if !watching {
		b.WriteString("; 로그를 따라 읽고 있지 않음 (munja serve나 agent가 실행 중일 때만 읽습니다)")
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
