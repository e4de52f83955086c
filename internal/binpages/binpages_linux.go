package binpages

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// Release unmaps the resident pages of the executable's code and read-only
// data (see the package comment). It is safe to call at any time; a page
// in use is mapped again when touched.
func Release() (Stats, error) {
	var st Stats
	var exe syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &exe); err != nil {
		return st, fmt.Errorf("binpages: %w", err)
	}
	maps, err := readMappings()
	if err != nil {
		return st, err
	}
	for _, m := range maps {
		if m.inode != exe.Ino || m.dev != exe.Dev || m.writable {
			continue
		}
		if m.anonymous != 0 {
			st.Kept++
			continue
		}
		n := m.end - m.start
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, n, syscall.MADV_DONTNEED); e != 0 {
			return st, fmt.Errorf("binpages: madvise %#x+%d: %w", m.start, n, e)
		}
		st.Mappings++
		st.Bytes += int64(n)
		st.Resident += m.rss
	}
	return st, nil
}

type mapping struct {
	start, end uintptr
	writable   bool
	dev        uint64
	inode      uint64
	rss        int64 // bytes
	anonymous  int64 // bytes
}

// readMappings parses /proc/self/smaps.
func readMappings() ([]mapping, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, fmt.Errorf("binpages: %w", err)
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if m, ok := parseHeader(line); ok {
			out = append(out, m)
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		if v, ok := field(line, "Rss:"); ok {
			cur.rss = v
		} else if v, ok := field(line, "Anonymous:"); ok {
			cur.anonymous = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("binpages: reading smaps: %w", err)
	}
	return out, nil
}

// parseHeader parses a mapping's first line:
// "00400000-00c1c000 r-xp 00000000 08:01 1234 /usr/bin/munja".
func parseHeader(line []byte) (mapping, bool) {
	f := bytes.Fields(line)
	if len(f) < 5 || bytes.IndexByte(f[0], '-') < 0 || len(f[1]) != 4 {
		return mapping{}, false
	}
	lo, hi, _ := bytes.Cut(f[0], []byte("-"))
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	maj, min, ok := bytes.Cut(f[3], []byte(":"))
	ma, err3 := strconv.ParseUint(string(maj), 16, 32)
	mi, err4 := strconv.ParseUint(string(min), 16, 32)
	ino, err5 := strconv.ParseUint(string(f[4]), 10, 64)
	if err1 != nil || err2 != nil || !ok || err3 != nil || err4 != nil || err5 != nil {
		return mapping{}, false
	}
	return mapping{start: uintptr(start), end: uintptr(end), writable: f[1][1] == 'w',
		dev: mkdev(ma, mi), inode: ino}, true
}

// mkdev is the kernel's encoding of a device number, as stat returns it.
func mkdev(major, minor uint64) uint64 {
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

// field parses "Name:   123 kB" into bytes.
func field(line []byte, name string) (int64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(name))
	if !ok {
		return 0, false
	}
	num, _, _ := bytes.Cut(bytes.TrimSpace(rest), []byte(" "))
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return 0, false
	}
	return v << 10, true
}
