package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/munja-sms/munja/config"
)

// loadFields are the template fields of type load: {{.Load}} (the load
// average compared), {{.MaxLoad}}, {{.Period}} (1m, 5m or 15m) and
// {{.CPUs}} (CPUs usable by munja, for templates that want a per-core view).
var loadFields = map[string]any{"Load": 0.0, "MaxLoad": 0.0, "Period": "", "CPUs": 0}

// periodKo is load_period in Korean.
var periodKo = map[string]string{"1m": "1분", "5m": "5분", "15m": "15분"}

// loadPeriods maps load_period to its field in /proc/loadavg.
var loadPeriods = map[string]int{"": 0, "1m": 0, "5m": 1, "15m": 2}

type loadCheck struct {
	t       *Texts
	maxLoad float64
	period  string
	field   int
	proc    string
}

// ValidateLoad checks the keys of a type load check at path.
func ValidateLoad(cfg config.Check, path string) []error {
	var errs []error
	if cfg.MaxLoad <= 0 {
		errs = append(errs, fmt.Errorf("%s.max_load: required for type load (a positive load average)", path))
	}
	if _, ok := loadPeriods[cfg.LoadPeriod]; !ok {
		errs = append(errs, fmt.Errorf("%s.load_period: %q is not 1m, 5m or 15m", path, cfg.LoadPeriod))
	}
	return append(errs, ValidateTemplates(cfg, path, loadFields)...)
}

// NewLoad builds a type load check: it fails when the load average of
// load_period (1m by default, also 5m or 15m) in /proc/loadavg is above
// max_load. max_load is the whole machine's load, not per core.
func NewLoad(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateLoad(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &loadCheck{t: t, maxLoad: cfg.MaxLoad, period: cfg.LoadPeriod, field: loadPeriods[cfg.LoadPeriod], proc: defaultProc}
	if c.period == "" {
		c.period = "1m"
	}
	return c, nil
}

func (c *loadCheck) Name() string { return c.t.Name() }

func (c *loadCheck) Run(ctx context.Context) Result {
	start := time.Now()
	fields := map[string]any{"Load": 0.0, "MaxLoad": c.maxLoad, "Period": c.period, "CPUs": runtime.NumCPU()}
	load, err := readLoad(c.proc+"/loadavg", c.field)
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck(procReason(err), err, fields))
	}
	fields["Load"] = load
	label := "부하 평균"
	if c.period != "1m" {
		label = map[string]string{"5m": "5분", "15m": "15분"}[c.period] + " 부하 평균"
	}
	o := Outcome{
		OK:       load <= c.maxLoad,
		Fields:   fields,
		Detail:   fmt.Sprintf("load average (%s) %.2f, max %s, %d CPUs", c.period, load, formatFloat(c.maxLoad), runtime.NumCPU()),
		DetailKo: fmt.Sprintf("부하 평균(%s) %.2f, 한도 %s, CPU %d개", periodKo[c.period], load, formatFloat(c.maxLoad), runtime.NumCPU()),
		Firing:   fmt.Sprintf("[경고] %s %.2f (기준 %s)", label, load, formatFloat(c.maxLoad)),
		Resolved: fmt.Sprintf("[복구] %s이 정상입니다 (%.2f).", label, load),
	}
	if !o.OK {
		o.DetailKo = fmt.Sprintf("부하 평균(%s) %.2f (한도 %s), CPU %d개", periodKo[c.period], load, formatFloat(c.maxLoad), runtime.NumCPU())
	}
	return c.t.Result(start, o)
}

func readLoad(path string, field int) (float64, error) {
	var buf [128]byte
	b, err := readSmall(path, buf[:])
	if err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	fields := bytes.Fields(b)
	if len(fields) < 3 {
		return 0, fmt.Errorf("load: malformed %s: %q", path, b)
	}
	v, err := strconv.ParseFloat(string(fields[field]), 64)
	if err != nil {
		return 0, fmt.Errorf("load: malformed %s: %w", path, err)
	}
	return v, nil
}
