package check

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/munja-sms/munja/config"
)

// memoryFields are the template fields of type memory: {{.UsedPercent}}
// (whole percent, rounded up), {{.MaxUsedPercent}}, {{.Total}} and
// {{.Available}} (bytes).
var memoryFields = map[string]any{"UsedPercent": 0, "MaxUsedPercent": 0.0, "Total": uint64(0), "Available": uint64(0)}

type memoryCheck struct {
	t       *Texts
	maxUsed float64
	proc    string
}

// ValidateMemory checks the keys of a type memory check at path.
func ValidateMemory(cfg config.Check, path string) []error {
	var errs []error
	if cfg.MaxUsedPct == 0 {
		errs = append(errs, fmt.Errorf("%s.max_used_percent: required for type memory", path))
	}
	errs = append(errs, validatePercent(cfg.MaxUsedPct, path)...)
	return append(errs, ValidateTemplates(cfg, path, memoryFields)...)
}

// NewMemory builds a type memory check: it fails when the memory in use,
// MemTotal - MemAvailable of /proc/meminfo (what free calls "available";
// page cache counts as free), exceeds max_used_percent of MemTotal. In a
// container without lxcfs /proc/meminfo shows the host.
func NewMemory(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateMemory(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	return &memoryCheck{t: t, maxUsed: cfg.MaxUsedPct, proc: defaultProc}, nil
}

func (c *memoryCheck) Name() string { return c.t.Name() }

func (c *memoryCheck) Run(ctx context.Context) Result {
	start := time.Now()
	fields := map[string]any{"UsedPercent": 0, "MaxUsedPercent": c.maxUsed, "Total": uint64(0), "Available": uint64(0)}
	total, avail, err := readMeminfo(c.proc + "/meminfo")
	if err != nil {
		return c.t.Result(start, c.t.CannotCheck(procReason(err), err, fields))
	}
	pct := percent(total-avail, total)
	fields["UsedPercent"], fields["Total"], fields["Available"] = pct, total, avail
	o := Outcome{
		OK:       float64(pct) <= c.maxUsed,
		Fields:   fields,
		Detail:   fmt.Sprintf("memory %d%% used (%s of %s available)", pct, FormatSize(avail), FormatSize(total)),
		DetailKo: fmt.Sprintf("메모리 사용률 %d%%, 가용 %s / 전체 %s", pct, FormatSize(avail), FormatSize(total)),
		Firing:   fmt.Sprintf("[경고] 메모리 사용률 %d%% (기준 %s%%)", pct, formatFloat(c.maxUsed)),
		Resolved: fmt.Sprintf("[복구] 메모리 사용률이 정상입니다 (%d%%).", pct),
	}
	if !o.OK {
		o.Detail += fmt.Sprintf(" (> max %s%%)", formatFloat(c.maxUsed))
		o.DetailKo = fmt.Sprintf("메모리 사용률 %d%% (한도 %s%%), 가용 %s / 전체 %s", pct, formatFloat(c.maxUsed), FormatSize(avail), FormatSize(total))
	}
	return c.t.Result(start, o)
}

// readMeminfo returns MemTotal and MemAvailable in bytes. Kernels before
// 3.14 have no MemAvailable; MemFree + Buffers + Cached stands in.
func readMeminfo(path string) (total, avail uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("memory: %w", err)
	}
	defer f.Close()
	vals := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := bytes.Cut(sc.Bytes(), []byte{':'})
		if !ok {
			continue
		}
		switch string(key) {
		case "MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached":
		default:
			continue
		}
		num, _ := nextField(bytes.TrimLeft(rest, " \t"))
		kb, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory: %s: bad %s line %q", path, key, sc.Bytes())
		}
		vals[string(key)] = kb << 10
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("memory: %s: %w", path, err)
	}
	total = vals["MemTotal"]
	if total == 0 {
		return 0, 0, fmt.Errorf("memory: %s has no MemTotal", path)
	}
	avail, ok := vals["MemAvailable"]
	if !ok {
		avail = vals["MemFree"] + vals["Buffers"] + vals["Cached"]
	}
	return total, min(avail, total), nil
}
