package check

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/munja-sms/munja/config"
)

// Texts renders one check's alert texts. cfg.Message and cfg.Resolved, when
// set, replace the type's default texts; they are Go text/template with the
// fields {{.Name}} (check name), {{.Host}} (this host), {{.Detail}}
// (technical detail of the run, in English), {{.DetailKo}} (the same in
// Korean) plus the fields each type documents beside its constructor. A
// Texts is safe for concurrent use.
type Texts struct {
	name, host       string
	severity         config.Severity
	firing, resolved *msgTemplate
	now              func() time.Time
	log              *slog.Logger
}

// NewTexts parses cfg.Message and cfg.Resolved. d.Now and d.Log may be nil.
func NewTexts(cfg config.Check, d Deps) (*Texts, error) {
	t := &Texts{name: cfg.Name, host: d.Host, severity: cfg.Severity.OrDefault(), now: d.Now, log: d.Log}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if t.firing, err = parseTemplate("message", cfg.Message); err != nil {
		return nil, err
	}
	if t.resolved, err = parseTemplate("resolved", cfg.Resolved); err != nil {
		return nil, err
	}
	return t, nil
}

func parseTemplate(key, text string) (*msgTemplate, error) {
	if text == "" {
		return nil, nil
	}
	tpl, err := newTemplate(key).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return tpl, nil
}

// ValidateTemplates checks that cfg.Message and cfg.Resolved parse and run
// with the common fields plus fields (a sample value of each type-specific
// field, so that a misspelt field or a wrong comparison is caught at load
// time). Errors are prefixed with path, e.g. "checks[0].message: …".
func ValidateTemplates(cfg config.Check, path string, fields map[string]any) []error {
	var errs []error
	data := templateData("", "", "", "", fields)
	for _, kt := range []struct{ key, text string }{{"message", cfg.Message}, {"resolved", cfg.Resolved}} {
		tpl, err := parseTemplate(kt.key, kt.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", path, err))
			continue
		}
		if tpl == nil {
			continue
		}
		if err := tpl.Execute(io.Discard, data); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", path, kt.key, err))
		}
	}
	return errs
}

func templateData(name, host, detail, detailKo string, fields map[string]any) map[string]any {
	data := make(map[string]any, len(fields)+4)
	for k, v := range fields {
		data[k] = v
	}
	data["Name"] = name
	data["Host"] = host
	data["Detail"] = detail
	data["DetailKo"] = detailKo
	return data
}

// Name is the check's configured name.
func (t *Texts) Name() string { return t.name }

// Now is the check's clock (Deps.Now, or time.Now).
func (t *Texts) Now() time.Time { return t.now() }

// Outcome is what one run found, before the texts are rendered.
type Outcome struct {
	OK bool
	// Unknown: the run could not look (see Result.Unknown); made by
	// CannotCheck.
	Unknown bool
	// Detail says what the run found in English, DetailKo in Korean
	// (Result.Detail, Result.DetailKo).
	Detail, DetailKo string
	// Firing and Resolved are the type's default texts; a configured
	// template replaces them. Firing is only used when !OK.
	Firing, Resolved string
	Fields           map[string]any // type-specific template fields
}

// Result renders o into a Result for a run that started at start.
func (t *Texts) Result(start time.Time, o Outcome) Result {
	return t.resultOf(start, t.renderOutcome(o))
}

// rendered is an Outcome with its texts rendered: all of a Result but its
// times. A check whose runs find the same thing may keep one and skip
// rendering (see processCheck).
type rendered struct {
	ok, unknown                        bool
	detail, detailKo, firing, resolved string
}

// renderOutcome renders o's texts: the configured templates, else the
// type's defaults. firing is empty when o is OK. The templates describe
// what the check watches, so they do not replace the cannot-check texts
// (a blind check must never page "httpd is down").
func (t *Texts) renderOutcome(o Outcome) rendered {
	if o.Unknown {
		return rendered{unknown: true, detail: o.Detail, detailKo: o.DetailKo, firing: o.Firing, resolved: o.Resolved}
	}
	if t.firing != nil || t.resolved != nil {
		data := templateData(t.name, t.host, o.Detail, o.DetailKo, o.Fields)
		if !o.OK {
			o.Firing = t.render(t.firing, data, o.Firing)
		}
		o.Resolved = t.render(t.resolved, data, o.Resolved)
	}
	r := rendered{ok: o.OK, detail: o.Detail, detailKo: o.DetailKo, resolved: o.Resolved}
	if !o.OK {
		r.firing = o.Firing
	}
	return r
}

// resultOf is the Result of a run that started at start and found r.
func (t *Texts) resultOf(start time.Time, r rendered) Result {
	return Result{
		Check:    t.name,
		OK:       r.ok && !r.unknown,
		Unknown:  r.unknown,
		At:       t.now(),
		Detail:   r.detail,
		DetailKo: r.detailKo,
		Severity: t.severity,
		Duration: time.Since(start),
		Firing:   r.firing,
		Resolved: r.resolved,
	}
}

// render runs tpl, falling back to def when tpl is nil or fails (a failing
// template must not swallow an alert).
func (t *Texts) render(tpl *msgTemplate, data map[string]any, def string) string {
	if tpl == nil {
		return def
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, data); err != nil {
		t.log.Warn("check template failed, using the default text", "check", t.name, "template", tpl.Name(), "err", err)
		return def
	}
	return strings.TrimSpace(b.String())
}

// CannotCheck is the Outcome of a run that could not look at what it
// checks (an unreadable journal, log file or /proc, a command not found, a
// permission denied): unknown, never ok. reason says why in the words of
// the message, e.g. ReasonJournal; err is the technical cause for Detail.
// The texts are CannotCheckText and SeesAgainText.
func (t *Texts) CannotCheck(reason string, err error, fields map[string]any) Outcome {
	return Outcome{
		Unknown:  true,
		Detail:   "cannot check: " + err.Error(),
		DetailKo: CannotCheckDetailKo(reason),
		Firing:   CannotCheckText(t.name, reason),
		Resolved: SeesAgainText(t.name),
		Fields:   fields,
	}
}

// CannotCheckText is the alert of check name that cannot check, e.g.
// "[경고] oom 점검 불가: 시스템 저널을 읽을 수 없습니다."
func CannotCheckText(name, reason string) string {
	return fmt.Sprintf("[경고] %s 점검 불가: %s.", name, reason)
}

// CannotCheckDetailKo is the Korean detail of a run that cannot check for
// reason, e.g. "점검 불가: 시스템 저널을 읽을 수 없습니다".
func CannotCheckDetailKo(reason string) string { return "점검 불가: " + reason }

// SeesAgainText is the recovery of check name once it can check again:
// "[복구] oom 점검이 다시 동작합니다."
func SeesAgainText(name string) string {
	return fmt.Sprintf("[복구] %s 점검이 다시 동작합니다.", name)
}

// Reasons a check cannot check, as they appear in CannotCheckText.
const (
	ReasonJournal  = "시스템 저널을 읽을 수 없습니다"
	ReasonProc     = "/proc을 읽을 수 없습니다"
	ReasonInternal = "점검 중 내부 오류가 발생했습니다"
)

// ReasonLogMissing is why a log check whose file does not exist cannot check.
func ReasonLogMissing(path string) string {
	return fmt.Sprintf("로그 파일이 없습니다 (%s)", path)
}

// ReasonLogUnreadable is why a log check whose file cannot be opened cannot check.
func ReasonLogUnreadable(path string) string {
	return fmt.Sprintf("로그 파일을 읽을 수 없습니다 (%s)", path)
}

// ReasonCommandNotFound is why a command check whose program does not exist cannot check.
func ReasonCommandNotFound(cmd string) string {
	return fmt.Sprintf("명령을 찾을 수 없습니다 (%s)", cmd)
}

// ReasonPermission is why a check that may not read what (a path, a
// program) cannot check.
func ReasonPermission(what string) string { return fmt.Sprintf("권한이 없습니다 (%s)", what) }

// reasonOf is reason, or ReasonPermission when err is a permission error
// (EACCES, EPERM), naming the path err carries or else what.
func reasonOf(err error, reason, what string) string {
	if !errors.Is(err, fs.ErrPermission) {
		return reason
	}
	var pe *fs.PathError
	var own *pathError
	switch {
	case errors.As(err, &own):
		what = own.path
	case errors.As(err, &pe):
		what = pe.Path
	}
	return ReasonPermission(what)
}

// procReason is why a check reading /proc (or a file like it) cannot
// check.
func procReason(err error) string { return reasonOf(err, ReasonProc, "/proc") }

// latencyKo writes a measured time for a Korean detail: 260µs, 12ms, 1.2s.
func latencyKo(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return roundLatency(d)
}

// formatDuration writes d the way config durations are written: 5m, 90s,
// 1h30m, 2d (no trailing zero units).
func formatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// DurationKo writes d the way Korean operators read it: "5분", "1분 30초",
// "1시간 30분", "2일"; below a second "850ms", below a millisecond "0초".
func DurationKo(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Millisecond {
		return "0초"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "일"}, {time.Hour, "시간"}, {time.Minute, "분"}, {time.Second, "초"}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.d
		}
	}
	return strings.Join(parts, " ")
}
