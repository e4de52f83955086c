package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// DropStartupPages unmaps from this process the pages of its executable's
// code and read-only data (madvise MADV_DONTNEED on the read-only mappings
// of /proc/self/exe). Starting touched far more of them than the running
// loop needs — config parsing, template and regexp compilation, every
// package's init — and each fault mapped 64 KiB around it, so they stayed
// in RSS. The pages stay in the page cache: what the loop uses is mapped
// back at once by a minor fault, and nothing is read from disk. A mapping
// with private (modified) pages — writable data, or relocations made
// read-only afterwards (RELRO) in a dynamically linked build — is left
// alone: dropping it would lose what was written.
func DropStartupPages() error {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return err
	}
	type mapping struct {
		start, end uint64
		clean      bool // read-only, private, of exe, no anonymous pages
	}
	var maps []mapping
	for line := range bytes.Lines(smaps) {
		f := bytes.Fields(line)
		if len(f) >= 5 && bytes.IndexByte(f[0], '-') > 0 && !bytes.HasSuffix(f[0], []byte(":")) {
			// A mapping's header: start-end perms offset dev inode [path].
			lo, hi, _ := bytes.Cut(f[0], []byte("-"))
			start, err1 := strconv.ParseUint(string(lo), 16, 64)
			end, err2 := strconv.ParseUint(string(hi), 16, 64)
			if err1 != nil || err2 != nil || end <= start {
				return fmt.Errorf("/proc/self/smaps: bad range %q", f[0])
			}
			perms := f[1]
			maps = append(maps, mapping{start, end, len(f) >= 6 && string(f[5]) == exe &&
				len(perms) == 4 && perms[1] == '-' && perms[3] == 'p'})
			continue
		}
		if len(maps) > 0 && len(f) >= 2 && string(f[0]) == "Anonymous:" && string(f[1]) != "0" {
			maps[len(maps)-1].clean = false
		}
	}
	for _, m := range maps {
		if !m.clean {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("madvise %x-%x: %w", m.start, m.end, e)
		}
	}
	return nil
}

// DropStartupPagesAfter calls DropStartupPages once, after d (when start-up
// and the first runs are over), unless ctx ends first.
func DropStartupPagesAfter(ctx context.Context, d time.Duration, log interface{ Debug(string, ...any) }) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		if err := DropStartupPages(); err != nil {
			log.Debug("start-up pages not dropped", "err", err)
		}
	}
}
