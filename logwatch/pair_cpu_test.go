//go:build amd64

package logwatch

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestCPUHasAVX2 agrees with golang.org/x/sys/cpu (which the package does
// not link, to keep munja-agent small).
func TestCPUHasAVX2(t *testing.T) {
	if got := cpuHasAVX2(); got != cpu.X86.HasAVX2 {
		t.Fatalf("cpuHasAVX2() = %v, x/sys/cpu says %v", got, cpu.X86.HasAVX2)
	}
}
