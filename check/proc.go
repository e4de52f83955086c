package check

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// defaultProc is where procfs is mounted; checks keep it in a field so tests
// can point them at a directory of fixtures.
const defaultProc = "/proc"

// readSmall reads a small file (a /proc entry) into buf without the
// allocations of os.File, and returns the filled part. Content beyond
// len(buf) is cut off.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &pathError{"open", path, err}
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &pathError{"read", path, err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// pathError is os.PathError without importing os for it; errors.Is works
// on the wrapped errno (unix.ENOENT, unix.ESRCH…).
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return e.op + " " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// procStat is the part of /proc/PID/stat the process check needs.
type procStat struct {
	state byte   // R, S, D, Z, X, …
	start uint64 // start time in clock ticks since boot; tells a reused PID apart
}

// parseStat parses /proc/PID/stat. The command name (field 2) may contain
// spaces and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed stat %q", b)
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state), fields[19] is field 22 (starttime).
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("malformed stat %q", b)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed stat start time: %w", err)
	}
	return procStat{state: fields[0][0], start: start}, nil
}

// atoiPID parses a /proc directory name; ok is false for non-PID entries.
func atoiPID(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}
