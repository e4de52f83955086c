package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/munja-sms/munja/config"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  bool
	}{
		{"4096", 4096, false},
		{"5GB", 5_000_000_000, false},
		{"5gb", 5_000_000_000, false},
		{"500MiB", 500 << 20, false},
		{"1.5G", 3 << 29, false},
		{"10 K", 10 << 10, false},
		{"2TiB", 2 << 40, false},
		{"100B", 100, false},
		{"", 0, true},
		{"GB", 0, true},
		{"5 parsecs", 0, true},
		{"1.2.3G", 0, true},
		{"-5GB", 0, true},
		{"1e30TB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatSizeAndPercent(t *testing.T) {
	for _, tt := range []struct {
		n    uint64
		want string
	}{{0, "0"}, {1023, "1023"}, {1024, "1.0K"}, {3_435_973_836, "3.2G"}, {3_435_973_837, "3.3G"}, {10 << 30, "10G"}, {(10 << 30) - 1, "10G"}, {120 << 30, "120G"}} {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	for _, tt := range []struct {
		used, total uint64
		want        int
	}{{0, 0, 0}, {0, 10, 0}, {1, 1000, 1}, {900, 1000, 90}, {901, 1000, 91}, {1000, 1000, 100}, {1 << 62, 1 << 63, 50}} {
		if got := percent(tt.used, tt.total); got != tt.want {
			t.Errorf("percent(%d, %d) = %d, want %d", tt.used, tt.total, got, tt.want)
		}
	}
}

func TestDiskOutcome(t *testing.T) {
	tests := []struct {
		name                     string
		cfg                      config.Check
		u                        diskUsage
		ok                       bool
		firing, resolved, detail string
	}{
		{"over percent", config.Check{Mount: "/", MaxUsedPct: 90}, diskUsage{used: 93, avail: 7}, false,
			"[경고] / 디스크 사용률 93% (기준 90%)", "[복구] / 디스크 사용률이 정상입니다 (93%).", "(> max 90%)"},
		{"at percent", config.Check{Mount: "/", MaxUsedPct: 90}, diskUsage{used: 90, avail: 10}, true,
			"", "[복구] / 디스크 사용률이 정상입니다 (90%).", "90% used"},
		{"rounded up like df", config.Check{Mount: "/data", MaxUsedPct: 90}, diskUsage{used: 9001, avail: 999}, false,
			"[경고] /data 디스크 사용률 91% (기준 90%)", "", ""},
		{"fractional threshold", config.Check{Mount: "/", MaxUsedPct: 95.5}, diskUsage{used: 96, avail: 4}, false,
			"[경고] / 디스크 사용률 96% (기준 95.5%)", "", ""},
		{"low free", config.Check{Mount: "/var", MinFree: "5GB"}, diskUsage{used: 100 << 30, avail: 3 << 30}, false,
			"[경고] /var 디스크 여유 공간 3.0G (기준 5GB)", "[복구] /var 디스크 여유 공간이 정상입니다 (3.0G).", "(< min free 5GB)"},
		{"enough free", config.Check{Mount: "/var", MinFree: "5GB"}, diskUsage{used: 1 << 30, avail: 50 << 30}, true, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.Type = "disk", "disk"
			c, err := NewDisk(tt.cfg, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			dc := c.(*diskCheck)
			o := dc.outcome(tt.u, map[string]any{})
			if o.OK != tt.ok || (!tt.ok && o.Firing != tt.firing) {
				t.Fatalf("OK %v firing %q, want %v %q", o.OK, o.Firing, tt.ok, tt.firing)
			}
			if tt.resolved != "" && o.Resolved != tt.resolved {
				t.Errorf("resolved = %q, want %q", o.Resolved, tt.resolved)
			}
			if !strings.Contains(o.Detail, tt.detail) {
				t.Errorf("detail = %q, want %q in it", o.Detail, tt.detail)
			}
		})
	}
}

func TestDiskRealMount(t *testing.T) {
	dir := t.TempDir()
	run := func(cfg config.Check) Result {
		cfg.Name, cfg.Type, cfg.Mount = "tmp", "disk", dir
		c, err := NewDisk(cfg, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Run(context.Background())
	}
	if r := run(config.Check{MaxUsedPct: 100}); !r.OK || !strings.Contains(r.Detail, dir) {
		t.Errorf("100%% threshold: %+v", r)
	}
	if r := run(config.Check{MinFree: "1000000TB"}); r.OK || !strings.HasPrefix(r.Firing, "[경고] "+dir+" 디스크 여유 공간 ") {
		t.Errorf("impossible free space: %+v", r)
	}
	if r := run(config.Check{MinFree: "1B"}); !r.OK {
		t.Errorf("1 byte free: %+v", r)
	}
	c, _ := NewDisk(config.Check{Name: "gone", Type: "disk", Mount: filepath.Join(dir, "missing"), MaxUsedPct: 90}, Deps{})
	if r := c.Run(context.Background()); r.OK || !r.Unknown || r.Firing != "[경고] gone 점검 불가: 마운트 경로가 없습니다 ("+filepath.Join(dir, "missing")+")." || !strings.Contains(r.Detail, "statfs") {
		t.Errorf("missing mount: %+v", r)
	}
}

func writeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMemory(t *testing.T) {
	newMem := func(max float64, proc string) *memoryCheck {
		c, err := NewMemory(config.Check{Name: "mem", Type: "memory", MaxUsedPct: max}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		mc := c.(*memoryCheck)
		if proc != "" {
			mc.proc = proc
		}
		return mc
	}
	t.Run("real thresholds", func(t *testing.T) {
		if r := newMem(100, "").Run(context.Background()); !r.OK {
			t.Errorf("100%%: %+v", r)
		}
		if r := newMem(0.001, "").Run(context.Background()); r.OK || !strings.HasPrefix(r.Firing, "[경고] 메모리 사용률 ") {
			t.Errorf("0.001%%: %+v", r)
		}
	})
	fixture := writeProc(t, map[string]string{"meminfo": "MemTotal:        1000000 kB\nMemFree:           20000 kB\nMemAvailable:      50000 kB\nBuffers:            1000 kB\nCached:            30000 kB\n"})
	old := writeProc(t, map[string]string{"meminfo": "MemTotal:        1000000 kB\nMemFree:           20000 kB\nBuffers:           10000 kB\nCached:            70000 kB\n"})
	bad := writeProc(t, map[string]string{"meminfo": "MemFree: 12 kB\n"})
	tests := []struct {
		name             string
		max              float64
		proc             string
		ok               bool
		firing, resolved string
	}{
		{"over", 90, fixture, false, "[경고] 메모리 사용률 95% (기준 90%)", "[복구] 메모리 사용률이 정상입니다 (95%)."},
		{"under", 96, fixture, true, "", "[복구] 메모리 사용률이 정상입니다 (95%)."},
		{"no MemAvailable", 80, old, false, "[경고] 메모리 사용률 90% (기준 80%)", ""},
		{"unreadable", 80, bad, false, "[경고] mem 점검 불가: /proc을 읽을 수 없습니다.", "[복구] mem 점검이 다시 동작합니다."},
		{"no /proc", 80, filepath.Join(bad, "nothing"), false, "[경고] mem 점검 불가: /proc을 읽을 수 없습니다.", "[복구] mem 점검이 다시 동작합니다."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMem(tt.max, tt.proc).Run(context.Background())
			if r.OK != tt.ok || r.Firing != tt.firing {
				t.Fatalf("OK %v firing %q, want %v %q (%s)", r.OK, r.Firing, tt.ok, tt.firing, r.Detail)
			}
			if tt.resolved != "" && r.Resolved != tt.resolved {
				t.Errorf("resolved = %q, want %q", r.Resolved, tt.resolved)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	newLoad := func(max float64, period, proc string) *loadCheck {
		c, err := NewLoad(config.Check{Name: "load", Type: "load", MaxLoad: max, LoadPeriod: period}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		lc := c.(*loadCheck)
		if proc != "" {
			lc.proc = proc
		}
		return lc
	}
	if r := newLoad(1e6, "", "").Run(context.Background()); !r.OK || !strings.Contains(r.Detail, "load average (1m)") {
		t.Errorf("real load below 1e6: %+v", r)
	}
	busy := writeProc(t, map[string]string{"loadavg": "12.50 3.00 0.75 2/300 12345\n"})
	tests := []struct {
		name             string
		max              float64
		period           string
		ok               bool
		firing, resolved string
	}{
		{"1m over", 8, "", false, "[경고] 부하 평균 12.50 (기준 8)", "[복구] 부하 평균이 정상입니다 (12.50)."},
		{"1m at", 12.5, "1m", true, "", ""},
		{"5m under", 8, "5m", true, "", "[복구] 5분 부하 평균이 정상입니다 (3.00)."},
		{"15m over", 0.5, "15m", false, "[경고] 15분 부하 평균 0.75 (기준 0.5)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLoad(tt.max, tt.period, busy).Run(context.Background())
			if r.OK != tt.ok || r.Firing != tt.firing {
				t.Fatalf("OK %v firing %q, want %v %q (%s)", r.OK, r.Firing, tt.ok, tt.firing, r.Detail)
			}
			if tt.resolved != "" && r.Resolved != tt.resolved {
				t.Errorf("resolved = %q, want %q", r.Resolved, tt.resolved)
			}
		})
	}
}
