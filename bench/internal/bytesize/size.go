// Package bytesize reads the byte sizes the bench programs take on their
// command lines ("64M", "1G", "500K", "4096").
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a size with an optional K, M or G suffix (powers of 1024).
func Parse(s string) (int64, error) {
	mult, num := int64(1), s
	switch {
	case strings.HasSuffix(s, "K"):
		mult, num = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, num = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, num = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (e.g. 64M, 1G)", s)
	}
	return n * mult, nil
}
