package bytesize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "500K": 500 << 10, "64M": 64 << 20, "1G": 1 << 30, "0": 0} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "-1M", "1T", "1.5G"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
