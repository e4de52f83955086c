package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/munja-sms/munja/config"
	"golang.org/x/sys/unix"
)

// diskFields are the template fields of type disk: {{.Mount}},
// {{.UsedPercent}} (whole percent, as df shows it), {{.MaxUsedPercent}},
// {{.Free}} (bytes available to users), {{.FreeText}} (e.g. "3.2G") and
// {{.MinFree}} (as configured).
var diskFields = map[string]any{"Mount": "", "UsedPercent": 0, "MaxUsedPercent": 0.0, "Free": uint64(0), "FreeText": "", "MinFree": ""}

type diskCheck struct {
	t          *Texts
	mount      string
	maxUsed    float64
	minFree    uint64
	minFreeStr string
}

// ValidateDisk checks the keys of a type disk check at path.
func ValidateDisk(cfg config.Check, path string) []error {
	var errs []error
	if cfg.Mount == "" {
		errs = append(errs, fmt.Errorf("%s.mount: required for type disk", path))
	} else if !filepath.IsAbs(cfg.Mount) {
		errs = append(errs, fmt.Errorf("%s.mount: must be an absolute path, got %q", path, cfg.Mount))
	}
	if cfg.MaxUsedPct == 0 && cfg.MinFree == "" {
		errs = append(errs, fmt.Errorf("%s.max_used_percent: one of max_used_percent or min_free is required for type disk", path))
	}
	errs = append(errs, validatePercent(cfg.MaxUsedPct, path)...)
	if cfg.MinFree != "" {
		if _, err := ParseSize(cfg.MinFree); err != nil {
			errs = append(errs, fmt.Errorf("%s.min_free: %w", path, err))
		}
	}
	return append(errs, ValidateTemplates(cfg, path, diskFields)...)
}

func validatePercent(p float64, path string) []error {
	if p < 0 || p > 100 {
		return []error{fmt.Errorf("%s.max_used_percent: %s is not a percentage (0-100)", path, formatFloat(p))}
	}
	return nil
}

// NewDisk builds a type disk check on the file system holding mount: it
// fails when the used share, computed like df (used / (used + available to
// users), rounded up), is above max_used_percent, or when less than
// min_free (e.g. "5GB", "500MiB") is available.
func NewDisk(cfg config.Check, d Deps) (Checker, error) {
	if errs := ValidateDisk(cfg, "check "+cfg.Name); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	t, err := NewTexts(cfg, d)
	if err != nil {
		return nil, err
	}
	c := &diskCheck{t: t, mount: cfg.Mount, maxUsed: cfg.MaxUsedPct, minFreeStr: cfg.MinFree}
	if cfg.MinFree != "" {
		c.minFree, _ = ParseSize(cfg.MinFree)
	}
	return c, nil
}

func (c *diskCheck) Name() string { return c.t.Name() }

// diskUsage is what df shows for one file system.
type diskUsage struct {
	used, avail uint64 // bytes; avail is what unprivileged users may still use
}

func statDisk(mount string) (diskUsage, error) {
	var st unix.Statfs_t
	for {
		err := unix.Statfs(mount, &st)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return diskUsage{}, fmt.Errorf("statfs %s: %w", mount, err)
		}
		break
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return diskUsage{used: (st.Blocks - st.Bfree) * bs, avail: st.Bavail * bs}, nil
}

// Run calls statfs, which a hung network mount can block beyond ctx; the
// runner reports such a run as timed out and does not start another.
func (c *diskCheck) Run(ctx context.Context) Result {
	start := time.Now()
	fields := map[string]any{"Mount": c.mount, "UsedPercent": 0, "MaxUsedPercent": c.maxUsed, "Free": uint64(0), "FreeText": "", "MinFree": c.minFreeStr}
	u, err := statDisk(c.mount)
	if err != nil {
		reason := reasonOf(err, fmt.Sprintf("디스크 정보를 읽을 수 없습니다 (%s)", c.mount), c.mount)
		if errors.Is(err, fs.ErrNotExist) {
			reason = fmt.Sprintf("마운트 경로가 없습니다 (%s)", c.mount)
		}
		return c.t.Result(start, c.t.CannotCheck(reason, err, fields))
	}
	return c.t.Result(start, c.outcome(u, fields))
}

func (c *diskCheck) outcome(u diskUsage, fields map[string]any) Outcome {
	pct := percent(u.used, u.used+u.avail)
	free := FormatSize(u.avail)
	fields["UsedPercent"], fields["Free"], fields["FreeText"] = pct, u.avail, free
	o := Outcome{
		OK:       true,
		Fields:   fields,
		Detail:   fmt.Sprintf("%s: %d%% used, %s (%d bytes) available", c.mount, pct, free, u.avail),
		DetailKo: fmt.Sprintf("디스크 %s 사용률 %d%%, 여유 %s", c.mount, pct, free),
	}
	if c.maxUsed > 0 {
		o.Resolved = fmt.Sprintf("[복구] %s 디스크 사용률이 정상입니다 (%d%%).", c.mount, pct)
	} else {
		o.Resolved = fmt.Sprintf("[복구] %s 디스크 여유 공간이 정상입니다 (%s).", c.mount, free)
	}
	switch {
	case c.maxUsed > 0 && float64(pct) > c.maxUsed:
		o.OK = false
		o.Detail += fmt.Sprintf(" (> max %s%%)", formatFloat(c.maxUsed))
		o.DetailKo = fmt.Sprintf("디스크 %s 사용률 %d%% (한도 %s%%), 여유 %s", c.mount, pct, formatFloat(c.maxUsed), free)
		o.Firing = fmt.Sprintf("[경고] %s 디스크 사용률 %d%% (기준 %s%%)", c.mount, pct, formatFloat(c.maxUsed))
	case c.minFree > 0 && u.avail < c.minFree:
		o.OK = false
		o.Detail += fmt.Sprintf(" (< min free %s)", c.minFreeStr)
		o.DetailKo = fmt.Sprintf("디스크 %s 여유 %s (최소 %s), 사용률 %d%%", c.mount, free, c.minFreeStr, pct)
		o.Firing = fmt.Sprintf("[경고] %s 디스크 여유 공간 %s (기준 %s)", c.mount, free, c.minFreeStr)
	}
	return o
}
