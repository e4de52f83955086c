package check

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits maps a size suffix (lower case) to its multiplier. KB, MB, GB,
// TB are decimal (1000), as disk vendors use them; KiB… and the single
// letters K, M, G, T are binary (1024), as df -h prints them.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseSize parses a byte size such as "5GB", "500MiB", "1.5G" or "4096".
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q (use e.g. 500MiB, 5GB, 1.5G)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	b := v * mult
	if b >= math.MaxUint64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return uint64(b), nil
}

// FormatSize writes n like df -h: 512, 17K, 3.2G, 120G (binary units,
// one decimal below 10, rounded up).
func FormatSize(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10)
	}
	v := float64(n)
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if v < 10 {
		v = math.Ceil(v*10) / 10
		if v < 10 {
			return strconv.FormatFloat(v, 'f', 1, 64) + units[u:u+1]
		}
	}
	return strconv.FormatFloat(math.Ceil(v), 'f', 0, 64) + units[u:u+1]
}

// percent is used/total as df prints it: a whole percentage rounded up.
func percent(used, total uint64) int {
	if total == 0 {
		return 0
	}
	// 128-bit-safe enough: used*100 overflows only past 1.8e17 bytes.
	if used > math.MaxUint64/100 {
		return int(math.Ceil(float64(used) * 100 / float64(total)))
	}
	p := used * 100 / total
	if used*100%total != 0 {
		p++
	}
	return int(p)
}

// formatFloat writes a threshold the way it was likely written: 90, 95.5.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
